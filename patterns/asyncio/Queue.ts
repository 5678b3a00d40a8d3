/**
 * Python's `asyncio.Queue` over effect's `Queue`, Effect face: FIFO, with
 * `maxsize` backpressure (`put` waits while the queue is full), the
 * non-waiting `putNowait`/`getNowait` that fail with `QueueFull`/`QueueEmpty`,
 * and `taskDone`/`join` to wait until every item put has been processed.
 * The Promise face (`rankflow/patterns/asyncio/promise`) wraps it.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Latch from "effect/Latch"
import * as EffectQueue from "effect/Queue"
import { QueueEmpty, QueueFull, ReleaseError } from "./Errors.ts"

/**
 * A FIFO queue for fibers of one event loop (Python's `asyncio.Queue`).
 * `maxsize` ≤ 0 means unbounded. `join` waits until every item that was put
 * has been taken and marked with `taskDone`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Queue, createTask } from "rankflow/patterns/asyncio"
 * const program = Effect.gen(function*() {
 *   const q = yield* Queue.make<number>(2)
 *   const worker = yield* createTask(Effect.forever(Effect.gen(function*() {
 *     const n = yield* q.get
 *     yield* Effect.log(`got ${n}`)
 *     yield* q.taskDone
 *   })))
 *   for (let n = 0; n < 5; n++) yield* q.put(n) // waits while 2 are queued
 *   yield* q.join // every item processed
 *   worker.cancel()
 * })
 * ```
 * @category models
 * @since 0.2.0
 */
export class Queue<A> {
  /** A new queue holding at most `maxsize` items (≤ 0: unbounded). */
  static make<A>(maxsize = 0): Effect.Effect<Queue<A>> {
    return Effect.sync(() => new Queue<A>(maxsize))
  }

  /** The bound; 0 for an unbounded queue. */
  readonly maxsize: number
  readonly #queue: EffectQueue.Queue<A>
  // Items taken but not yet marked done; the unfinished count is this plus
  // the items in the queue (Python counts puts: the same number).
  #taken = 0
  readonly #allDone = Latch.makeUnsafe(false)

  constructor(maxsize = 0) {
    if (!Number.isInteger(maxsize)) throw new RangeError(`Queue: maxsize must be a whole number; got ${maxsize}`)
    this.maxsize = maxsize > 0 ? maxsize : 0
    this.#queue = Effect.runSync(this.maxsize > 0 ? EffectQueue.bounded<A>(this.maxsize) : EffectQueue.unbounded<A>())
  }

  /** Puts `item`, waiting while the queue is full. */
  put(item: A): Effect.Effect<void> {
    return Effect.asVoid(EffectQueue.offer(this.#queue, item))
  }

  /** Puts `item` now, or fails with `QueueFull`. */
  putNowait(item: A): Effect.Effect<void, QueueFull> {
    return Effect.suspend(() => this.putNowaitUnsafe(item) ? Effect.void : Effect.fail(new QueueFull({ maxsize: this.maxsize })))
  }

  /** Puts `item` now; `false` if the queue is full. */
  putNowaitUnsafe(item: A): boolean {
    return EffectQueue.offerUnsafe(this.#queue, item)
  }

  /** Takes the oldest item, waiting while the queue is empty. */
  readonly get: Effect.Effect<A> = Effect.suspend(() =>
    Effect.map(EffectQueue.take(this.#queue), (a) => {
      this.#taken++
      return a
    })
  )

  /** Takes the oldest item now, or fails with `QueueEmpty`. */
  readonly getNowait: Effect.Effect<A, QueueEmpty> = Effect.suspend(() => {
    const exit = EffectQueue.takeUnsafe(this.#queue)
    if (exit === undefined || exit._tag !== "Success") return Effect.fail(new QueueEmpty())
    this.#taken++
    return Effect.succeed(exit.value)
  })

  /**
   * Marks one taken item as processed. Fails with `ReleaseError` (Python's
   * `ValueError`) when no taken item is left unmarked.
   */
  readonly taskDone: Effect.Effect<void, ReleaseError> = Effect.suspend(() => {
    if (this.#taken === 0) {
      return Effect.fail(new ReleaseError({ op: "Queue.taskDone", reason: "called more times than items were taken" }))
    }
    this.#taken--
    return this.unfinished() === 0 ? Effect.asVoid(this.#allDone.release) : Effect.void
  })

  /** Waits until every item put has been taken and marked with `taskDone`. */
  readonly join: Effect.Effect<void> = Effect.suspend(() =>
    this.unfinished() === 0 ? Effect.void : Effect.andThen(this.#allDone.await, this.join)
  )

  /** Items in the queue. */
  qsize(): number {
    return EffectQueue.sizeUnsafe(this.#queue)
  }

  /** Is the queue empty? */
  empty(): boolean {
    return this.qsize() === 0
  }

  /** Does the queue hold `maxsize` items? (Never, when unbounded.) */
  full(): boolean {
    return this.maxsize > 0 && this.qsize() >= this.maxsize
  }

  /** Items put and not yet marked with `taskDone`. */
  unfinished(): number {
    return this.qsize() + this.#taken
  }
}
