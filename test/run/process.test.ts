/**
 * `rankflow run --transport process` end to end: a child process per rank,
 * Unix sockets between them; real exit codes, real output, a rank killed
 * with SIGKILL in the middle of an allreduce.
 */
import test from "ava"
import { existsSync } from "node:fs"
import { runWorld } from "../../promise.ts"
import { rankflow } from "./rankflow.ts"

const run = (n: number, ...rest: Array<string>) => rankflow(["run", "-n", String(n), "--transport", "process", "--timeout", "30", ...rest], 60_000)

test.serial("the seed talk's buffer example runs on 2 ranks", async (t) => {
  const r = await run(2, "examples/01-typed-buffers.ts")
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /rank 1 got 1000 int32 from rank 0: 0, 1 \.\.\. 999/)
  t.regex(r.stdout, /rank 1 got 100 float64 \(800 bytes\): sum 4950/)
})

test.serial("the ring, with --tag-output and arguments", async (t) => {
  const r = await rankflow(["run", "-n", "3", "--transport", "process", "--tag-output", "examples/02-ring.ts", "2"])
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /^\[0\] token went 2 times around 3 ranks: 6 hops, sum 6/m)
})

test.serial("the Effect-face ring", async (t) => {
  const r = await run(3, "examples/03-effect-ring.ts")
  t.is(r.code, 0, r.stderr)
  for (const rank of [0, 1, 2]) t.regex(r.stdout, new RegExp(`rank ${rank} got ${(rank + 2) % 3} from rank ${(rank + 2) % 3}`))
  t.regex(r.stdout, /as expected: send on rank 0: 3 is not a rank of this communicator/)
})

test.serial("psum, π and matvec on 4 ranks", async (t) => {
  const psum = await run(4, "examples/04-psum.ts", "1000")
  t.is(psum.code, 0, psum.stderr)
  t.regex(psum.stdout, /psum of arange\(1000\) over 4 ranks .*: 499500\b/)
  const pi = await run(4, "examples/05-pi.ts", "1000")
  t.is(pi.code, 0, pi.stderr)
  const got = Number(/π ≈ ([\d.]+) from 1000 intervals on 4 ranks/.exec(pi.stdout)?.[1])
  t.true(Math.abs(got - Math.PI - 1 / (12 * 1000 ** 2)) < 1e-9, pi.stdout)
  const mv = await run(4, "examples/06-matvec.ts", "101", "50")
  t.is(mv.code, 0, mv.stderr)
  t.regex(mv.stdout, /largest \|y − serial A·x\| = 0\b|largest \|y − serial A·x\| = \d(\.\d+)?e-1[3-9]/)
})

test.serial("a rank that throws ends the run non-zero, naming it, within seconds", async (t) => {
  const r = await run(4, "test/run/fixtures/throws.ts")
  t.is(r.code, 1)
  t.regex(r.stderr, /rankflow: rank 2 failed: Error: boom on rank 2/)
  t.regex(r.stderr, /then rank \d: recv on rank \d from rank \d .*cannot complete/)
  t.true(r.ms < 10_000, `took ${r.ms} ms`)
})

test.serial("a rank whose process exits fails the run, naming it", async (t) => {
  const r = await run(3, "test/run/fixtures/exits.ts")
  t.is(r.code, 1)
  t.regex(r.stderr, /rank 1 failed: Error: rank 1's process exited \(code 7\) before its program finished/)
  t.true(r.ms < 10_000)
})

test.serial("kill -9 of a rank in the middle of an allreduce: the others fail at once with PeerLost, the run exits 1 naming it", async (t) => {
  const r = await run(4, "test/transports/process/killed.ts")
  const end = Date.now()
  t.is(r.code, 1, r.stderr)
  t.regex(r.stderr, /rankflow: rank 2 failed: Error: rank 2's process was killed \(SIGKILL\) before its program finished/)
  t.regex(r.stderr, /then rank \d: .* on rank \d .*rank 2.* cannot complete: it failed: rank 2's process was killed/)
  const killedAt = Number(/killing rank 2 at (\d+)/.exec(r.stderr)?.[1])
  t.true(end - killedAt < 10_000, `the run ended ${end - killedAt} ms after the kill (the detector timeout is 10 s)`)
  t.log(`ended ${end - killedAt} ms after the kill`)
})

test.serial("a deadlocked world ends at --timeout with exit 124, naming the ranks still running; every child is killed", async (t) => {
  const r = await rankflow(["run", "-n", "3", "--transport", "process", "--timeout", "3", "test/run/fixtures/hangs.ts"])
  t.is(r.code, 124)
  t.regex(r.stderr, /did not finish within 3000 ms; ranks still running: 1, 2\n/)
  t.true(r.ms < 10_000)
})

test.serial("runWorld: ranks get their arguments, no secret in their environment or argv, and the socket directory is gone afterwards", async (t) => {
  const results = await runWorld<any>({ size: 3, transport: "process", argv: ["a", "b c"], timeout: 30_000 }, new URL("../transports/process/env.ts", import.meta.url))
  t.deepEqual(results.map((r) => r.rank), [0, 1, 2])
  for (const r of results) {
    t.deepEqual(r.argv, ["a", "b c"])
    t.is(r.secret, null)
    t.is(r.secretFile, null)
    t.is(r.node, process.version, "the children run this Node")
    t.not(r.pid, process.pid)
  }
  t.is(new Set(results.map((r) => r.pid)).size, 3)
  t.is(new Set(results.map((r) => r.dir)).size, 1)
  t.false(existsSync(results[0].dir), "the socket directory is removed")
})

test.serial("runWorld: a bad transport option is refused before any process starts", async (t) => {
  await t.throwsAsync(runWorld({ size: 2, transport: "process", transportOptions: { maxFrame: 10 } }, new URL("../transports/process/env.ts", import.meta.url)), {
    message: /maxFrame/
  })
})
