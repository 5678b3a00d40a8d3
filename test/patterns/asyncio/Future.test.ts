/**
 * asyncio futures in both faces: set once, awaited by many, cancelled (and
 * cancelled by cancelling the task that awaits them), done callbacks, and
 * the seed talk's coroutine completing a future after a sleep on effect's
 * TestClock. Nothing here sleeps on the real clock.
 */
import test from "ava"
import { Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { CancelledError, createTask, Future, InvalidStateError, sleep } from "../../../patterns/asyncio/index.ts"
import * as promise from "../../../patterns/asyncio/promise/index.ts"

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(Effect.provide(effect, TestClock.layer()))

const settle = Effect.gen(function*() {
  for (let i = 0; i < 5; i++) yield* Effect.yieldNow
})

test("a coroutine completes a future after a sleep; every awaiter gets the result (TestClock)", async (t) => {
  await run(Effect.gen(function*() {
    const future = new Future<string>()
    const sleepCoroutine = (f: Future<string>) => Effect.andThen(sleep(2000), Effect.sync(() => f.setResult("Done!")))
    yield* createTask(sleepCoroutine(future))
    const waiters = [yield* createTask(future.join), yield* createTask(future.join)]
    yield* settle
    t.false(future.done())
    t.throws(() => future.result(), { instanceOf: InvalidStateError, message: /not done/ })
    yield* TestClock.adjust(1999)
    yield* settle
    t.false(future.done())
    yield* TestClock.adjust(1)
    t.is(yield* future.join, "Done!")
    t.deepEqual([yield* waiters[0]!.join, yield* waiters[1]!.join], ["Done!", "Done!"])
    t.true(future.done())
    t.false(future.cancelled())
    t.is(future.result(), "Done!")
    t.is(future.exception(), undefined)
  }))
})

test("set once: a second setResult or setException throws InvalidStateError; an exception is raised to awaiters", async (t) => {
  const f = new Future<number, RangeError>({ name: "f" })
  f.setException(new RangeError("bad"))
  t.throws(() => f.setResult(1), { instanceOf: InvalidStateError, message: /f\.setResult\(\): the future is already done/ })
  t.throws(() => f.setException(new RangeError("again")), { instanceOf: InvalidStateError })
  t.false(f.cancel())
  t.is(f.exception()?.message, "bad")
  t.throws(() => f.result(), { instanceOf: RangeError, message: "bad" })
  const exit = await run(Effect.exit(f.join))
  t.true(Exit.isFailure(exit))
  await t.throwsAsync(async () => await f, { instanceOf: RangeError, message: "bad" })
})

test("cancel: awaiters get CancelledError with the message; result() and exception() throw it", async (t) => {
  const f = new Future<string>()
  const awaiting = (async () => await f)()
  t.true(f.cancel("no longer needed"))
  t.false(f.cancel())
  t.true(f.cancelled())
  t.true(f.done())
  await t.throwsAsync(awaiting, { instanceOf: CancelledError, message: "no longer needed" })
  t.throws(() => f.result(), { instanceOf: CancelledError })
  t.throws(() => f.exception(), { instanceOf: CancelledError })
  t.throws(() => f.setResult("late"), { instanceOf: InvalidStateError, message: /already cancelled/ })
})

test("interrupting a fiber in join cancels the future (as Python's task.cancel); in wait it leaves it pending", async (t) => {
  await run(Effect.gen(function*() {
    const joined = new Future<number>()
    const fiber = yield* Effect.forkChild(joined.join)
    yield* settle
    yield* Fiber.interrupt(fiber)
    t.true(joined.cancelled())

    const waited = new Future<number>()
    const other = yield* Effect.forkChild(waited.wait)
    yield* settle
    yield* Fiber.interrupt(other)
    t.false(waited.done())
    waited.setResult(7)
    t.is(yield* waited.join, 7)
  }))
})

test("Promise face: cancelling the task that awaits a future cancels the future", async (t) => {
  const f = new promise.Future<string>()
  const started = new promise.Event()
  const task = promise.createTask(async () => {
    started.set()
    return await f
  })
  await started.wait()
  await promise.sleep(0)
  task.cancel()
  await t.throwsAsync(async () => await task, { instanceOf: CancelledError })
  t.true(f.cancelled())
})

test("done callbacks run once, soon after completion, never synchronously; removeDoneCallback counts", async (t) => {
  const f = new Future<number>()
  const seen: Array<string> = []
  const cb = (g: Future<number>) => seen.push(`cb ${g.result()}`)
  const removed = () => seen.push("removed")
  f.addDoneCallback(cb)
  f.addDoneCallback(removed)
  f.addDoneCallback(removed)
  t.is(f.removeDoneCallback(removed), 2)
  t.is(f.removeDoneCallback(removed), 0)
  f.setResult(3)
  t.deepEqual(seen, [])
  await f
  t.deepEqual(seen, ["cb 3"])
  f.addDoneCallback(() => seen.push("after"))
  t.deepEqual(seen, ["cb 3"])
  await Promise.resolve()
  t.deepEqual(seen, ["cb 3", "after"])
  t.regex(String(f), /<Future finished name='Future-\d+'>/)
})
