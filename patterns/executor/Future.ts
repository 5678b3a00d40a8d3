/**
 * Futures: Python's `concurrent.futures.Future`, awaitable, and convertible
 * to and from an Effect.
 *
 * A future stands for a call that runs elsewhere. Where Python blocks
 * (`result(timeout)`, `exception(timeout)`, `wait`, `as_completed`), these
 * return Promises or async iterables. A future is a thenable: `await f` is
 * `await f.result()`. `cancel()` cancels a call that has not started (as in
 * Python); `abort()` also stops a running one, cooperatively first (the
 * call's `AbortSignal` fires) and by terminating its worker after a grace
 * period.
 *
 * In the Effect face, `Future.toEffect(f)` waits for it (interrupting the
 * fiber aborts the call), and `Future.fromEffect(effect)` runs an Effect in a
 * fiber behind a future.
 *
 * @since 0.2.0
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import { CancelledError, type PoolError, TimeoutError, toPoolError } from "../pool/Errors.ts"
import { Job } from "../pool/WorkerPool.ts"

/**
 * A future's state, as Python names them.
 *
 * @category models
 * @since 0.2.0
 */
export type FutureState = "PENDING" | "RUNNING" | "CANCELLED" | "FINISHED"

const PENDING = 0
const RUNNING = 1
const CANCELLED = 2
const FINISHED = 3
const names: ReadonlyArray<FutureState> = ["PENDING", "RUNNING", "CANCELLED", "FINISHED"]

/**
 * The result of a call that runs elsewhere.
 *
 * @example
 * ```ts
 * import { ThreadPoolExecutor } from "rankflow/patterns/executor"
 * await using ex = new ThreadPoolExecutor({ maxWorkers: 2 })
 * const f = ex.submit((a: number, b: number) => a ** b, 2, 10)
 * f.addDoneCallback((g) => console.log("done:", g.done()))
 * console.log(await f.result()) // 1024
 * ```
 * @category models
 * @since 0.2.0
 */
export class Future<A> extends Job implements PromiseLike<A> {
  private st = PENDING
  private value: A | undefined = undefined
  private error: unknown = undefined
  private failed = false
  // Callbacks are kept untyped so Future stays covariant in A.
  private callbacks: Array<(f: any) => void> | undefined = undefined
  private promise: Promise<A> | undefined = undefined
  private resolveP: ((a: any) => void) | undefined = undefined
  private rejectP: ((e: unknown) => void) | undefined = undefined
  private deferred: Deferred.Deferred<any, PoolError> | undefined = undefined
  /** @internal the fiber behind it */
  fiber: Fiber.Fiber<A, unknown> | undefined = undefined

  /** Python's `_state`: PENDING, RUNNING, CANCELLED or FINISHED. */
  get state(): FutureState {
    return names[this.st]!
  }

  // --------------------------------------------------------- Python's API

  /**
   * Cancels the call if it has not started: returns true (and the future is
   * cancelled) or false (it runs or has finished).
   */
  cancel(): boolean {
    if (this.st === CANCELLED) return true
    if (this.st !== PENDING) return false
    if (this.pool !== undefined) return this.pool.cancel(this)
    this._fail(new CancelledError({ reason: "cancelled before it started", running: false }), true)
    return true
  }

  /**
   * Stops the call whether or not it has started. Queued: as `cancel()`.
   * Running: its `AbortSignal` fires; if it ends by throwing, the future is
   * cancelled (`CancelledError`, `running: true`, its error as `cause`); if
   * it returns a value anyway, that is the result. A call that has not
   * ended within the pool's `abortGrace` has its worker terminated (and
   * replaced), and the future is cancelled. Returns false if it had
   * finished.
   */
  abort(): boolean {
    if (this.st === PENDING && this.pool === undefined && this.fiber === undefined) return this.cancel()
    if (this.st === CANCELLED) return true
    if (this.st === FINISHED) return false
    if (this.pool !== undefined) return this.pool.abort(this, "abort")
    if (this.fiber !== undefined) {
      this.fiber.interruptUnsafe()
      return true
    }
    return false
  }

  /** Was it cancelled (or aborted)? */
  cancelled(): boolean {
    return this.st === CANCELLED
  }

  /** Has a worker got it (and it has not finished)? */
  running(): boolean {
    return this.st === RUNNING
  }

  /** Did it finish with a value (not an error, not cancelled)? */
  succeeded(): boolean {
    return this.st === FINISHED && !this.failed
  }

  /** Has it finished, failed or been cancelled? */
  done(): boolean {
    return this.st >= CANCELLED
  }

  /**
   * Its value: resolves when it finishes, rejects with its error (or
   * `CancelledError`). With `timeout` (ms), rejects with `TimeoutError` if it
   * has not finished by then; the call goes on.
   */
  result(timeout?: number): Promise<A> {
    if (this.st >= CANCELLED) return this.failed ? Promise.reject(this.error) : Promise.resolve(this.value as A)
    return timeout === undefined ? this.asPromise() : withTimeout(this as Future<unknown>, timeout, "result", () => this.result())
  }

  /**
   * Its error, or `undefined` if it succeeded (rejects with `CancelledError`
   * if cancelled, as in Python, and with `TimeoutError` after `timeout`).
   */
  exception(timeout?: number): Promise<unknown> {
    if (this.st === CANCELLED) return Promise.reject(this.error)
    if (this.st === FINISHED) return Promise.resolve(this.failed ? this.error : undefined)
    const p = new Promise<unknown>((resolve, reject) =>
      this.onDone(() => (this.st === CANCELLED ? reject(this.error) : resolve(this.failed ? this.error : undefined)))
    )
    return timeout === undefined ? p : withTimeout(this as Future<unknown>, timeout, "exception", () => p)
  }

  /**
   * Calls `fn(future)` when it is done (at once if it is). Exceptions from
   * `fn` are reported and ignored, as in Python.
   */
  addDoneCallback(fn: (f: Future<A>) => void): void {
    if (this.st >= CANCELLED) return call(fn, this)
    ;(this.callbacks ??= []).push(fn)
  }

  /** For executors' implementers (Python's `set_running_or_notify_cancel`): false if cancelled. */
  setRunningOrNotifyCancel(): boolean {
    if (this.st === CANCELLED) return false
    if (this.st !== PENDING) throw new Error(`the future is ${this.state}, not PENDING`)
    this.st = RUNNING
    return true
  }

  /** For executors' implementers: finish with a value. */
  setResult(value: A): void {
    this.finish(false, value, undefined)
  }

  /** For executors' implementers: finish with an error. */
  setException(error: unknown): void {
    this.finish(true, undefined, error)
  }

  // ------------------------------------------------------------- thenable

  then<B = A, C = never>(
    onfulfilled?: ((value: A) => B | PromiseLike<B>) | null,
    onrejected?: ((reason: unknown) => C | PromiseLike<C>) | null
  ): Promise<B | C> {
    return this.asPromise().then(onfulfilled, onrejected)
  }

  private asPromise(): Promise<A> {
    if (this.promise === undefined) {
      if (this.st >= CANCELLED) this.promise = this.failed ? Promise.reject(this.error) : Promise.resolve(this.value as A)
      else {
        this.promise = new Promise<A>((resolve, reject) => {
          this.resolveP = resolve
          this.rejectP = reject
        })
      }
    }
    return this.promise
  }

  /** @internal called on completion, before user callbacks */
  onDone(fn: () => void): void {
    if (this.st >= CANCELLED) fn()
    else (this.callbacks ??= []).push(fn)
  }

  // ----------------------------------------------------------------- sink

  /** @internal */
  override _running(): void {
    if (this.st === PENDING) this.st = RUNNING
  }

  /** @internal */
  override _settle(values: Array<unknown>, at: number, _n: number, errors: Array<readonly [number, unknown]> | undefined): void {
    if (errors !== undefined) this.finish(true, undefined, errors[0]![1])
    else this.finish(false, values[at] as A, undefined)
  }

  /** @internal */
  override _fail(error: unknown, cancelled: boolean): void {
    if (this.st >= CANCELLED) return
    if (cancelled) {
      this.st = CANCELLED
      this.failed = true
      this.error = error
      this.complete()
    } else this.finish(true, undefined, error)
  }

  private finish(failed: boolean, value: A | undefined, error: unknown): void {
    if (this.st >= CANCELLED) throw new Error(`the future is already ${this.state}`)
    this.st = FINISHED
    this.failed = failed
    this.value = value
    this.error = error
    this.complete()
  }

  private complete(): void {
    if (this.resolveP !== undefined) {
      if (this.failed) this.rejectP!(this.error)
      else this.resolveP(this.value as A)
    }
    if (this.deferred !== undefined) Deferred.doneUnsafe(this.deferred, this.exit())
    const cbs = this.callbacks
    if (cbs !== undefined) {
      this.callbacks = undefined
      for (let i = 0; i < cbs.length; i++) call(cbs[i]!, this)
    }
  }

  private exit(): Exit.Exit<A, PoolError> {
    return this.failed ? Exit.fail(toPoolError(this.error)) : Exit.succeed(this.value as A)
  }

  // --------------------------------------------------------------- Effect

  /**
   * Waits for the future as an Effect: its value, or a typed failure (a
   * call's own exception as `TaskFailed`). Interrupting the waiting fiber
   * aborts the call (pass `{ abort: false }` to leave it running).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Future, ThreadPoolExecutor } from "rankflow/patterns/executor"
   * await using ex = new ThreadPoolExecutor({ maxWorkers: 1 })
   * const program = Future.toEffect(ex.submit((x: number) => x + 1, 41)).pipe(
   *   Effect.catchTag("TaskFailed", (e) => Effect.succeed(-1))
   * )
   * console.log(await Effect.runPromise(program)) // 42
   * ```
   */
  static toEffect<A>(f: Future<A>, options?: { readonly abort?: boolean }): Effect.Effect<A, PoolError> {
    return Effect.suspend(() => {
      if (f.st >= CANCELLED) return f.exit()
      if (f.deferred === undefined) f.deferred = Deferred.makeUnsafe<A, PoolError>()
      const wait = Deferred.await(f.deferred)
      return options?.abort === false ? wait : Effect.onInterrupt(wait, () => Effect.sync(() => void f.abort()))
    })
  }

  /**
   * Runs `effect` in a new fiber now, behind a future: the future finishes
   * with the fiber, and `abort()` interrupts it (a fiber runs at once, so
   * `cancel()` finds it running and returns false, as in Python).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Future } from "rankflow/patterns/executor"
   * const f = Future.fromEffect(Effect.succeed(7))
   * console.log(await f) // 7
   * ```
   */
  static fromEffect<A, E>(effect: Effect.Effect<A, E>): Future<A> {
    const f = new Future<A>()
    f.st = RUNNING
    const fiber = Effect.runFork(effect)
    f.fiber = fiber
    fiber.addObserver((exit) => {
      if (Exit.isSuccess(exit)) f.finish(false, exit.value, undefined)
      else if (Cause.hasInterruptsOnly(exit.cause)) {
        f._fail(new CancelledError({ reason: "its fiber was interrupted", running: true }), true)
      } else f.finish(true, undefined, Cause.squash(exit.cause))
    })
    return f
  }

  /**
   * A future that follows a promise (already running: `cancel()` returns
   * false).
   */
  static fromPromise<A>(promise: PromiseLike<A>): Future<A> {
    const f = new Future<A>()
    f.st = RUNNING
    promise.then((v) => f.st < CANCELLED && f.finish(false, v, undefined), (e) => f.st < CANCELLED && f.finish(true, undefined, e))
    return f
  }
}

const call = <A>(fn: (f: Future<A>) => void, f: Future<A>): void => {
  try {
    fn(f)
  } catch (e) {
    // As in Python: a failing callback is reported and ignored.
    process.emitWarning(`a future's done callback threw: ${e instanceof Error ? e.stack ?? e.message : String(e)}`)
  }
}

const withTimeout = <T>(f: Future<unknown>, ms: number, op: string, then: () => Promise<T>): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new TimeoutError({ op, timeoutMs: ms })), Math.max(0, ms))
    f.onDone(() => {
      clearTimeout(t)
      then().then(resolve, reject)
    })
  })

// ------------------------------------------------------------ module functions

/** `wait` returns when any future finishes or is cancelled. */
export const FIRST_COMPLETED = "FIRST_COMPLETED"
/** `wait` returns when any future fails (raises), or when all are done. */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION"
/** `wait` returns when all futures are done. */
export const ALL_COMPLETED = "ALL_COMPLETED"

/**
 * When {@link wait} returns.
 *
 * @category models
 * @since 0.2.0
 */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED

const failedNotCancelled = (f: Completed<unknown>): boolean => f.state === "FINISHED" && !f.succeeded()

/**
 * Waits for futures (Python's `concurrent.futures.wait`): resolves to the
 * sets of those `done` and `notDone` when `returnWhen` is met or `timeout`
 * (ms) has passed. Never rejects.
 *
 * @example
 * ```ts
 * import { FIRST_COMPLETED, ThreadPoolExecutor, wait } from "rankflow/patterns/executor"
 * await using ex = new ThreadPoolExecutor({ maxWorkers: 2 })
 * const fs = [ex.submit(() => 1), ex.submit(() => 2)]
 * const { done, notDone } = await wait(fs, { returnWhen: FIRST_COMPLETED })
 * console.log(done.size >= 1, done.size + notDone.size) // true 2
 * ```
 * @category waiting
 * @since 0.2.0
 */
export const wait = <F extends Completed<unknown>>(
  futures: Iterable<F>,
  options?: { readonly timeout?: number | undefined; readonly returnWhen?: ReturnWhen | undefined }
): Promise<{ done: Set<F>; notDone: Set<F> }> => {
  const all = new Set(futures)
  const returnWhen = options?.returnWhen ?? ALL_COMPLETED
  const split = () => {
    const done = new Set<F>()
    const notDone = new Set<F>()
    for (const f of all) (f.done() ? done : notDone).add(f)
    return { done, notDone }
  }
  const met = (): boolean => {
    let doneCount = 0
    for (const f of all) {
      if (!f.done()) continue
      doneCount++
      if (returnWhen === FIRST_COMPLETED) return true
      if (returnWhen === FIRST_EXCEPTION && failedNotCancelled(f)) return true
    }
    return doneCount === all.size
  }
  if (met()) return Promise.resolve(split())
  return new Promise((resolve) => {
    let finished = false
    const end = (): void => {
      if (finished) return
      finished = true
      if (timer !== undefined) clearTimeout(timer)
      resolve(split())
    }
    const timeout = options?.timeout
    const timer = timeout === undefined ? undefined : setTimeout(end, Math.max(0, timeout))
    for (const f of all) {
      if (!f.done()) f.onDone(() => !finished && met() && end())
    }
  })
}

/**
 * A future as `asCompleted` yields it: the same object, typed without its
 * `then`, because `for await` would otherwise type each element as the
 * future's value (it yields the future itself, as Python does).
 *
 * @category models
 * @since 0.2.0
 */
export type Completed<A> = Omit<Future<A>, "then">

/**
 * Yields futures as they complete (Python's `as_completed`): those already
 * done first, then each as it finishes or is cancelled. With `timeout` (ms,
 * from the call), the iteration throws `TimeoutError` if some are still not
 * done by then. Duplicates are yielded once.
 *
 * @example
 * ```ts
 * import { asCompleted, ThreadPoolExecutor } from "rankflow/patterns/executor"
 * await using ex = new ThreadPoolExecutor({ maxWorkers: 2 })
 * const fs = [3, 1, 2].map((s) => ex.submit(async (s: number) => {
 *   await new Promise((r) => setTimeout(r, s * 20))
 *   return s
 * }, s))
 * for await (const f of asCompleted(fs)) console.log(await f.result()) // in the order they finish
 * ```
 * @category waiting
 * @since 0.2.0
 */
export const asCompleted = <A>(
  futures: Iterable<Completed<A>>,
  options?: { readonly timeout?: number | undefined }
): AsyncIterableIterator<Completed<A>> => {
  const all = [...new Set(futures)]
  const ready: Array<Completed<A>> = []
  let pending = 0
  let wake: (() => void) | undefined
  for (const f of all) {
    if (f.done()) ready.push(f)
    else {
      pending++
      f.onDone(() => {
        pending--
        ready.push(f)
        const w = wake
        wake = undefined
        w?.()
      })
    }
  }
  const timeout = options?.timeout
  const deadline = timeout === undefined ? undefined : performance.now() + timeout
  let i = 0
  const it: AsyncIterableIterator<Completed<A>> = {
    [Symbol.asyncIterator]() {
      return it
    },
    async next(): Promise<IteratorResult<Completed<A>>> {
      for (;;) {
        if (i < ready.length) return { done: false, value: ready[i++]! }
        if (pending === 0) return { done: true, value: undefined }
        const left = deadline === undefined ? undefined : deadline - performance.now()
        if (left !== undefined && left <= 0) throw new TimeoutError({ op: "asCompleted", timeoutMs: timeout!, pending })
        await new Promise<void>((resolve, reject) => {
          const t = left === undefined
            ? undefined
            : setTimeout(() => {
              wake = undefined
              reject(new TimeoutError({ op: "asCompleted", timeoutMs: timeout!, pending }))
            }, left)
          wake = () => {
            if (t !== undefined) clearTimeout(t)
            resolve()
          }
        })
      }
    },
    async return(): Promise<IteratorResult<Completed<A>>> {
      i = ready.length
      pending = 0
      return { done: true, value: undefined }
    }
  }
  return it
}
