/**
 * A barrier across worker threads (Python's `multiprocessing.Barrier`, with
 * `threading.Barrier`'s semantics), in shared memory.
 *
 * @since 0.2.0
 */
import { BrokenBarrierError } from "./Errors.ts"
import { Attach, fromSharedAs, registerKind, type SharedDescriptor, SharedObject } from "./Heap.ts"
import { deadline, waitAsync, waitSync, type WaitResult } from "./internal/wait.ts"

const COUNT = 0 // arrivals in this generation
const GEN = 1 // even: the generation; odd: broken
const PARTIES = 2
// Bytes 16-23: the default timeout in ms as a Float64, NaN for none.

/**
 * Options of a {@link Barrier}.
 *
 * @category models
 * @since 0.2.0
 */
export interface BarrierOptions {
  /**
   * Called by the last thread to arrive, before any is released (each
   * thread may give its own: functions do not travel). If it throws, the
   * barrier breaks.
   */
  readonly action?: (() => void) | undefined
  /** Default timeout of `wait`, in milliseconds; shared by every thread. */
  readonly timeout?: number | undefined
}

/**
 * A barrier for a fixed number of threads (Python's `Barrier(parties,
 * action, timeout)`): `wait()` returns once `parties` threads are waiting,
 * with each its arrival index (0 … parties − 1), and the barrier is ready
 * again. A wait that times out breaks it: every waiter, and every later
 * `wait`, throws `BrokenBarrierError` until `reset()`.
 *
 * @example
 * ```ts
 * import { Barrier } from "rankflow/patterns/sync"
 * const barrier = new Barrier(4) // pass barrier to 4 worker threads; in each:
 * const index = await barrier.wait() // all 4 continue together
 * if (index === 0) console.log("first to arrive")
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class Barrier extends SharedObject {
  /** Rebuilds a barrier from `toShared()`'s descriptor, over the same memory. */
  static fromShared(d: SharedDescriptor, options?: Pick<BarrierOptions, "action">): Barrier {
    const b = fromSharedAs<Barrier>("Barrier", d)
    return options?.action === undefined ? b : new Barrier(new Attach(b.heap, b.offset, []), options)
  }

  readonly kind = "Barrier"
  readonly #i32: Int32Array
  readonly #f64: Float64Array
  readonly #at: number
  readonly #action: (() => void) | undefined

  constructor(parties: number | Attach, options?: BarrierOptions) {
    super(parties instanceof Attach ? parties : 24)
    this.#i32 = this.heap.i32
    this.#at = this.offset >> 2
    this.#f64 = new Float64Array(this.heap.buffer, this.offset + 16, 1)
    this.#action = options?.action
    if (!(parties instanceof Attach)) {
      if (!Number.isInteger(parties) || parties < 1) throw new RangeError(`Barrier: parties must be a whole number ≥ 1; got ${parties}`)
      this.#i32[this.#at + PARTIES] = parties
      this.#f64[0] = options?.timeout ?? NaN
    }
  }

  protected parts(): ReadonlyArray<unknown> {
    return []
  }

  /** Threads needed to pass. */
  get parties(): number {
    return this.#i32[this.#at + PARTIES]!
  }

  /** Threads waiting now (Python's `n_waiting`). */
  get nWaiting(): number {
    return this.broken ? 0 : Atomics.load(this.#i32, this.#at + COUNT)
  }

  /** Is the barrier broken? */
  get broken(): boolean {
    return (Atomics.load(this.#i32, this.#at + GEN) & 1) === 1
  }

  #timeout(timeout: number | undefined): number | undefined {
    if (timeout !== undefined) return timeout
    const t = this.#f64[0]!
    return Number.isNaN(t) ? undefined : t
  }

  #broken(): BrokenBarrierError {
    return new BrokenBarrierError({ parties: this.parties })
  }

  /** Breaks generation `g` (if it is still current) and wakes its waiters. */
  #break(g: number): void {
    Atomics.compareExchange(this.#i32, this.#at + GEN, g, (g + 1) | 0)
    Atomics.notify(this.#i32, this.#at + GEN)
  }

  /** Arrives: the generation and arrival index, or the index of the last arrival (which released the others). */
  #arrive(): { g: number; index: number; last: boolean } {
    const g = Atomics.load(this.#i32, this.#at + GEN)
    if ((g & 1) === 1) throw this.#broken()
    const index = Atomics.add(this.#i32, this.#at + COUNT, 1)
    if (index !== this.parties - 1) return { g, index, last: false }
    try {
      this.#action?.()
    } catch (e) {
      this.#break(g)
      throw e
    }
    Atomics.store(this.#i32, this.#at + COUNT, 0)
    if (Atomics.compareExchange(this.#i32, this.#at + GEN, g, (g + 2) | 0) !== g) throw this.#broken()
    Atomics.notify(this.#i32, this.#at + GEN)
    return { g, index, last: true }
  }

  /** After a wake-up: the index if released, a throw if broken, undefined to wait on. */
  #settle(g: number, index: number, r: WaitResult): number | undefined {
    const diff = (Atomics.load(this.#i32, this.#at + GEN) - g) | 0
    if (diff === 1) throw this.#broken()
    if (diff !== 0) return index
    if (r === "timed-out" || r === "aborted") {
      this.#break(g)
      return this.#settle(g, index, "ok")
    }
    return undefined
  }

  /**
   * Waits (without blocking the thread) until `parties` threads wait, for
   * at most `timeout` ms (default: the barrier's) or until `signal` aborts,
   * either of which breaks the barrier. Resolves with the arrival index;
   * rejects with `BrokenBarrierError` if the barrier is or gets broken.
   */
  async wait(timeout?: number, signal?: AbortSignal): Promise<number> {
    const { g, index, last } = this.#arrive()
    if (last) return index
    const until = deadline(this.#timeout(timeout))
    for (;;) {
      const r = await waitAsync(this.#i32, this.#at + GEN, g, until, signal)
      const done = this.#settle(g, index, r)
      if (done !== undefined) return done
    }
  }

  /** Like {@link Barrier.wait}, blocking the thread. */
  waitSync(timeout?: number): number {
    const { g, index, last } = this.#arrive()
    if (last) return index
    const until = deadline(this.#timeout(timeout))
    for (;;) {
      const done = this.#settle(g, index, waitSync(this.#i32, this.#at + GEN, g, until))
      if (done !== undefined) return done
    }
  }

  /** Breaks the barrier: current and later waiters throw `BrokenBarrierError`. */
  abort(): void {
    const g = Atomics.load(this.#i32, this.#at + GEN)
    if ((g & 1) === 0) this.#break(g)
  }

  /**
   * Makes the barrier whole and empty again; threads waiting on it get
   * `BrokenBarrierError`. As in Python, call it when no thread is in
   * `wait`: one that has not woken yet may see the barrier as passed.
   */
  reset(): void {
    this.abort()
    Atomics.store(this.#i32, this.#at + COUNT, 0)
    const g = Atomics.load(this.#i32, this.#at + GEN)
    Atomics.store(this.#i32, this.#at + GEN, (g + 1) | 0)
    Atomics.notify(this.#i32, this.#at + GEN)
  }
}

registerKind("Barrier", (a) => new Barrier(a))
