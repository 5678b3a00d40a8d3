/**
 * An event flag across worker threads (Python's `multiprocessing.Event`),
 * in shared memory.
 *
 * @since 0.2.0
 */
import { Attach, fromSharedAs, registerKind, type SharedDescriptor, SharedObject } from "./Heap.ts"
import { deadline, waitAsync, waitSync } from "./internal/wait.ts"

/**
 * A flag worker threads can wait for (Python's `multiprocessing.Event`):
 * `set()` wakes every waiter, in every thread, and lets later ones through
 * until `clear()`.
 *
 * @example
 * ```ts
 * import { Event } from "rankflow/patterns/sync"
 * const ready = new Event()
 * // in another thread: ready.set()
 * if (!(await ready.wait(5000))) console.log("not ready after 5 s")
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class Event extends SharedObject {
  /** Rebuilds an event from `toShared()`'s descriptor, over the same memory. */
  static fromShared(d: SharedDescriptor): Event {
    return fromSharedAs<Event>("Event", d)
  }

  readonly kind = "Event"
  readonly #i32: Int32Array
  readonly #at: number

  constructor(from?: Attach) {
    super(from ?? 4)
    this.#i32 = this.heap.i32
    this.#at = this.offset >> 2
  }

  protected parts(): ReadonlyArray<unknown> {
    return []
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    Atomics.store(this.#i32, this.#at, 1)
    Atomics.notify(this.#i32, this.#at)
  }

  /** Clears the flag. */
  clear(): void {
    Atomics.store(this.#i32, this.#at, 0)
  }

  /** Is the flag set? */
  isSet(): boolean {
    return Atomics.load(this.#i32, this.#at) === 1
  }

  /**
   * Waits (without blocking the thread) until the flag is set, for at most
   * `timeout` ms or until `signal` aborts; resolves with the flag.
   */
  async wait(timeout?: number, signal?: AbortSignal): Promise<boolean> {
    const until = deadline(timeout)
    while (!this.isSet()) {
      const r = await waitAsync(this.#i32, this.#at, 0, until, signal)
      if (r === "timed-out" || r === "aborted") break
    }
    return this.isSet()
  }

  /** Blocks the thread until the flag is set, for at most `timeout` ms; returns the flag. */
  waitSync(timeout?: number): boolean {
    const until = deadline(timeout)
    while (!this.isSet()) {
      if (waitSync(this.#i32, this.#at, 0, until) === "timed-out") break
    }
    return this.isSet()
  }
}

registerKind("Event", (a) => new Event(a))
