/**
 * The shared-memory primitives across real worker threads: no lost update
 * under a Lock (4 threads × 10,000), Value and Array seen by every thread,
 * Event, Barrier, Semaphore, Condition and RLock across threads, objects
 * passed as `toShared()` descriptors and as codec bytes, a thread kept
 * alive by nothing but a pending acquire, and timeouts that return false.
 * No assertion is about time.
 */
import test from "ava"
import { Worker } from "node:worker_threads"
import { Codec } from "../../../core/index.ts"
import * as mp from "../../../patterns/sync/index.ts"

const FIXTURE = new URL("./fixtures/worker.ts", import.meta.url)

interface Running {
  /** The next message the worker posts. */
  readonly next: () => Promise<any>
  /** Resolves with the exit code; rejects if the worker threw. */
  readonly exited: Promise<number>
}

const start = (workerData: Record<string, unknown>): Running => {
  const worker = new Worker(FIXTURE, { workerData })
  const inbox: Array<unknown> = []
  const waiting: Array<{ resolve: (m: unknown) => void; reject: (e: unknown) => void }> = []
  let failure: unknown
  worker.on("message", (m) => {
    const w = waiting.shift()
    if (w) w.resolve(m)
    else inbox.push(m)
  })
  const exited = new Promise<number>((resolve, reject) => {
    worker.on("error", (e) => {
      failure = e
      waiting.splice(0).forEach((w) => w.reject(e))
      reject(e)
    })
    worker.on("exit", (code) => {
      waiting.splice(0).forEach((w) => w.reject(new Error(`the worker exited (${code}) before posting`)))
      resolve(code)
    })
  })
  exited.catch(() => {})
  return {
    next: () =>
      inbox.length > 0
        ? Promise.resolve(inbox.shift())
        : failure !== undefined
        ? Promise.reject(failure)
        : new Promise((resolve, reject) => waiting.push({ resolve, reject })),
    exited
  }
}

test("a Value and an Array updated under locks from 4 threads × 10,000 increments lose no update", async (t) => {
  const counter = mp.Value("i", 0)
  const cells = mp.Array("d", 5)
  const lock = new mp.Lock()
  const n = 10_000
  const workers = [0, 1, 2, 3].map((k) =>
    start({
      scenario: "count",
      k,
      n,
      sync: k % 2 === 1, // two threads block in acquireSync, two wait in acquire()
      counter: counter.toShared(),
      cells: cells.toShared(),
      lock: lock.toShared()
    })
  )
  t.deepEqual(await Promise.all(workers.map((w) => w.next())), ["done", "done", "done", "done"])
  await Promise.all(workers.map((w) => w.exited))
  t.is(counter.value, 4 * n)
  t.deepEqual(cells.toArray(), [4 * n, n / 2, n / 2, n / 2, n / 2])
  t.false(lock.locked())
})

test("objects passed through rankflow's codec are the same memory in the worker (and an RLock is reentrant there)", async (t) => {
  const counter = mp.Value("i", 0)
  const lock = new mp.RLock()
  const bytes = Codec.encode({ counter, lock }).slice()
  const n = 2_000
  const workers = [0, 1, 2].map(() => start({ scenario: "codec", bytes, n }))
  for (const w of workers) t.deepEqual(await w.next(), { kinds: ["SharedValue", "RLock"] })
  await Promise.all(workers.map((w) => w.exited))
  t.is(counter.value, 3 * n)
})

test("Event: threads wait until it is set in another thread", async (t) => {
  const event = new mp.Event()
  const workers = [0, 1, 2].map(() => start({ scenario: "event", event: event.toShared() }))
  for (const w of workers) t.deepEqual(await w.next(), { early: false })
  t.false(event.isSet())
  event.set()
  for (const w of workers) t.deepEqual(await w.next(), { set: true })
  await Promise.all(workers.map((w) => w.exited))
  event.clear()
  t.false(event.isSet())
})

for (const sync of [false, true]) {
  test(`Barrier (${sync ? "waitSync" : "wait"}): 4 threads pass each round together, with arrival indices 0…3`, async (t) => {
    const barrier = new mp.Barrier(4)
    const cells = mp.Array("i", 4)
    const rounds = 20
    const workers = [0, 1, 2, 3].map((k) =>
      start({ scenario: "barrier", k, rounds, sync, barrier: barrier.toShared(), cells: cells.toShared() })
    )
    const results: Array<{ indices: Array<number>; passedEarly: number }> = await Promise.all(workers.map((w) => w.next()))
    await Promise.all(workers.map((w) => w.exited))
    for (const r of results) t.is(r.passedEarly, 0)
    for (let round = 0; round < rounds; round++) {
      t.deepEqual(results.map((r) => r.indices[round]).sort(), [0, 1, 2, 3], `round ${round}`)
    }
    t.is(barrier.nWaiting, 0)
    t.false(barrier.broken)
  })
}

test("Barrier: abort breaks it for the threads waiting and for later waits; reset mends it", async (t) => {
  const barrier = new mp.Barrier(3)
  const workers = [0, 1].map(() => start({ scenario: "broken", barrier: barrier.toShared() }))
  while (barrier.nWaiting < 2) await new Promise((r) => setImmediate(r))
  barrier.abort()
  t.deepEqual(await Promise.all(workers.map((w) => w.next())), ["BrokenBarrierError", "BrokenBarrierError"])
  t.true(barrier.broken)
  await t.throwsAsync(barrier.wait(), { instanceOf: mp.BrokenBarrierError })
  barrier.reset()
  t.false(barrier.broken)
  t.is(barrier.nWaiting, 0)
})

test("Barrier: a wait that times out breaks the barrier; the action runs once per round, in the last thread", async (t) => {
  const lonely = new mp.Barrier(2)
  await t.throwsAsync(lonely.wait(0), { instanceOf: mp.BrokenBarrierError })
  t.true(lonely.broken)
  t.throws(() => new mp.Barrier(2, { timeout: 0 }).waitSync(), { instanceOf: mp.BrokenBarrierError })
  let actions = 0
  const one = new mp.Barrier(1, { action: () => actions++ })
  t.is(await one.wait(), 0)
  t.is(one.waitSync(), 0)
  t.is(actions, 2)
  const failing = new mp.Barrier(1, { action: () => { throw new Error("action failed") } })
  await t.throwsAsync(failing.wait(), { message: "action failed" })
  t.true(failing.broken)
})

test("Semaphore: at most `value` threads inside at once", async (t) => {
  const sem = new mp.Semaphore(2)
  const inside = mp.Array("i", 2, { lock: false })
  const workers = [0, 1, 2, 3].map(() => start({ scenario: "semaphore", n: 2_000, sem: sem.toShared(), inside: inside.toShared() }))
  await Promise.all(workers.map((w) => w.next()))
  await Promise.all(workers.map((w) => w.exited))
  t.true(inside.get(1) >= 1 && inside.get(1) <= 2, `most inside: ${inside.get(1)}`)
  t.is(sem.getValue(), 2)
})

test("BoundedSemaphore refuses a release past its value; a Semaphore does not", (t) => {
  const bounded = new mp.BoundedSemaphore(1)
  t.throws(() => bounded.release(), { instanceOf: mp.ReleaseError })
  t.true(bounded.tryAcquire())
  t.false(bounded.tryAcquire())
  bounded.release()
  t.true(mp.BoundedSemaphore.fromShared(bounded.toShared()) instanceof mp.BoundedSemaphore)
  const plain = new mp.Semaphore(0)
  plain.release()
  t.is(plain.getValue(), 1)
  t.throws(() => new mp.Semaphore(-1), { instanceOf: RangeError })
})

test("Condition: a consumer thread takes each item a producer announces", async (t) => {
  const cond = new mp.Condition()
  const items = mp.Value("i", 0, { lock: false })
  const n = 200
  const consumer = start({ scenario: "condition", n, cond: cond.toShared(), items: items.toShared() })
  for (let i = 0; i < n; i++) {
    await cond.acquire()
    items.value += 1
    cond.notify()
    cond.release()
    if (i % 10 === 0) await new Promise((r) => setImmediate(r))
  }
  t.deepEqual(await consumer.next(), { got: n })
  await consumer.exited
  t.is(items.value, 0)
})

test("Condition: wait times out to false and keeps the lock; notify without the lock is refused", async (t) => {
  const cond = new mp.Condition(new mp.Lock())
  t.throws(() => cond.notify(), { instanceOf: mp.ReleaseError })
  await cond.acquire()
  t.false(await cond.wait(0))
  t.false(cond.waitSync(0))
  t.false(await cond.waitFor(() => false, 0))
  t.true(cond.waitForSync(() => true))
  t.true((cond.lock as mp.Lock).locked())
  cond.notifyAll()
  cond.release()
  const rc = new mp.Condition()
  await rc.acquire()
  await rc.acquire() // its RLock: reentrant, and wait releases every level
  t.false(await rc.wait(0))
  rc.release()
  rc.release()
  t.false((rc.lock as mp.RLock).isOwned())
})

test("a thread whose only work is a pending acquire stays alive until it gets the lock", async (t) => {
  const lock = new mp.Lock()
  t.true(lock.acquireSync())
  const w = start({ scenario: "keepalive", lock: lock.toShared() })
  t.is(await w.next(), "waiting")
  lock.release()
  t.is(await w.next(), "acquired")
  t.is(await w.exited, 0)
  t.false(lock.locked())
})

test("timeouts return false, in another thread and in this one", async (t) => {
  const lock = new mp.Lock()
  const sem = new mp.Semaphore(0)
  const event = new mp.Event()
  await lock.acquire()
  const w = start({ scenario: "timeouts", lock: lock.toShared(), sem: sem.toShared(), event: event.toShared() })
  t.deepEqual(await w.next(), { lock: false, lockSync: false, tryLock: false, sem: false, event: false, eventSync: false })
  await w.exited
  t.false(await lock.acquire(0))
  t.false(lock.acquireSync(0))
  t.false(await sem.acquire(0))
  t.false(sem.acquireSync(0))
  t.false(await event.wait(0))
  t.false(event.waitSync(0))
  lock.release()
  t.throws(() => lock.release(), { instanceOf: mp.ReleaseError })
})

test("an AbortSignal ends a wait with false, and the wake-up it would have taken goes to the next waiter", async (t) => {
  const lock = new mp.Lock()
  await lock.acquire()
  const controller = new AbortController()
  const abandoned = lock.acquire(undefined, controller.signal)
  const next = lock.acquire()
  controller.abort()
  t.false(await abandoned)
  lock.release()
  t.true(await next)
  lock.release()
  const event = new mp.Event()
  const c2 = new AbortController()
  const waiting = event.wait(undefined, c2.signal)
  c2.abort()
  t.false(await waiting)
})

test("RLock: reentrant in its thread; release by a thread that does not hold it is refused", async (t) => {
  const lock = new mp.RLock()
  t.true(await lock.acquire())
  t.true(lock.acquireSync())
  t.true(lock.tryAcquire())
  t.true(lock.isOwned())
  lock.release()
  lock.release()
  lock.release()
  t.false(lock.isOwned())
  t.throws(() => lock.release(), { instanceOf: mp.ReleaseError })
})

test("Value and Array: typecodes, bigints, negative indices, raw forms, descriptors", (t) => {
  const big = mp.Value("q", 1n << 40n)
  big.value += 1n
  t.is(big.value, (1n << 40n) + 1n)
  const f = mp.Value("d", 0.5)
  f.value *= 3
  t.is(f.value, 1.5)
  t.is(String(f), `Value("d", 1.5)`)
  const xs = mp.Array("h", [1, -2, 3])
  t.is(xs.length, 3)
  t.is(xs.get(-1), 3)
  xs.set(-3, 7)
  t.deepEqual(xs.toArray(), [7, -2, 3])
  t.true(xs.getObj() instanceof Int16Array)
  t.throws(() => xs.get(3), { instanceOf: RangeError })
  t.throws(() => mp.Value("x" as any, 0), { instanceOf: TypeError })
  const raw = mp.RawArray("B", 4)
  t.is(raw.getLock(), undefined)
  t.throws(() => raw.tryAcquire(), { instanceOf: TypeError })
  t.is(mp.RawValue("i", 3).value, 3)
  const shared = new mp.Lock()
  const guarded = mp.Value("i", 1, { lock: shared })
  t.is(guarded.getLock(), shared)
  const again = mp.SharedValue.fromShared<"i">(guarded.toShared())
  again.value = 9
  t.is(guarded.value, 9, "the same memory")
  t.is(again.getLock()!.offset, shared.offset)
  t.true(mp.fromShared(xs.toShared()) instanceof mp.SharedArray)
  t.throws(() => mp.Lock.fromShared(xs.toShared()), { message: /descriptor is of a Array/ })
})

test("the heap hands freed blocks out again", (t) => {
  const a = mp.heap.alloc(24)
  mp.heap.free(a, 24)
  t.is(mp.heap.alloc(20), a, "same size class")
  const b = mp.heap.alloc(1000)
  t.is(b % 16, 0)
  mp.heap.free(b, 1000)
  mp.heap.free(a, 20)
})
