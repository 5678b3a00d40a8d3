/**
 * `Pool`: Python's `multiprocessing.Pool` over rankflow's pool of workers
 * (child processes by default, threads with `context: "thread"`).
 *
 * @since 0.2.0
 */
import { Future } from "../executor/Future.ts"
import { type MapOptions, type MapResult, startMap, starTuples, zipTuples } from "../pool/Mapping.ts"
import type { PoolMetrics } from "../pool/Metrics.ts"
import type { ProgressOption } from "../pool/Progress.ts"
import type { ArgsOf, ResultOf, Runnable } from "../pool/Task.ts"
import { WorkerPool, type WorkerPoolOptions } from "../pool/WorkerPool.ts"
import { getStartMethod, type StartMethod } from "./Process.ts"

/**
 * Options of a {@link Pool}.
 *
 * @category models
 * @since 0.2.0
 */
export interface PoolOptions extends Omit<WorkerPoolOptions, "kind" | "maxWorkers" | "start" | "replace"> {
  /** How many workers (default: the machine's available parallelism). */
  readonly processes?: number | undefined
  /** `process` or `thread` (default: the start method, `process` unless set). */
  readonly context?: StartMethod | undefined
}

/**
 * The result of `applyAsync` / `mapAsync` (Python's `AsyncResult`).
 *
 * @category models
 * @since 0.2.0
 */
export class AsyncResult<R> implements PromiseLike<R> {
  private readonly future: Future<R>
  constructor(future: Future<R>) {
    this.future = future
  }
  /** The result; rejects with the call's error, or `TimeoutError` after `timeout` ms. */
  get(timeout?: number): Promise<R> {
    return this.future.result(timeout)
  }
  /** Waits until it is ready (at most `timeout` ms). */
  wait(timeout?: number): Promise<void> {
    return this.future.exception(timeout).then(() => undefined, () => undefined)
  }
  /** Has it finished? */
  ready(): boolean {
    return this.future.done()
  }
  /** Did it finish without error? Throws if it is not ready (as Python's ValueError). */
  successful(): boolean {
    if (!this.future.done()) throw new Error("the result is not ready")
    return this.future.succeeded()
  }
  then<A = R, B = never>(
    onfulfilled?: ((value: R) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null
  ): Promise<A | B> {
    return this.future.then(onfulfilled, onrejected)
  }
}

/**
 * Callbacks of `applyAsync` and `mapAsync`, called in this thread when the
 * result is ready.
 *
 * @category models
 * @since 0.2.0
 */
export interface AsyncCallbacks<R> {
  readonly callback?: ((result: R) => void) | undefined
  readonly errorCallback?: ((error: unknown) => void) | undefined
}

/**
 * A pool of workers (Python's `multiprocessing.Pool`). Blocking calls of
 * Python (`map`, `starmap`, `apply`) return Promises; `imap` and
 * `imapUnordered` return async iterators; `*Async` calls return
 * {@link AsyncResult}s. `await using p = new Pool(4)` terminates it at the
 * end of the block, as Python's `with Pool(4) as p`.
 *
 * @example
 * ```ts
 * import { Pool } from "rankflow/patterns/process"
 * export function f(x: number) { return x * x }
 * if (import.meta.main) {
 *   await using p = new Pool(5)
 *   console.log(await p.map(f, [1, 2, 3])) // [1, 4, 9]
 * }
 * ```
 * @category models
 * @since 0.2.0
 */
export class Pool implements AsyncDisposable {
  /** @internal */
  readonly pool: WorkerPool
  readonly context: StartMethod
  private closed = false

  constructor(processes?: number | PoolOptions, options?: PoolOptions) {
    const o: PoolOptions = typeof processes === "number" ? { ...options, processes } : processes ?? options ?? {}
    this.context = o.context ?? getStartMethod()
    const { processes: n, context: _, ...rest } = o
    this.pool = new WorkerPool({ ...rest, maxWorkers: n, kind: this.context })
  }

  /** How many workers it has at most. */
  get processes(): number {
    return this.pool.maxWorkers
  }

  private chunks(total: number | undefined, chunksize: number | undefined): number {
    if (chunksize !== undefined) return chunksize
    if (total === undefined) return 1
    // Python's choice: about four chunks per worker.
    return Math.max(1, Math.ceil(total / (this.pool.maxWorkers * 4)))
  }

  private open(op: string): void {
    this.pool.checkOpen(op)
  }

  /** `fn(...args)`, waiting for the result. */
  apply<R extends Runnable>(fn: R, args?: ArgsOf<R>): Promise<ResultOf<R>> {
    return attempt(() => this.applyAsync(fn, args).get())
  }

  /** `fn(...args)` on a worker; an {@link AsyncResult} at once. */
  applyAsync<R extends Runnable>(fn: R, args?: ArgsOf<R>, callbacks?: AsyncCallbacks<ResultOf<R>>): AsyncResult<ResultOf<R>> {
    this.open("applyAsync")
    const f = new Future<ResultOf<R>>()
    this.pool.enqueue(f, this.pool.fidOf(fn), [...(args ?? [])] as Array<unknown>, 1, { force: true })
    return withCallbacks(f, callbacks)
  }

  /**
   * `fn` on every element, the results in order (a Promise of the list).
   * `chunksize` defaults to about four chunks per worker, as Python.
   */
  map<R extends Runnable>(fn: R, iterable: Iterable<ArgsOf<R>[0]>, chunksize?: number, options?: { readonly progress?: ProgressOption }): Promise<Array<ResultOf<R>>> {
    return attempt(() => Promise.resolve(this.runMap(fn, [iterable], chunksize, true, options?.progress, true)))
  }

  /** `map` returning an {@link AsyncResult}. */
  mapAsync<R extends Runnable>(
    fn: R,
    iterable: Iterable<ArgsOf<R>[0]>,
    chunksize?: number,
    callbacks?: AsyncCallbacks<Array<ResultOf<R>>>
  ): AsyncResult<Array<ResultOf<R>>> {
    return withCallbacks(Future.fromPromise(this.runMap(fn, [iterable], chunksize, true, undefined, true)), callbacks)
  }

  /**
   * Lazy `map`: results in order as an async iterator; the input is read as
   * results are consumed (a few chunks per worker ahead), so it may be
   * endless. `chunksize` defaults to 1.
   */
  imap<R extends Runnable>(fn: R, iterable: Iterable<ArgsOf<R>[0]>, chunksize = 1, options?: { readonly progress?: ProgressOption }): MapResult<ResultOf<R>> {
    return this.runMap(fn, [iterable], chunksize, true, options?.progress, false)
  }

  /** `imap` yielding results as they complete, in no particular order. */
  imapUnordered<R extends Runnable>(fn: R, iterable: Iterable<ArgsOf<R>[0]>, chunksize = 1, options?: { readonly progress?: ProgressOption }): MapResult<ResultOf<R>> {
    return this.runMap(fn, [iterable], chunksize, false, options?.progress, false)
  }

  /** `fn(...args)` for every `args` of `iterable`, the results in order. */
  starmap<R extends Runnable>(fn: R, iterable: Iterable<ArgsOf<R>>, chunksize?: number): Promise<Array<ResultOf<R>>> {
    return attempt(() => Promise.resolve(this.runStar(fn, iterable, chunksize)))
  }

  /** `starmap` returning an {@link AsyncResult}. */
  starmapAsync<R extends Runnable>(
    fn: R,
    iterable: Iterable<ArgsOf<R>>,
    chunksize?: number,
    callbacks?: AsyncCallbacks<Array<ResultOf<R>>>
  ): AsyncResult<Array<ResultOf<R>>> {
    return withCallbacks(Future.fromPromise(this.runStar(fn, iterable, chunksize)), callbacks)
  }

  private runStar<R extends Runnable>(fn: R, iterable: Iterable<ArgsOf<R>>, chunksize: number | undefined): MapResult<ResultOf<R>> {
    this.open("starmap")
    const { tuples, total } = starTuples(iterable as Iterable<ReadonlyArray<unknown>>)
    return startMap(this.pool, this.pool.fidOf(fn), tuples, total, true, { chunksize: this.chunks(total, chunksize) })
  }

  private runMap<R extends Runnable>(
    fn: R,
    iterables: Array<Iterable<unknown>>,
    chunksize: number | undefined,
    ordered: boolean,
    progress: ProgressOption | undefined,
    eager: boolean
  ): MapResult<ResultOf<R>> {
    this.open("map")
    const { tuples, total } = zipTuples(iterables)
    const options: MapOptions = {
      chunksize: eager ? this.chunks(total, chunksize) : chunksize,
      buffersize: eager ? undefined : this.pool.maxWorkers * 4,
      progress
    }
    return startMap(this.pool, this.pool.fidOf(fn), tuples, total, ordered, options)
  }

  /** Takes no more work; the workers leave when what was submitted is done. */
  close(): void {
    this.closed = true
    this.pool.close(false)
  }

  /** Waits for the workers to leave (after `close` or `terminate`). */
  async join(): Promise<void> {
    if (!this.closed) throw new Error("join() needs close() or terminate() first, as in Python")
    await this.pool.whenIdle()
    await this.pool.stopWorkers()
  }

  /** Ends the workers now: queued work is cancelled, running work fails with `WorkerExited`. */
  async terminate(): Promise<void> {
    this.closed = true
    if (this.pool.idle) {
      this.pool.close(true)
      await this.pool.stopWorkers()
    } else await this.pool.terminate()
  }

  /** `await using p = new Pool()`: `terminate()` at the end of the block, as Python's `with`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.terminate()
  }

  /** Queued, running, completed, failed and cancelled calls, workers, and a run-time histogram. */
  metrics(): PoolMetrics {
    return this.pool.metrics()
  }
}

// A Promise-returning call rejects rather than throws (a closed pool, a bad chunksize, a closure).
const attempt = <A>(f: () => Promise<A>): Promise<A> => {
  try {
    return f()
  } catch (e) {
    return Promise.reject(e)
  }
}

const withCallbacks = <R>(f: Future<R>, callbacks: AsyncCallbacks<R> | undefined): AsyncResult<R> => {
  if (callbacks?.callback !== undefined || callbacks?.errorCallback !== undefined) {
    f.then((v) => callbacks.callback?.(v), (e) => callbacks.errorCallback?.(e))
  }
  return new AsyncResult(f)
}
