/**
 * Locks across worker threads (Python's `multiprocessing.Lock` and
 * `RLock`), in shared memory. `acquire()` waits with `Atomics.waitAsync`, so
 * the event loop keeps running; `acquireSync()` blocks the thread, and only
 * when called. Timeouts are in milliseconds.
 *
 * @since 0.2.0
 */
import { threadId } from "node:worker_threads"
import { ReleaseError } from "./Errors.ts"
import { Attach, fromSharedAs, registerKind, type SharedDescriptor, SharedObject } from "./Heap.ts"
import { lockAsync, lockSync, tryLock, unlock } from "./internal/mutex.ts"
import { deadline } from "./internal/wait.ts"

/**
 * What `Condition`, `Value` and `Array` accept as their lock.
 *
 * @category models
 * @since 0.2.0
 */
export interface Lockable {
  acquire(timeout?: number, signal?: AbortSignal): Promise<boolean>
  acquireSync(timeout?: number): boolean
  tryAcquire(): boolean
  release(): void
}

const holding = (release: () => void): Disposable => ({ [Symbol.dispose]: release })

/**
 * A lock shared by worker threads (Python's `multiprocessing.Lock`): not
 * reentrant, releasable by any thread. Make it in one thread and pass it to
 * others as a task argument or message, or as `lock.toShared()` in
 * `workerData`/`postMessage` (rebuilt with `Lock.fromShared`).
 *
 * @example
 * ```ts
 * import { Lock } from "rankflow/patterns/sync"
 * const lock = new Lock()
 * if (await lock.acquire(1000)) { // false if not free within a second
 *   try {
 *     // ... critical section
 *   } finally {
 *     lock.release()
 *   }
 * }
 * {
 *   using _ = await lock.hold() // Python's `with lock:`
 * }
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class Lock extends SharedObject implements Lockable {
  /** Rebuilds a lock from `toShared()`'s descriptor, over the same memory. */
  static fromShared(d: SharedDescriptor): Lock {
    return fromSharedAs<Lock>("Lock", d)
  }

  readonly kind = "Lock"
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

  /**
   * Takes the lock, waiting (without blocking the thread) for at most
   * `timeout` ms (default: as long as it takes) or until `signal` aborts;
   * `false` if it could not.
   */
  acquire(timeout?: number, signal?: AbortSignal): Promise<boolean> {
    return lockAsync(this.#i32, this.#at, deadline(timeout), signal)
  }

  /** Takes the lock, blocking the thread for at most `timeout` ms; `false` if it could not. */
  acquireSync(timeout?: number): boolean {
    return lockSync(this.#i32, this.#at, deadline(timeout))
  }

  /** Takes the lock if it is free (Python's `acquire(False)`). */
  tryAcquire(): boolean {
    return tryLock(this.#i32, this.#at)
  }

  /** Frees the lock; throws `ReleaseError` if it is not locked. */
  release(): void {
    if (!unlock(this.#i32, this.#at)) throw new ReleaseError({ op: "Lock.release", reason: "the lock is not acquired" })
  }

  /** Is the lock held (by anyone)? */
  locked(): boolean {
    return Atomics.load(this.#i32, this.#at) !== 0
  }

  /** Takes the lock and returns a `Disposable` that frees it: `using _ = await lock.hold()`. */
  async hold(): Promise<Disposable> {
    await this.acquire()
    return holding(() => this.release())
  }
}

registerKind("Lock", (a) => new Lock(a))

const OWNER = 1
const COUNT = 2
/** This thread, as an RLock owner (0 is nobody). */
const me = threadId + 1

/**
 * A reentrant lock shared by worker threads (Python's
 * `multiprocessing.RLock`): the thread that holds it may take it again, and
 * must release it as many times. Ownership is per thread: async code on one
 * thread shares it.
 *
 * @example
 * ```ts
 * import { RLock } from "rankflow/patterns/sync"
 * const lock = new RLock()
 * await lock.acquire()
 * await lock.acquire() // the same thread: at once
 * lock.release()
 * lock.release()
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class RLock extends SharedObject implements Lockable {
  /** Rebuilds an RLock from `toShared()`'s descriptor, over the same memory. */
  static fromShared(d: SharedDescriptor): RLock {
    return fromSharedAs<RLock>("RLock", d)
  }

  readonly kind = "RLock"
  readonly #i32: Int32Array
  readonly #at: number

  constructor(from?: Attach) {
    super(from ?? 12)
    this.#i32 = this.heap.i32
    this.#at = this.offset >> 2
  }

  protected parts(): ReadonlyArray<unknown> {
    return []
  }

  #reenter(): boolean {
    if (Atomics.load(this.#i32, this.#at + OWNER) !== me) return false
    this.#i32[this.#at + COUNT]!++
    return true
  }

  #own(count = 1): true {
    Atomics.store(this.#i32, this.#at + OWNER, me)
    this.#i32[this.#at + COUNT] = count
    return true
  }

  /** Takes the lock (at once if this thread holds it); `false` on timeout or abort. */
  async acquire(timeout?: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#reenter()) return true
    return (await lockAsync(this.#i32, this.#at, deadline(timeout), signal)) && this.#own()
  }

  /** Takes the lock, blocking the thread for at most `timeout` ms. */
  acquireSync(timeout?: number): boolean {
    return this.#reenter() || (lockSync(this.#i32, this.#at, deadline(timeout)) && this.#own())
  }

  /** Takes the lock if this thread holds it or it is free. */
  tryAcquire(): boolean {
    return this.#reenter() || (tryLock(this.#i32, this.#at) && this.#own())
  }

  /** Releases one level; throws `ReleaseError` unless this thread holds it. */
  release(): void {
    if (Atomics.load(this.#i32, this.#at + OWNER) !== me) {
      throw new ReleaseError({ op: "RLock.release", reason: "this thread does not hold the lock" })
    }
    if (--this.#i32[this.#at + COUNT]! === 0) {
      Atomics.store(this.#i32, this.#at + OWNER, 0)
      unlock(this.#i32, this.#at)
    }
  }

  /** Does this thread hold it? */
  isOwned(): boolean {
    return Atomics.load(this.#i32, this.#at + OWNER) === me
  }

  /** Releases every level at once and returns how many there were (for `Condition.wait`). @internal */
  releaseAll(): number {
    if (!this.isOwned()) throw new ReleaseError({ op: "RLock.release", reason: "this thread does not hold the lock" })
    const count = this.#i32[this.#at + COUNT]!
    this.#i32[this.#at + COUNT] = 1
    this.release()
    return count
  }

  /** Sets the level after `acquire` (for `Condition.wait`). @internal */
  restore(count: number): void {
    this.#i32[this.#at + COUNT] = count
  }

  /** Takes the lock and returns a `Disposable` that releases it. */
  async hold(): Promise<Disposable> {
    await this.acquire()
    return holding(() => this.release())
  }
}

registerKind("RLock", (a) => new RLock(a))
