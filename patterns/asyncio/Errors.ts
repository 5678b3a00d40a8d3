/**
 * The errors of rankflow's asyncio shapes: Python's exception classes as
 * tagged errors. Each is a `Data.TaggedError`: yield it in `Effect.gen`,
 * recover with `Effect.catchTag`, or `instanceof` it in the Promise face,
 * where the same classes reject the promises and are thrown by the
 * synchronous calls (`putNowait`, `result()`, `release()`).
 *
 * A timeout is effect's own `Cause.TimeoutError` (tag `"TimeoutError"`),
 * re-exported here as {@link TimeoutError}.
 *
 * @since 0.2.0
 */
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"

/**
 * A task, or an operation inside one, was cancelled: Python's
 * `asyncio.CancelledError`. Awaiting a cancelled task fails with it, and so
 * does every asyncio operation a task is waiting in when it is cancelled.
 *
 * **When to use**: catch it to run cleanup that must wait (a task whose
 * function rethrows it, or lets it escape, ends cancelled).
 *
 * @example
 * ```ts
 * import { CancelledError } from "rankflow/patterns/asyncio"
 * const e = new CancelledError({ message: "shutting down" })
 * e._tag // "CancelledError"
 * ```
 * @category errors
 * @since 0.2.0
 */
export class CancelledError extends Data.TaggedError("CancelledError")<{
  readonly message: string
}> {
  constructor(f: { readonly message?: string | undefined } = {}) {
    super({ message: f.message ?? "the task was cancelled" })
  }
}

/**
 * A call that is not valid in the object's current state: `result()` of a
 * task that is not done, a task added to a `TaskGroup` that has finished.
 * Python's `asyncio.InvalidStateError` (and the `RuntimeError` a finished
 * `TaskGroup` raises).
 *
 * @example
 * ```ts
 * import { InvalidStateError } from "rankflow/patterns/asyncio"
 * const e = new InvalidStateError({ op: "result", reason: "the task is not done" })
 * e.message // "result: the task is not done"
 * ```
 * @category errors
 * @since 0.2.0
 */
export class InvalidStateError extends Data.TaggedError("InvalidStateError")<{
  readonly op: string
  readonly reason: string
  readonly message: string
}> {
  constructor(f: { readonly op: string; readonly reason: string }) {
    super({ ...f, message: `${f.op}: ${f.reason}` })
  }
}

/**
 * `putNowait` on a queue that holds `maxsize` items: Python's
 * `asyncio.QueueFull`.
 *
 * @example
 * ```ts
 * import { QueueFull } from "rankflow/patterns/asyncio"
 * new QueueFull({ maxsize: 2 }).message // "putNowait: the queue is full (maxsize 2)"
 * ```
 * @category errors
 * @since 0.2.0
 */
export class QueueFull extends Data.TaggedError("QueueFull")<{
  readonly maxsize: number
  readonly message: string
}> {
  constructor(f: { readonly maxsize: number }) {
    super({ ...f, message: `putNowait: the queue is full (maxsize ${f.maxsize})` })
  }
}

/**
 * `getNowait` on an empty queue: Python's `asyncio.QueueEmpty`.
 *
 * @example
 * ```ts
 * import { QueueEmpty } from "rankflow/patterns/asyncio"
 * new QueueEmpty().message // "getNowait: the queue is empty"
 * ```
 * @category errors
 * @since 0.2.0
 */
export class QueueEmpty extends Data.TaggedError("QueueEmpty")<{
  readonly message: string
}> {
  constructor() {
    super({ message: "getNowait: the queue is empty" })
  }
}

/**
 * A release that has nothing to release: `Lock.release()` of an unlocked
 * lock (Python's `RuntimeError`), `BoundedSemaphore.release()` above its
 * initial value and `Queue.taskDone()` with no item taken (Python's
 * `ValueError`).
 *
 * @example
 * ```ts
 * import { ReleaseError } from "rankflow/patterns/asyncio"
 * const e = new ReleaseError({ op: "Lock.release", reason: "the lock is not acquired" })
 * e.message // "Lock.release: the lock is not acquired"
 * ```
 * @category errors
 * @since 0.2.0
 */
export class ReleaseError extends Data.TaggedError("ReleaseError")<{
  readonly op: string
  readonly reason: string
  readonly message: string
}> {
  constructor(f: { readonly op: string; readonly reason: string }) {
    super({ ...f, message: `${f.op}: ${f.reason}` })
  }
}

/**
 * A `TaskGroup` in which the body or tasks failed: Python's
 * `ExceptionGroup`. `errors` holds every failure (the body's first, then the
 * tasks' in the order they were created); cancelled tasks are not failures.
 *
 * @example
 * ```ts
 * import { TaskGroupError } from "rankflow/patterns/asyncio"
 * const e = new TaskGroupError({ errors: [new Error("boom")] })
 * e.message // "TaskGroup: 1 task failed: boom"
 * ```
 * @category errors
 * @since 0.2.0
 */
export class TaskGroupError extends Data.TaggedError("TaskGroupError")<{
  readonly errors: ReadonlyArray<unknown>
  readonly message: string
}> {
  constructor(f: { readonly errors: ReadonlyArray<unknown> }) {
    const n = f.errors.length
    super({
      ...f,
      message: `TaskGroup: ${n} task${n === 1 ? "" : "s"} failed: ` +
        f.errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ")
    })
  }
}

/**
 * A wait that ran out of time (`waitFor`): effect's own
 * `Cause.TimeoutError`, tag `"TimeoutError"`; Python's `TimeoutError`.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "rankflow/patterns/asyncio"
 * new TimeoutError("waitFor: no result within 10 ms")._tag // "TimeoutError"
 * ```
 * @category errors
 * @since 0.2.0
 */
export const TimeoutError = Cause.TimeoutError

/**
 * The type of {@link TimeoutError}.
 *
 * @category errors
 * @since 0.2.0
 */
export type TimeoutError = Cause.TimeoutError

/**
 * Is `u` a {@link CancelledError}?
 *
 * @example
 * ```ts
 * import { CancelledError, isCancelledError } from "rankflow/patterns/asyncio"
 * isCancelledError(new CancelledError()) // true
 * ```
 * @category guards
 * @since 0.2.0
 */
export const isCancelledError = (u: unknown): u is CancelledError => u instanceof CancelledError
