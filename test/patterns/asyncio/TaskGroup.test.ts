/**
 * TaskGroup in the Effect face: the block waits for its tasks; a failing
 * task cancels its siblings (finalizers observed) and the body; every
 * failure is reported in one TaskGroupError. Time is effect's TestClock.
 */
import test from "ava"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { InvalidStateError, sleep, type TaskGroup, taskGroup, TaskGroupError } from "../../../patterns/asyncio/index.ts"

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(Effect.provide(effect, TestClock.layer()))

const settle = Effect.gen(function*() {
  for (let i = 0; i < 5; i++) yield* Effect.yieldNow
})

test("the group ends when every task has, with the body's value", async (t) => {
  await run(Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(taskGroup((tg) =>
      Effect.gen(function*() {
        const a = yield* tg.createTask(sleep(10, "a"))
        const b = yield* tg.createTask(sleep(30, "b"))
        return { a, b }
      })
    ))
    yield* settle
    yield* TestClock.adjust(10)
    t.is(fiber.pollUnsafe(), undefined, "b still runs")
    yield* TestClock.adjust(20)
    const { a, b } = yield* Fiber.join(fiber)
    t.is(a.result(), "a")
    t.is(b.result(), "b")
  }))
})

test("a failing task cancels its siblings, running their finalizers, and the group fails with TaskGroupError", async (t) => {
  await run(Effect.gen(function*() {
    const log: Array<string> = []
    let group: TaskGroup | undefined
    const fiber = yield* Effect.forkChild(taskGroup((tg) =>
      Effect.gen(function*() {
        group = tg
        yield* tg.createTask(Effect.ensuring(sleep("1 hour"), Effect.sync(() => log.push("sibling finalized"))))
        yield* tg.createTask(Effect.andThen(sleep(10), Effect.fail("boom")))
        yield* tg.createTask(Effect.andThen(sleep(5), Effect.succeed("done early")))
      })
    ))
    yield* settle
    yield* TestClock.adjust(10)
    const error = yield* Effect.flip(Fiber.join(fiber))
    t.true(error instanceof TaskGroupError)
    t.deepEqual(error.errors, ["boom"])
    t.regex(error.message, /1 task failed: boom/)
    t.deepEqual(log, ["sibling finalized"])
    const [sibling, failed, early] = group!.tasks()
    t.true(sibling!.cancelled())
    t.is(failed!.exception(), "boom")
    t.is(early!.result(), "done early")
    const late = yield* Effect.flip(group!.createTask(Effect.void))
    t.true(late instanceof InvalidStateError, "a finished group takes no task")
  }))
})

test("a failing task cancels the body too", async (t) => {
  await run(Effect.gen(function*() {
    const log: Array<string> = []
    const fiber = yield* Effect.forkChild(taskGroup((tg) =>
      Effect.gen(function*() {
        yield* tg.createTask(Effect.andThen(sleep(10), Effect.fail(new Error("task failed"))))
        yield* Effect.ensuring(sleep("1 hour"), Effect.sync(() => log.push("body finalized")))
        log.push("body went on")
      })
    ))
    yield* settle
    yield* TestClock.adjust(10)
    const error = yield* Effect.flip(Fiber.join(fiber))
    t.deepEqual(log, ["body finalized"])
    t.is((error.errors[0] as Error).message, "task failed")
  }))
})

test("every failure is reported: the body's and each task's", async (t) => {
  await run(Effect.gen(function*() {
    // The first failure cancels the rest; uninterruptible ones fail anyway.
    const fiber = yield* Effect.forkChild(taskGroup((tg) =>
      Effect.gen(function*() {
        yield* tg.createTask(Effect.andThen(sleep(5), Effect.fail("first")))
        yield* tg.createTask(Effect.uninterruptible(Effect.andThen(sleep(10), Effect.fail("second"))))
        return yield* Effect.uninterruptible(Effect.andThen(sleep(20), Effect.fail("body")))
      })
    ))
    yield* settle
    yield* TestClock.adjust(20)
    const error = yield* Effect.flip(Fiber.join(fiber))
    t.deepEqual(error.errors, ["body", "first", "second"])
    t.regex(error.message, /3 tasks failed: body; first; second/)
  }))
})

test("a failing body cancels the tasks", async (t) => {
  await run(Effect.gen(function*() {
    const log: Array<string> = []
    const error = yield* Effect.flip(taskGroup((tg) =>
      Effect.gen(function*() {
        yield* tg.createTask(Effect.ensuring(sleep("1 hour"), Effect.sync(() => log.push("task finalized"))))
        yield* settle
        return yield* Effect.fail("body gave up")
      })
    ))
    t.deepEqual(error.errors, ["body gave up"])
    t.deepEqual(log, ["task finalized"])
  }))
})

test("cancelled tasks are not failures; tasks may start tasks while the group waits", async (t) => {
  await run(Effect.gen(function*() {
    const result = yield* taskGroup((tg) =>
      Effect.gen(function*() {
        const victim = yield* tg.createTask(sleep("1 hour"))
        yield* tg.createTask(Effect.gen(function*() {
          yield* sleep(0)
          victim.cancel()
          yield* tg.createTask(Effect.succeed("grandchild"))
        }))
        return "ok"
      })
    )
    t.is(result, "ok")
  }))
})

test("interrupting the group cancels its tasks", async (t) => {
  await run(Effect.gen(function*() {
    const log: Array<string> = []
    const fiber = yield* Effect.forkChild(taskGroup((tg) =>
      Effect.gen(function*() {
        yield* tg.createTask(Effect.ensuring(sleep("1 hour"), Effect.sync(() => log.push("task finalized"))))
      })
    ))
    yield* settle
    yield* Fiber.interrupt(fiber)
    t.deepEqual(log, ["task finalized"])
  }))
})
