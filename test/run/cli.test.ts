/** `rankflow run` end to end: real threads, real exit codes, real output. */
import test from "ava"
import { rankflow } from "./rankflow.ts"

for (const transport of ["worker", "inproc"]) {
  test.serial(`${transport}: the seed talk's buffer example runs on 2 ranks`, async (t) => {
    const r = await rankflow(["run", "-n", "2", "--transport", transport, "examples/01-typed-buffers.ts"])
    t.is(r.code, 0, r.stderr)
    t.regex(r.stdout, /rank 1 got 1000 int32 from rank 0: 0, 1 \.\.\. 999/)
    t.regex(r.stdout, /rank 1 got 100 float64 \(800 bytes\): sum 4950/)
  })

  test.serial(`${transport}: a rank that throws ends the run non-zero, naming it, within seconds`, async (t) => {
    const r = await rankflow(["run", "-n", "4", "--transport", transport, "test/run/fixtures/throws.ts"])
    t.is(r.code, 1)
    t.regex(r.stderr, /rankflow: rank 2 failed: Error: boom on rank 2/)
    t.regex(r.stderr, /then rank \d: recv on rank \d from rank \d .*cannot complete/)
    t.true(r.ms < 10_000, `took ${r.ms} ms`)
  })

  test.serial(`${transport}: a deadlocked world ends at --timeout with exit 124, naming the ranks still running`, async (t) => {
    const r = await rankflow(["run", "-n", "3", "--transport", transport, "--timeout", "3", "test/run/fixtures/hangs.ts"])
    t.is(r.code, 124)
    t.regex(r.stderr, /did not finish within 3000 ms; ranks still running: 1, 2\n/)
    t.true(r.ms < 10_000)
  })
}

test.serial("worker: a rank whose thread exits fails the run, naming it", async (t) => {
  const r = await rankflow(["run", "-n", "3", "test/run/fixtures/exits.ts"])
  t.is(r.code, 1)
  t.regex(r.stderr, /rank 1 failed: Error: rank 1's thread exited \(code 7\)/)
  t.true(r.ms < 10_000)
})

test.serial("--tag-output prefixes every line with its rank; arguments reach the ranks", async (t) => {
  const r = await rankflow(["run", "-n", "3", "--tag-output", "examples/02-ring.ts", "2"])
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /^\[0\] token went 2 times around 3 ranks: 6 hops, sum 6/m)
})

test.serial("the Effect-face example runs", async (t) => {
  const r = await rankflow(["run", "-n", "3", "examples/03-effect-ring.ts"])
  t.is(r.code, 0, r.stderr)
  for (const rank of [0, 1, 2]) t.regex(r.stdout, new RegExp(`rank ${rank} got ${(rank + 2) % 3} from rank ${(rank + 2) % 3}`))
  t.regex(r.stdout, /as expected: send on rank 0: 3 is not a rank of this communicator/)
})

test.serial("usage errors exit 2 with a message", async (t) => {
  for (const args of [["run", "app.ts"], ["run", "-n", "0", "app.ts"], ["run", "-n", "2", "--transport", "pigeon", "app.ts"], ["fly"]]) {
    const r = await rankflow(args)
    t.is(r.code, 2, args.join(" "))
    t.regex(r.stderr, /rankflow: .+\n\nusage: rankflow run/)
  }
  const help = await rankflow(["--help"])
  t.is(help.code, 0)
  t.regex(help.stdout, /--transport NAME/)
})

test.serial("a module without a usable default export is reported", async (t) => {
  const r = await rankflow(["run", "-n", "2", "package.json"])
  t.is(r.code, 1)
  t.regex(r.stderr, /rank \d failed/)
})
