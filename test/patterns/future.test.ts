// Futures on their own (no pool): the states as an executor's implementer
// drives them, the Effect conversions both ways, and wait/asCompleted over
// futures completed by hand, so every ordering is the test's own.
import test from "ava"
import { Effect, Fiber } from "effect"
import {
  ALL_COMPLETED,
  asCompleted,
  CancelledError,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  TimeoutError,
  wait
} from "rankflow/patterns/executor"

test("a future goes PENDING, RUNNING, FINISHED; cancel works only before it runs", async (t) => {
  const f = new Future<number>()
  t.is(f.state, "PENDING")
  t.false(f.running())
  t.false(f.done())
  t.true(f.setRunningOrNotifyCancel())
  t.true(f.running())
  t.false(f.cancel())
  f.setResult(5)
  t.true(f.done())
  t.true(f.succeeded())
  t.false(f.cancel())
  t.is(await f, 5)
  t.is(await f.result(), 5)
  t.is(await f.exception(), undefined)
  t.throws(() => f.setResult(6), { message: /already FINISHED/ })
})

test("a cancelled future rejects result() and exception() with CancelledError and refuses to run", async (t) => {
  const f = new Future<number>()
  const seen: Array<boolean> = []
  f.addDoneCallback((g) => seen.push(g.cancelled()))
  t.true(f.cancel())
  t.true(f.cancel())
  t.true(f.cancelled())
  t.is(f.state, "CANCELLED")
  t.deepEqual(seen, [true])
  t.false(f.setRunningOrNotifyCancel())
  const e = await t.throwsAsync(f.result(), { instanceOf: CancelledError })
  t.false(e!.running)
  await t.throwsAsync(f.exception(), { instanceOf: CancelledError })
})

test("a failed future: result rejects with its error, exception resolves to it", async (t) => {
  const f = new Future<number>()
  f.setRunningOrNotifyCancel()
  const err = new RangeError("bad")
  f.setException(err)
  t.false(f.succeeded())
  t.is(await t.throwsAsync(f.result()), err)
  t.is(await f.exception(), err)
})

test("result(timeout) and exception(timeout) reject with TimeoutError; later the value comes", async (t) => {
  const f = new Future<string>()
  const e = await t.throwsAsync(f.result(10), { instanceOf: TimeoutError })
  t.is(e!.op, "result")
  await t.throwsAsync(f.exception(10), { instanceOf: TimeoutError })
  const later = f.result(60_000)
  f.setResult("v")
  t.is(await later, "v")
})

test("done callbacks: in order, at once when added after completion, and one that throws is reported and ignored", async (t) => {
  const f = new Future<number>()
  const order: Array<string> = []
  const warned = new Promise<Error>((resolve) => process.once("warning", resolve))
  f.addDoneCallback(() => order.push("a"))
  f.addDoneCallback(() => {
    throw new Error("callback broke")
  })
  f.addDoneCallback(() => order.push("b"))
  f.setResult(1)
  f.addDoneCallback(() => order.push("c"))
  t.deepEqual(order, ["a", "b", "c"])
  t.regex((await warned).message, /callback broke/)
})

test("Future.fromEffect runs the effect in a fiber: its value, its failure, and abort interrupts it with finalizers run", async (t) => {
  t.is(await Future.fromEffect(Effect.succeed(7)), 7)
  const failing = Future.fromEffect(Effect.fail(new SyntaxError("nope")))
  await t.throwsAsync(failing.result(), { instanceOf: SyntaxError, message: "nope" })

  let finalized = false
  const started = Promise.withResolvers<void>()
  const f = Future.fromEffect(
    Effect.sync(() => started.resolve()).pipe(
      Effect.andThen(Effect.never),
      Effect.onInterrupt(() => Effect.sync(() => (finalized = true)))
    )
  )
  await started.promise
  t.true(f.running())
  t.false(f.cancel()) // running: cancel() refuses, as in Python
  t.true(f.abort())
  const e = await t.throwsAsync(f.result(), { instanceOf: CancelledError })
  t.true(e!.running)
  t.true(finalized)
  t.true(f.cancelled())
})

test("Future.toEffect: the value, typed failures, and interrupting the waiting fiber aborts the future", async (t) => {
  const ok = new Future<number>()
  const waiting = Effect.runPromise(Future.toEffect(ok))
  ok.setResult(3)
  t.is(await waiting, 3)

  const bad = new Future<number>()
  bad.setException(new TypeError("inner"))
  const failure = await Effect.runPromise(Effect.flip(Future.toEffect(bad)))
  t.is(failure._tag, "TaskFailed")
  t.true((failure as { cause: unknown }).cause instanceof TypeError)

  const cancelled = new Future<number>()
  cancelled.cancel()
  t.is((await Effect.runPromise(Effect.flip(Future.toEffect(cancelled))))._tag, "CancelledError")

  let interrupted = false
  const inner = Future.fromEffect(Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => (interrupted = true)))))
  const fiber = Effect.runFork(Future.toEffect(inner))
  await Promise.resolve()
  fiber.interruptUnsafe()
  await t.throwsAsync(inner.result(), { instanceOf: CancelledError })
  t.true(interrupted)

  // { abort: false } leaves the future alone.
  const kept = new Future<number>()
  kept.setRunningOrNotifyCancel()
  const f2 = Effect.runFork(Future.toEffect(kept, { abort: false }))
  await Promise.resolve()
  await Effect.runPromise(Fiber.interrupt(f2))
  t.false(kept.done())
  t.true(kept.running())
  kept.setResult(1)
  t.is(await kept, 1)
})

test("Future.fromPromise follows a promise", async (t) => {
  t.is(await Future.fromPromise(Promise.resolve("x")), "x")
  const f = Future.fromPromise(Promise.reject(new URIError("u")))
  await t.throwsAsync(f.result(), { instanceOf: URIError })
  t.false(f.cancel())
})

test("wait: FIRST_COMPLETED, FIRST_EXCEPTION (a cancellation is not an exception), ALL_COMPLETED, timeout", async (t) => {
  const [a, b, c] = [new Future<number>(), new Future<number>(), new Future<number>()]
  const first = wait([a, b, c], { returnWhen: FIRST_COMPLETED })
  b.setResult(2)
  let r = await first
  t.deepEqual([...r.done], [b])
  t.deepEqual([...r.notDone], [a, c])

  const exc = wait([a, c], { returnWhen: FIRST_EXCEPTION })
  a.cancel()
  await Promise.resolve()
  c.setException(new Error("c failed"))
  r = await exc
  t.deepEqual(new Set(r.done), new Set([a, c]))
  t.is(r.notDone.size, 0)

  // FIRST_EXCEPTION with no exception waits for all.
  const [d, e] = [new Future<number>(), new Future<number>()]
  const all = wait([d, e], { returnWhen: FIRST_EXCEPTION })
  d.setResult(1)
  let settled = false
  void all.then(() => (settled = true))
  await new Promise((res) => setImmediate(res))
  t.false(settled)
  e.setResult(2)
  t.is((await all).done.size, 2)

  const g = new Future<number>()
  r = await wait([b, g], { timeout: 10 })
  t.deepEqual([r.done.size, r.notDone.size], [1, 1])
  r = await wait([b, d], { returnWhen: ALL_COMPLETED })
  t.is(r.done.size, 2)
})

test("asCompleted: done ones first, then in completion order, duplicates once; timeout throws with the count left", async (t) => {
  const fs = [new Future<number>(), new Future<number>(), new Future<number>(), new Future<number>()]
  fs[3]!.setResult(3)
  const it = asCompleted([...fs, fs[0]!])
  const order: Array<number> = []
  const reading = (async () => {
    for await (const f of it) order.push(await f.result().catch(() => -1))
  })()
  fs[2]!.setResult(2)
  await new Promise((res) => setImmediate(res))
  fs[0]!.cancel()
  await new Promise((res) => setImmediate(res))
  fs[1]!.setResult(1)
  await reading
  t.deepEqual(order, [3, 2, -1, 1])

  const slow = [new Future<number>(), new Future<number>()]
  slow[0]!.setResult(0)
  const seen: Array<unknown> = []
  const e = await t.throwsAsync(async () => {
    for await (const f of asCompleted(slow, { timeout: 20 })) seen.push(f)
  }, { instanceOf: TimeoutError })
  t.deepEqual(seen, [slow[0]])
  t.is(e!.pending, 1)
})
