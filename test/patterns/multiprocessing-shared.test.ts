/**
 * Shared state through multiprocessing: Value and Array updated under a Lock
 * by several thread workers of a Pool (and by Processes) lose no update; on
 * the process start method every way a shared object could leave the
 * process is refused with SharedMemoryUnavailable before anything is sent,
 * and a thread that cannot see the shared heap says why.
 * Nothing here asserts a time.
 */
import test from "ava"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { getContext, Pool, Queue, task } from "rankflow/patterns/process"
import * as mp from "rankflow/patterns/sync"
import type * as T from "./mp-fixtures/tasks.ts"

const tasks = new URL("./mp-fixtures/tasks.ts", import.meta.url)
const increment = task<typeof T.increment>(tasks, "increment")
const square = task<typeof T.square>(tasks, "square")
const coordinate = task<typeof T.coordinate>(tasks, "coordinate")

test("thread Pool: 4 workers × 2,500 increments of a Value and an Array under a Lock lose no update", async (t) => {
  const counter = mp.Value("i", 0)
  const cells = mp.Array("d", 4)
  const lock = new mp.Lock()
  await using p = new Pool(4, { context: "thread" })
  const n = 2_500
  const done = await p.starmap(increment, [0, 1, 2, 3].map((k) => [counter, cells, lock, n, k] as const), 1)
  t.deepEqual(done, [n, n, n, n])
  t.is(counter.value, 4 * n)
  t.deepEqual(cells.toArray(), [n, n, n, n])
  t.false(lock.locked())
})

test("thread Pool: a function sent by its source updates a Value with its own lock, from every worker", async (t) => {
  const total = mp.Value("d", 0)
  await using p = getContext("thread").Pool(3)
  const add = async (v: mp.SharedValue<"d">, x: number) => {
    await v.withLock(() => {
      v.value = v.value + x
    })
    return x
  }
  const xs = Array.from({ length: 300 }, (_, i) => i + 1)
  t.deepEqual(await p.starmap(add, xs.map((x) => [total, x] as const)), xs)
  t.is(total.value, (300 * 301) / 2)
})

test("thread Processes: 3 processes increment one counter under a Lock; each sees the same memory", async (t) => {
  const counter = mp.Value("i", 0)
  const cells = mp.Array("d", 3)
  const lock = new mp.Lock()
  const ctx = getContext("thread")
  const ps = [0, 1, 2].map((k) => ctx.Process({ target: increment, args: [counter, cells, lock, 1_000, k] }))
  for (const p of ps) p.start()
  for (const p of ps) await p.join()
  t.deepEqual(ps.map((p) => p.exitCode), [0, 0, 0])
  t.is(counter.value, 3_000)
  t.deepEqual(cells.toArray(), [1_000, 1_000, 1_000])
})

test("process Pool: shared objects are refused with SharedMemoryUnavailable before they leave, and the pool goes on", async (t) => {
  const lock = new mp.Lock()
  const counter = mp.Value("i", 0)
  await using p = new Pool(1, { context: "process" })
  const e = await t.throwsAsync(p.apply((l: unknown) => l !== undefined, [lock]), { instanceOf: mp.SharedMemoryUnavailable })
  t.is(e?.what, "Lock")
  t.is(e?.reason, "process")
  t.regex(e!.message, /does not exist between processes.*thread start method/)
  // deep inside an argument, in map and starmap, and in an AsyncResult
  await t.throwsAsync(p.map((o: unknown) => o, [1, { nested: [counter] }]), { instanceOf: mp.SharedMemoryUnavailable })
  await t.throwsAsync(p.starmap((a: unknown, b: unknown) => [a, b], [[1, mp.Array("i", 2)]]), { instanceOf: mp.SharedMemoryUnavailable })
  const errors: Array<unknown> = []
  const r = p.applyAsync((x: unknown) => x, [new mp.Event()], { errorCallback: (e) => errors.push(e) })
  await t.throwsAsync(r.get(), { instanceOf: mp.SharedMemoryUnavailable })
  t.true(errors[0] instanceof mp.SharedMemoryUnavailable)
  // a descriptor is refused too
  await t.throwsAsync(p.apply((d: unknown) => d, [lock.toShared()]), { instanceOf: mp.SharedMemoryUnavailable })
  // nothing was sent, so the worker is still there and working
  t.deepEqual(await p.map(square, [1, 2, 3]), [1, 4, 9])
  t.is(p.metrics().started, 1)
})

test("process Process: start() refuses shared arguments; a child taking a shared object off a Queue gets the refusal, not a crash", async (t) => {
  const ctx = getContext("process")
  const p = ctx.Process({ target: (v: unknown) => v, args: [mp.Value("d", 1)] })
  t.throws(() => p.start(), { instanceOf: mp.SharedMemoryUnavailable })
  t.false(p.isAlive())
  const q = new Queue<unknown>()
  await q.put(new mp.Lock())
  await q.put("plain")
  await using pool = ctx.Pool(1)
  const take = async (q: any) => {
    const got: Array<string> = []
    for (let i = 0; i < 2; i++) {
      try {
        got.push(`value ${String(await q.get())}`)
      } catch (e) {
        got.push(`${(e as Error).name}: ${(e as Error).message}`)
      }
    }
    return got
  }
  const [first, second] = await pool.apply(take, [q])
  t.regex(first!, /^SharedMemoryUnavailable: a Lock lives in shared memory/)
  t.is(second, "value plain")
})

test("thread Pool: a worker started before the sync module was loaded refuses a shared object, saying why and how to fix it", async (t) => {
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [fileURLToPath(new URL("./mp-fixtures/late-sync.ts", import.meta.url))], { timeout: 60_000 }, (e, stdout) =>
      e ? reject(e) : resolve(stdout))
  )
  const r = JSON.parse(out)
  t.deepEqual(r.before, [2])
  t.regex(r.message, /this Lock lives in a shared heap this thread cannot see/)
  t.regex(r.message, /Import rankflow\/patterns\/sync before the pool's first task/)
  t.deepEqual(r.after, [8]) // the worker goes on
})

test("thread Pool: a Barrier, an Event and a Semaphore coordinate 3 tasks on 3 workers", async (t) => {
  const barrier = new mp.Barrier(3)
  const event = new mp.Event()
  const sem = new mp.Semaphore(2)
  const inside = mp.Value("i", 0)
  const most = mp.Value("i", 0)
  const log = new Queue<number>()
  await using p = new Pool(3, { context: "thread" })
  const run = p.starmap(coordinate, [0, 1, 2].map(() => [barrier, event, sem, inside, most, log] as const), 1)
  // all three passed the barrier together, each with its own index
  t.deepEqual([await log.get(), await log.get(), await log.get()].sort(), [0, 1, 2])
  event.set()
  t.deepEqual([...(await run)].sort(), [0, 1, 2])
  t.true(most.value >= 1 && most.value <= 2, `at most 2 inside the Semaphore(2); saw ${most.value}`)
  t.is(inside.value, 0)
})
