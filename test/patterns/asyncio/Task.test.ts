/**
 * Tasks in the Effect face: createTask, cancel (finalizers observed),
 * done/cancelled/result/exception, done callbacks, gather, waitFor, shield
 * and sleep. Time is effect's TestClock: nothing here sleeps, and no
 * assertion is about how long anything took.
 */
import test from "ava"
import { Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import {
  CancelledError,
  createTask,
  gather,
  InvalidStateError,
  shield,
  sleep,
  Task,
  TimeoutError,
  waitFor
} from "../../../patterns/asyncio/index.ts"

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(Effect.provide(effect, TestClock.layer()))

/** Lets forked fibers run up to their next suspension. */
const settle = Effect.gen(function*() {
  for (let i = 0; i < 5; i++) yield* Effect.yieldNow
})

test("createTask starts the effect soon, not before it returns; join gives its value", async (t) => {
  await run(Effect.gen(function*() {
    let started = false
    const task = yield* createTask(Effect.sync(() => (started = true, 42)), { name: "answer" })
    t.false(started)
    t.false(task.done())
    t.is(task.getName(), "answer")
    t.is(yield* task.join, 42)
    t.true(started)
    t.true(task.done())
    t.false(task.cancelled())
    t.is(task.result(), 42)
    t.is(task.exception(), undefined)
    t.regex(String(task), /<Task finished name='answer'>/)
  }))
})

test("tasks get distinct default names; setName renames", async (t) => {
  await run(Effect.gen(function*() {
    const a = yield* createTask(Effect.void)
    const b = yield* createTask(Effect.void)
    t.regex(a.getName(), /^Task-\d+$/)
    t.not(a.getName(), b.getName())
    b.setName("renamed")
    t.is(b.getName(), "renamed")
  }))
})

test("cancel interrupts the task's fiber and runs its finalizers", async (t) => {
  await run(Effect.gen(function*() {
    const log: Array<string> = []
    const task = yield* createTask(
      Effect.acquireUseRelease(
        Effect.sync(() => log.push("acquired")),
        () => Effect.andThen(sleep("1 hour"), Effect.sync(() => log.push("finished"))),
        () => Effect.sync(() => log.push("released"))
      ).pipe(Effect.ensuring(Effect.sync(() => log.push("ensuring"))))
    )
    yield* settle
    t.deepEqual(log, ["acquired"])
    t.true(task.cancel("shutting down"))
    const error = yield* Effect.flip(task.join)
    t.true(error instanceof CancelledError)
    t.is(error.message, "shutting down")
    t.deepEqual(log, ["acquired", "released", "ensuring"])
    t.true(task.done())
    t.true(task.cancelled())
    t.false(task.cancel(), "a done task cannot be cancelled")
    t.throws(() => task.result(), { instanceOf: CancelledError, message: "shutting down" })
    t.throws(() => task.exception(), { instanceOf: CancelledError })
  }))
})

test("a task cancelled before it starts never runs", async (t) => {
  await run(Effect.gen(function*() {
    let ran = false
    const task = yield* createTask(Effect.sync(() => (ran = true)))
    task.cancel()
    yield* Effect.exit(task.join)
    yield* settle
    t.false(ran)
    t.true(task.cancelled())
  }))
})

test("an effect that fails with CancelledError ends its task cancelled", async (t) => {
  await run(Effect.gen(function*() {
    const task = yield* createTask(Effect.fail(new CancelledError({ message: "gave up" })))
    yield* Effect.exit(task.join)
    t.true(task.cancelled())
  }))
})

test("result and exception: InvalidStateError while running, the error once failed", async (t) => {
  await run(Effect.gen(function*() {
    const task = yield* createTask(Effect.andThen(sleep(1000), Effect.fail("boom")))
    t.throws(() => task.result(), { instanceOf: InvalidStateError })
    t.throws(() => task.exception(), { instanceOf: InvalidStateError })
    yield* TestClock.adjust(1000)
    t.is(yield* Effect.flip(task.join), "boom")
    t.false(task.cancelled())
    t.is(task.exception(), "boom")
    let thrown: unknown
    try {
      task.result()
    } catch (e) {
      thrown = e
    }
    t.is(thrown, "boom")
  }))
})

test("addDoneCallback is called once, after the task is done (also when added late); removeDoneCallback counts", async (t) => {
  await run(Effect.gen(function*() {
    const calls: Array<string> = []
    const task = yield* createTask(sleep(10, "v"))
    const cb = (x: Task<string>) => calls.push(`cb ${x.result()}`)
    const removed = () => calls.push("removed")
    task.addDoneCallback(cb)
    task.addDoneCallback(removed)
    task.addDoneCallback(removed)
    t.is(task.removeDoneCallback(removed), 2)
    t.is(task.removeDoneCallback(removed), 0)
    yield* TestClock.adjust(10)
    yield* task.join
    yield* settle
    t.deepEqual(calls, ["cb v"])
    task.addDoneCallback(() => calls.push("late"))
    t.deepEqual(calls, ["cb v"], "never synchronously")
    yield* settle
    t.deepEqual(calls, ["cb v", "late"])
  }))
})

test("a task awaited by a fiber that is interrupted is cancelled too (join); wait leaves it running", async (t) => {
  await run(Effect.gen(function*() {
    const joined = yield* createTask(sleep(100, "joined"))
    const waited = yield* createTask(sleep(100, "waited"))
    const a = yield* Effect.forkChild(joined.join)
    const b = yield* Effect.forkChild(waited.wait)
    yield* settle
    yield* Fiber.interrupt(a)
    yield* Fiber.interrupt(b)
    t.true(joined.cancelled())
    t.false(waited.done())
    yield* TestClock.adjust(100)
    t.is(yield* waited.join, "waited")
  }))
})

test("new Task(fiber) wraps an existing fiber", async (t) => {
  await run(Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(Effect.succeed("x"))
    t.is(yield* new Task(fiber).join, "x")
  }))
})

test("sleep waits on the Clock and succeeds with its value", async (t) => {
  await run(Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(sleep("2 seconds", "Done!"))
    yield* TestClock.adjust("1999 millis")
    t.is(fiber.pollUnsafe(), undefined)
    yield* TestClock.adjust("1 millis")
    t.is(yield* Fiber.join(fiber), "Done!")
  }))
})

test("gather collects values in the order given, not the order of completion; tasks and effects mix", async (t) => {
  await run(Effect.gen(function*() {
    const order: Array<string> = []
    const done = (name: string, ms: number) => Effect.andThen(sleep(ms), Effect.sync(() => (order.push(name), name)))
    const already = yield* createTask(done("task", 20))
    const fiber = yield* Effect.forkChild(gather([done("slow", 30), done("fast", 10), already, Effect.succeed(7)]))
    yield* TestClock.adjust(30)
    const result = yield* Fiber.join(fiber)
    t.deepEqual(result, ["slow", "fast", "task", 7])
    t.deepEqual(order, ["fast", "task", "slow"])
    t.deepEqual(yield* gather([]), [])
  }))
})

test("gather: the first failure fails it and the others keep running (Python's default)", async (t) => {
  await run(Effect.gen(function*() {
    let siblingFinished = false
    const sibling = Effect.andThen(sleep(50), Effect.sync(() => (siblingFinished = true)))
    const fiber = yield* Effect.forkChild(gather([sibling, Effect.andThen(sleep(10), Effect.fail("boom"))]))
    yield* TestClock.adjust(10)
    const exit = yield* Fiber.await(fiber)
    t.deepEqual(exit, Exit.fail("boom"))
    t.false(siblingFinished)
    yield* TestClock.adjust(40)
    yield* settle
    t.true(siblingFinished, "the sibling was not cancelled")
  }))
})

test("gather with returnExceptions: errors and cancellations are values", async (t) => {
  await run(Effect.gen(function*() {
    const victim = yield* createTask(sleep(1000, "never"))
    const fiber = yield* Effect.forkChild(gather(
      [Effect.fail("no" as const), sleep(5, 1), victim],
      { returnExceptions: true }
    ))
    yield* settle
    victim.cancel("stop")
    yield* TestClock.adjust(5)
    const [a, b, c] = yield* Fiber.join(fiber)
    t.is(a, "no")
    t.is(b, 1)
    t.true(c instanceof CancelledError)
    t.is((c as CancelledError).message, "stop")
  }))
})

test("gather without returnExceptions fails with CancelledError when a child is cancelled", async (t) => {
  await run(Effect.gen(function*() {
    const victim = yield* createTask(sleep(1000))
    const fiber = yield* Effect.forkChild(gather([victim, sleep(10)]))
    yield* settle
    victim.cancel()
    const error = yield* Effect.flip(Fiber.join(fiber))
    t.true(error instanceof CancelledError)
  }))
})

test("interrupting a gather cancels every task it gathers, running their finalizers", async (t) => {
  await run(Effect.gen(function*() {
    const released: Array<number> = []
    const child = (n: number) => Effect.ensuring(sleep(1000), Effect.sync(() => released.push(n)))
    const fiber = yield* Effect.forkChild(gather([child(1), child(2), child(3)]))
    yield* settle
    yield* Fiber.interrupt(fiber)
    t.deepEqual(released.sort(), [1, 2, 3])
  }))
})

test("waitFor returns the value when in time", async (t) => {
  await run(Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(waitFor(sleep(50, "in time"), 100))
    yield* TestClock.adjust(50)
    t.is(yield* Fiber.join(fiber), "in time")
    t.is(yield* waitFor(Effect.succeed("no limit"), undefined), "no limit")
    t.is(yield* waitFor(Effect.succeed("no limit"), null), "no limit")
  }))
})

test("waitFor cancels the awaited effect on timeout, runs its finalizers, and fails with TimeoutError", async (t) => {
  await run(Effect.gen(function*() {
    const log: Array<string> = []
    const slow = Effect.ensuring(sleep(10_000), Effect.sync(() => log.push("finalized")))
    const fiber = yield* Effect.forkChild(waitFor(slow, 100))
    yield* TestClock.adjust(99)
    t.is(fiber.pollUnsafe(), undefined)
    yield* TestClock.adjust(1)
    const error = yield* Effect.flip(Fiber.join(fiber))
    t.true(error instanceof TimeoutError)
    t.is((error as TimeoutError)._tag, "TimeoutError")
    t.deepEqual(log, ["finalized"])
  }))
})

test("waitFor on a task cancels the task on timeout", async (t) => {
  await run(Effect.gen(function*() {
    const task = yield* createTask(sleep(10_000))
    const fiber = yield* Effect.forkChild(waitFor(task, 10))
    yield* TestClock.adjust(10)
    const error = yield* Effect.flip(Fiber.join(fiber))
    t.is(error._tag, "TimeoutError")
    t.true(task.cancelled())
  }))
})

test("shield: the caller stops waiting when cancelled, the shielded work completes", async (t) => {
  await run(Effect.gen(function*() {
    let saved = false
    const save = Effect.andThen(sleep(200), Effect.sync(() => (saved = true)))
    const fiber = yield* Effect.forkChild(waitFor(shield(save), 50))
    yield* TestClock.adjust(50)
    t.is((yield* Effect.flip(Fiber.join(fiber)))._tag, "TimeoutError")
    t.false(saved)
    yield* TestClock.adjust(150)
    yield* settle
    t.true(saved, "the shielded effect ran to the end")
  }))
})

test("shield of a task: interrupting the caller leaves the task; cancelling the task reaches the caller", async (t) => {
  await run(Effect.gen(function*() {
    const task = yield* createTask(sleep(100, "kept"))
    const caller = yield* Effect.forkChild(shield(task))
    yield* settle
    yield* Fiber.interrupt(caller)
    t.false(task.done())
    yield* TestClock.adjust(100)
    t.is(yield* task.join, "kept")

    const inner = yield* createTask(sleep(100))
    const waiting = yield* Effect.forkChild(shield(inner))
    yield* settle
    inner.cancel()
    t.true((yield* Effect.flip(Fiber.join(waiting))) instanceof CancelledError)
  }))
})
