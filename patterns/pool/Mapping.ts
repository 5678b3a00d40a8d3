/**
 * Maps over a pool: the input is cut into chunks (one job each), submitted
 * ahead of the consumer up to a buffer, and the results are yielded in input
 * order or as chunks complete. Executor's `map` and Pool's `map`, `imap`,
 * `imapUnordered` and `starmap` are this with different defaults.
 *
 * The result is an async iterable, and also a thenable that collects every
 * result into an array (`await ex.map(f, xs)`).
 *
 * @since 0.2.0
 */
import { CancelledError, TimeoutError } from "./Errors.ts"
import { type ProgressOption, startProgress } from "./Progress.ts"
import { Job, type WorkerPool } from "./WorkerPool.ts"

/**
 * Options of a map.
 *
 * @category models
 * @since 0.2.0
 */
export interface MapOptions {
  /** Calls per job (default 1; `Pool.map` picks one from the input's length). */
  readonly chunksize?: number | undefined
  /** Milliseconds from the call after which waiting for a result throws `TimeoutError`. */
  readonly timeout?: number | undefined
  /** How many chunks may be submitted ahead of the consumer (default: all of them, as Python). */
  readonly buffersize?: number | undefined
  /** Draw a progress bar (default `"auto"`: on a terminal, once the map has run for a second). */
  readonly progress?: ProgressOption | undefined
}

class Chunk extends Job {
  values: Array<unknown> | undefined = undefined
  at = 0
  errors: Array<readonly [number, unknown]> | undefined = undefined
  error: unknown = undefined
  failed = false
  done = false
  private readonly onDone: (c: Chunk) => void
  constructor(onDone: (c: Chunk) => void) {
    super()
    this.onDone = onDone
  }
  override _running(): void {}
  override _settle(values: Array<unknown>, at: number, _n: number, errors: Array<readonly [number, unknown]> | undefined): void {
    this.values = values
    this.at = at
    this.errors = errors
    this.done = true
    this.onDone(this)
  }
  override _fail(error: unknown): void {
    this.failed = true
    this.error = error
    this.done = true
    this.onDone(this)
  }
}

// Map chunks are queued past a bounded queue's limit: the map's own
// buffersize bounds how far it goes ahead.
const FORCE = { force: true } as const

/**
 * The running map: an async iterator of results that is also awaitable as
 * the array of all of them.
 *
 * @category models
 * @since 0.2.0
 */
export interface MapResult<R> extends AsyncIterableIterator<R>, PromiseLike<Array<R>> {}

/**
 * Starts a map of function `fid` over argument tuples.
 *
 * @category running
 * @since 0.2.0
 */
export const startMap = <R>(
  pool: WorkerPool,
  fid: number,
  tuples: Iterator<unknown>,
  total: number | undefined,
  ordered: boolean,
  options: MapOptions
): MapResult<R> => {
  const chunksize = options.chunksize ?? 1
  if (!Number.isInteger(chunksize) || chunksize < 1) throw new RangeError(`chunksize must be a positive integer; got ${chunksize}`)
  const buffersize = options.buffersize ?? Infinity
  if (!(buffersize >= 1)) throw new RangeError(`buffersize must be at least 1; got ${buffersize}`)
  const deadline = options.timeout === undefined ? undefined : performance.now() + options.timeout
  const progress = startProgress(options.progress, total)
  const chunks: Array<Chunk> = []
  const completed: Array<Chunk> = []
  let inputDone = false
  let consumed = 0 // chunks handed to the consumer (ordered: in order)
  let submitted = 0
  let closed = false
  let wake: (() => void) | undefined
  let count = 0

  const onDone = (c: Chunk): void => {
    progress.advance(c.n)
    if (!ordered) completed.push(c)
    const w = wake
    wake = undefined
    w?.()
  }

  const fill = (): void => {
    while (!inputDone && !closed && submitted - consumed < buffersize) {
      if (chunksize === 1) {
        // One call per job: its tuple as it is, no list around it.
        const r = tuples.next()
        if (r.done === true) {
          inputDone = true
          break
        }
        count++
        const c = new Chunk(onDone)
        chunks.push(c)
        submitted++
        pool.enqueue(c, fid, r.value as Array<unknown>, 1, FORCE)
        continue
      }
      const batch: Array<unknown> = []
      while (batch.length < chunksize) {
        const r = tuples.next()
        if (r.done === true) {
          inputDone = true
          break
        }
        batch.push(r.value)
      }
      if (batch.length === 0) break
      count += batch.length
      const c = new Chunk(onDone)
      chunks.push(c)
      submitted++
      if (batch.length === 1) pool.enqueue(c, fid, batch[0] as Array<unknown>, 1, FORCE)
      else pool.enqueue(c, fid, batch, batch.length, FORCE)
    }
    if (inputDone && total === undefined) progress.setTotal(count)
  }

  const cancelRest = (): void => {
    closed = true
    progress.stop()
    for (const c of chunks) if (c !== undefined && !c.done) pool.cancel(c)
  }

  fill()

  const waitFor = (ready: () => boolean): Promise<void> => {
    if (ready()) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const left = deadline === undefined ? undefined : deadline - performance.now()
      if (left !== undefined && left <= 0) {
        reject(new TimeoutError({ op: "map", timeoutMs: options.timeout! }))
        return
      }
      const t = left === undefined
        ? undefined
        : setTimeout(() => {
          wake = undefined
          reject(new TimeoutError({ op: "map", timeoutMs: options.timeout! }))
        }, left)
      const check = (): void => {
        if (ready()) {
          if (t !== undefined) clearTimeout(t)
          resolve()
        } else wake = check
      }
      wake = check
    })
  }

  let current: Chunk | undefined
  let pos = 0
  let errAt = 0
  const it: MapResult<R> = {
    [Symbol.asyncIterator]() {
      return it
    },
    async next(): Promise<IteratorResult<R>> {
      for (;;) {
        if (closed) return { done: true, value: undefined }
        if (current !== undefined && pos < current.n) {
          const c = current
          const i = pos++
          if (c.failed) {
            cancelRest()
            throw c.error
          }
          if (c.errors !== undefined && errAt < c.errors.length && c.errors[errAt]![0] === i) {
            cancelRest()
            throw c.errors[errAt]![1]
          }
          const v = c.values![c.at + i] as R
          if (pos === c.n) {
            current = undefined
            c.values = undefined
          }
          return { done: false, value: v }
        }
        // next chunk
        let next: Chunk | undefined
        try {
          if (ordered) {
            if (consumed >= chunks.length) {
              if (inputDone) {
                progress.stop()
                return { done: true, value: undefined }
              }
              fill()
              continue
            }
            const c = chunks[consumed]!
            await waitFor(() => c.done)
            chunks[consumed] = undefined as unknown as Chunk
            next = c
          } else {
            if (completed.length === 0 && consumed >= submitted) {
              if (inputDone) {
                progress.stop()
                return { done: true, value: undefined }
              }
              fill()
              continue
            }
            await waitFor(() => completed.length > 0)
            next = completed.shift()!
          }
        } catch (e) {
          cancelRest()
          throw e
        }
        consumed++
        current = next
        pos = 0
        errAt = 0
        fill()
      }
    },
    async return(): Promise<IteratorResult<R>> {
      cancelRest()
      return { done: true, value: undefined }
    },
    then<A = Array<R>, B = never>(
      onfulfilled?: ((value: Array<R>) => A | PromiseLike<A>) | null,
      onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null
    ): Promise<A | B> {
      const collect = async (): Promise<Array<R>> => {
        const out: Array<R> = []
        for (;;) {
          // Every result of the chunks already done, without a promise each.
          if (ordered) {
            while (current === undefined && !closed && consumed < chunks.length) {
              const c = chunks[consumed]!
              if (!c.done || c.failed || c.errors !== undefined) break
              chunks[consumed] = undefined as unknown as Chunk
              consumed++
              const vs = c.values!
              for (let i = 0; i < c.n; i++) out.push(vs[c.at + i] as R)
              c.values = undefined
              fill()
            }
          }
          const r = await it.next()
          if (r.done === true) return out
          out.push(r.value)
        }
      }
      return collect().then(onfulfilled, onrejected)
    }
  }
  void CancelledError
  return it
}

/**
 * Zips iterables into argument tuples (stopping at the shortest), and tells
 * the count when every input has a length.
 *
 * @category running
 * @since 0.2.0
 */
export const zipTuples = (iterables: ReadonlyArray<Iterable<unknown>>): { tuples: Iterator<unknown>; total: number | undefined } => {
  let total: number | undefined = Infinity
  for (const x of iterables) {
    const n = Array.isArray(x) || ArrayBuffer.isView(x) ? (x as ArrayLike<unknown>).length : undefined
    total = n === undefined || total === undefined ? undefined : Math.min(total, n)
  }
  if (total === Infinity) total = 0
  if (iterables.length === 1) {
    const src = iterables[0]!
    if (Array.isArray(src)) {
      let i = 0
      return {
        tuples: {
          next: () => (i < src.length ? { done: false, value: [src[i++]] } : { done: true, value: undefined })
        },
        total
      }
    }
    const inner = src[Symbol.iterator]()
    return {
      tuples: {
        next: () => {
          const r = inner.next()
          return r.done === true ? r : { done: false, value: [r.value] }
        }
      },
      total
    }
  }
  const its = iterables.map((x) => x[Symbol.iterator]())
  return {
    tuples: {
      next: () => {
        const t: Array<unknown> = []
        for (const i of its) {
          const r = i.next()
          if (r.done === true) return { done: true, value: undefined }
          t.push(r.value)
        }
        return { done: false, value: t }
      }
    },
    total
  }
}

/**
 * Tuples from an iterable of argument lists (`starmap`).
 *
 * @category running
 * @since 0.2.0
 */
export const starTuples = (iterable: Iterable<ReadonlyArray<unknown>>): { tuples: Iterator<unknown>; total: number | undefined } => {
  const inner = iterable[Symbol.iterator]()
  return {
    tuples: {
      next: () => {
        const r = inner.next()
        return r.done === true ? r : { done: false, value: Array.from(r.value) }
      }
    },
    total: Array.isArray(iterable) ? iterable.length : undefined
  }
}
