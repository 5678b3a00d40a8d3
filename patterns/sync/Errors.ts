/**
 * The errors of the shared-memory primitives, as tagged errors:
 * `instanceof`-checkable, and `Effect.catchTag`-able in Effect code.
 *
 * @since 0.2.0
 */
import * as Data from "effect/Data"

export { ReleaseError } from "../asyncio/Errors.ts"

/**
 * Why a shared object cannot be used where it went.
 *
 * - `process`: it was passed to another process. Shared memory exists only
 *   between the threads of one process (the `thread` start method); under a
 *   `process` start method there is none.
 * - `heap`: it reached a thread of the right process that cannot see the
 *   shared heap it lives in (the thread was started before
 *   `rankflow/patterns/sync` was loaded by the thread that started it).
 *
 * @category errors
 * @since 0.2.0
 */
export type SharedMemoryReason = "process" | "heap"

/**
 * A shared-memory object (a `Lock`, `Value`, `Array`, ...) passed where its
 * memory does not exist: to another process, or to a thread that cannot
 * see its heap. Thrown when it is rebuilt there, and by
 * `ensureNoShared` before it leaves.
 *
 * @example
 * ```ts
 * import { SharedMemoryUnavailable } from "rankflow/patterns/sync"
 * const e = new SharedMemoryUnavailable({ what: "Lock", reason: "process" })
 * e.message // "a Lock lives in shared memory, which does not exist between processes ..."
 * ```
 * @category errors
 * @since 0.2.0
 */
export class SharedMemoryUnavailable extends Data.TaggedError("SharedMemoryUnavailable")<{
  readonly what: string
  readonly reason: SharedMemoryReason
  readonly message: string
}> {
  constructor(f: { readonly what: string; readonly reason: SharedMemoryReason }) {
    super({
      ...f,
      message: f.reason === "process"
        ? `a ${f.what} lives in shared memory, which does not exist between processes: it cannot be passed to ` +
          `another process (a process start method). Use the thread start method to share it, or send the data ` +
          `itself (a multiprocessing Queue or Pipe)`
        : `this ${f.what} lives in a shared heap this thread cannot see: the thread was started before ` +
          `rankflow/patterns/sync was loaded in the thread that started it. Import rankflow/patterns/sync before ` +
          `starting worker threads, or pass ${f.what.toLowerCase()}.toShared() in workerData or a postMessage`
    })
  }
}

/**
 * A `Barrier` that is broken: a waiter timed out, `abort()` was called, or
 * the action failed; every waiter and every later `wait` get it until
 * `reset()`. Python's `threading.BrokenBarrierError`.
 *
 * @example
 * ```ts
 * import { BrokenBarrierError } from "rankflow/patterns/sync"
 * new BrokenBarrierError({ parties: 4 }).message // "Barrier(4): the barrier is broken"
 * ```
 * @category errors
 * @since 0.2.0
 */
export class BrokenBarrierError extends Data.TaggedError("BrokenBarrierError")<{
  readonly parties: number
  readonly message: string
}> {
  constructor(f: { readonly parties: number }) {
    super({ ...f, message: `Barrier(${f.parties}): the barrier is broken` })
  }
}
