/**
 * rankflow's asyncio shapes, Promise face: Python's `asyncio` for async
 * functions. The same names as the Effect face (`rankflow/patterns/asyncio`),
 * over the same fibers:
 *
 * ```ts
 * import * as asyncio from "rankflow/patterns/asyncio/promise"
 *
 * const task = asyncio.createTask(async () => {
 *   try {
 *     await asyncio.sleep(60_000)
 *   } finally {
 *     console.log("cleaned up") // runs when the task is cancelled
 *   }
 * })
 * await asyncio.sleep(10)
 * task.cancel()
 * await task.then(undefined, (e) => e) // CancelledError
 * ```
 *
 * **Cancellation.** A task made from an async function runs it in a context
 * that names the task. Cancelling the task makes the asyncio operation the
 * function is awaiting (`sleep`, `Queue.get`, `Lock.acquire`, `Event.wait`,
 * awaiting a task, `gather`, `waitFor`, ...) reject with `CancelledError`,
 * where Python raises it, so `try/finally` runs; the cancel waits for the
 * function to settle. If it is awaiting something else (a plain promise),
 * the next asyncio operation it starts rejects instead; the function also
 * gets an `AbortSignal`, aborted on cancel, for `fetch` and the like. A
 * function that lets `CancelledError` escape ends its task cancelled.
 *
 * **Time** is in milliseconds (Python uses seconds), on effect's `Clock`.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Scope from "effect/Scope"
import { QueueFull } from "../Errors.ts"
import { GroupCore } from "../internal/group.ts"
import { currentContext, fromAsync, fromPromise, makeContext, runPromise, runSync, type TaskContext } from "../internal/runtime.ts"
import * as Locks from "../Locks.ts"
import * as EffectQueue from "../Queue.ts"
import { gatherTasks, shield as shieldEffect, Task, waitFor as waitForEffect } from "../Task.ts"

export {
  CancelledError,
  InvalidStateError,
  isCancelledError,
  QueueEmpty,
  QueueFull,
  ReleaseError,
  TaskGroupError,
  TimeoutError
} from "../Errors.ts"
export { Task } from "../Task.ts"
export { Future } from "../Future.ts"

/**
 * An async function a task runs; it gets the task's `AbortSignal`.
 *
 * @category models
 * @since 0.2.0
 */
export type AsyncFn<A> = (signal: AbortSignal) => PromiseLike<A> | A

/**
 * What the Promise face awaits: a {@link Task}, an async function (started
 * as a task where one is needed), or a plain promise (which cancellation
 * stops waiting for, but cannot stop).
 *
 * @category models
 * @since 0.2.0
 */
export type Awaitable<A = unknown> = Task<A, any> | PromiseLike<A> | AsyncFn<A>

/**
 * The value an {@link Awaitable} gives.
 *
 * @category models
 * @since 0.2.0
 */
export type ValueOf<T> = T extends (...args: any) => infer R ? Awaited<R> : Awaited<T>

/** The effect that runs an async function (or awaits a promise) as a task, and its context. */
const taskOf = <A>(fn: AsyncFn<A> | PromiseLike<A>): { body: Effect.Effect<A, unknown>; context: TaskContext | undefined } => {
  if (typeof fn !== "function") return { body: fromPromise(fn), context: undefined }
  const context = makeContext()
  return { body: fromAsync(context, fn), context }
}

const fork = <A>(body: Effect.Effect<A, unknown>) => Effect.runFork(Effect.andThen(Effect.yieldNow, body))

/**
 * Starts an async function as a {@link Task} (Python's
 * `asyncio.create_task`): it starts soon (not before this returns) and runs
 * until it settles or is cancelled. A plain promise can be given too; its
 * task can be cancelled (awaiting it then rejects with `CancelledError`), but
 * the work behind the promise goes on.
 *
 * @example
 * ```ts
 * import { createTask, sleep } from "rankflow/patterns/asyncio/promise"
 * const task = createTask(async () => {
 *   await sleep(20)
 *   return 42
 * }, { name: "answer" })
 * task.done() // false
 * await task // 42
 * task.result() // 42
 * ```
 * @category constructors
 * @since 0.2.0
 */
export const createTask = <A>(
  fn: AsyncFn<A> | PromiseLike<A>,
  options?: { readonly name?: string | undefined }
): Task<A, unknown> => {
  const { body, context } = taskOf(fn)
  return new Task(fork(body), { name: options?.name, context })
}

const ensureTask = <A>(aw: Awaitable<A>): Task<A, unknown> => (aw instanceof Task ? aw : createTask(aw))

/**
 * The task running this code, if it runs in one made by this face (Python's
 * `asyncio.current_task()`).
 *
 * @example
 * ```ts
 * import { createTask, currentTask } from "rankflow/patterns/asyncio/promise"
 * const task = createTask(async () => currentTask()?.getName(), { name: "me" })
 * await task // "me"
 * ```
 * @category tasks
 * @since 0.2.0
 */
export const currentTask = (): Task<unknown, unknown> | undefined =>
  currentContext()?.task as Task<unknown, unknown> | undefined

/**
 * Runs `main` as a task and resolves with its result (Python's
 * `asyncio.run(main())`), so that `main` can be cancelled and knows its
 * task. Tasks it starts and does not await keep running.
 *
 * @example
 * ```ts
 * import { run, sleep } from "rankflow/patterns/asyncio/promise"
 * const answer = await run(async () => {
 *   await sleep(10)
 *   return 42
 * })
 * ```
 * @category tasks
 * @since 0.2.0
 */
export const run = <A>(main: AsyncFn<A>): Promise<A> => runPromise(createTask(main).join) as Promise<A>

/**
 * Waits for `duration` milliseconds, then resolves with `value` (Python's
 * `asyncio.sleep(delay, result)`). In a task, cancelling it rejects with
 * `CancelledError`. `sleep(0)` lets other tasks run.
 *
 * @example
 * ```ts
 * import { sleep } from "rankflow/patterns/asyncio/promise"
 * const done = await sleep(2000, "Done!") // "Done!", two seconds later
 * ```
 * @category tasks
 * @since 0.2.0
 */
export const sleep = <A = void>(duration: number, value?: A): Promise<A> =>
  runPromise(Effect.as(Effect.sleep(duration), value as A))

/**
 * Runs awaitables concurrently and resolves with their values in order
 * (Python's `asyncio.gather`). Without `returnExceptions`, rejects with the
 * first error (or `CancelledError` for a cancelled one) and the others keep
 * running, as in Python; with it, errors are values of the result.
 * Cancelling the gather (its task is cancelled) cancels them all.
 *
 * @example
 * ```ts
 * import { gather, sleep } from "rankflow/patterns/asyncio/promise"
 * const [a, b] = await gather([() => sleep(20, "a"), sleep(10, "b")]) // ["a", "b"]
 * const mixed = await gather([async () => { throw new Error("no") }, () => sleep(5, 1)], { returnExceptions: true })
 * // [Error: no, 1]
 * ```
 * @category tasks
 * @since 0.2.0
 */
export function gather<const T extends ReadonlyArray<Awaitable<any>>>(
  aws: T,
  options: { readonly returnExceptions: true }
): Promise<{ -readonly [K in keyof T]: ValueOf<T[K]> | unknown }>
export function gather<const T extends ReadonlyArray<Awaitable<any>>>(
  aws: T,
  options?: { readonly returnExceptions?: false | undefined }
): Promise<{ -readonly [K in keyof T]: ValueOf<T[K]> }>
export function gather(
  aws: ReadonlyArray<Awaitable<any>>,
  options?: { readonly returnExceptions?: boolean | undefined }
): Promise<Array<unknown>> {
  return runPromise(Effect.suspend(() => gatherTasks(aws.map(ensureTask), options?.returnExceptions === true)))
}

/**
 * Awaits `aw` for at most `timeout` milliseconds (Python's
 * `asyncio.wait_for`): on time, its value; otherwise it is cancelled (this
 * waits until its `finally` blocks have run) and the wait rejects with
 * `TimeoutError`. `undefined` or `null` waits as long as it takes. An async
 * function is started as a task.
 *
 * @example
 * ```ts
 * import { TimeoutError, sleep, waitFor } from "rankflow/patterns/asyncio/promise"
 * try {
 *   await waitFor(() => sleep(10_000), 100)
 * } catch (e) {
 *   e instanceof TimeoutError // true; the sleeping task was cancelled
 * }
 * ```
 * @category tasks
 * @since 0.2.0
 */
export const waitFor = <A>(aw: Awaitable<A>, timeout: number | null | undefined): Promise<A> =>
  runPromise(Effect.suspend(() => waitForEffect(ensureTask(aw), timeout))) as Promise<A>

/**
 * Awaits `aw` but protects it from cancellation of the awaiting task
 * (Python's `asyncio.shield`): an async function is started as a task; if
 * the awaiting task is cancelled, this rejects with `CancelledError` and the
 * shielded task runs on.
 *
 * @example
 * ```ts
 * import { shield, sleep, waitFor } from "rankflow/patterns/asyncio/promise"
 * const save = async () => { await sleep(200); return "saved" }
 * // gives up after 50 ms, and the save still completes
 * await waitFor(() => shield(save), 50).catch(() => "timed out")
 * ```
 * @category tasks
 * @since 0.2.0
 */
export const shield = <A>(aw: Awaitable<A>): Promise<A> =>
  runPromise(Effect.suspend(() => shieldEffect(ensureTask(aw)))) as Promise<A>

/**
 * A FIFO queue for async functions (Python's `asyncio.Queue`): `put` waits
 * while `maxsize` items are queued (≤ 0: unbounded), `get` while none is;
 * `putNowait`/`getNowait` throw `QueueFull`/`QueueEmpty`; `join` waits until
 * every item put has been marked with `taskDone`.
 *
 * @example
 * ```ts
 * import { Queue, createTask } from "rankflow/patterns/asyncio/promise"
 * const q = new Queue<string>(1)
 * const consumer = createTask(async () => {
 *   for (;;) {
 *     console.log(await q.get())
 *     q.taskDone()
 *   }
 * })
 * await q.put("a")
 * await q.put("b") // waits until the consumer took "a"
 * await q.join()
 * consumer.cancel()
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class Queue<A> {
  readonly #q: EffectQueue.Queue<A>

  constructor(maxsize = 0) {
    this.#q = new EffectQueue.Queue<A>(maxsize)
  }

  /** The bound; 0 for an unbounded queue. */
  get maxsize(): number {
    return this.#q.maxsize
  }

  /** Puts `item`, waiting while the queue is full. */
  put(item: A): Promise<void> {
    return runPromise(this.#q.put(item))
  }

  /** Puts `item` now; throws `QueueFull` if the queue is full. */
  putNowait(item: A): void {
    if (!this.#q.putNowaitUnsafe(item)) throw new QueueFull({ maxsize: this.#q.maxsize })
  }

  /** Takes the oldest item, waiting while the queue is empty. */
  get(): Promise<A> {
    return runPromise(this.#q.get)
  }

  /** Takes the oldest item now; throws `QueueEmpty` if there is none. */
  getNowait(): A {
    return runSync(this.#q.getNowait)
  }

  /** Marks a taken item as processed; throws `ReleaseError` if none is left. */
  taskDone(): void {
    runSync(this.#q.taskDone)
  }

  /** Waits until every item put has been marked with `taskDone`. */
  join(): Promise<void> {
    return runPromise(this.#q.join)
  }

  /** Items in the queue. */
  qsize(): number {
    return this.#q.qsize()
  }

  /** Is the queue empty? */
  empty(): boolean {
    return this.#q.empty()
  }

  /** Does it hold `maxsize` items? */
  full(): boolean {
    return this.#q.full()
  }
}

const holding = (release: () => void): Disposable => ({ [Symbol.dispose]: release })

/**
 * A mutual-exclusion lock for async functions (Python's `asyncio.Lock`):
 * FIFO, not reentrant. `using _ = await lock.hold()` is Python's
 * `async with lock:`.
 *
 * @example
 * ```ts
 * import { Lock } from "rankflow/patterns/asyncio/promise"
 * const lock = new Lock()
 * {
 *   using _ = await lock.hold()
 *   lock.locked() // true
 * }
 * lock.locked() // false
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class Lock {
  readonly #lock = new Locks.Lock()

  /** Waits until the lock is free and takes it; resolves `true`. */
  acquire(): Promise<true> {
    return runPromise(this.#lock.acquire)
  }

  /** Frees the lock; throws `ReleaseError` if it is not locked. */
  release(): void {
    runSync(this.#lock.release)
  }

  /** Is the lock held? */
  locked(): boolean {
    return this.#lock.locked()
  }

  /** Acquires the lock and returns a `Disposable` that releases it. */
  async hold(): Promise<Disposable> {
    await this.acquire()
    return holding(() => this.release())
  }
}

/**
 * A flag async functions can wait for (Python's `asyncio.Event`).
 *
 * @example
 * ```ts
 * import { Event, createTask } from "rankflow/patterns/asyncio/promise"
 * const ready = new Event()
 * const waiter = createTask(async () => (await ready.wait(), "woke"))
 * ready.set()
 * await waiter // "woke"
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class Event {
  readonly #event = new Locks.Event()

  /** Sets the flag and wakes every waiter. */
  set(): void {
    this.#event.setUnsafe()
  }

  /** Clears the flag. */
  clear(): void {
    this.#event.clearUnsafe()
  }

  /** Is the flag set? */
  isSet(): boolean {
    return this.#event.isSet()
  }

  /** Waits until the flag is set; resolves `true`. */
  wait(): Promise<true> {
    return runPromise(this.#event.wait)
  }
}

/**
 * A counter of permits for async functions (Python's `asyncio.Semaphore`).
 * `using _ = await sem.hold()` is `async with sem:`.
 *
 * @example
 * ```ts
 * import { Semaphore, gather, sleep } from "rankflow/patterns/asyncio/promise"
 * const sem = new Semaphore(2) // at most two downloads at a time
 * const download = async (n: number) => {
 *   using _ = await sem.hold()
 *   await sleep(10)
 *   return n
 * }
 * await gather([1, 2, 3, 4].map((n) => () => download(n)))
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class Semaphore {
  protected readonly inner: Locks.Semaphore

  constructor(value = 1) {
    this.inner = this.make(value)
  }

  protected make(value: number): Locks.Semaphore {
    return new Locks.Semaphore(value)
  }

  /** Waits for a permit and takes it; resolves `true`. */
  acquire(): Promise<true> {
    return runPromise(this.inner.acquire)
  }

  /** Gives a permit back. */
  release(): void {
    runSync(this.inner.release)
  }

  /** Would `acquire` wait? */
  locked(): boolean {
    return this.inner.locked()
  }

  /** Takes a permit and returns a `Disposable` that gives it back. */
  async hold(): Promise<Disposable> {
    await this.acquire()
    return holding(() => this.release())
  }
}

/**
 * A {@link Semaphore} whose `release` throws `ReleaseError` past its initial
 * value (Python's `asyncio.BoundedSemaphore`).
 *
 * @example
 * ```ts
 * import { BoundedSemaphore, ReleaseError } from "rankflow/patterns/asyncio/promise"
 * const sem = new BoundedSemaphore(1)
 * try {
 *   sem.release()
 * } catch (e) {
 *   e instanceof ReleaseError // true
 * }
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class BoundedSemaphore extends Semaphore {
  protected override make(value: number): Locks.Semaphore {
    return new Locks.BoundedSemaphore(value)
  }
}

/**
 * Structured concurrency for async functions (Python's `asyncio.TaskGroup`).
 * With `await using tg = new TaskGroup()`, leaving the block waits for every
 * task; the first task to fail cancels the others, and the block then throws
 * `TaskGroupError` listing the failures. `TaskGroup.run(body)` does the same
 * and also cancels the body when a task fails (a disposer cannot see the
 * body, so with `await using` the body runs on to the end of the block).
 *
 * @example
 * ```ts
 * import { TaskGroup, sleep } from "rankflow/patterns/asyncio/promise"
 * {
 *   await using tg = new TaskGroup()
 *   tg.createTask(() => sleep(10, "a"))
 *   tg.createTask(() => sleep(20, "b"))
 * } // both done here
 * const n = await TaskGroup.run(async (tg) => {
 *   const t = tg.createTask(() => sleep(10, 21))
 *   return 2 * (await t)
 * }) // 42
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class TaskGroup implements AsyncDisposable {
  /**
   * Runs `body` with a group and resolves with its value once the body and
   * every task are done. A failing task cancels the body and the others; a
   * failing body cancels the tasks; either way it rejects with
   * `TaskGroupError`.
   */
  static async run<A>(body: (tg: TaskGroup) => PromiseLike<A> | A): Promise<A> {
    const tg = new TaskGroup()
    try {
      return await runPromise(tg.#core.run(fromAsync(makeContext(), () => body(tg))))
    } finally {
      await tg.#close()
    }
  }

  readonly #scope = Scope.makeUnsafe()
  readonly #core = new GroupCore(Effect.runSync(Scope.provide(FiberSet.make<unknown, unknown>(), this.#scope)))

  /**
   * Starts `fn` as a task of the group. Throws `InvalidStateError` once the
   * group is shutting down (a task failed) or finished.
   */
  createTask<A>(fn: AsyncFn<A> | PromiseLike<A>, options?: { readonly name?: string | undefined }): Task<A, unknown> {
    this.#core.check()
    const { body, context } = taskOf(fn)
    return this.#core.track(fork(body), options?.name, context)
  }

  /** The tasks started in the group so far. */
  tasks(): ReadonlyArray<Task<unknown, unknown>> {
    return this.#core.tasks
  }

  /** Waits for every task; throws `TaskGroupError` if any failed. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await runPromise(this.#core.finish([], false))
    } finally {
      await this.#close()
    }
  }

  #close(): Promise<void> {
    return Effect.runPromise(Scope.close(this.#scope, Exit.void))
  }
}
