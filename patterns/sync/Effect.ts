/**
 * The shared-memory primitives in Effect code: waiting as interruptible
 * effects. Interrupting an `acquire` stops the wait, and a lock that was
 * taken anyway, just as the interruption came, is released again.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import type { Barrier } from "./Barrier.ts"
import type { BrokenBarrierError } from "./Errors.ts"
import type { Event } from "./Event.ts"
import type { Lockable } from "./Lock.ts"

/**
 * Takes `lock` (a `Lock`, `RLock`, `Semaphore`, `Condition`, `Value` or
 * `Array`) without blocking the thread: `true`, or `false` after `timeout`
 * ms.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Lock, acquire } from "rankflow/patterns/sync"
 * const lock = new Lock()
 * const program = Effect.gen(function*() {
 *   if (yield* acquire(lock, 100)) lock.release()
 * })
 * ```
 * @category effects
 * @since 0.2.0
 */
export const acquire = (lock: Lockable, timeout?: number): Effect.Effect<boolean> =>
  Effect.callback<boolean>((resume) => {
    const controller = new AbortController()
    let interrupted = false
    lock.acquire(timeout, controller.signal).then(
      (ok) => {
        if (!interrupted) resume(Effect.succeed(ok))
        else if (ok) lock.release()
      },
      (e) => resume(Effect.die(e))
    )
    return Effect.sync(() => {
      interrupted = true
      controller.abort()
    })
  })

/**
 * Runs `effect` holding `lock`, released however it ends (Python's
 * `with lock:`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Value, withLock } from "rankflow/patterns/sync"
 * const counter = Value("i", 0)
 * const increment = withLock(counter, Effect.sync(() => { counter.value += 1 }))
 * ```
 * @category effects
 * @since 0.2.0
 */
export const withLock = <A, E, R>(lock: Lockable, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.acquireUseRelease(acquire(lock), () => effect, () => Effect.sync(() => lock.release()))

const fromWait = <A, E>(wait: (signal: AbortSignal) => Promise<A>): Effect.Effect<A, E> =>
  Effect.callback<A, E>((resume) => {
    const controller = new AbortController()
    wait(controller.signal).then(
      (a) => resume(Effect.succeed(a)),
      (e) => resume(Effect.fail(e as E))
    )
    return Effect.sync(() => controller.abort())
  })

/**
 * Waits for an `Event` (`true` once set, `false` after `timeout` ms) or a
 * `Barrier` (the arrival index; fails with `BrokenBarrierError`) without
 * blocking the thread. Interrupting a barrier's waiter breaks the barrier,
 * as a timeout does.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Barrier, Event, wait } from "rankflow/patterns/sync"
 * const ready = new Event()
 * const program = Effect.gen(function*() {
 *   const set = yield* wait(ready, 1000)
 *   const index = yield* wait(new Barrier(1)) // 0
 * })
 * ```
 * @category effects
 * @since 0.2.0
 */
export function wait(waitable: Event, timeout?: number): Effect.Effect<boolean>
export function wait(waitable: Barrier, timeout?: number): Effect.Effect<number, BrokenBarrierError>
export function wait(waitable: Event | Barrier, timeout?: number): Effect.Effect<boolean | number, BrokenBarrierError> {
  return fromWait<boolean | number, BrokenBarrierError>((signal) => waitable.wait(timeout, signal))
}
