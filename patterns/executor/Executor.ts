/**
 * Executors: Python's `concurrent.futures` executors over rankflow's pool
 * of workers. `ThreadPoolExecutor` runs calls on worker threads,
 * `ProcessPoolExecutor` on child processes started with this project's Node
 * (`process.execPath`); both share one engine (batching, cancellation,
 * timeouts, recycling, metrics; see `patterns/pool/WorkerPool.ts`).
 *
 * A call is a named export of a module (`task(import.meta.url, "name")`) or
 * a self-contained function, sent by its source; arguments and results
 * travel by rankflow's codec.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type PoolError, toPoolError } from "../pool/Errors.ts"
import { type MapOptions, type MapResult, startMap, zipTuples } from "../pool/Mapping.ts"
import type { PoolMetrics } from "../pool/Metrics.ts"
import type { ArgsOf, ResultOf, Runnable } from "../pool/Task.ts"
import { WorkerPool, type WorkerPoolOptions } from "../pool/WorkerPool.ts"
import { Future } from "./Future.ts"

/**
 * Options of one submitted call (`submitWith`).
 *
 * @category models
 * @since 0.2.0
 */
export interface CallOptions {
  /** Abort the call if it runs longer than this (ms, from when it starts running): `TaskTimeout`. */
  readonly timeout?: number | undefined
  /** Aborting it aborts the call (as `future.abort()`). */
  readonly signal?: AbortSignal | undefined
}

/**
 * Options of an executor.
 *
 * @category models
 * @since 0.2.0
 */
export interface ExecutorOptions extends Omit<WorkerPoolOptions, "kind" | "start" | "replace"> {}

const isOptions = (x: unknown): x is MapOptions =>
  typeof x === "object" && x !== null && !(Symbol.iterator in x) && !Array.isArray(x) && !ArrayBuffer.isView(x)

/**
 * What every executor offers (Python's `Executor`): `submit`, `map`,
 * `shutdown`, `await using`; and their Effect variants.
 *
 * @category models
 * @since 0.2.0
 */
export class Executor implements AsyncDisposable {
  /** @internal */
  readonly pool: WorkerPool
  private shutdownPromise: Promise<void> | undefined

  constructor(pool: WorkerPool) {
    this.pool = pool
  }

  /** How many workers it runs at most. */
  get maxWorkers(): number {
    return this.pool.maxWorkers
  }

  /**
   * Schedules `fn(...args)` on a worker and returns its {@link Future}.
   * Throws `CapturedVariables` for a function that uses outer variables,
   * `ShutdownError` after `shutdown`, `QueueFull` when a bounded queue is
   * full.
   *
   * @example
   * ```ts
   * import { ThreadPoolExecutor } from "rankflow/patterns/executor"
   * await using ex = new ThreadPoolExecutor({ maxWorkers: 2 })
   * console.log(await ex.submit((x: number) => x * x, 12)) // 144
   * ```
   */
  submit<R extends Runnable>(fn: R, ...args: ArgsOf<R>): Future<ResultOf<R>> {
    const f = new Future<ResultOf<R>>()
    this.pool.enqueue(f, this.pool.fidOf(fn), args, 1)
    return f
  }

  /**
   * `submit` with per-call options: a `timeout` measured from when the call
   * starts running, and an abort `signal`.
   *
   * @example
   * ```ts
   * import { ThreadPoolExecutor } from "rankflow/patterns/executor"
   * await using ex = new ThreadPoolExecutor({ maxWorkers: 1 })
   * const f = ex.submitWith({ timeout: 100 }, () => new Promise(() => {}))
   * await f.exception() // TaskTimeout
   * ```
   */
  submitWith<R extends Runnable>(options: CallOptions, fn: R, ...args: ArgsOf<R>): Future<ResultOf<R>> {
    const f = new Future<ResultOf<R>>()
    this.pool.enqueue(f, this.pool.fidOf(fn), args, 1, options)
    return f
  }

  /**
   * Calls `fn` on every element (several iterables: on their elements side
   * by side, stopping at the shortest). Returns the results in order as an
   * async iterator, which is also awaitable as the array of all of them.
   * Everything is submitted at once (as in Python) unless `buffersize`
   * bounds how far ahead it goes. `chunksize` ships that many calls as one
   * job; tiny calls are batched anyway. A call's error is thrown when the
   * iteration reaches it, and the calls not started are cancelled.
   *
   * @example
   * ```ts
   * import { ThreadPoolExecutor } from "rankflow/patterns/executor"
   * await using ex = new ThreadPoolExecutor({ maxWorkers: 2 })
   * console.log(await ex.map((a: number, b: number) => a + b, [1, 2, 3], [10, 20, 30])) // [11, 22, 33]
   * for await (const y of ex.map((x: number) => x * x, [1, 2, 3], { chunksize: 2 })) console.log(y)
   * ```
   */
  map<R extends Runnable>(
    fn: R,
    ...rest: [...iterables: Array<Iterable<any>>, options: MapOptions] | Array<Iterable<any>>
  ): MapResult<ResultOf<R>> {
    const last = rest[rest.length - 1]
    const options = isOptions(last) ? last : {}
    const iterables = (isOptions(last) ? rest.slice(0, -1) : rest) as Array<Iterable<unknown>>
    if (iterables.length === 0) throw new TypeError("map needs at least one iterable")
    this.pool.checkOpen("map")
    const { tuples, total } = zipTuples(iterables)
    return startMap<ResultOf<R>>(this.pool, this.pool.fidOf(fn), tuples, total, true, options)
  }

  /**
   * Stops taking work (Python's `shutdown`). `wait` (default true):
   * resolves when every pending call has finished and the workers have
   * ended; `cancelFutures`: cancels the calls that have not started.
   * Idempotent.
   */
  shutdown(options?: { readonly wait?: boolean; readonly cancelFutures?: boolean }): Promise<void> {
    this.pool.close(options?.cancelFutures === true)
    this.shutdownPromise ??= this.pool.whenIdle().then(() => this.pool.stopWorkers())
    return options?.wait === false ? Promise.resolve() : this.shutdownPromise
  }

  /** `await using ex = new ThreadPoolExecutor()`: `shutdown({ wait: true })` at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true })
  }

  /** Resolves when a bounded queue (`maxQueue`) has room for a `submit`. */
  ready(): Promise<void> {
    return this.pool.ready()
  }

  /** Queued, running, completed, failed and cancelled calls, workers, and a run-time histogram. */
  metrics(): PoolMetrics {
    return this.pool.metrics()
  }

  // --------------------------------------------------------------- Effect

  /**
   * `submit` as an Effect: waits for room in a bounded queue, then for the
   * result; fails with a typed error (a call's own exception as
   * `TaskFailed`); interrupting it aborts the call.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { ThreadPoolExecutor } from "rankflow/patterns/executor"
   * await using ex = new ThreadPoolExecutor({ maxWorkers: 2 })
   * const twice = Effect.all([ex.submitEffect((x: number) => x * 2, 1), ex.submitEffect((x: number) => x * 2, 2)])
   * console.log(await Effect.runPromise(twice)) // [2, 4]
   * ```
   */
  submitEffect<R extends Runnable>(fn: R, ...args: ArgsOf<R>): Effect.Effect<ResultOf<R>, PoolError> {
    return this.submitWithEffect({}, fn, ...args)
  }

  /** `submitWith` as an Effect (see {@link submitEffect}). */
  submitWithEffect<R extends Runnable>(options: CallOptions, fn: R, ...args: ArgsOf<R>): Effect.Effect<ResultOf<R>, PoolError> {
    const pool = this.pool
    const attempt = Effect.suspend(() => {
      try {
        return Future.toEffect(this.submitWith(options, fn, ...args))
      } catch (e) {
        return Effect.fail(toPoolError(e))
      }
    })
    return Effect.suspend(() =>
      pool.hasRoom() ? attempt : Effect.flatMap(Effect.promise(() => pool.ready()), () => attempt)
    )
  }

  /**
   * `map` as an Effect of the array of results (interrupting it cancels
   * what has not run).
   */
  mapEffect<R extends Runnable>(
    fn: R,
    ...rest: [...iterables: Array<Iterable<any>>, options: MapOptions] | Array<Iterable<any>>
  ): Effect.Effect<Array<ResultOf<R>>, PoolError> {
    return Effect.suspend(() => {
      let run: MapResult<ResultOf<R>>
      try {
        run = this.map(fn, ...rest)
      } catch (e) {
        return Effect.fail(toPoolError(e))
      }
      return Effect.onInterrupt(
        Effect.tryPromise({ try: () => Promise.resolve(run), catch: toPoolError }),
        () => Effect.promise(() => run.return!().then(() => undefined))
      )
    })
  }

  /** `shutdown` as an Effect. */
  shutdownEffect(options?: { readonly wait?: boolean; readonly cancelFutures?: boolean }): Effect.Effect<void> {
    return Effect.promise(() => this.shutdown(options))
  }
}

const normalize = (o: number | ExecutorOptions | undefined): ExecutorOptions =>
  typeof o === "number" ? { maxWorkers: o } : o ?? {}

/**
 * An executor on worker threads (Python's `ThreadPoolExecutor`, with real
 * parallelism: each worker is its own V8 isolate). Threads start as work
 * arrives, up to `maxWorkers` (default: the machine's available
 * parallelism).
 *
 * @example
 * ```ts
 * import { ThreadPoolExecutor } from "rankflow/patterns/executor"
 * await using ex = new ThreadPoolExecutor({ maxWorkers: 4 })
 * const fs = [1, 2, 3].map((x) => ex.submit((x: number) => x * x, x))
 * console.log(await Promise.all(fs)) // [1, 4, 9]
 * ```
 * @category executors
 * @since 0.2.0
 */
export class ThreadPoolExecutor extends Executor {
  constructor(options?: number | ExecutorOptions) {
    super(new WorkerPool({ ...normalize(options), kind: "thread" }))
  }

  /** A thread pool executor in a Scope: shut down (waiting) when the scope closes. */
  static scoped(options?: number | ExecutorOptions): Effect.Effect<ThreadPoolExecutor, never, Scope.Scope> {
    return Effect.acquireRelease(Effect.sync(() => new ThreadPoolExecutor(options)), (ex) => ex.shutdownEffect())
  }
}

/**
 * An executor on child processes started with this project's Node
 * (`process.execPath`), Python's `ProcessPoolExecutor`: full isolation (a
 * crash or `process.exit` in a call ends only its worker, which is
 * replaced), at the cost of copying arguments and results.
 *
 * @example
 * ```ts
 * import { ProcessPoolExecutor } from "rankflow/patterns/executor"
 * await using ex = new ProcessPoolExecutor({ maxWorkers: 2, maxTasksPerChild: 100 })
 * console.log(await ex.map((x: number) => process.pid + x * 0, [1, 2])) // two pids (maybe the same)
 * ```
 * @category executors
 * @since 0.2.0
 */
export class ProcessPoolExecutor extends Executor {
  constructor(options?: number | ExecutorOptions) {
    super(new WorkerPool({ ...normalize(options), kind: "process" }))
  }

  /** A process pool executor in a Scope: shut down (waiting) when the scope closes. */
  static scoped(options?: number | ExecutorOptions): Effect.Effect<ProcessPoolExecutor, never, Scope.Scope> {
    return Effect.acquireRelease(Effect.sync(() => new ProcessPoolExecutor(options)), (ex) => ex.shutdownEffect())
  }
}
