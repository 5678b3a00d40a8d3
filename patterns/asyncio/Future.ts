/**
 * Futures: Python's `asyncio.Future`, a result that someone sets later,
 * awaitable in both faces (`yield* future.join`, `await future`).
 *
 * | Python | rankflow |
 * |---|---|
 * | `fut = loop.create_future()` | `const fut = new Future<A>()` |
 * | `fut.set_result(x)`, `fut.set_exception(e)` | `fut.setResult(x)`, `fut.setException(e)` |
 * | `await fut` | `yield* fut.join` (Effect), `await fut` (Promise) |
 * | `fut.done()`, `cancelled()`, `result()`, `exception()`, `cancel(msg)` | the same, camelCased, synchronous |
 * | `fut.add_done_callback(fn)` | `fut.addDoneCallback(fn)` |
 *
 * As in Python, cancelling the task that awaits a future cancels the future
 * (`join`); `wait` awaits without that.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import { CancelledError, InvalidStateError } from "./Errors.ts"
import { runPromise } from "./internal/runtime.ts"

const PENDING = 0
const FINISHED = 1
const FAILED = 2
const CANCELLED = 3

let futureCounter = 0

/**
 * A value that is set later (Python's `asyncio.Future`). Whoever holds it
 * completes it once, with `setResult`, `setException` or `cancel`; everyone
 * awaiting it then resumes, and its done callbacks run (soon after, never
 * synchronously).
 *
 * **When to use**: to hand a result from a callback, an event handler or
 * another task to code that awaits it. For work that produces its own
 * result, `createTask` gives a {@link Task}, which is a future too.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { createTask, Future, sleep } from "rankflow/patterns/asyncio"
 *
 * const sleepCoroutine = (f: Future<string>) =>
 *   Effect.andThen(sleep(2000), Effect.sync(() => f.setResult("Done!")))
 *
 * const program = Effect.gen(function*() {
 *   const future = new Future<string>()
 *   yield* createTask(sleepCoroutine(future))
 *   return yield* future.join // "Done!", two seconds later
 * })
 * ```
 * @category models
 * @since 0.2.0
 */
export class Future<A, E = unknown> implements PromiseLike<A> {
  /**
   * Awaits the future (Python's `await fut`): its result, its exception, or
   * `CancelledError` if it was cancelled. If the fiber that awaits is
   * interrupted, the future is cancelled, as in Python.
   */
  readonly join: Effect.Effect<A, E | CancelledError>
  /** Awaits the future like {@link Future.join}; being interrupted while waiting leaves it pending. */
  readonly wait: Effect.Effect<A, E | CancelledError>
  readonly #name: string
  #state = PENDING
  #value: A | undefined = undefined
  #error: E | undefined = undefined
  #message: string | undefined = undefined
  #waiters: Array<() => void> = []
  #callbacks: Array<(future: Future<A, E>) => void> = []

  constructor(options?: { readonly name?: string | undefined }) {
    this.#name = options?.name ?? `Future-${++futureCounter}`
    this.wait = Effect.callback<A, E | CancelledError>((resume) => {
      if (this.#state !== PENDING) {
        resume(this.#outcome())
        return
      }
      const waiter = (): void => resume(this.#outcome())
      this.#waiters.push(waiter)
      return Effect.sync(() => {
        const i = this.#waiters.indexOf(waiter)
        if (i >= 0) this.#waiters.splice(i, 1)
      })
    })
    this.join = Effect.onInterrupt(this.wait, () => Effect.sync(() => void this.cancel()))
  }

  #outcome(): Effect.Effect<A, E | CancelledError> {
    switch (this.#state) {
      case FINISHED:
        return Effect.succeed(this.#value as A)
      case FAILED:
        return Effect.fail(this.#error as E)
      default:
        return Effect.fail(new CancelledError({ message: this.#message }))
    }
  }

  #settle(state: number): void {
    this.#state = state
    for (const w of this.#waiters.splice(0)) w()
    const callbacks = this.#callbacks.splice(0)
    if (callbacks.length > 0) queueMicrotask(() => callbacks.forEach((fn) => fn(this)))
  }

  #refuse(op: string): never {
    throw new InvalidStateError({ op: `${this.#name}.${op}`, reason: `the future is already ${this.#describe()}` })
  }

  #describe(): string {
    return this.#state === PENDING ? "pending" : this.#state === CANCELLED ? "cancelled" : "done"
  }

  /** Completes it with `value`; throws `InvalidStateError` if it is already done. */
  setResult(value: A): void {
    if (this.#state !== PENDING) this.#refuse("setResult()")
    this.#value = value
    this.#settle(FINISHED)
  }

  /** Completes it with `error`; throws `InvalidStateError` if it is already done. */
  setException(error: E): void {
    if (this.#state !== PENDING) this.#refuse("setException()")
    this.#error = error
    this.#settle(FAILED)
  }

  /** Cancels it: those awaiting it get `CancelledError` (with `message`). `false` if it was already done. */
  cancel(message?: string): boolean {
    if (this.#state !== PENDING) return false
    this.#message = message
    this.#settle(CANCELLED)
    return true
  }

  /** Is it done (a result, an exception, or cancelled)? */
  done(): boolean {
    return this.#state !== PENDING
  }

  /** Was it cancelled? */
  cancelled(): boolean {
    return this.#state === CANCELLED
  }

  /**
   * Its result. Throws `InvalidStateError` if it is not done,
   * `CancelledError` if it was cancelled, and its exception if it has one.
   */
  result(): A {
    if (this.#state === FINISHED) return this.#value as A
    throw this.#failure("result()")
  }

  /**
   * Its exception, or `undefined` if it has a result. Throws
   * `InvalidStateError` if it is not done and `CancelledError` if it was
   * cancelled.
   */
  exception(): E | undefined {
    if (this.#state === FINISHED) return undefined
    if (this.#state === FAILED) return this.#error
    throw this.#failure("exception()")
  }

  #failure(op: string): unknown {
    if (this.#state === PENDING) return new InvalidStateError({ op: `${this.#name}.${op}`, reason: "the future is not done" })
    if (this.#state === CANCELLED) return new CancelledError({ message: this.#message })
    return this.#error
  }

  /** Calls `fn(future)` once it is done (soon after, never synchronously; soon if it already is). */
  addDoneCallback(fn: (future: Future<A, E>) => void): void {
    if (this.#state === PENDING) this.#callbacks.push(fn)
    else queueMicrotask(() => fn(this))
  }

  /** Removes every registration of `fn`; returns how many there were. */
  removeDoneCallback(fn: (future: Future<A, E>) => void): number {
    const before = this.#callbacks.length
    this.#callbacks = this.#callbacks.filter((f) => f !== fn)
    return before - this.#callbacks.length
  }

  /**
   * Makes it awaitable in async code (`await future`), with
   * {@link Future.join}'s meaning: inside a Promise-face task, being
   * cancelled while awaiting cancels the future too.
   */
  then<B = A, C = never>(
    onfulfilled?: ((value: A) => B | PromiseLike<B>) | null,
    onrejected?: ((reason: unknown) => C | PromiseLike<C>) | null
  ): Promise<B | C> {
    return runPromise(this.join).then(onfulfilled, onrejected)
  }

  toString(): string {
    return `<Future ${this.#state === PENDING ? "pending" : this.#state === CANCELLED ? "cancelled" : "finished"} name='${this.#name}'>`
  }
}
