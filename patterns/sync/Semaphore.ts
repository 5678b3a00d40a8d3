/**
 * Counting semaphores across worker threads (Python's
 * `multiprocessing.Semaphore` and `BoundedSemaphore`), in shared memory.
 *
 * @since 0.2.0
 */
import { ReleaseError } from "./Errors.ts"
import { Attach, fromSharedAs, registerKind, type SharedDescriptor, SharedObject } from "./Heap.ts"
import type { Lockable } from "./Lock.ts"
import { deadline, waitAsync, waitSync } from "./internal/wait.ts"

const VALUE = 0
const BOUND = 1 // -1: unbounded

/**
 * A counter of permits shared by worker threads (Python's
 * `multiprocessing.Semaphore`): `acquire` waits while it is 0 and takes
 * one; `release` gives one back. With `bounded`, a release past the initial
 * value throws `ReleaseError` (see {@link BoundedSemaphore}).
 *
 * @example
 * ```ts
 * import { Semaphore } from "rankflow/patterns/sync"
 * const slots = new Semaphore(2) // two threads at a time
 * await slots.acquire()
 * try {
 *   // ...
 * } finally {
 *   slots.release()
 * }
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class Semaphore extends SharedObject implements Lockable {
  /** Rebuilds a semaphore from `toShared()`'s descriptor, over the same memory. */
  static fromShared(d: SharedDescriptor): Semaphore {
    return fromSharedAs<Semaphore>("Semaphore", d)
  }

  readonly kind: string = "Semaphore"
  readonly #i32: Int32Array
  readonly #at: number

  constructor(value: number | Attach = 1, options?: { readonly bounded?: boolean }) {
    super(value instanceof Attach ? value : 8)
    this.#i32 = this.heap.i32
    this.#at = this.offset >> 2
    if (!(value instanceof Attach)) {
      if (!Number.isInteger(value) || value < 0 || value > 0x7fff_ffff) {
        throw new RangeError(`Semaphore: the initial value must be a whole number from 0 to 2³¹−1; got ${value}`)
      }
      this.#i32[this.#at + BOUND] = options?.bounded === true ? value : -1
      Atomics.store(this.#i32, this.#at + VALUE, value)
    }
  }

  protected parts(): ReadonlyArray<unknown> {
    return []
  }

  /** Takes a permit if one is free. */
  tryAcquire(): boolean {
    for (;;) {
      const v = Atomics.load(this.#i32, this.#at + VALUE)
      if (v <= 0) return false
      if (Atomics.compareExchange(this.#i32, this.#at + VALUE, v, v - 1) === v) return true
    }
  }

  /**
   * Takes a permit, waiting (without blocking the thread) for at most
   * `timeout` ms or until `signal` aborts; `false` if it could not.
   */
  async acquire(timeout?: number, signal?: AbortSignal): Promise<boolean> {
    const until = deadline(timeout)
    while (!this.tryAcquire()) {
      const r = await waitAsync(this.#i32, this.#at + VALUE, 0, until, signal)
      if (r === "timed-out" || r === "aborted") return this.tryAcquire()
    }
    return true
  }

  /** Takes a permit, blocking the thread for at most `timeout` ms. */
  acquireSync(timeout?: number): boolean {
    const until = deadline(timeout)
    while (!this.tryAcquire()) {
      if (waitSync(this.#i32, this.#at + VALUE, 0, until) === "timed-out") return this.tryAcquire()
    }
    return true
  }

  /** Gives a permit back, waking one waiter. */
  release(): void {
    const bound = this.#i32[this.#at + BOUND]!
    for (;;) {
      const v = Atomics.load(this.#i32, this.#at + VALUE)
      if (bound >= 0 && v >= bound) {
        throw new ReleaseError({ op: "BoundedSemaphore.release", reason: `released too many times (bound ${bound})` })
      }
      if (Atomics.compareExchange(this.#i32, this.#at + VALUE, v, v + 1) === v) break
    }
    Atomics.notify(this.#i32, this.#at + VALUE, 1)
  }

  /** Permits free now (Python's `get_value()`). */
  getValue(): number {
    return Atomics.load(this.#i32, this.#at + VALUE)
  }
}

registerKind("Semaphore", (a) => new Semaphore(a))

/**
 * A {@link Semaphore} whose `release` throws `ReleaseError` past its initial
 * value (Python's `multiprocessing.BoundedSemaphore`).
 *
 * @example
 * ```ts
 * import { BoundedSemaphore } from "rankflow/patterns/sync"
 * const sem = new BoundedSemaphore(1)
 * sem.release() // throws ReleaseError: released too many times
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class BoundedSemaphore extends Semaphore {
  /** Rebuilds a bounded semaphore from `toShared()`'s descriptor, over the same memory. */
  static override fromShared(d: SharedDescriptor): BoundedSemaphore {
    return fromSharedAs<BoundedSemaphore>("BoundedSemaphore", d)
  }

  override readonly kind: string = "BoundedSemaphore"

  constructor(value: number | Attach = 1) {
    super(value, { bounded: true })
  }
}

registerKind("BoundedSemaphore", (a) => new BoundedSemaphore(a))
