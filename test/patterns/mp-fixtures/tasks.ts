// Tasks the multiprocessing tests run by reference: task(import.meta.url, name).
import type { QueueLike } from "rankflow/patterns/process"
import type { Connection } from "rankflow/patterns/process"
import type * as mp from "rankflow/patterns/sync"

export const square = (x: number) => x * x

export const add = (a: number, b: number) => a + b

/** The id of the worker running it: a thread id, or a process id. */
export const workerId = async (): Promise<number> => {
  const wt = await import("node:worker_threads")
  return wt.isMainThread ? process.pid : wt.threadId
}

let initialized: string | undefined
let initCount = 0

/** An initializer: remembers `tag`, counts its runs in this worker, and reports the worker on `q`. */
export const init = async (q: QueueLike<number>, tag: string): Promise<void> => {
  initialized = tag
  initCount++
  await q.put(await workerId())
}

/** What the initializer left in this worker: its tag, how often it ran, and the worker. */
export const initState = async (_x?: number): Promise<[string | undefined, number, number]> => [initialized, initCount, await workerId()]

/** Throws a RangeError for a negative number. */
export const checked = (x: number): number => {
  if (x < 0) throw new RangeError(`negative: ${x}`)
  return x
}

/** Tells `q` it started, then waits for a message on `gate` and returns `value`. */
export const gated = async <A>(q: QueueLike<string> | undefined, gate: QueueLike<unknown>, value: A): Promise<A> => {
  if (q !== undefined) await q.put(`started ${String(value)}`)
  await gate.get()
  return value
}

/** Ends its worker with process.exit(code). */
export const exits = (code: number): never => process.exit(code)

/** Takes numbers from `inbox` until it is closed, and puts each doubled on `outbox`; returns how many. */
export const doubler = async (inbox: QueueLike<number>, outbox: QueueLike<number>): Promise<number> => {
  let n = 0
  for (;;) {
    let x: number
    try {
      x = await inbox.get()
    } catch (e) {
      if ((e as { _tag?: string })._tag === "Closed") break
      throw e
    }
    await outbox.put(x * 2)
    n++
  }
  await outbox.close()
  return n
}

/** Echoes on a pipe end: answers every value with `echo: value` until the other end closes, then closes its own end. */
export const echo = async (conn: Connection<string>): Promise<number> => {
  let n = 0
  for (;;) {
    let m: string
    try {
      m = await conn.recv()
    } catch (e) {
      if ((e as { _tag?: string })._tag === "Closed") break
      throw e
    }
    await conn.send(`echo: ${m}`)
    n++
  }
  await conn.close()
  return n
}

/** Puts 0 and 1 on a queue of size 2, tries 2 without blocking (reports the error's tag), then puts 2 blocking; reports each step on `log`. */
export const producer = async (q: QueueLike<number>, log: QueueLike<string>): Promise<void> => {
  await q.put(0)
  await log.put("put 0")
  await q.put(1)
  await log.put("put 1")
  try {
    await q.putNowait(2)
    await log.put("putNowait 2 went in")
  } catch (e) {
    await log.put(`putNowait 2: ${(e as { _tag?: string })._tag}`)
  }
  await q.put(2)
  await log.put("put 2")
}

/** Adds 1 to `counter` and to `cells[k]` `n` times, each under `lock`; returns `n`. */
export const increment = async (counter: mp.SharedValue<"i">, cells: mp.SharedArray<"d">, lock: mp.Lock, n: number, k: number): Promise<number> => {
  for (let i = 0; i < n; i++) {
    await lock.acquire()
    try {
      counter.value = counter.value + 1
      cells.set(k, cells.get(k) + 1)
    } finally {
      lock.release()
    }
  }
  return n
}

/** `[x, the worker's id]`. */
export const tagged = async (x: number): Promise<[number, number]> => [x, await workerId()]

/** Waits for `gate` when `hold`, then reports `x` on `log` and returns x². */
export const held = async (log: QueueLike<number>, gate: QueueLike<unknown>, x: number, hold: boolean): Promise<number> => {
  if (hold) await gate.get()
  await log.put(x)
  return x * x
}

let gate: QueueLike<unknown> | undefined

/** An initializer: keeps `g` as this worker's gate. */
export const setGate = (g: QueueLike<unknown>): void => {
  gate = g
}

/** x², after waiting for the worker's gate when x is 0. */
export const holdZero = async (x: number): Promise<number> => {
  if (x === 0) await gate!.get()
  return x * x
}

/**
 * Passes `barrier` (reporting its index on `log`), waits for `event`, then
 * holds `sem` while it counts itself in `inside` and records the most it saw
 * at once in `most`. Returns its barrier index.
 */
export const coordinate = async (
  barrier: mp.Barrier,
  event: mp.Event,
  sem: mp.Semaphore,
  inside: mp.SharedValue<"i">,
  most: mp.SharedValue<"i">,
  log: QueueLike<number>
): Promise<number> => {
  const index = await barrier.wait()
  await log.put(index)
  await event.wait()
  await sem.acquire()
  try {
    const now = Atomics.add(inside.getObj(), 0, 1) + 1
    if (now > Atomics.load(most.getObj(), 0)) Atomics.store(most.getObj(), 0, now)
    await new Promise((resolve) => setImmediate(resolve)) // let the others try to get in
    Atomics.sub(inside.getObj(), 0, 1)
  } finally {
    sem.release()
  }
  return index
}

/** Throws from a timer, outside its own promise, which never settles: an uncaught error in its worker. */
export const throwsLater = (): Promise<never> => {
  setTimeout(() => {
    throw new Error("thrown at top level")
  }, 1)
  return new Promise(() => {})
}

/** Takes values from `q` until it is closed, adding each to `out` and marking it done; returns how many. */
export const worker = async (q: QueueLike<number>, out: QueueLike<number>): Promise<number> => {
  let n = 0
  for (;;) {
    let x: number
    try {
      x = await q.get()
    } catch (e) {
      if ((e as { _tag?: string })._tag === "Closed") return n
      throw e
    }
    await out.put(x * x)
    n++
    await q.taskDone()
  }
}
