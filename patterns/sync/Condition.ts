/**
 * A condition variable across worker threads (Python's
 * `multiprocessing.Condition`), in shared memory.
 *
 * @since 0.2.0
 */
import { ReleaseError } from "./Errors.ts"
import { Attach, fromSharedAs, registerKind, type SharedDescriptor, SharedObject } from "./Heap.ts"
import { deadline, remaining, waitAsync, waitSync } from "./internal/wait.ts"
import { Lock, type Lockable, RLock } from "./Lock.ts"

/**
 * A condition variable (Python's `multiprocessing.Condition(lock=None)`):
 * a lock (an `RLock` unless given) and a way to sleep until notified.
 * `wait()` releases the lock, sleeps until `notify`/`notifyAll` (or the
 * timeout), and takes the lock again. A waiter may wake without a notify
 * meant for it: check the condition in a loop, or use `waitFor`.
 *
 * @example
 * ```ts
 * import { Condition, Value } from "rankflow/patterns/sync"
 * const items = Value("i", 0)
 * const cond = new Condition()
 * // consumer thread:
 * await cond.acquire()
 * await cond.waitFor(() => items.value > 0)
 * items.value--
 * cond.release()
 * // producer thread:
 * await cond.acquire()
 * items.value++
 * cond.notify()
 * cond.release()
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class Condition extends SharedObject implements Lockable {
  /** Rebuilds a condition (and its lock) from `toShared()`'s descriptor, over the same memory. */
  static fromShared(d: SharedDescriptor): Condition {
    return fromSharedAs<Condition>("Condition", d)
  }

  readonly kind = "Condition"
  /** The condition's lock. */
  readonly lock: Lock | RLock
  readonly #i32: Int32Array
  readonly #at: number

  constructor(lock?: Lock | RLock | Attach) {
    super(lock instanceof Attach ? lock : 4)
    this.#i32 = this.heap.i32
    this.#at = this.offset >> 2
    this.lock = lock instanceof Attach ? (lock.parts[0] as Lock | RLock) : lock ?? new RLock()
  }

  protected parts(): ReadonlyArray<unknown> {
    return [this.lock]
  }

  /** Takes the lock (see `Lock.acquire`). */
  acquire(timeout?: number, signal?: AbortSignal): Promise<boolean> {
    return this.lock.acquire(timeout, signal)
  }

  /** Takes the lock, blocking the thread. */
  acquireSync(timeout?: number): boolean {
    return this.lock.acquireSync(timeout)
  }

  /** Takes the lock if free. */
  tryAcquire(): boolean {
    return this.lock.tryAcquire()
  }

  /** Releases the lock. */
  release(): void {
    this.lock.release()
  }

  #check(op: string): void {
    const held = this.lock instanceof RLock ? this.lock.isOwned() : this.lock.locked()
    if (!held) throw new ReleaseError({ op: `Condition.${op}`, reason: "the lock is not held" })
  }

  /** Releases the lock entirely; how to take it back. */
  #let(op: string): number {
    this.#check(op)
    if (this.lock instanceof RLock) return this.lock.releaseAll()
    this.lock.release()
    return 1
  }

  #retake(levels: number): void {
    if (this.lock instanceof RLock) this.lock.restore(levels)
  }

  /**
   * Releases the lock, waits (without blocking the thread) for a notify, at
   * most `timeout` ms or until `signal` aborts, and takes the lock back.
   * `false` if it timed out. Throws `ReleaseError` without the lock.
   */
  async wait(timeout?: number, signal?: AbortSignal): Promise<boolean> {
    const until = deadline(timeout)
    const seq = Atomics.load(this.#i32, this.#at)
    const levels = this.#let("wait")
    let r
    try {
      r = await waitAsync(this.#i32, this.#at, seq, until, signal)
    } finally {
      await this.lock.acquire()
      this.#retake(levels)
    }
    return r !== "timed-out" && r !== "aborted"
  }

  /** Like {@link Condition.wait}, blocking the thread. */
  waitSync(timeout?: number): boolean {
    const until = deadline(timeout)
    const seq = Atomics.load(this.#i32, this.#at)
    const levels = this.#let("wait")
    let r
    try {
      r = waitSync(this.#i32, this.#at, seq, until)
    } finally {
      this.lock.acquireSync()
      this.#retake(levels)
    }
    return r !== "timed-out"
  }

  /**
   * Waits until `predicate()` is true (checked with the lock held), for at
   * most `timeout` ms; returns its last value.
   */
  async waitFor(predicate: () => boolean, timeout?: number, signal?: AbortSignal): Promise<boolean> {
    const until = deadline(timeout)
    let ok = predicate()
    while (!ok && remaining(until) > 0 && !signal?.aborted) {
      await this.wait(remaining(until), signal)
      ok = predicate()
    }
    return ok
  }

  /** Like {@link Condition.waitFor}, blocking the thread. */
  waitForSync(predicate: () => boolean, timeout?: number): boolean {
    const until = deadline(timeout)
    let ok = predicate()
    while (!ok && remaining(until) > 0) {
      this.waitSync(remaining(until))
      ok = predicate()
    }
    return ok
  }

  /** Wakes up to `n` waiters (in any thread). Call it with the lock held. */
  notify(n = 1): void {
    this.#check("notify")
    Atomics.add(this.#i32, this.#at, 1)
    Atomics.notify(this.#i32, this.#at, n)
  }

  /** Wakes every waiter. Call it with the lock held. */
  notifyAll(): void {
    this.notify(Infinity)
  }
}

registerKind("Condition", (a) => new Condition(a))
