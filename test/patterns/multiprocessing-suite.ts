// One suite for multiprocessing on both start methods (thread and process):
// real workers, no times asserted (orderings, counts, states and error
// types only). Tasks that must wait are gated on queues the test controls.
import test from "ava"
import { execFile } from "node:child_process"
import { setTimeout as delay } from "node:timers/promises"
import { fileURLToPath } from "node:url"
import {
  activeChildren,
  CancelledError,
  CapturedVariables,
  Closed,
  Empty,
  Full,
  getContext,
  Pipe,
  Queue,
  ShutdownError,
  type StartMethod,
  task,
  TimeoutError,
  WorkerExited
} from "rankflow/patterns/process"
import type * as T from "./mp-fixtures/tasks.ts"

const tasks = new URL("./mp-fixtures/tasks.ts", import.meta.url)
const square = task<typeof T.square>(tasks, "square")
const add = task<typeof T.add>(tasks, "add")
const tagged = task<typeof T.tagged>(tasks, "tagged")
const init = task<typeof T.init>(tasks, "init")
const initState = task<typeof T.initState>(tasks, "initState")
const checked = task<typeof T.checked>(tasks, "checked")
const gated = task<typeof T.gated>(tasks, "gated")
const exits = task<typeof T.exits>(tasks, "exits")
const doubler = task<typeof T.doubler>(tasks, "doubler")
const echo = task<typeof T.echo>(tasks, "echo")
const producer = task<typeof T.producer>(tasks, "producer")
const held = task<typeof T.held>(tasks, "held")
const setGate = task<typeof T.setGate>(tasks, "setGate")
const holdZero = task<typeof T.holdZero>(tasks, "holdZero")
const throwsLater = task<typeof T.throwsLater>(tasks, "throwsLater")
const worker = task<typeof T.worker>(tasks, "worker")

const DAEMON = fileURLToPath(new URL("./mp-fixtures/daemon.ts", import.meta.url))

/** Runs the daemon fixture; its exit code and the JSON it printed. */
const daemonScenario = (method: StartMethod, scenario: string): Promise<{ code: number; out: any; stderr: string }> =>
  new Promise((resolve) =>
    execFile(process.execPath, [DAEMON, method, scenario], { timeout: 60_000 }, (e, stdout, stderr) => {
      let out: unknown
      try {
        out = JSON.parse(stdout)
      } catch {
        out = stdout
      }
      resolve({ code: e === null ? 0 : (e as { code?: number }).code ?? -1, out, stderr })
    })
  )

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

export const multiprocessingSuite = (method: StartMethod): void => {
  const ctx = getContext(method)
  const t = (name: string) => `${method}: ${name}`

  // ------------------------------------------------------------------ Pool

  test(t("map returns results in input order, by module export and by source"), async (t) => {
    await using p = ctx.Pool(2)
    t.is(p.processes, 2)
    const xs = range(200)
    t.deepEqual(await p.map(square, xs), xs.map((x) => x * x))
    t.deepEqual(await p.map((x: number) => `#${x}`, [3, 1, 2]), ["#3", "#1", "#2"])
    t.deepEqual(await p.map(square, []), [])
    t.deepEqual(await p.map(square, new Set([5, 6])), [25, 36]) // any iterable
  })

  test(t("map keeps input order while calls complete out of order"), async (t) => {
    await using p = ctx.Pool(2)
    const log = new Queue<number>()
    const gate = new Queue<unknown>()
    // Call 0 holds one worker until the gate opens; 1 and 2 run on the other and finish first.
    const result = p.starmap(held, [[log, gate, 0, true], [log, gate, 1, false], [log, gate, 2, false]], 1)
    t.deepEqual([await log.get(), await log.get()].sort(), [1, 2])
    await gate.put("go")
    t.is(await log.get(), 0)
    t.deepEqual(await result, [0, 1, 4])
  })

  test(t("imap is lazy: it reads its input only a bounded distance ahead of the consumer, so it may be endless"), async (t) => {
    await using p = ctx.Pool(2)
    let pulled = 0
    function* naturals(): Generator<number> {
      for (let i = 0;; i++) {
        pulled++
        yield i
      }
    }
    const ahead = 4 * p.processes // chunks submitted ahead of the consumer
    const got: Array<number> = []
    for await (const y of p.imap(square, naturals())) {
      got.push(y)
      t.true(pulled <= got.length + ahead, `${pulled} inputs read after ${got.length} results`)
      if (got.length === 25) break
    }
    t.deepEqual(got, range(25).map((x) => x * x))
    const atBreak = pulled
    // The pool keeps working, and the abandoned imap reads no more input.
    t.deepEqual(await p.map(square, [7]), [49])
    t.is(pulled, atBreak)
    t.true(pulled >= 25 && pulled <= 25 + ahead)
  })

  test(t("imap with a chunksize yields every result in order"), async (t) => {
    await using p = ctx.Pool(2)
    const got: Array<number> = []
    for await (const y of p.imap(square, range(53), 5)) got.push(y)
    t.deepEqual(got, range(53).map((x) => x * x))
  })

  test(t("imapUnordered yields every result once, in completion order"), async (t) => {
    await using p = ctx.Pool(2)
    const got: Array<number> = []
    for await (const y of p.imapUnordered(square, range(100), 3)) got.push(y)
    t.is(got.length, 100)
    t.deepEqual([...got].sort((a, b) => a - b), range(100).map((x) => x * x))
    // A held call comes last: the others are yielded before its gate opens.
    const gate = new Queue<unknown>()
    await using q = ctx.Pool(2, { initializer: setGate, initargs: [gate] })
    const order: Array<number> = []
    for await (const y of q.imapUnordered(holdZero, [0, 1, 2])) {
      order.push(y)
      if (order.length === 2) await gate.put("go") // only now may the held call finish
    }
    t.deepEqual(order.slice(0, 2).sort(), [1, 4])
    t.is(order[2], 0)
    t.deepEqual(await p.imapUnordered(square, []), [])
  })

  test(t("starmap unpacks argument tuples; starmapAsync gives an AsyncResult"), async (t) => {
    await using p = ctx.Pool(2)
    const pairs = range(30).map((i) => [i, 100 * i] as [number, number])
    t.deepEqual(await p.starmap(add, pairs), pairs.map(([a, b]) => a + b))
    t.deepEqual(await p.starmap((a: string, n: number) => a.repeat(n), [["ab", 2], ["c", 3]]), ["abab", "ccc"])
    t.deepEqual(await p.starmapAsync(add, [[1, 2], [3, 4]]).get(), [3, 7])
    t.is(await p.apply(add, [20, 22]), 42)
  })

  test(t("applyAsync and mapAsync call callback or errorCallback before their result is seen"), async (t) => {
    await using p = ctx.Pool(2)
    const seen: Array<string> = []
    const ok = p.applyAsync(square, [7], {
      callback: (v) => seen.push(`callback ${v}`),
      errorCallback: (e) => seen.push(`errorCallback ${String(e)}`)
    })
    t.is(await ok.get(), 49)
    t.true(ok.ready())
    t.true(ok.successful())
    t.deepEqual(seen, ["callback 49"])

    const bad = p.applyAsync(checked, [-1], {
      callback: (v) => seen.push(`callback ${v}`),
      errorCallback: (e) => seen.push(`errorCallback ${(e as Error).name}: ${(e as Error).message}`)
    })
    await t.throwsAsync(bad.get(), { instanceOf: RangeError, message: "negative: -1" })
    t.false(bad.successful())
    t.deepEqual(seen, ["callback 49", "errorCallback RangeError: negative: -1"])

    const all = p.mapAsync(square, range(10), undefined, { callback: (vs) => seen.push(`mapped ${vs.length}`) })
    t.deepEqual(await all, range(10).map((x) => x * x)) // an AsyncResult is awaitable
    t.is(seen.at(-1), "mapped 10")
    const failing = p.mapAsync(checked, [1, -2, 3], undefined, { errorCallback: (e) => seen.push(`map failed ${(e as Error).message}`) })
    await failing.wait()
    t.true(failing.ready())
    t.false(failing.successful())
    t.is(seen.at(-1), "map failed negative: -2")
  })

  test(t("an AsyncResult that is not ready: ready() false, successful() throws, get(timeout) throws TimeoutError"), async (t) => {
    await using p = ctx.Pool(1)
    const gate = new Queue<unknown>()
    const log = new Queue<string>()
    const r = p.applyAsync(gated, [log, gate, "v"])
    t.is(await log.get(), "started v")
    t.false(r.ready())
    t.throws(() => r.successful(), { message: /not ready/ })
    await t.throwsAsync(r.get(20), { instanceOf: TimeoutError })
    await r.wait(10)
    t.false(r.ready())
    await gate.put("go")
    t.is(await r.get(), "v")
  })

  test(t("chunksize: each chunk runs on one worker, and bad chunksizes are refused"), async (t) => {
    await using p = ctx.Pool(2)
    const out = await p.map(tagged, range(40), 10)
    t.deepEqual(out.map(([x]) => x), range(40))
    for (let c = 0; c < 4; c++) {
      const ids = new Set(out.slice(10 * c, 10 * c + 10).map(([, id]) => id))
      t.is(ids.size, 1, `chunk ${c} ran on ${[...ids].join(", ")}`)
    }
    const lazy: Array<[number, number]> = []
    for await (const r of p.imap(tagged, range(12), 4)) lazy.push(r)
    for (let c = 0; c < 3; c++) t.is(new Set(lazy.slice(4 * c, 4 * c + 4).map(([, id]) => id)).size, 1)
    await t.throwsAsync(p.map(square, [1, 2], 0), { instanceOf: RangeError, message: /chunksize/ })
    t.throws(() => p.imap(square, [1], 1.5), { instanceOf: RangeError })
  })

  test(t("initializer runs once in every worker, with its initargs, before the worker's first task"), async (t) => {
    const started = new Queue<number>()
    const p = ctx.Pool(2, { initializer: init, initargs: [started, "ready"] })
    const out = await p.map(initState, range(40), 1)
    for (const [tag, runs] of out) t.deepEqual([tag, runs], ["ready", 1])
    p.close()
    await p.join()
    const workers = p.metrics().started
    t.true(workers >= 1 && workers <= 2)
    const inited: Array<number> = []
    for (let i = 0; i < workers; i++) inited.push(await started.get())
    t.is(started.size, 0) // exactly once per worker
    t.is(new Set(inited).size, workers)
    for (const [, , id] of out) t.true(inited.includes(id))
  })

  test(t("an initializer that throws fails the pool's work with its error"), async (t) => {
    await using p = ctx.Pool(1, { initializer: checked, initargs: [-5] })
    await t.throwsAsync(p.map(square, [1, 2, 3]), { instanceOf: RangeError, message: "negative: -5" })
  })

  test(t("maxTasksPerChild replaces a worker after that many tasks"), async (t) => {
    await using p = ctx.Pool(1, { maxTasksPerChild: 2 })
    const out = await p.map(tagged, range(6), 1)
    const ids = out.map(([, id]) => id)
    t.deepEqual(out.map(([x]) => x), range(6))
    t.is(ids[0], ids[1])
    t.is(ids[2], ids[3])
    t.is(ids[4], ids[5])
    t.is(new Set(ids).size, 3, `worker ids ${ids.join(", ")}`)
    t.true(p.metrics().started >= 3)
  })

  test(t("maxTasksPerChild with an initializer: every replacement worker runs it once, before its tasks"), async (t) => {
    const started = new Queue<number>()
    const p = ctx.Pool(1, { maxTasksPerChild: 2, initializer: init, initargs: [started, "again"] })
    const out = await p.map(initState, range(6), 1)
    for (const [tag, runs] of out) t.deepEqual([tag, runs], ["again", 1])
    const ids = [...new Set(out.map(([, , id]) => id))]
    t.is(ids.length, 3)
    p.close()
    await p.join()
    const inited: Array<number> = []
    while (started.size > 0) inited.push(await started.get())
    t.is(inited.length, p.metrics().started)
    for (const id of ids) t.is(inited.filter((x) => x === id).length, 1)
  })

  test(t("close then join: submitted work finishes, new work is refused, the workers leave"), async (t) => {
    const p = ctx.Pool(2)
    await t.throwsAsync(p.join(), { message: /close\(\) or terminate\(\) first/ })
    const r = p.mapAsync(square, range(30))
    const one = p.applyAsync(add, [1, 2])
    p.close()
    t.throws(() => p.applyAsync(square, [1]), { instanceOf: ShutdownError })
    await t.throwsAsync(p.map(square, [1]), { instanceOf: ShutdownError })
    t.throws(() => p.imap(square, [1]), { instanceOf: ShutdownError })
    await p.join()
    t.true(r.ready() && one.ready())
    t.deepEqual(await r.get(), range(30).map((x) => x * x))
    t.is(await one.get(), 3)
    t.is(p.metrics().workers, 0)
  })

  test(t("terminate mid-task: running calls fail with WorkerExited, queued ones are cancelled"), async (t) => {
    const p = ctx.Pool(2)
    const log = new Queue<string>()
    const gate = new Queue<unknown>()
    const running = [p.applyAsync(gated, [log, gate, "a"]), p.applyAsync(gated, [log, gate, "b"])]
    t.deepEqual([await log.get(), await log.get()].sort(), ["started a", "started b"])
    const queued = p.applyAsync(gated, [log, gate, "c"])
    await p.terminate()
    for (const r of running) {
      const e = await t.throwsAsync(r.get(), { instanceOf: WorkerExited })
      t.is(e?.kind, method)
    }
    await t.throwsAsync(queued.get(), { instanceOf: CancelledError })
    t.throws(() => p.applyAsync(square, [1]), { instanceOf: ShutdownError })
    await p.join() // after terminate, join returns at once
    t.is(log.size, 0) // c never started
  })

  test(t("a task's error surfaces as its own class; a worker that exits fails its call with WorkerExited and is replaced"), async (t) => {
    await using p = ctx.Pool(2)
    await t.throwsAsync(p.map(checked, [1, -2, 3]), { instanceOf: RangeError, message: "negative: -2" })
    const bySource = (x: number) => {
      if (x > 1) throw new TypeError(`too big: ${x}`)
      return x
    }
    await t.throwsAsync(p.map(bySource, [0, 1, 2]), { instanceOf: TypeError, message: "too big: 2" })
    const got: Array<number> = []
    await t.throwsAsync(async () => {
      for await (const y of p.imap(checked, [5, 6, -7, 8])) got.push(y)
    }, { instanceOf: RangeError })
    t.deepEqual(got, [5, 6])
    const e = await t.throwsAsync(p.apply(exits, [3]), { instanceOf: WorkerExited })
    t.is(e?.exitCode, 3)
    t.is(e?._tag, "WorkerExited")
    t.deepEqual(await p.map(square, [1, 2, 3]), [1, 4, 9]) // replaced
  })

  test(t("a function that captures outer variables is refused with its explanation"), async (t) => {
    await using p = ctx.Pool(1)
    const k = 3
    const e = t.throws(() => p.applyAsync((x: number) => x * k, [1]), { instanceOf: CapturedVariables })
    t.deepEqual([...e!.names], ["k"])
    t.throws(() => ctx.Process({ target: (x: number) => x * k, args: [1] }), { instanceOf: CapturedVariables })
  })

  // --------------------------------------------------------------- Process

  test(t("Process: start, isAlive, pid, join and exit code 0 when the target returns"), async (t) => {
    const log = new Queue<string>()
    const gate = new Queue<unknown>()
    const p = ctx.Process({ target: gated, args: [log, gate, "x"], name: "worker-x" })
    t.is(p.name, "worker-x")
    t.false(p.isAlive())
    t.is(p.exitCode, null)
    t.is(p.pid, undefined)
    await t.throwsAsync(p.join(), { message: /not started/ })
    p.start()
    t.throws(() => p.start(), { message: /only once/ })
    t.true(p.isAlive())
    t.true(activeChildren().includes(p))
    t.is(typeof p.pid, "number")
    if (method === "process") t.not(p.pid, process.pid)
    t.is(await log.get(), "started x")
    await p.join(10) // bounded join: returns while it still runs
    t.true(p.isAlive())
    t.is(p.exitCode, null)
    await gate.put("go")
    await p.join()
    t.false(p.isAlive())
    t.false(activeChildren().includes(p))
    t.is(p.exitCode, 0)
    t.is(p.error, undefined)
  })

  test(t("Process: process.exit(code) gives that exit code; a throw gives 1 and keeps the error"), async (t) => {
    const p = ctx.Process({ target: exits, args: [3] })
    p.start()
    await p.join()
    t.is(p.exitCode, 3)
    const q = ctx.Process({ target: checked, args: [-4] })
    q.start()
    await q.join()
    t.is(q.exitCode, 1)
    t.true(q.error instanceof RangeError)
    t.is((q.error as Error).message, "negative: -4")
    const r = ctx.Process({ target: async () => { throw new Error("async boom") } })
    r.start()
    await r.join()
    t.is(r.exitCode, 1)
    t.is((r.error as Error).message, "async boom")
    // an uncaught error outside the target's promise ends it with 1 too
    const u = ctx.Process({ target: throwsLater })
    u.start()
    await u.join()
    t.is(u.exitCode, 1)
    if (method === "thread") t.is((u.error as Error).message, "thrown at top level")
  })

  test(t("Process: arguments the codec cannot carry are refused by start(), before anything starts"), (t) => {
    const p = ctx.Process({ target: (f: unknown) => typeof f, args: [() => 1] })
    t.throws(() => p.start(), { message: /cannot encode .*a function/ })
    t.false(p.isAlive())
    t.is(p.pid, undefined)
    t.is(p.exitCode, null)
  })

  test(t("Process: terminate gives -15 and kill -9, mid-task"), async (t) => {
    for (const [how, code] of [["terminate", -15], ["kill", -9]] as const) {
      const log = new Queue<string>()
      const gate = new Queue<unknown>()
      const p = ctx.Process({ target: gated, args: [log, gate, how] })
      p.start()
      t.is(await log.get(), `started ${how}`)
      p[how]()
      await p.join()
      t.false(p.isAlive())
      t.is(p.exitCode, code, how)
      p.terminate() // a no-op once it has ended
      t.is(p.exitCode, code)
    }
  })

  test(t("Process daemon: the program ends without waiting for it, unless it joins it or waits on a queue it fills"), async (t) => {
    const forever = await daemonScenario(method, "forever")
    t.is(forever.code, 0, forever.stderr)
    t.like(forever.out, { daemon: true, alive: true })
    if (method === "process") {
      // the daemon child ends with the program (its pipe closed)
      const pid = forever.out.pid as number
      t.not(pid, process.pid)
      for (let i = 0; i < 200 && isRunning(pid); i++) await delay(25)
      t.false(isRunning(pid), `daemon ${pid} outlived its program`)
    }
    const consumer = await daemonScenario(method, "consumer")
    t.is(consumer.code, 0, consumer.stderr)
    t.deepEqual(consumer.out, { got: [2, 4, 6], alive: true })
    const joined = await daemonScenario(method, "join")
    t.is(joined.code, 0, joined.stderr)
    t.deepEqual(joined.out, { exitCode: 0, alive: false })
  })

  // --------------------------------------------------------- Queue and Pipe

  test(t("Queue both ways between the parent and a Process, closing ends the consumer with Closed"), async (t) => {
    const inbox = ctx.Queue<number>()
    const outbox = ctx.Queue<number>()
    const p = ctx.Process({ target: doubler, args: [inbox, outbox] })
    p.start()
    for (const x of [1, 2, 3]) await inbox.put(x)
    t.deepEqual([await outbox.get(), await outbox.get(), await outbox.get()], [2, 4, 6])
    await inbox.put(4)
    await inbox.close()
    await t.throwsAsync(inbox.put(5), { instanceOf: Closed })
    t.is(await outbox.get(), 8)
    await t.throwsAsync(outbox.get(), { instanceOf: Closed }) // the worker closed it
    await p.join()
    t.is(p.exitCode, 0)
  })

  test(t("Queue through pool tasks: results come back on a queue; qsize, empty, getNowait, timeouts"), async (t) => {
    await using p = ctx.Pool(2)
    const inbox = new Queue<number>()
    const outbox = new Queue<number>()
    const consumer = p.applyAsync(doubler, [inbox, outbox])
    for (const x of range(10)) await inbox.put(x)
    await inbox.close()
    t.is(await consumer.get(), 10)
    t.is(outbox.size, 10)
    t.is(await outbox.qsize(), 10)
    t.false(await outbox.empty())
    const got: Array<number> = []
    for (let i = 0; i < 10; i++) got.push(await outbox.getNowait())
    t.deepEqual(got, range(10).map((x) => 2 * x))
    await t.throwsAsync(outbox.getNowait(), { instanceOf: Closed }) // closed and drained
    const empty = new Queue<number>()
    t.true(await empty.empty())
    await t.throwsAsync(empty.getNowait(), { instanceOf: Empty })
    await t.throwsAsync(empty.get({ timeout: 5 }), { instanceOf: Empty })
    // the same from a worker
    const probe = (q: any) => Promise.all([q.qsize(), q.empty(), q.full(), q.getNowait().catch((e: any) => e._tag)])
    t.deepEqual(await p.apply(probe, [empty]), [0, true, false, "Empty"])
  })

  test(t("Queue maxsize: a producer in a worker waits for room; putNowait there fails with Full"), async (t) => {
    await using p = ctx.Pool(1)
    const q = ctx.Queue<number>(2)
    const log = ctx.Queue<string>()
    const done = p.applyAsync(producer, [q, log])
    t.deepEqual([await log.get(), await log.get(), await log.get()], ["put 0", "put 1", "putNowait 2: Full"])
    t.true(await q.full())
    t.is(q.size, 2)
    // put(2) cannot complete until there is room: nothing more is logged.
    t.is(log.size, 0)
    t.false(done.ready())
    t.is(await q.get(), 0)
    t.is(await log.get(), "put 2")
    await done.get()
    t.deepEqual([await q.get(), await q.get()], [1, 2])
    await t.throwsAsync(q.putNowait(9).then(() => q.putNowait(9)).then(() => q.putNowait(9)), { instanceOf: Full })
    await t.throwsAsync(q.put(9, { timeout: 5 }), { instanceOf: Full })
  })

  test(t("JoinableQueue: join() resolves once every value put was taken and marked done by the workers"), async (t) => {
    await using p = ctx.Pool(2)
    const q = ctx.JoinableQueue<number>()
    const out = ctx.Queue<number>()
    await q.join() // nothing put: at once
    const workers = [p.applyAsync(worker, [q, out]), p.applyAsync(worker, [q, out])]
    for (const x of range(20)) await q.put(x)
    await q.join()
    t.is(out.size, 20) // every taskDone came after its result was put
    const got: Array<number> = []
    while (out.size > 0) got.push(await out.get())
    t.deepEqual(got.sort((a, b) => a - b), range(20).map((x) => x * x))
    await q.close()
    const counts = await Promise.all(workers.map((w) => w.get()))
    t.is(counts[0]! + counts[1]!, 20)
    await t.throwsAsync(q.taskDone(), { instanceOf: RangeError, message: /more times than values were put/ })
    const tooMany = async (q: any) => q.taskDone().then(() => "no error", (e: Error) => `${e.name}: ${e.message}`)
    t.regex(await p.apply(tooMany, [q]), /^RangeError: taskDone\(\) called more times/)
  })

  test(t("Pipe: a duplex pipe carries values both ways; closing one end gives the other Closed (EOF) after what was sent"), async (t) => {
    const [parent, child] = ctx.Pipe<string>()
    const p = ctx.Process({ target: echo, args: [child] })
    p.start()
    await parent.send("a")
    await parent.send("b")
    t.is(await parent.recv(), "echo: a")
    t.is(await parent.recv(), "echo: b")
    t.false(await parent.poll()) // nothing more was sent
    await parent.close()
    await t.throwsAsync(parent.recv(), { instanceOf: Closed }) // the child closed its end on EOF
    await p.join()
    t.is(p.exitCode, 0)
  })

  test(t("Pipe(false): one end only receives, the other only sends; the wrong way is refused with Closed"), async (t) => {
    const [r, w] = ctx.Pipe<number>(false)
    t.deepEqual([r.readable, r.writable, w.readable, w.writable], [true, false, false, true])
    await t.throwsAsync(r.send(1), { instanceOf: Closed, message: /read-only/ })
    await t.throwsAsync(w.recv(), { instanceOf: Closed, message: /write-only/ })
    await using p = ctx.Pool(1)
    const send = async (w: any, n: number) => {
      for (let i = 0; i < n; i++) await w.send(i)
      await w.close()
      return n
    }
    t.is(await p.apply(send, [w, 3]), 3)
    t.true(await r.poll())
    t.deepEqual([await r.recv(), await r.recv(), await r.recv()], [0, 1, 2])
    await t.throwsAsync(r.recv(), { instanceOf: Closed })
  })
}
