/**
 * Queue, Lock, Event, Semaphore and BoundedSemaphore in the Effect face:
 * backpressure, join/taskDone, the typed errors, mutual exclusion, and that
 * an interrupted wait holds nothing. Time is effect's TestClock.
 */
import test from "ava"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import {
  BoundedSemaphore,
  createTask,
  Event,
  Lock,
  Queue,
  QueueEmpty,
  QueueFull,
  ReleaseError,
  Semaphore,
  sleep
} from "../../../patterns/asyncio/index.ts"

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(Effect.provide(effect, TestClock.layer()))

const settle = Effect.gen(function*() {
  for (let i = 0; i < 5; i++) yield* Effect.yieldNow
})

test("Queue: put waits while maxsize items are queued, and goes in once a get makes room", async (t) => {
  await run(Effect.gen(function*() {
    const q = yield* Queue.make<number>(2)
    t.is(q.maxsize, 2)
    t.true(q.empty())
    yield* q.put(1)
    yield* q.put(2)
    t.true(q.full())
    const third = yield* Effect.forkChild(q.put(3))
    yield* settle
    t.is(third.pollUnsafe(), undefined, "the third put waits")
    t.is(q.qsize(), 2)
    t.is(yield* q.get, 1)
    yield* Fiber.join(third)
    t.is(q.qsize(), 2)
    t.deepEqual([yield* q.get, yield* q.get], [2, 3])
    t.true(q.empty())
  }))
})

test("Queue: get waits while empty; putNowait/getNowait fail with QueueFull/QueueEmpty", async (t) => {
  await run(Effect.gen(function*() {
    const q = yield* Queue.make<string>(1)
    const getter = yield* Effect.forkChild(q.get)
    yield* settle
    t.is(getter.pollUnsafe(), undefined)
    yield* q.putNowait("a")
    t.is(yield* Fiber.join(getter), "a")
    const empty = yield* Effect.flip(q.getNowait)
    t.true(empty instanceof QueueEmpty)
    yield* q.putNowait("b")
    const full = yield* Effect.flip(q.putNowait("c"))
    t.true(full instanceof QueueFull)
    t.is(full.maxsize, 1)
    t.false(q.putNowaitUnsafe("c"))
    t.is(yield* q.getNowait, "b")
  }))
})

test("Queue: maxsize 0 is unbounded", async (t) => {
  await run(Effect.gen(function*() {
    const q = yield* Queue.make<number>()
    for (let i = 0; i < 1000; i++) yield* q.putNowait(i)
    t.is(q.qsize(), 1000)
    t.false(q.full())
    t.is(yield* q.get, 0)
  }))
})

test("Queue: join waits until every item put has been marked with taskDone", async (t) => {
  await run(Effect.gen(function*() {
    const q = yield* Queue.make<number>(2)
    yield* q.join // nothing put: at once
    const processed: Array<number> = []
    const worker = yield* createTask(Effect.forever(Effect.gen(function*() {
      const n = yield* q.get
      yield* sleep(10)
      processed.push(n)
      yield* q.taskDone
    })))
    for (let n = 0; n < 5; n++) yield* Effect.forkChild(q.put(n))
    const joiner = yield* Effect.forkChild(q.join)
    yield* settle
    for (let i = 0; i < 4; i++) {
      yield* TestClock.adjust(10)
      t.is(joiner.pollUnsafe(), undefined, `still ${5 - processed.length} unfinished`)
    }
    yield* TestClock.adjust(10)
    yield* Fiber.join(joiner)
    t.deepEqual(processed, [0, 1, 2, 3, 4])
    t.is(q.unfinished(), 0)
    worker.cancel()
  }))
})

test("Queue: taskDone without a taken item fails with ReleaseError", async (t) => {
  await run(Effect.gen(function*() {
    const q = yield* Queue.make<number>()
    yield* q.put(1)
    const e = yield* Effect.flip(q.taskDone)
    t.true(e instanceof ReleaseError)
    yield* q.get
    yield* q.taskDone
    t.is((yield* Effect.flip(q.taskDone))._tag, "ReleaseError")
  }))
})

test("Queue: an interrupted put leaves nothing behind", async (t) => {
  await run(Effect.gen(function*() {
    const q = yield* Queue.make<number>(1)
    yield* q.put(1)
    const blocked = yield* Effect.forkChild(q.put(2))
    yield* settle
    yield* Fiber.interrupt(blocked)
    t.is(yield* q.get, 1)
    t.true(q.empty())
    t.is(q.unfinished(), 1, "only the item taken")
  }))
})

test("Queue rejects a maxsize that is not a whole number", (t) => {
  t.throws(() => new Queue(1.5), { instanceOf: RangeError })
})

test("Lock: one holder at a time, in FIFO order", async (t) => {
  await run(Effect.gen(function*() {
    const lock = yield* Lock.make
    let inside = 0
    let most = 0
    const order: Array<number> = []
    const worker = (n: number) =>
      lock.withLock(Effect.gen(function*() {
        inside++
        most = Math.max(most, inside)
        order.push(n)
        yield* sleep(10)
        inside--
      }))
    const fiber = yield* Effect.forkChild(Effect.all([0, 1, 2, 3].map(worker), { concurrency: "unbounded" }))
    for (let i = 0; i < 4; i++) {
      yield* settle
      yield* TestClock.adjust(10)
    }
    yield* Fiber.join(fiber)
    t.is(most, 1)
    t.deepEqual(order, [0, 1, 2, 3])
    t.false(lock.locked())
  }))
})

test("Lock: acquire/release by hand; releasing an unlocked lock fails with ReleaseError", async (t) => {
  await run(Effect.gen(function*() {
    const lock = yield* Lock.make
    t.true(yield* lock.acquire)
    t.true(lock.locked())
    yield* lock.release
    t.false(lock.locked())
    const e = yield* Effect.flip(lock.release)
    t.true(e instanceof ReleaseError)
    t.regex(e.message, /not acquired/)
  }))
})

test("Lock: an acquire interrupted while waiting holds nothing; the lock passes to the next waiter", async (t) => {
  await run(Effect.gen(function*() {
    const lock = yield* Lock.make
    yield* lock.acquire
    const interrupted = yield* Effect.forkChild(lock.acquire)
    const next = yield* Effect.forkChild(lock.acquire)
    yield* settle
    yield* Fiber.interrupt(interrupted)
    yield* lock.release
    t.true(yield* Fiber.join(next))
    t.true(lock.locked())
    yield* lock.release
    t.false(lock.locked())
  }))
})

test("Event: wait returns once set, for every waiter; clear makes waiters wait again", async (t) => {
  await run(Effect.gen(function*() {
    const event = yield* Event.make
    t.false(event.isSet())
    const waiters = yield* Effect.forkChild(Effect.all([event.wait, event.wait, event.wait], { concurrency: "unbounded" }))
    yield* settle
    t.is(waiters.pollUnsafe(), undefined)
    yield* event.set
    t.deepEqual(yield* Fiber.join(waiters), [true, true, true])
    t.true(event.isSet())
    t.true(yield* event.wait, "set: at once")
    yield* event.clear
    const later = yield* Effect.forkChild(event.wait)
    yield* settle
    t.is(later.pollUnsafe(), undefined)
    event.setUnsafe()
    t.true(yield* Fiber.join(later))
    event.clearUnsafe()
    t.false(event.isSet())
  }))
})

test("Semaphore: at most `value` holders; release may go past the initial value", async (t) => {
  await run(Effect.gen(function*() {
    const sem = yield* Semaphore.make(2)
    let inside = 0
    let most = 0
    const worker = sem.withPermit(Effect.gen(function*() {
      inside++
      most = Math.max(most, inside)
      yield* sleep(10)
      inside--
    }))
    const fiber = yield* Effect.forkChild(Effect.all(Array.from({ length: 6 }, () => worker), { concurrency: "unbounded" }))
    for (let i = 0; i < 3; i++) {
      yield* settle
      yield* TestClock.adjust(10)
    }
    yield* Fiber.join(fiber)
    t.is(most, 2)
    yield* sem.acquire
    yield* sem.acquire
    t.true(sem.locked())
    t.is(sem.value, 0)
    yield* sem.release
    yield* sem.release
    yield* sem.release
    t.is(sem.value, 3, "an unbounded semaphore grows")
  }))
})

test("BoundedSemaphore: release past the initial value fails with ReleaseError", async (t) => {
  await run(Effect.gen(function*() {
    const sem = yield* BoundedSemaphore.make(1)
    t.is((yield* Effect.flip(sem.release))._tag, "ReleaseError")
    yield* sem.acquire
    t.true(sem.locked())
    yield* sem.release
    t.is(sem.value, 1)
  }))
})

test("Semaphore refuses a negative or fractional value", (t) => {
  t.throws(() => new Semaphore(-1), { instanceOf: RangeError })
  t.throws(() => new BoundedSemaphore(0.5), { instanceOf: RangeError })
})
