// CommExecutor: a task farm over the ranks of a world, on the worker
// transport (a thread per rank) and the process transport (a process per
// rank), started through runWorld as a program would be; rank 0 drives it,
// the others serve.
import test from "ava"
import { runWorld } from "rankflow/promise"

for (const transport of ["worker", "process"]) {
  test(`CommExecutor on the ${transport} transport: map, submit, asCompleted, wait, cancel, abort and timeout across ranks`, async (t) => {
    const [report, ...others] = await runWorld<any>({ size: 4, transport, timeout: 60_000 }, new URL("./fixtures/farm.ts", import.meta.url))
    t.deepEqual(others, ["served", "served", "served"])
    t.is(report.workers, 3)
    t.deepEqual(report.squares, [1, 4, 9, 16, 25])
    t.deepEqual(report.chunked, Array.from({ length: 20 }, (_, i) => i * i))
    t.deepEqual(report.zipped, [9, 18])
    t.deepEqual(report.cubes, [1, 8, 27])
    t.deepEqual(report.servers, [3, false]) // three ranks served calls, the root none
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
