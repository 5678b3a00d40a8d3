// CommExecutor: a task farm over the ranks of a world, on the worker
// transport (a thread per rank, asked for: by default a world larger than
// the machine's cores puts several ranks on a thread), the process transport (a process per rank)
// and in-process (every rank on this thread), started through runWorld as a
// program would be; rank 0 drives it, the others serve.
import test from "ava"
import { runWorld } from "rankflow/promise"

const FARM = new URL("./fixtures/farm.ts", import.meta.url)

for (const transport of ["worker", "process", "inproc"]) {
  test(`CommExecutor on the ${transport} transport: map, submit, asCompleted, wait, cancel, abort and timeout across ranks`, async (t) => {
    const program = transport === "inproc" ? (await import(FARM.href)).default : FARM
    const [report, ...others] = await runWorld<any>({ size: 4, transport, timeout: 60_000, ...(transport === "worker" ? { transportOptions: { ranksPerThread: 1 } } : {}) }, program)
    t.deepEqual(others, ["served", "served", "served"])
    t.is(report.workers, 3)
    t.deepEqual(report.squares, [1, 4, 9, 16, 25])
    t.deepEqual(report.chunked, Array.from({ length: 20 }, (_, i) => i * i))
    t.deepEqual(report.zipped, [9, 18])
    t.deepEqual(report.cubes, [1, 8, 27])
    // three ranks served calls, the root none (in-process, all are this thread)
    t.deepEqual(report.servers, transport === "inproc" ? [1, true] : [3, false])
    t.is(report.error, "RangeError: bad")
    t.deepEqual(report.cancelQueued, [true, true, [true, true, true]])
    t.deepEqual(report.firstCompleted, [2])
    t.deepEqual(report.order, [2, 0, 1])
    t.deepEqual(report.firstException, [true, true])
    t.deepEqual(report.abort, [true, true, "job started", "job cleaned up (AbortError)"])
    t.deepEqual(report.timeout, [true, false, "timed started", "timed cleaned up (TimeoutError)"])
    t.deepEqual(report.metrics, { queued: 0, running: 0, cancelled: 2, completedAtLeast: true })
  })
}
