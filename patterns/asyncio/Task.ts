/**
 * Tasks: Python's `asyncio.Task` over an Effect fiber, and the functions
 * that start and await them (`createTask`, `gather`, `waitFor`, `shield`,
 * `sleep`), Effect face. The Promise face (`rankflow/patterns/asyncio/promise`)
 * has the same names for async functions.
 *
 * A task is a fiber. `task.cancel()` interrupts it, so its finalizers
 * (`Effect.ensuring`, `acquireRelease`, `try/finally` of an async function)
 * run; awaiting a cancelled task fails with {@link CancelledError}. As in
 * Python, a task that is awaited is cancelled when the one awaiting it is
 * (`shield` prevents that), and `gather` cancels what it gathers when it is
 * cancelled.
 *
 * | Python | rankflow (Effect face) |
 * |---|---|
 * | `asyncio.create_task(coro)` | `yield* createTask(effect)` |
 * | `await task` | `yield* task.join` |
 * | `task.cancel(msg)`, `done()`, `cancelled()`, `result()`, `exception()` | the same, camelCased, synchronous |
 * | `task.add_done_callback(fn)` | `task.addDoneCallback(fn)` |
 * | `await asyncio.gather(*aws, return_exceptions=True)` | `yield* gather([...], { returnExceptions: true })` |
 * | `await asyncio.wait_for(aw, 1.5)` | `yield* waitFor(aw, 1500)` (milliseconds, or any `Duration`) |
 * | `await asyncio.shield(aw)` | `yield* shield(aw)` |
 * | `await asyncio.sleep(2, "x")` | `yield* sleep(2000, "x")` (effect's `Clock`: `TestClock` drives it in tests) |
 *
 * @since 0.2.0
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { CancelledError, InvalidStateError, isCancelledError, TimeoutError } from "./Errors.ts"
import { exitError, runPromise, type TaskContext } from "./internal/runtime.ts"

let taskCounter = 0

/**
 * A running piece of work with Python's `asyncio.Task` surface: awaitable
 * (`await task` in async code, `yield* task.join` in Effect code),
 * cancellable (`cancel()`), and inspectable (`done`, `cancelled`, `result`,
 * `exception`, `addDoneCallback`). It wraps the fiber that runs it:
 * `task.fiber`.
 *
 * **When to use**: made by `createTask` (either face), `TaskGroup.createTask`
 * or `gather`; wrap an existing fiber with `new Task(fiber)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { createTask, sleep } from "rankflow/patterns/asyncio"
 * const program = Effect.gen(function*() {
 *   const task = yield* createTask(Effect.as(sleep(10), "done"))
 *   task.done() // false
 *   return yield* task.join // "done"
 * })
 * ```
 * @category models
 * @since 0.2.0
 */
export class Task<A, E = never> implements PromiseLike<A> {
  /** The fiber that runs the task. */
  readonly fiber: Fiber.Fiber<A, E>
  /**
   * Awaits the task (Python's `await task`): its value, its error, or
   * `CancelledError` if it was cancelled. If the fiber that awaits is
   * interrupted, the task is cancelled too (and awaited), as in Python; use
   * {@link Task.wait} or `shield` to await without that.
   */
  readonly join: Effect.Effect<A, E | CancelledError>
  /**
   * Awaits the task like {@link Task.join}, but being interrupted while
   * waiting leaves the task running (what `shield(task)` does).
   */
  readonly wait: Effect.Effect<A, E | CancelledError>
  #name: string
  #message: string | undefined
  readonly #context: TaskContext | undefined
  readonly #callbacks = new Map<Function, Array<() => void>>()

  /**
   * Wraps a fiber. `options.context` links a Promise-face task's async
   * function, so `cancel` reaches it; `createTask` passes it.
   */
  constructor(
    fiber: Fiber.Fiber<A, E>,
    options?: { readonly name?: string | undefined; readonly context?: TaskContext | undefined }
  ) {
    this.fiber = fiber
    this.#name = options?.name ?? `Task-${++taskCounter}`
    this.#context = options?.context
    if (this.#context !== undefined) this.#context.task = this
    this.wait = Effect.flatMap(Fiber.await(fiber), (exit) => this.#fromExit(exit))
    this.join = Effect.onInterrupt(this.wait, () => Fiber.interrupt(fiber))
  }

  #fromExit(exit: Exit.Exit<A, E>): Effect.Effect<A, E | CancelledError> {
    if (exit._tag === "Success") return Effect.succeed(exit.value)
    if (Cause.hasInterruptsOnly(exit.cause)) return Effect.fail(new CancelledError({ message: this.#message }))
    return Effect.failCause(exit.cause)
  }

  /** The task's name (`Task-N` unless given). */
  getName(): string {
    return this.#name
  }

  /** Renames the task. */
  setName(name: string): void {
    this.#name = name
  }

  /**
   * Requests cancellation: interrupts the fiber, which runs the task's
   * finalizers; a Promise-face task's async function gets `CancelledError`
   * where it awaits. Returns `false` if the task is already done. The
   * message, if given, is the `CancelledError`'s.
   */
  cancel(message?: string): boolean {
    if (this.done()) return false
    if (message !== undefined) this.#message = message
    if (this.#context !== undefined) this.#context.message = this.#message
    this.fiber.interruptUnsafe()
    return true
  }

  /** Has the task finished (succeeded, failed or been cancelled)? */
  done(): boolean {
    return this.fiber.pollUnsafe() !== undefined
  }

  /** Did the task end cancelled? */
  cancelled(): boolean {
    const exit = this.fiber.pollUnsafe()
    return exit !== undefined && exit._tag === "Failure" && Cause.hasInterruptsOnly(exit.cause)
  }

  /**
   * The task's value. Throws `InvalidStateError` if it is not done,
   * `CancelledError` if it was cancelled, and its error if it failed.
   */
  result(): A {
    const exit = this.#poll("result")
    if (exit._tag === "Success") return exit.value
    throw exitError(exit, this.#message)
  }

  /**
   * The task's error, or `undefined` if it succeeded. Throws
   * `InvalidStateError` if it is not done and `CancelledError` if it was
   * cancelled.
   */
  exception(): unknown {
    const exit = this.#poll("exception")
    if (exit._tag === "Success") return undefined
    const error = exitError(exit, this.#message)
    if (isCancelledError(error) && Cause.hasInterruptsOnly(exit.cause)) throw error
    return error
  }

  #poll(op: string): Exit.Exit<A, E> {
    const exit = this.fiber.pollUnsafe()
    if (exit === undefined) throw new InvalidStateError({ op: `${this.#name}.${op}()`, reason: "the task is not done" })
    return exit
  }

  /**
   * Calls `fn(task)` once the task is done (soon after, never synchronously;
   * at once-soon if it already is).
   */
  addDoneCallback(fn: (task: Task<A, E>) => void): void {
    const stop = this.fiber.addObserver(() => {
      queueMicrotask(() => fn(this))
    })
    const stops = this.#callbacks.get(fn)
    if (stops === undefined) this.#callbacks.set(fn, [stop])
    else stops.push(stop)
  }

  /** Removes every registration of `fn`; returns how many there were. */
  removeDoneCallback(fn: (task: Task<A, E>) => void): number {
    const stops = this.#callbacks.get(fn)
    if (stops === undefined) return 0
    this.#callbacks.delete(fn)
    stops.forEach((stop) => stop())
    return stops.length
  }

  /**
   * Makes the task awaitable in async code (`await task`), with
   * {@link Task.join}'s meaning: inside a Promise-face task, being cancelled
   * while awaiting cancels this task too.
   */
  then<B = A, C = never>(
    onfulfilled?: ((value: A) => B | PromiseLike<B>) | null,
    onrejected?: ((reason: unknown) => C | PromiseLike<C>) | null
  ): Promise<B | C> {
    return runPromise(this.join).then(onfulfilled, onrejected)
  }

  toString(): string {
    const state = !this.done() ? "pending" : this.cancelled() ? "cancelled" : "finished"
    return `<Task ${state} name='${this.#name}'>`
  }
}

/**
 * What the Effect face awaits: an Effect (run as a task where a task is
 * needed) or a {@link Task}.
 *
 * @category models
 * @since 0.2.0
 */
export type Awaitable<A = any, E = any, R = any> = Effect.Effect<A, E, R> | Task<A, E>

/**
 * The value an {@link Awaitable} gives.
 *
 * @category models
 * @since 0.2.0
 */
export type Success<T> = T extends Task<infer A, any> ? A : T extends Effect.Effect<infer A, any, any> ? A : never

/**
 * The error an {@link Awaitable} can fail with.
 *
 * @category models
 * @since 0.2.0
 */
export type Failure<T> = T extends Task<any, infer E> ? E : T extends Effect.Effect<any, infer E, any> ? E : never

/**
 * The services an {@link Awaitable} needs.
 *
 * @category models
 * @since 0.2.0
 */
export type Services<T> = T extends Effect.Effect<any, any, infer R> ? R : never

/** A task's effect: a `CancelledError` failure ends it cancelled (interrupted). @internal */
export const taskBody = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, CancelledError>, R> =>
  Effect.catchIf(effect, isCancelledError, () => Effect.interrupt) as Effect.Effect<A, Exclude<E, CancelledError>, R>

/**
 * Starts `effect` as a {@link Task} (Python's `asyncio.create_task`): it runs
 * in a fiber of its own, soon (not before this returns), and keeps running
 * after the fiber that made it ends, until it finishes or is cancelled. An
 * effect that fails with `CancelledError` ends the task cancelled.
 *
 * **When to use**: for work that outlives its creator. For work that must
 * end with a block, use `taskGroup`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { createTask, sleep } from "rankflow/patterns/asyncio"
 * const program = Effect.gen(function*() {
 *   const task = yield* createTask(sleep(60_000), { name: "sleeper" })
 *   task.cancel()
 *   return yield* Effect.flip(task.join) // CancelledError
 * })
 * ```
 * @category constructors
 * @since 0.2.0
 */
export const createTask = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options?: { readonly name?: string | undefined }
): Effect.Effect<Task<A, Exclude<E, CancelledError>>, never, R> =>
  Effect.map(
    Effect.forkDetach(taskBody(effect), { startImmediately: false }),
    (fiber) => new Task(fiber, { name: options?.name })
  )

/** A task for an awaitable: the task itself, or the effect started as one. */
export const ensureTask = <A, E, R>(aw: Awaitable<A, E, R>): Effect.Effect<Task<A, E>, never, R> =>
  aw instanceof Task ? Effect.succeed(aw) : (createTask(aw) as Effect.Effect<Task<A, E>, never, R>)

/**
 * Waits for tasks: every value in order, or the first failure. With
 * `returnExceptions`, failures and cancellations become values. Being
 * interrupted cancels every task. Defects always propagate.
 */
export const gatherTasks = (
  tasks: ReadonlyArray<Task<unknown, unknown>>,
  returnExceptions: boolean
): Effect.Effect<Array<unknown>, unknown> =>
  Effect.onInterrupt(
    Effect.callback<Array<unknown>, unknown>((resume) => {
      const out = new Array<unknown>(tasks.length)
      let remaining = tasks.length
      let finished = false
      const stops: Array<() => void> = []
      const finish = (effect: Effect.Effect<Array<unknown>, unknown>) => {
        finished = true
        stops.forEach((stop) => stop())
        resume(effect)
      }
      if (remaining === 0) return finish(Effect.succeed(out))
      tasks.forEach((task, i) => {
        if (finished) return
        stops.push(task.fiber.addObserver((exit) => {
          if (finished) return
          if (exit._tag === "Success") out[i] = exit.value
          else if (Cause.hasInterruptsOnly(exit.cause) || (returnExceptions && Cause.hasFails(exit.cause) && !Cause.hasDies(exit.cause))) {
            let error: unknown
            try {
              error = task.exception()
            } catch (e) {
              error = e // CancelledError
            }
            if (!returnExceptions) return finish(Effect.fail(error))
            out[i] = error
          } else return finish(Effect.failCause(exit.cause))
          if (--remaining === 0) finish(Effect.succeed(out))
        }))
      })
      return Effect.sync(() => stops.forEach((stop) => stop()))
    }),
    () => Fiber.interruptAll(tasks.map((t) => t.fiber))
  )

/**
 * Runs awaitables concurrently and collects their values in order (Python's
 * `asyncio.gather`). Effects are started as tasks. Without
 * `returnExceptions`, the first failure (or cancellation, as
 * `CancelledError`) fails the gather and the other tasks keep running, as in
 * Python; with it, failures are values in the result. Interrupting the
 * gather cancels them all.
 *
 * **When to use**: to await several things at once. To cancel the rest on
 * the first failure, use `taskGroup`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { gather, sleep } from "rankflow/patterns/asyncio"
 * const both = gather([sleep(20, "a"), Effect.succeed(1)]) // Effect<[string, number]>
 * const safe = gather([Effect.fail("no"), Effect.succeed(1)], { returnExceptions: true })
 * // Effect<["no" | CancelledError, number | ...]> of ["no", 1]
 * ```
 * @category combinators
 * @since 0.2.0
 */
export function gather<const T extends ReadonlyArray<Awaitable>>(
  aws: T,
  options: { readonly returnExceptions: true }
): Effect.Effect<{ -readonly [K in keyof T]: Success<T[K]> | Failure<T[K]> | CancelledError }, never, Services<T[number]>>
export function gather<const T extends ReadonlyArray<Awaitable>>(
  aws: T,
  options?: { readonly returnExceptions?: false | undefined }
): Effect.Effect<{ -readonly [K in keyof T]: Success<T[K]> }, Failure<T[number]> | CancelledError, Services<T[number]>>
export function gather(
  aws: ReadonlyArray<Awaitable>,
  options?: { readonly returnExceptions?: boolean | undefined }
): Effect.Effect<Array<unknown>, unknown, unknown> {
  return Effect.flatMap(
    Effect.forEach(aws, ensureTask),
    (tasks) => gatherTasks(tasks, options?.returnExceptions === true)
  )
}

/**
 * Awaits `aw` for at most `timeout` (Python's `asyncio.wait_for`): on time,
 * its value; otherwise it is cancelled (its finalizers run, and this waits
 * for them) and the wait fails with `TimeoutError`. A timeout of `undefined`
 * or `null` waits as long as it takes. An effect runs in the caller's fiber;
 * a task is joined (and cancelled on timeout). Time is effect's `Clock`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { sleep, waitFor } from "rankflow/patterns/asyncio"
 * const slow = waitFor(sleep(10_000), 100) // fails with TimeoutError after 100 ms
 * const recovered = Effect.catchTag(slow, "TimeoutError", () => Effect.succeed("gave up"))
 * ```
 * @category combinators
 * @since 0.2.0
 */
export function waitFor<A, E>(
  aw: Task<A, E>,
  timeout: Duration.Input | null | undefined
): Effect.Effect<A, E | CancelledError | TimeoutError>
export function waitFor<A, E, R>(
  aw: Effect.Effect<A, E, R>,
  timeout: Duration.Input | null | undefined
): Effect.Effect<A, E | TimeoutError, R>
export function waitFor<A, E, R>(
  aw: Awaitable<A, E, R>,
  timeout: Duration.Input | null | undefined
): Effect.Effect<A, E | CancelledError | TimeoutError, R> {
  const effect: Effect.Effect<A, E | CancelledError, R> = aw instanceof Task ? aw.join : aw
  if (timeout === null || timeout === undefined) return effect
  const duration = Duration.fromInputUnsafe(timeout)
  return Effect.timeoutOrElse(effect, {
    duration,
    orElse: () => Effect.fail(new TimeoutError(`waitFor: no result within ${Duration.format(duration)}`))
  })
}

/**
 * Awaits `aw` but protects it from the caller's cancellation (Python's
 * `asyncio.shield`): an effect is started as a task; if the caller is
 * interrupted, it stops waiting and the task runs on. Cancelling the task
 * itself still cancels it (the wait then fails with `CancelledError`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { shield, sleep, waitFor } from "rankflow/patterns/asyncio"
 * // the save finishes even though the caller stops waiting after 50 ms
 * const save = Effect.andThen(sleep(200), Effect.log("saved"))
 * const program = waitFor(shield(save), 50)
 * ```
 * @category combinators
 * @since 0.2.0
 */
export function shield<A, E>(aw: Task<A, E>): Effect.Effect<A, E | CancelledError>
export function shield<A, E, R>(aw: Effect.Effect<A, E, R>): Effect.Effect<A, E | CancelledError, R>
export function shield<A, E, R>(aw: Awaitable<A, E, R>): Effect.Effect<A, E | CancelledError, R> {
  return Effect.flatMap(ensureTask(aw), (task) => task.wait)
}

/**
 * Suspends for `duration` (milliseconds, or any `Duration`), then succeeds
 * with `value` (Python's `asyncio.sleep(delay, result)`). Uses effect's
 * `Clock`, so `TestClock` drives it in tests.
 *
 * @example
 * ```ts
 * import { sleep } from "rankflow/patterns/asyncio"
 * const done = sleep(2000, "Done!") // Effect<string>
 * ```
 * @category constructors
 * @since 0.2.0
 */
export const sleep = <A = void>(duration: Duration.Input, value?: A): Effect.Effect<A> =>
  Effect.as(Effect.sleep(duration), value as A)
