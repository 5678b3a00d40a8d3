// One suite for the thread and the process executors: real workers, no
// times asserted (orderings, counts and states only). Tasks that must wait
// are gated on queues the test controls.
import test from "ava"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import {
  ALL_COMPLETED,
  asCompleted,
  type Completed,
  CancelledError,
  CapturedVariables,
  type Executor,
  type ExecutorOptions,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  move,
  QueueFull,
  ShutdownError,
  TaskTimeout,
  task,
  TimeoutError,
  wait,
  WorkerExited
} from "rankflow/patterns/executor"
import { Queue } from "rankflow/patterns/process"
import type * as T from "./fixtures/tasks.ts"

const tasks = new URL("./fixtures/tasks.ts", import.meta.url)
const square = task<typeof T.square>(tasks, "square")
const workerId = task<typeof T.workerId>(tasks, "workerId")
const cooperative = task<typeof T.cooperative>(tasks, "cooperative")
const stubborn = task<typeof T.stubborn>(tasks, "stubborn")
const gated = task<typeof T.gated>(tasks, "gated")
const exits = task<typeof T.exits>(tasks, "exits")
const throwsLater = task<typeof T.throwsLater>(tasks, "throwsLater")
const hog = task<typeof T.hog>(tasks, "hog")
const exitOn = task<typeof T.exitOn>(tasks, "exitOn")
const throwsNow = task<typeof T.throwsNow>(tasks, "throwsNow")
const moveBack = task<typeof T.moveBack>(tasks, "moveBack")
const keptBytes = task<typeof T.keptBytes>(tasks, "keptBytes")
const root = fileURLToPath(new URL("../../", import.meta.url))

/**
 * Runs `body` with a gate (a queue the gated calls wait on) and opens it
 * `opens` times at the end whatever happens, so that a failed assertion
 * leaves no call blocked and the executor can shut down.
 */
const withGate = async (body: (gate: Queue<unknown>) => Promise<void>, opens = 3): Promise<void> => {
  const gate = new Queue<unknown>()
  try {
    await body(gate)
  } finally {
    for (let i = 0; i < opens; i++) await gate.put("go")
  }
}

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5))
}

export const executorSuite = (kind: "thread" | "process", make: (o?: ExecutorOptions) => Executor): void => {
  const t = (name: string) => `${kind}: ${name}`

  test(t("submit runs a function by its source and a module export; results await"), async (t) => {
    await using ex = make({ maxWorkers: 2 })
    t.is(await ex.submit((a: number, b: number) => a ** b, 2, 10), 1024)
    t.is(await ex.submit(square, 9), 81)
    const f = ex.submit(square, 3)
    t.is(await f.result(), 9)
    t.true(f.done())
    t.false(f.cancelled())
    t.is(f.state, "FINISHED")
    t.is(await f.exception(), undefined)
  })

  test(t("a task's exception rejects its future as the same class, with the remote stack"), async (t) => {
    await using ex = make({ maxWorkers: 1 })
    const f = ex.submit((x: number) => {
      if (x < 0) throw new RangeError(`negative: ${x}`)
      return x
    }, -1)
    const e = await t.throwsAsync(f.result(), { instanceOf: RangeError, message: "negative: -1" })
    t.regex(e!.stack ?? "", /negative/)
    t.true((await f.exception()) instanceof RangeError)
  })

  test(t("a module's task that throws in its first call, right after its module loads, fails its future and the worker goes on"), async (t) => {
    await using ex = make({ maxWorkers: 1 })
    await t.throwsAsync(ex.submit(throwsNow, "first").result(), { instanceOf: RangeError, message: "first" })
    await t.throwsAsync(ex.submit(throwsNow, "second").result(), { instanceOf: RangeError, message: "second" })
    t.is(await ex.submit(square, 5), 25)
    t.is(ex.metrics().started, 1)
    t.is(ex.metrics().failed, 2)
  })

  test(t("a closure is refused, naming what it captures and how to fix it"), async (t) => {
    await using ex = make({ maxWorkers: 1 })
    const k = 3
    const helper = (x: number) => x + 1
    const e = t.throws(() => ex.submit((x: number) => helper(x) * k, 1), { instanceOf: CapturedVariables })
    t.deepEqual([...e!.names].sort(), ["helper", "k"])
    t.regex(e!.message, /captures outer variables `helper`, `k`/)
    t.regex(e!.message, /Pass them as arguments/)
    t.regex(e!.message, /task\(import\.meta\.url, "name"\)/)
  })

  test(t("done callbacks run once, also when added after completion"), async (t) => {
    await using ex = make({ maxWorkers: 1 })
    const f = ex.submit(square, 4)
    const seen: Array<string> = []
    f.addDoneCallback((g) => seen.push(`before ${g.state}`))
    await f
    f.addDoneCallback((g) => seen.push(`after ${g.state}`))
    t.deepEqual(seen, ["before FINISHED", "after FINISHED"])
  })

  test(t("map keeps input order, zips several iterables, chunks, and is awaitable or iterable"), async (t) => {
    await using ex = make({ maxWorkers: 2 })
    const xs = Array.from({ length: 50 }, (_, i) => i)
    // later inputs finish first
    const slowFirst = async (x: number) => {
      await new Promise((r) => setTimeout(r, (50 - x) % 7))
      return x * 2
    }
    t.deepEqual(await ex.map(slowFirst, xs), xs.map((x) => x * 2))
    t.deepEqual(await ex.map((a: number, b: number) => a - b, [10, 20, 30], [1, 2]), [9, 18])
    const got: Array<number> = []
    for await (const y of ex.map(square, xs, { chunksize: 8 })) got.push(y)
    t.deepEqual(got, xs.map((x) => x * x))
  })

  test(t("map throws a call's error where the iteration reaches it"), async (t) => {
    await using ex = make({ maxWorkers: 2 })
    const got: Array<number> = []
    const run = async () => {
      for await (const y of ex.map((x: number) => {
        if (x === 3) throw new TypeError("three")
        return x
      }, [0, 1, 2, 3, 4, 5])) got.push(y)
    }
    await t.throwsAsync(run, { instanceOf: TypeError, message: "three" })
    t.deepEqual(got, [0, 1, 2])
  })

  test(t("map's timeout throws TimeoutError while a call is still running"), async (t) => {
    await using ex = make({ maxWorkers: 1 })
    await withGate(async (gate) => {
      const run = ex.map(gated, [gate], ["late"], { timeout: 50 })
      await t.throwsAsync(Promise.resolve(run), { instanceOf: TimeoutError })
    })
  })

  test(t("wait: FIRST_COMPLETED, FIRST_EXCEPTION and ALL_COMPLETED"), async (t) => {
    await using ex = make({ maxWorkers: 3 })
    await withGate(async (gate) => {
      const quick = ex.submit(square, 2)
      const held = ex.submit(gated, gate, "held")
      let r = await wait([quick, held], { returnWhen: FIRST_COMPLETED })
      t.deepEqual([r.done.has(quick), r.notDone.has(held)], [true, true])

      const failing = ex.submit(() => {
        throw new Error("x")
      })
      r = await wait([held, failing], { returnWhen: FIRST_EXCEPTION })
      t.true(r.done.has(failing))
      t.true(r.notDone.has(held))

      r = await wait([quick, held], { timeout: 30 })
      t.is(r.notDone.size, 1)
      await gate.put("go")
      r = await wait([quick, held, failing], { returnWhen: ALL_COMPLETED })
      t.is(r.done.size, 3)
      t.is(r.notDone.size, 0)
    })
  })

  test(t("asCompleted yields futures in the order they complete"), async (t) => {
    await using ex = make({ maxWorkers: 3 })
    const gates = [new Queue<unknown>(), new Queue<unknown>(), new Queue<unknown>()]
    const fs = gates.map((g, i) => ex.submit(gated, g, i))
    const order: Array<number> = []
    const it = asCompleted(fs)
    try {
      for (const i of [2, 0, 1]) {
        await gates[i]!.put("go")
        const { value } = await it.next()
        order.push(await value!.result())
      }
    } finally {
      for (const [i, g] of gates.entries()) if (!fs[i]!.done()) await g.put("go")
    }
    t.deepEqual(order, [2, 0, 1])
    t.true((await it.next()).done)
  })

  test(t("asCompleted's timeout throws TimeoutError with the count left"), async (t) => {
    await using ex = make({ maxWorkers: 2 })
    await withGate(async (gate) => {
      const first = ex.submit(square, 1)
      const fs = [first, ex.submit(gated, gate, 0)]
      await first
      const seen: Array<Completed<unknown>> = []
      const e = await t.throwsAsync(async () => {
        for await (const f of asCompleted(fs, { timeout: 100 })) seen.push(f)
      }, { instanceOf: TimeoutError })
      t.deepEqual(seen, [first])
      t.is(e!.pending, 1)
    })
  })

  test(t("result(timeout) rejects with TimeoutError and the call goes on"), async (t) => {
    await using ex = make({ maxWorkers: 1 })
    await withGate(async (gate) => {
      const f = ex.submit(gated, gate, "v")
      await t.throwsAsync(f.result(20), { instanceOf: TimeoutError })
      await t.throwsAsync(f.exception(20), { instanceOf: TimeoutError })
      t.false(f.done())
      await gate.put("go")
      t.is(await f.result(), "v")
    })
  })

  test(t("cancel removes queued calls without touching the running one"), async (t) => {
    await using ex = make({ maxWorkers: 1 })
    await withGate(async (gate) => {
      const running = ex.submit(gated, gate, "ran")
      const queued = ex.submit(square, 5)
      const after = ex.submit(square, 6)
      await until(() => running.running())
      t.true(queued.cancel())
      t.true(queued.cancelled())
      t.false(running.cancel())
      t.true(running.running())
      await t.throwsAsync(queued.result(), { instanceOf: CancelledError })
      await gate.put("go")
      t.is(await running, "ran")
      t.is(await after, 36)
      t.false(after.cancel())
      t.is(ex.metrics().cancelled, 1)
    })
  })

  test(t("abort: the running call sees its AbortSignal and cleans up"), async (t) => {
    await using ex = make({ maxWorkers: 1, abortGrace: 60_000 }) // the cooperative call ends long before: no worker is terminated
    const log = new Queue<string>()
    const f = ex.submit(cooperative, log, "job")
    t.is(await log.get(), "job started")
    t.true(f.running())
    t.true(f.abort())
    const e = await t.throwsAsync(f.result(), { instanceOf: CancelledError })
    t.true(e!.running)
    t.is(await log.get(), "job cleaned up (AbortError)")
    t.true(f.cancelled())
    t.is(ex.metrics().started, 1) // the worker was not terminated
    t.is(await ex.submit(square, 3), 9)
  })

  test(t("abort escalates: a call that ignores its signal has its worker terminated and replaced"), async (t) => {
    await using ex = make({ maxWorkers: 1, abortGrace: 100 })
    const log = new Queue<string>()
    const f = ex.submit(stubborn, log)
    t.is(await log.get(), "stubborn started")
    f.abort()
    const e = await t.throwsAsync(f.result(), { instanceOf: CancelledError })
    t.regex(e!.reason, /terminated/)
    t.is(await ex.submit(square, 7), 49)
    t.is(ex.metrics().started, 2)
  })

  test(t("a signal passed with the call aborts it"), async (t) => {
    await using ex = make({ maxWorkers: 1, abortGrace: 60_000 }) // the cooperative call ends long before: no worker is terminated
    const log = new Queue<string>()
    const ac = new AbortController()
    const f = ex.submitWith({ signal: ac.signal }, cooperative, log, "signalled")
    t.is(await log.get(), "signalled started")
    ac.abort()
    await t.throwsAsync(f.result(), { instanceOf: CancelledError })
    t.is(await log.get(), "signalled cleaned up (AbortError)")
  })

  test(t("a per-call timeout counts from when the call starts, not from when it was queued"), async (t) => {
    await using ex = make({ maxWorkers: 1 })
    await withGate(async (gate) => {
      const first = ex.submit(gated, gate, "first")
      const second = ex.submitWith({ timeout: 400 }, square, 8)
      // the second waits in the queue longer than its timeout
      await new Promise((r) => setTimeout(r, 700))
      t.false(second.done())
      t.false(second.running())
      await gate.put("go")
      t.is(await first, "first")
      t.is(await second, 64)
    })
  })

  test(t("a per-call timeout aborts the call cooperatively: the call sees TimeoutError and cleans up"), async (t) => {
    // The grace is long: the call ends by itself long before it.
    await using ex = make({ maxWorkers: 1, abortGrace: 60_000 })
    const log = new Queue<string>()
    const polite = ex.submitWith({ timeout: 50 }, cooperative, log, "timed")
    const e = await t.throwsAsync(polite.result(), { instanceOf: TaskTimeout })
    t.false(e!.terminated)
    t.deepEqual([await log.get(), await log.get()], ["timed started", "timed cleaned up (TimeoutError)"])
    t.is(ex.metrics().started, 1)
    t.is(await ex.submit(square, 2), 4)
  })

  test(t("a per-call timeout escalates: a call that ignores it has its worker terminated and replaced"), async (t) => {
    await using ex = make({ maxWorkers: 1, abortGrace: 100 })
    const rude = ex.submitWith({ timeout: 50 }, stubborn, undefined)
    const e = await t.throwsAsync(rude.result(), { instanceOf: TaskTimeout })
    t.true(e!.terminated)
    t.is(await ex.submit(square, 2), 4)
    t.is(ex.metrics().started, 2)
  })

  test(t("a worker that exits mid-task fails every call in flight on it and is replaced"), async (t) => {
    await using ex = make({ maxWorkers: 1 })
    // measured tiny first, so the next calls travel in one batch
    t.deepEqual(await ex.map(exitOn, [1, 2, 3], [-1, -1, -1]), [1, 2, 3])
    const fs = Array.from({ length: 20 }, (_, i) => ex.submit(exitOn, i, 5))
    const { done } = await wait(fs)
    t.is(done.size, 20)
    const lost = await Promise.all(fs.map((f) => f.exception()))
    const exited = lost.filter((e) => e instanceof WorkerExited) as Array<WorkerExited>
    t.true(exited.length >= 1)
    t.true(fs[5]!.state === "FINISHED" && lost[5] instanceof WorkerExited)
    for (const e of exited) {
      t.is(e.reason, "exit")
      t.is(e.exitCode, 7)
    }
    t.true(ex.metrics().started >= 2)
    t.is(await ex.submit(square, 11), 121)
  })

  if (kind === "process") {
    test(t("a worker killed from outside mid-task (SIGKILL) fails its calls with WorkerExited and is replaced"), async (t) => {
      await using ex = make({ maxWorkers: 1 })
      await withGate(async (gate) => {
        const pid = await ex.submit(workerId)
        const held = ex.submit(gated, gate, "never")
        const queued = ex.submit(square, 6)
        await until(() => held.running())
        process.kill(pid, "SIGKILL")
        const e = await t.throwsAsync(held.result(), { instanceOf: WorkerExited })
        t.is(e!.reason, "signal")
        t.is(e!.signal, "SIGKILL")
        t.is(await queued, 36) // the queued call runs on the replacement
        t.not(await ex.submit(workerId), pid)
        t.is(ex.metrics().started, 2)
      })
    })
  }

  test(t("a call's process.exit fails it with WorkerExited"), async (t) => {
    await using ex = make({ maxWorkers: 1 })
    const e = await t.throwsAsync(ex.submit(exits, 3).result(), { instanceOf: WorkerExited })
    t.is(e!.exitCode, 3)
    t.is(e!.kind, kind)
    t.is(await ex.submit(square, 3), 9)
  })

  test(t("an exception thrown at a worker's top level fails its call"), async (t) => {
    await using ex = make({ maxWorkers: 1 })
    const e = await t.throwsAsync(ex.submit(throwsLater).result(), { instanceOf: WorkerExited })
    if (kind === "thread") {
      t.is(e!.reason, "error")
      t.regex(e!.message, /thrown at top level/)
    } else t.is(e!.exitCode, 1)
    t.is(await ex.submit(square, 3), 9)
  })

  test(t("a worker that runs out of memory fails its call and is replaced"), async (t) => {
    await using ex = make({ maxWorkers: 1, resourceLimits: { maxOldGenerationSizeMb: 24 } })
    const e = await t.throwsAsync(ex.submit(hog).result(), { instanceOf: WorkerExited })
    t.is(e!.reason, "oom")
    t.is(await ex.submit(square, 3), 9)
  })

  test(t("maxTasksPerChild replaces a worker after that many calls"), async (t) => {
    await using ex = make({ maxWorkers: 1, maxTasksPerChild: 2 })
    const ids: Array<number> = []
    for (let i = 0; i < 6; i++) ids.push(await ex.submit(workerId))
    t.is(new Set(ids).size, 3)
    t.is(ids[0], ids[1])
    t.not(ids[1], ids[2])
    t.is(ex.metrics().started, 3)
  })

  test(t("tiny calls in a batch still respect maxTasksPerChild"), async (t) => {
    await using ex = make({ maxWorkers: 1, maxTasksPerChild: 10 })
    const ids = await Promise.all(Array.from({ length: 40 }, () => ex.submit(workerId)))
    const counts = new Map<number, number>()
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1)
    for (const n of counts.values()) t.true(n <= 10)
    t.true(counts.size >= 4)
  })

  test(t("maxMemoryPerChild replaces a worker whose memory is above the limit"), async (t) => {
    await using ex = make({ maxWorkers: 1, maxMemoryPerChild: 1 })
    const ids: Array<number> = []
    for (let i = 0; i < 3; i++) ids.push(await ex.submit(workerId))
    t.is(new Set(ids).size, 3)
  })

  test(t("a bounded queue refuses past maxQueue, ready() waits for room, submitEffect waits by itself"), async (t) => {
    await using ex = make({ maxWorkers: 1, maxQueue: 2 })
    await withGate(async (gate) => {
      const running = ex.submit(gated, gate, 0)
      await until(() => running.running())
      const a = ex.submit(square, 1)
      const b = ex.submit(square, 2)
      t.throws(() => ex.submit(square, 3), { instanceOf: QueueFull })
      t.is(ex.metrics().queued, 2)
      const third = Effect.runPromise(ex.submitEffect(square, 3))
      let ready = false
      const r = ex.ready().then(() => (ready = true))
      await new Promise((res) => setImmediate(res))
      t.false(ready)
      await gate.put("go")
      await r
      t.true(ready)
      t.deepEqual(await Promise.all([running, a, b, third]), [0, 1, 4, 9])
    })
  })

  test(t("shutdown: cancelFutures cancels what waits, and later submits fail"), async (t) => {
    const ex = make({ maxWorkers: 1 })
    try {
      await withGate(async (gate) => {
        const running = ex.submit(gated, gate, "ran")
        const queued = ex.submit(square, 2)
        await until(() => running.running())
        const done = ex.shutdown({ cancelFutures: true })
        t.true(queued.cancelled())
        t.false(running.done())
        t.throws(() => ex.submit(square, 1), { instanceOf: ShutdownError })
        await gate.put("go")
        await done
        t.is(await running, "ran")
        t.is(ex.metrics().workers, 0)
      })
    } finally {
      await ex.shutdown()
    }
  })

  test(t("shutdown({ wait: false }) returns at once; running and queued calls still finish"), async (t) => {
    const ex = make({ maxWorkers: 1 })
    try {
      await withGate(async (gate) => {
        const running = ex.submit(gated, gate, "ran")
        const queued = ex.submit(square, 3)
        await until(() => running.running())
        await ex.shutdown({ wait: false })
        t.false(running.done())
        t.false(queued.done())
        t.throws(() => ex.submit(square, 1), { instanceOf: ShutdownError })
        await gate.put("go")
        t.is(await running, "ran")
        t.is(await queued, 9)
      })
      await ex.shutdown()
      t.is(ex.metrics().workers, 0)
    } finally {
      await ex.shutdown()
    }
  })

  test(t("await using shuts the executor down at the end of the block, waiting for its calls"), async (t) => {
    let outside: Executor | undefined
    let pending: Future<number> | undefined
    {
      await using ex = make({ maxWorkers: 2 })
      outside = ex
      t.deepEqual(await ex.map(square, [1, 2, 3]), [1, 4, 9])
      pending = ex.submit(async (x: number) => {
        await new Promise((r) => setTimeout(r, 50))
        return x
      }, 5)
    }
    t.true(pending.done())
    t.is(await pending, 5)
    t.is(outside.metrics().workers, 0)
    t.throws(() => outside!.submit(square, 1), { instanceOf: ShutdownError })
  })

  test(t("map is lazy with buffersize: it pulls from an endless input only as results are consumed"), async (t) => {
    await using ex = make({ maxWorkers: 2 })
    let pulled = 0
    function* naturals() {
      for (let i = 0;; i++) {
        pulled++
        yield i
      }
    }
    const got: Array<number> = []
    for await (const y of ex.map(square, naturals(), { buffersize: 4 })) {
      got.push(y)
      if (got.length === 10) break
    }
    t.deepEqual(got, Array.from({ length: 10 }, (_, i) => i * i))
    t.true(pulled <= 10 + 4, `pulled ${pulled}`)
    // and with chunks: at most buffersize chunks ahead
    pulled = 0
    const it = ex.map(square, naturals(), { buffersize: 2, chunksize: 5 })
    t.is((await it.next()).value, 0)
    t.true(pulled <= 5 * (1 + 2), `pulled ${pulled}`)
    await it.return!()
  })

  test(t("typed arrays travel as their kind; move() hands buffers over without copying"), async (t) => {
    await using ex = make({ maxWorkers: 1 })
    const data = new Float64Array(1000).fill(1.5)
    const out = await ex.submit(async (a: Float64Array) => {
      const { move } = await import("rankflow/patterns/executor")
      for (let i = 0; i < a.length; i++) a[i]! *= 2
      return move(a)
    }, move(data))
    t.true(out instanceof Float64Array)
    t.is(out.length, 1000)
    t.is(out[999], 3)
    // moved to a thread (detached here); copied to a process
    t.is(data.length, kind === "thread" ? 0 : 1000)
    t.is(data.buffer.byteLength, kind === "thread" ? 0 : 8000)
    // and back: the worker's own array is detached there once moved to us
    const back = await ex.submit(moveBack, 1000)
    t.true(back instanceof Float64Array)
    t.deepEqual([back.length, back[0], back[999]], [1000, 2, 2])
    t.is(await ex.submit(keptBytes), kind === "thread" ? 0 : 8000)
    const pair = await ex.submit((o: { xs: Int32Array; n: number }) => o.xs.length + o.n, move({ xs: new Int32Array(5), n: 1 }, []))
    t.is(pair, 6)
  })

  test(t("metrics show queued and running calls while they wait and run"), async (t) => {
    await using ex = make({ maxWorkers: 1 })
    await withGate(async (gate) => {
      const running = ex.submit(gated, gate, 1)
      const queued = [ex.submit(square, 1), ex.submit(square, 2), ex.submit(square, 3)]
      await until(() => running.running())
      const m = ex.metrics()
      t.deepEqual([m.running, m.queued, m.completed, m.workers], [1, 3, 0, 1])
      await gate.put("go")
      await Promise.all([running, ...queued])
      const after = ex.metrics()
      t.deepEqual([after.running, after.queued, after.completed], [0, 0, 4])
    })
  })

  test(t("metrics count calls and their run times"), async (t) => {
    await using ex = make({ maxWorkers: 2 })
    await ex.map(square, Array.from({ length: 100 }, (_, i) => i))
    await t.throwsAsync(ex.submit(() => {
      throw new Error("no")
    }).result())
    const m = ex.metrics()
    t.is(m.completed, 100)
    t.is(m.failed, 1)
    t.is(m.queued, 0)
    t.is(m.running, 0)
    t.is(m.runTime.count, 101)
    t.true(m.runTime.p50 <= m.runTime.p99)
    t.true(m.batches <= 101)
  })

  test(t("an executor in a program given with node -e starts its workers"), async (t) => {
    const cls = kind === "thread" ? "ThreadPoolExecutor" : "ProcessPoolExecutor"
    const source = `import { ${cls} } from "rankflow/patterns/executor"
      const ex = new ${cls}(1)
      console.log(await ex.submit((x) => x + 1, 41))
      await ex.shutdown()`
    const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", source], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
      let text = ""
      child.stdout.on("data", (d) => (text += d))
      child.stderr.on("data", (d) => (text += d))
      child.on("close", (code) => resolve({ code, text }))
    })
    t.is(out.text.trim(), "42")
    t.is(out.code, 0)
  })

  test(t("the Effect face: submitEffect, Future.toEffect with typed failures, interruption aborts"), async (t) => {
    await using ex = make({ maxWorkers: 2, abortGrace: 60_000 }) // the cooperative call ends long before: no worker is terminated
    t.deepEqual(await Effect.runPromise(Effect.all([ex.submitEffect(square, 2), ex.submitEffect(square, 3)])), [4, 9])
    const recovered = await Effect.runPromise(
      Future.toEffect(ex.submit(() => {
        throw new Error("inner")
      })).pipe(Effect.catchTag("TaskFailed", (e) => Effect.succeed(`recovered ${(e.cause as Error).message}`)))
    )
    t.is(recovered, "recovered inner")
    t.deepEqual(await Effect.runPromise(ex.mapEffect(square, [1, 2, 3])), [1, 4, 9])
    const log = new Queue<string>()
    const f = ex.submit(cooperative, log, "fiber")
    const fiber = Effect.runFork(Future.toEffect(f))
    t.is(await log.get(), "fiber started")
    fiber.interruptUnsafe()
    await t.throwsAsync(f.result(), { instanceOf: CancelledError })
    t.is(await log.get(), "fiber cleaned up (AbortError)")
  })
}
