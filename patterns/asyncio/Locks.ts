/**
 * Python's `asyncio` synchronization primitives for fibers of one event
 * loop, Effect face: `Lock`, `Event`, `Semaphore`, `BoundedSemaphore`. They
 * are effect's `Semaphore` and `Latch` with Python's bookkeeping and errors;
 * waiting is interruptible, and an interrupted acquire holds nothing. The
 * Promise face (`rankflow/patterns/asyncio/promise`) wraps these.
 *
 * For threads (shared memory, `Atomics`), see `rankflow/patterns/sync`.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Latch from "effect/Latch"
import * as Scope from "effect/Scope"
import * as EffectSemaphore from "effect/Semaphore"
import { ReleaseError } from "./Errors.ts"

/**
 * Permits over effect's Semaphore, counted as Python counts them. Each
 * acquisition holds its permit in a scope of its own, so an acquire
 * interrupted at any point holds nothing, and a release (from any fiber)
 * closes the oldest.
 */
class Permits {
  readonly semaphore: EffectSemaphore.Semaphore
  readonly held: Array<Scope.Closeable> = []
  value: number

  constructor(value: number) {
    this.value = value
    this.semaphore = EffectSemaphore.makeUnsafe(value)
  }

  readonly acquire: Effect.Effect<true> = Effect.suspend(() => {
    const scope = Scope.makeUnsafe()
    return this.semaphore.takeScoped(1).pipe(
      Scope.provide(scope),
      Effect.onExit((exit) =>
        exit._tag === "Success"
          ? Effect.sync(() => {
            this.held.push(scope)
            this.value--
          })
          : Scope.close(scope, exit)
      ),
      Effect.as(true as const)
    )
  })

  /** Releases one permit: the oldest held one, or a new one. */
  readonly release: Effect.Effect<void> = Effect.suspend(() => {
    this.value++
    const scope = this.held.shift()
    return scope === undefined ? Effect.asVoid(this.semaphore.release(1)) : Scope.close(scope, Exit.void)
  })
}

const check = (value: number, what: string): void => {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${what}: the initial value must be a whole number ≥ 0; got ${value}`)
}

/**
 * A mutual-exclusion lock for fibers (Python's `asyncio.Lock`): FIFO, not
 * reentrant, releasable from any fiber. Releasing an unlocked lock fails
 * with `ReleaseError` (Python's `RuntimeError`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Lock } from "rankflow/patterns/asyncio"
 * const program = Effect.gen(function*() {
 *   const lock = yield* Lock.make
 *   yield* lock.acquire
 *   lock.locked() // true
 *   yield* lock.release
 *   return yield* lock.withLock(Effect.succeed("inside")) // async with lock: ...
 * })
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class Lock {
  /** A new, unlocked lock. */
  static readonly make: Effect.Effect<Lock> = Effect.sync(() => new Lock())
  readonly #permits = new Permits(1)

  /** Waits until the lock is free and takes it. */
  readonly acquire: Effect.Effect<true> = this.#permits.acquire

  /** Frees the lock; fails with `ReleaseError` if it is not locked. */
  readonly release: Effect.Effect<void, ReleaseError> = Effect.suspend(() =>
    this.#permits.value === 1
      ? Effect.fail(new ReleaseError({ op: "Lock.release", reason: "the lock is not acquired" }))
      : this.#permits.release
  )

  /** Is the lock held? */
  locked(): boolean {
    return this.#permits.value === 0
  }

  /** Runs `effect` holding the lock (Python's `async with lock:`). */
  withLock<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.acquireUseRelease(this.acquire, () => effect, () => this.#permits.release)
  }
}

/**
 * A flag fibers can wait for (Python's `asyncio.Event`), over effect's
 * `Latch`: `set` wakes every waiter and lets later ones through until
 * `clear`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Event, createTask } from "rankflow/patterns/asyncio"
 * const program = Effect.gen(function*() {
 *   const ready = yield* Event.make
 *   const waiter = yield* createTask(Effect.as(ready.wait, "woke"))
 *   yield* ready.set
 *   return yield* waiter.join // "woke"
 * })
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class Event {
  /** A new, clear event. */
  static readonly make: Effect.Effect<Event> = Effect.sync(() => new Event())
  readonly #latch = Latch.makeUnsafe(false)

  /** Sets the flag and wakes every waiter. */
  readonly set: Effect.Effect<void> = Effect.sync(() => this.setUnsafe())
  /** Clears the flag. */
  readonly clear: Effect.Effect<void> = Effect.sync(() => this.clearUnsafe())
  /** Waits until the flag is set; succeeds with `true`. */
  readonly wait: Effect.Effect<true> = Effect.as(this.#latch.await, true as const)

  /** Sets the flag and wakes every waiter, synchronously. */
  setUnsafe(): void {
    this.#latch.openUnsafe()
  }

  /** Clears the flag, synchronously. */
  clearUnsafe(): void {
    this.#latch.closeUnsafe()
  }

  /** Is the flag set? */
  isSet(): boolean {
    return this.#latch.isOpen()
  }
}

/**
 * A counter of permits (Python's `asyncio.Semaphore`): `acquire` waits
 * while it is 0 and takes one; `release` gives one back, even beyond the
 * initial value (see {@link BoundedSemaphore}).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Semaphore } from "rankflow/patterns/asyncio"
 * const program = Effect.gen(function*() {
 *   const sem = yield* Semaphore.make(2)
 *   yield* sem.acquire
 *   yield* sem.acquire
 *   sem.locked() // true: a third acquire would wait
 *   yield* sem.release
 * })
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class Semaphore {
  /** A semaphore with `value` permits (default 1). */
  static make(value = 1): Effect.Effect<Semaphore> {
    return Effect.sync(() => new Semaphore(value))
  }
  protected readonly permits: Permits

  constructor(value = 1) {
    check(value, "Semaphore")
    this.permits = new Permits(value)
  }

  /** Waits for a permit and takes it. */
  readonly acquire: Effect.Effect<true> = Effect.suspend(() => this.permits.acquire)

  /** Gives a permit back. */
  get release(): Effect.Effect<void, ReleaseError> {
    return this.permits.release
  }

  /** Would `acquire` wait? */
  locked(): boolean {
    return this.permits.value <= 0
  }

  /** Permits free now (Python's `_value`). */
  get value(): number {
    return this.permits.value
  }

  /** Runs `effect` holding a permit (Python's `async with sem:`). */
  withPermit<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.acquireUseRelease(this.acquire, () => effect, () => this.permits.release)
  }
}

/**
 * A {@link Semaphore} that refuses to grow past its initial value (Python's
 * `asyncio.BoundedSemaphore`): such a `release` fails with `ReleaseError`
 * (Python's `ValueError`), catching releases without acquires.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BoundedSemaphore } from "rankflow/patterns/asyncio"
 * const program = Effect.gen(function*() {
 *   const sem = yield* BoundedSemaphore.make(1)
 *   return yield* Effect.flip(sem.release) // ReleaseError: released too many times
 * })
 * ```
 * @category synchronization
 * @since 0.2.0
 */
export class BoundedSemaphore extends Semaphore {
  /** A bounded semaphore with `value` permits (default 1). */
  static override make(value = 1): Effect.Effect<BoundedSemaphore> {
    return Effect.sync(() => new BoundedSemaphore(value))
  }
  readonly #bound: number

  constructor(value = 1) {
    super(value)
    this.#bound = value
  }

  override get release(): Effect.Effect<void, ReleaseError> {
    return Effect.suspend(() =>
      this.permits.value >= this.#bound
        ? Effect.fail(new ReleaseError({ op: "BoundedSemaphore.release", reason: `released too many times (bound ${this.#bound})` }))
        : this.permits.release
    )
  }
}
