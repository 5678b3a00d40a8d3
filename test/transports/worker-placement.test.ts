/**
 * M:N placement on the worker transport: the point-to-point and collective
 * conformance suites with several ranks per thread, in uneven splits, so
 * every scenario runs with some pairs of ranks in one event loop (frames
 * handed over directly) and others across threads (through the rings):
 * 4 ranks as [0 1 2] [3], 7 ranks as [0 1] [2 3] [4 5] [6], and 4 ranks all
 * in one thread.
 */
import test from "ava"
import { runWorld } from "../../promise.ts"
import { rankflow } from "../run/rankflow.ts"
import { collectiveConformance } from "./collective-conformance.ts"
import { conformance } from "./conformance.ts"

for (const [size, ranksPerThread] of [[4, 3], [7, 2]] as const) {
  const transportOptions = { ranksPerThread }
  conformance(test, "worker", [size], { transportOptions, label: ` (${ranksPerThread} ranks per thread)` })
  collectiveConformance(test, "worker", [size], { transportOptions, label: ` (${ranksPerThread} ranks per thread, collectives)` })
}
collectiveConformance(test, "worker", [4], { transportOptions: { ranksPerThread: 4 }, label: " (one thread)" })

test.serial("ranks of one thread share it; ranks of others do not", async (t) => {
  const program = new URL("./fixtures/thread-id.ts", import.meta.url)
  const ids = (await runWorld({ size: 5, transport: "worker", transportOptions: { ranksPerThread: 2 } }, program)) as Array<number>
  t.is(ids.length, 5)
  t.is(ids[0], ids[1])
  t.is(ids[2], ids[3])
  t.not(ids[1], ids[2])
  t.not(ids[3], ids[4])
  t.is(new Set(ids).size, 3)
})

test.serial("a bad ranksPerThread is a typed error", async (t) => {
  for (const bad of [0, 1.5, "2"]) {
    await t.throwsAsync(runWorld({ size: 2, transport: "worker", transportOptions: { ranksPerThread: bad } }, new URL("./fixtures/thread-id.ts", import.meta.url)), {
      message: /ranksPerThread must be a positive whole number/
    })
  }
})

test.serial("a rank that fails is seen by the ranks of its own thread and of the others", async (t) => {
  const program = new URL("./fixtures/one-fails.ts", import.meta.url)
  const e = await t.throwsAsync(runWorld({ size: 4, transport: "worker", transportOptions: { ranksPerThread: 2 }, timeout: 30_000 }, program))
  t.is((e as any)._tag, "WorldFailed")
  t.is((e as any).rank, 1)
  // Ranks 0 (its thread) and 2, 3 (the other thread) were waiting for it and fail with PeerLost naming it.
  const lost = (e as any).failures.filter((f: any) => f.rank !== 1)
  t.deepEqual(lost.map((f: any) => f.rank).sort(), [0, 2, 3])
  for (const f of lost) t.regex(String(f.error?.message ?? f.error), /rank 1/)
})

test.serial("a rank that ends its shared thread with process.exit is named; the ranks that shared it say so", async (t) => {
  const e: any = await t.throwsAsync(
    runWorld({ size: 4, transport: "worker", transportOptions: { ranksPerThread: 2 }, timeout: 30_000 }, new URL("../run/fixtures/exits.ts", import.meta.url))
  )
  t.is(e._tag, "WorldFailed")
  t.is(e.rank, 1)
  t.regex(e.message, /rank 1 failed: Error: rank 1's thread exited \(code 7\)/)
  const shared = e.failures.find((f: any) => f.rank === 0)
  t.regex(String(shared.error.message), /rank 0's thread exited \(code 7\) before its program finished: rank 1, which shared it, called process.exit/)
})

test.serial("--tag-output prefixes each line with its own rank when ranks share a thread", async (t) => {
  const r = await rankflow(["run", "-n", "4", "--ranks-per-thread", "2", "--tag-output", "test/transports/fixtures/says.ts"])
  t.is(r.code, 0, r.stderr)
  const lines = r.stdout.trim().split("\n").sort()
  t.deepEqual(lines, [0, 1, 2, 3].flatMap((rank) => [`[${rank}] rank ${rank} line 1`, `[${rank}] rank ${rank} line 2`]).sort())
  t.regex(r.stderr, /^\[2\] rank 2 on stderr$/m)
  const bad = await rankflow(["run", "-n", "2", "--transport", "process", "--ranks-per-thread", "2", "test/transports/fixtures/says.ts"])
  t.is(bad.code, 2)
  t.regex(bad.stderr, /--ranks-per-thread places ranks on worker threads; the process transport has none/)
})
