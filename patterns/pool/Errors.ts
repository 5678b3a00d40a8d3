/**
 * The typed errors of futures, executors and pools.
 *
 * A task's own exception is rebuilt on this side as the same class where it
 * can be (`TypeError`, rankflow's tagged errors, or an `Error` with the
 * original `name`, `message` and remote `stack`): in the Promise face a
 * future rejects with it, as Python's `future.result()` re-raises it. The
 * runtime's own failures are the tagged errors below; the Effect face also
 * wraps a task's exception in {@link TaskFailed}, so every failure has a
 * `_tag` for `Effect.catchTag`.
 *
 * @since 0.2.0
 */
import * as Data from "effect/Data"
import { Errors } from "../../core/index.ts"

/**
 * The future was cancelled: by `future.cancel()` while it was still queued,
 * by `future.abort()` while it ran (`running: true`), or by
 * `shutdown({ cancelFutures: true })`. Python's
 * `concurrent.futures.CancelledError`.
 *
 * @example
 * ```ts
 * import { CancelledError } from "rankflow/patterns/executor"
 * const e = new CancelledError({ reason: "cancelled before it started", running: false })
 * e._tag // "CancelledError"
 * ```
 * @category errors
 * @since 0.2.0
 */
export class CancelledError extends Data.TaggedError("CancelledError")<{
  readonly reason: string
  /** Was the task running when it was cancelled (an abort)? */
  readonly running: boolean
  /** What the task threw as it stopped, or why its worker was terminated. */
  readonly cause?: unknown
  readonly message: string
}> {
  constructor(f: { readonly reason: string; readonly running: boolean; readonly cause?: unknown }) {
    super({ ...f, message: `the task was cancelled: ${f.reason}` })
  }
}

/**
 * Waiting timed out: `future.result(timeout)`, `wait`, `asCompleted`,
 * `map`'s `timeout`, a `Queue.get` with a timeout. The task itself goes on
 * (as in Python); compare {@link TaskTimeout}.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "rankflow/patterns/executor"
 * new TimeoutError({ op: "result", timeoutMs: 50 }).message // "result did not complete within 50 ms"
 * ```
 * @category errors
 * @since 0.2.0
 */
export class TimeoutError extends Data.TaggedError("TimeoutError")<{
  readonly op: string
  readonly timeoutMs: number
  /** For `asCompleted` and `wait`: how many futures were not done. */
  readonly pending?: number
  readonly message: string
}> {
  constructor(f: { readonly op: string; readonly timeoutMs: number; readonly pending?: number }) {
    super({
      ...f,
      message: `${f.op} did not complete within ${f.timeoutMs} ms` +
        (f.pending !== undefined ? ` (${f.pending} future${f.pending === 1 ? "" : "s"} unfinished)` : "")
    })
  }
}

/**
 * A task ran longer than its own `timeout` (measured from when it started
 * running, not from when it was queued). It was aborted: its `AbortSignal`
 * fired, and if it had not ended within the pool's `abortGrace`, its worker
 * was terminated (`terminated: true`) and replaced.
 *
 * @example
 * ```ts
 * import { TaskTimeout } from "rankflow/patterns/executor"
 * new TaskTimeout({ timeoutMs: 100, terminated: false })._tag // "TaskTimeout"
 * ```
 * @category errors
 * @since 0.2.0
 */
export class TaskTimeout extends Data.TaggedError("TaskTimeout")<{
  readonly timeoutMs: number
  readonly terminated: boolean
  readonly message: string
}> {
  constructor(f: { readonly timeoutMs: number; readonly terminated: boolean }) {
    super({
      ...f,
      message: `the task ran longer than its timeout of ${f.timeoutMs} ms` +
        (f.terminated ? "; it ignored its abort signal, so its worker was terminated" : " and was aborted")
    })
  }
}

/**
 * How a worker ended: `exit` (it called `process.exit` or its process
 * ended), `error` (an exception at its top level or outside any task),
 * `oom` (out of memory), `signal` (a process killed by a signal),
 * `terminated` (the pool ended it), `malformed` (a process worker wrote
 * bytes that are not a frame of the pool's protocol on its pipe; the pool
 * killed it, and `cause` is the {@link MalformedFrame}).
 *
 * @category errors
 * @since 0.2.0
 */
export type WorkerExitReason = "exit" | "error" | "oom" | "signal" | "terminated" | "malformed"

/**
 * The worker running the task ended before the task did (it exited, threw at
 * top level, ran out of memory, was killed). Every task in flight on it
 * fails with this error; the pool starts a replacement.
 *
 * @example
 * ```ts
 * import { WorkerExited } from "rankflow/patterns/executor"
 * const e = new WorkerExited({ worker: 3, kind: "process", reason: "exit", exitCode: 7 })
 * e.message // "the process worker 3 ended (exit code 7) before the task finished"
 * ```
 * @category errors
 * @since 0.2.0
 */
export class WorkerExited extends Data.TaggedError("WorkerExited")<{
  /** The pool's number for the worker (not a thread id or pid). */
  readonly worker: number
  readonly kind: "thread" | "process" | "rank"
  readonly reason: WorkerExitReason
  readonly exitCode?: number | null | undefined
  readonly signal?: string | null | undefined
  readonly cause?: unknown
  readonly message: string
}> {
  constructor(
    f: {
      readonly worker: number
      readonly kind: "thread" | "process" | "rank"
      readonly reason: WorkerExitReason
      readonly exitCode?: number | null | undefined
      readonly signal?: string | null | undefined
      readonly cause?: unknown
    }
  ) {
    const how = f.reason === "oom"
      ? "ran out of memory"
      : f.reason === "signal"
      ? `was killed by ${f.signal}`
      : f.reason === "error"
      ? `threw at top level${f.cause instanceof Error ? `: ${f.cause.message}` : ""}`
      : f.reason === "terminated"
      ? "was terminated by the pool"
      : f.reason === "malformed"
      ? `was killed for what it wrote on its pipe (${f.cause instanceof Error ? f.cause.message : "a malformed frame"})`
      : `ended (exit code ${f.exitCode})`
    super({ ...f, message: `the ${f.kind} worker ${f.worker} ${how} before the task finished` })
  }
}

/**
 * A task's own exception, for the Effect face (`cause` is the exception,
 * rebuilt on this side). The Promise face rejects with `cause` itself.
 *
 * @example
 * ```ts
 * import { TaskFailed } from "rankflow/patterns/executor"
 * const e = new TaskFailed({ cause: new RangeError("negative") })
 * e.message // "the task failed: RangeError: negative"
 * ```
 * @category errors
 * @since 0.2.0
 */
export class TaskFailed extends Data.TaggedError("TaskFailed")<{
  readonly cause: unknown
  readonly message: string
}> {
  constructor(f: { readonly cause: unknown }) {
    super({
      ...f,
      message: `the task failed: ${f.cause instanceof Error ? `${f.cause.name}: ${f.cause.message}` : String(f.cause)}`
    })
  }
}

/**
 * A function sent by its source that uses variables from outside itself: in
 * the worker, those variables do not exist.
 *
 * @example
 * ```ts
 * import { ThreadPoolExecutor, CapturedVariables } from "rankflow/patterns/executor"
 * const k = 3
 * await using ex = new ThreadPoolExecutor({ maxWorkers: 1 })
 * try {
 *   ex.submit((x: number) => x * k, 2)
 * } catch (e) {
 *   if (e instanceof CapturedVariables) console.log(e.names) // ["k"]
 * }
 * ```
 * @category errors
 * @since 0.2.0
 */
export class CapturedVariables extends Data.TaggedError("CapturedVariables")<{
  readonly names: ReadonlyArray<string>
  readonly source: string
  readonly message: string
}> {
  constructor(f: { readonly names: ReadonlyArray<string>; readonly source: string }) {
    const list = f.names.map((n) => `\`${n}\``).join(", ")
    const short = f.source.length > 80 ? `${f.source.slice(0, 77)}...` : f.source
    super({
      ...f,
      message: `the function \`${short.replace(/\s+/g, " ")}\` captures ${f.names.length === 1 ? "the outer variable" : "outer variables"} ` +
        `${list}: it is sent to another thread or process by its source, where ${f.names.length === 1 ? "that variable does" : "those variables do"} not exist. ` +
        `Pass ${f.names.length === 1 ? "it" : "them"} as arguments instead, import what it needs inside the function ` +
        `(\`const m = await import("...")\`), or export the function from a module and submit \`task(import.meta.url, "name")\``
    })
  }
}

/**
 * A function that cannot be sent: a native or bound function, a class, a
 * method written in shorthand, or source that does not parse on its own.
 *
 * @category errors
 * @since 0.2.0
 */
export class Unshippable extends Data.TaggedError("Unshippable")<{
  readonly reason: string
  readonly message: string
}> {
  constructor(f: { readonly reason: string }) {
    super({
      ...f,
      message: `this function cannot be sent to a worker: ${f.reason}. ` +
        `Export it from a module and submit \`task(import.meta.url, "name")\`, or pass an arrow or function expression that uses only its arguments and globals`
    })
  }
}

/**
 * Work submitted to an executor or pool that is shut down (Python's
 * `RuntimeError: cannot schedule new futures after shutdown`), or to a
 * `Pool` after `close()`.
 *
 * @category errors
 * @since 0.2.0
 */
export class ShutdownError extends Data.TaggedError("ShutdownError")<{
  readonly op: string
  readonly message: string
}> {
  constructor(f: { readonly op: string }) {
    super({ ...f, message: `${f.op}: cannot schedule new work after shutdown (or close)` })
  }
}

/**
 * The queue of a pool with `maxQueue` is full: wait for `ready()` (or use
 * the Effect face, whose submit waits for room).
 *
 * @category errors
 * @since 0.2.0
 */
export class QueueFull extends Data.TaggedError("QueueFull")<{
  readonly maxQueue: number
  readonly message: string
}> {
  constructor(f: { readonly maxQueue: number }) {
    super({
      ...f,
      message: `the task queue is full (maxQueue ${f.maxQueue}); await executor.ready() before submitting more, or use submitEffect, which waits for room`
    })
  }
}

/**
 * Any failure a pooled task's future can have in the Effect face.
 *
 * @category models
 * @since 0.2.0
 */
export type PoolError =
  | TaskFailed
  | CancelledError
  | TaskTimeout
  | WorkerExited
  | ShutdownError
  | CapturedVariables
  | Unshippable
  | QueueFull

/**
 * A multiprocessing `Queue.getNowait()` (or a `get` with a timeout) found
 * nothing: Python's `queue.Empty`.
 *
 * @category errors
 * @since 0.2.0
 */
export class Empty extends Data.TaggedError("Empty")<{ readonly message: string }> {
  constructor(f?: { readonly message?: string }) {
    super({ message: f?.message ?? "the queue is empty" })
  }
}

/**
 * A bounded multiprocessing `Queue.putNowait()` (or a `put` with a timeout)
 * found no room: Python's `queue.Full`.
 *
 * @category errors
 * @since 0.2.0
 */
export class Full extends Data.TaggedError("Full")<{ readonly message: string }> {
  constructor(f?: { readonly message?: string }) {
    super({ message: f?.message ?? "the queue is full" })
  }
}

/**
 * A closed queue or pipe connection was used, or a `recv()` found its
 * connection closed with nothing left (Python's `EOFError`).
 *
 * @category errors
 * @since 0.2.0
 */
export class Closed extends Data.TaggedError("Closed")<{ readonly what: string; readonly message: string }> {
  constructor(f: { readonly what: string; readonly message?: string }) {
    super({ what: f.what, message: f.message ?? `the ${f.what} is closed` })
  }
}

const registry: Record<string, new(f: any) => Error> = {
  CancelledError,
  TimeoutError,
  TaskTimeout,
  WorkerExited,
  TaskFailed,
  CapturedVariables,
  Unshippable,
  ShutdownError,
  QueueFull,
  Empty,
  Full,
  Closed
}
const ours = new Set(Object.keys(registry).filter((k) => k !== "Empty" && k !== "Full" && k !== "Closed"))

/**
 * Turns any error (these, rankflow's, or any other) into plain data that
 * the codec carries.
 *
 * @category serialization
 * @since 0.2.0
 */
export const toWire = (e: unknown): unknown => {
  if (e instanceof Error && "_tag" in e && typeof e._tag === "string" && e._tag in registry) {
    const out: Record<string, unknown> = { _ptag: e._tag }
    for (const [k, v] of Object.entries(e)) if (k !== "message" && k !== "_tag") out[k] = k === "cause" ? toWire(v) : v
    const cause = (e as { cause?: unknown }).cause
    if (cause !== undefined) out.cause = toWire(cause)
    if (e._tag === "Empty" || e._tag === "Full" || e._tag === "Closed") out.message = e.message
    return out
  }
  return Errors.toWire(e)
}

/**
 * Rebuilds an error made plain by {@link toWire}.
 *
 * @category serialization
 * @since 0.2.0
 */
export const fromWire = (u: unknown): unknown => {
  if (typeof u === "object" && u !== null && typeof (u as any)._ptag === "string" && (u as any)._ptag in registry) {
    const { _ptag, ...fields } = u as Record<string, unknown>
    if (fields.cause !== undefined) fields.cause = fromWire(fields.cause)
    return new registry[_ptag as string]!(fields)
  }
  return Errors.fromWire(u)
}

/**
 * Is `u` one of this module's tagged errors?
 *
 * @category guards
 * @since 0.2.0
 */
export const isPoolError = (u: unknown): u is PoolError | TimeoutError =>
  u instanceof Error && "_tag" in u && typeof u._tag === "string" && ours.has(u._tag)

/**
 * The Effect face's error for a failure: ours as they are, a task's own
 * exception wrapped in {@link TaskFailed}.
 *
 * @category constructors
 * @since 0.2.0
 */
export const toPoolError = (u: unknown): PoolError =>
  isPoolError(u) && !(u instanceof TimeoutError) ? u : new TaskFailed({ cause: u })
