/**
 * Channels: first-in first-out message queues that live in the process
 * that made them and are used from worker threads and processes through
 * handles. The multiprocessing `Queue` and `Pipe` are built on them.
 *
 * A channel passed to a worker (as a top-level argument of a task, a
 * `Process` target or a pool's initializer) arrives there as a
 * {@link ChannelProxy} whose operations are requests over the worker's link
 * to its parent; the parent's pool answers them. Values are copied by the
 * codec on the way in and out.
 *
 * @since 0.2.0
 */
import { Closed, Empty, Full, toWire } from "./Errors.ts"
import { checkProcessArguments } from "./Guards.ts"
import type { Link } from "./Link.ts"
import type { FromWorker, Runner } from "./Runner.ts"
import { type HandleData, HandleKey, pack, registerHandle, unpack } from "./Wire.ts"

/**
 * The operations of a channel, the same on its home side and through a
 * proxy.
 *
 * @category models
 * @since 0.2.0
 */
export interface ChannelLike<A> {
  readonly id: number
  /** Adds `value`; waits for room in a bounded channel (at most `timeout` ms, then `Full`). */
  put(value: A, options?: { readonly block?: boolean; readonly timeout?: number }): Promise<void>
  /** Takes the oldest value; waits for one (at most `timeout` ms, then `Empty`). */
  get(options?: { readonly block?: boolean; readonly timeout?: number }): Promise<A>
  /** Resolves to true when a value is there, waiting at most `timeout` ms (0: now). */
  poll(timeout?: number): Promise<boolean>
  /** `put` without waiting: fails with `Full` if there is no room. */
  putNowait(value: A): Promise<void>
  /** `get` without waiting: fails with `Empty` if there is nothing. */
  getNowait(): Promise<A>
  /** How many values wait. */
  qsize(): Promise<number>
  /** Is nothing waiting? */
  empty(): Promise<boolean>
  /** Is a bounded channel at its size? */
  full(): Promise<boolean>
  /** No more values may be put; getters drain what is left, then fail with `Closed`. */
  close(): Promise<void>
  /** A value taken with `get` has been dealt with (Python's `task_done`); `RangeError` if called more often than values were put. */
  taskDone(): Promise<void>
  /** Resolves once every value put has been taken and marked with `taskDone` (Python's `join`). */
  join(): Promise<void>
}

let nextId = 1
const home = new Map<number, WeakRef<Channel<unknown>>>()
const forget = new FinalizationRegistry<number>((id) => home.delete(id))

interface Waiter<A> {
  readonly resolve: (v: A) => void
  readonly reject: (e: unknown) => void
  timer?: ReturnType<typeof setTimeout> | undefined
  /** Waiting in this thread's own code (not a worker's request served here): counted by {@link onChannelWaiting}. */
  counted?: boolean
}

/**
 * A channel at home: the process (or thread) that made it.
 *
 * @example
 * ```ts
 * import { Channel } from "rankflow/patterns/pool"
 * const ch = new Channel<number>(2)
 * await ch.put(1)
 * await ch.get() // 1
 * ```
 * @category models
 * @since 0.2.0
 */
export class Channel<A> implements ChannelLike<A> {
  readonly id: number
  readonly maxsize: number
  private readonly items: Array<A> = []
  private readonly getters: Array<Waiter<A>> = []
  private readonly putters: Array<Waiter<void> & { readonly value: A }> = []
  private readonly pollers: Array<Waiter<boolean>> = []
  private readonly joiners: Array<Waiter<void>> = []
  private unfinished = 0
  private closed = false

  /** `maxsize` ≤ 0: unbounded. */
  constructor(maxsize = 0) {
    this.id = nextId++ + (process.pid % 4096) * 0x100000
    this.maxsize = maxsize > 0 ? maxsize : Infinity
    home.set(this.id, new WeakRef(this as Channel<unknown>))
    forget.register(this, this.id)
  }

  /** @internal */
  [HandleKey](): HandleData {
    return { kind: "channel", id: this.id }
  }

  /** Synchronous size (home side only). */
  get size(): number {
    return this.items.length
  }

  /** Is it closed? */
  get isClosed(): boolean {
    return this.closed
  }

  put(value: A, options?: { readonly block?: boolean; readonly timeout?: number }): Promise<void> {
    if (this.closed) return Promise.reject(new Closed({ what: "queue" }))
    const g = this.getters.shift()
    if (g !== undefined) {
      unhold(g)
      if (g.timer !== undefined) clearTimeout(g.timer)
      this.unfinished++
      g.resolve(value)
      return Promise.resolve()
    }
    if (this.items.length < this.maxsize) {
      this.unfinished++
      this.items.push(value)
      this.wakePollers()
      return Promise.resolve()
    }
    if (options?.block === false) return Promise.reject(new Full())
    return new Promise<void>((resolve, reject) => {
      const w: Waiter<void> & { value: A } = { resolve, reject, value }
      this.putters.push(w)
      enhold(w)
      w.timer = arm(options?.timeout, () => {
        if (remove(this.putters, w)) unhold(w)
        reject(new Full())
      })
    })
  }

  get(options?: { readonly block?: boolean; readonly timeout?: number }): Promise<A> {
    if (this.items.length > 0) {
      const v = this.items.shift()!
      const p = this.putters.shift()
      if (p !== undefined) {
        unhold(p)
        if (p.timer !== undefined) clearTimeout(p.timer)
        this.unfinished++
        this.items.push(p.value)
        p.resolve()
      }
      return Promise.resolve(v)
    }
    if (this.closed) return Promise.reject(new Closed({ what: "queue", message: "the queue is closed and empty" }))
    if (options?.block === false) return Promise.reject(new Empty())
    return new Promise<A>((resolve, reject) => {
      const w: Waiter<A> = { resolve, reject }
      this.getters.push(w)
      enhold(w)
      w.timer = arm(options?.timeout, () => {
        if (remove(this.getters, w)) unhold(w)
        reject(new Empty())
      })
    })
  }

  poll(timeout = 0): Promise<boolean> {
    if (this.items.length > 0 || this.closed) return Promise.resolve(this.items.length > 0)
    if (timeout <= 0) return Promise.resolve(false)
    return new Promise<boolean>((resolve, reject) => {
      const w: Waiter<boolean> = { resolve, reject }
      this.pollers.push(w)
      enhold(w)
      w.timer = arm(timeout, () => {
        if (remove(this.pollers, w)) unhold(w)
        resolve(false)
      })
    })
  }

  putNowait(value: A): Promise<void> {
    return this.put(value, { block: false })
  }

  getNowait(): Promise<A> {
    return this.get({ block: false })
  }

  qsize(): Promise<number> {
    return Promise.resolve(this.items.length)
  }

  empty(): Promise<boolean> {
    return Promise.resolve(this.items.length === 0)
  }

  full(): Promise<boolean> {
    return Promise.resolve(this.items.length >= this.maxsize)
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    for (const g of this.getters.splice(0)) {
      unhold(g)
      if (g.timer !== undefined) clearTimeout(g.timer)
      g.reject(new Closed({ what: "queue", message: "the queue was closed while waiting" }))
    }
    for (const p of this.putters.splice(0)) {
      unhold(p)
      if (p.timer !== undefined) clearTimeout(p.timer)
      p.reject(new Closed({ what: "queue" }))
    }
    this.wakePollers()
    return Promise.resolve()
  }

  taskDone(): Promise<void> {
    if (this.unfinished <= 0) return Promise.reject(new RangeError("taskDone() called more times than values were put"))
    if (--this.unfinished === 0) {
      for (const j of this.joiners.splice(0)) {
        unhold(j)
        j.resolve()
      }
    }
    return Promise.resolve()
  }

  join(): Promise<void> {
    if (this.unfinished === 0) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const w: Waiter<void> = { resolve, reject }
      this.joiners.push(w)
      enhold(w)
    })
  }

  private wakePollers(): void {
    for (const w of this.pollers.splice(0)) {
      unhold(w)
      if (w.timer !== undefined) clearTimeout(w.timer)
      w.resolve(true)
    }
  }
}

const arm = (timeout: number | undefined, fire: () => void): ReturnType<typeof setTimeout> | undefined =>
  timeout === undefined || !Number.isFinite(timeout) ? undefined : setTimeout(fire, Math.max(0, timeout))

const remove = <T>(list: Array<T>, x: T): boolean => {
  const i = list.indexOf(x)
  if (i >= 0) list.splice(i, 1)
  return i >= 0
}

let waiting = 0
const waitingListeners = new Set<(waiting: boolean) => void>()

// Counts the operations waiting on channels of this side; tells listeners when it leaves or reaches 0.
const hold = (delta: number): void => {
  if (delta === 0) return
  const before = waiting > 0
  waiting += delta
  const now = waiting > 0
  if (before !== now) for (const l of waitingListeners) l(now)
}

// Set while a worker's request is being served: its wait is the worker's, not this program's.
let serving = false

const enhold = (w: Waiter<any>): void => {
  if (serving) return
  w.counted = true
  hold(1)
}

const unhold = (w: Waiter<any>): void => {
  if (w.counted !== true) return
  w.counted = false
  hold(-1)
}

/**
 * Calls `listener(true)` when some operation starts waiting on a channel of
 * this side (a `get` of an empty queue, a `put` to a full one, a `poll`),
 * and `listener(false)` when none waits any more; at once with the current
 * state. Daemon processes use it: this program keeps them alive while it
 * waits for what they may send. Returns the unsubscribe function.
 *
 * @category handles
 * @since 0.2.0
 */
export const onChannelWaiting = (listener: (waiting: boolean) => void): () => void => {
  waitingListeners.add(listener)
  listener(waiting > 0)
  return () => void waitingListeners.delete(listener)
}

/**
 * Finds a channel at home by id.
 *
 * @category handles
 * @since 0.2.0
 */
export const channelAt = (id: number): Channel<unknown> | undefined => home.get(id)?.deref()

/**
 * Answers a worker's request about a channel of this side (called by the
 * pool that owns the worker).
 *
 * @category handles
 * @since 0.2.0
 */
export const serve = (op: string, id: number, value: unknown, ms: number | undefined): Promise<unknown> => {
  const ch = channelAt(id)
  if (ch === undefined) return Promise.reject(new Closed({ what: "queue", message: `queue ${id} no longer exists in the parent` }))
  const opts = ms === undefined ? undefined : ms < 0 ? { block: false } : { timeout: ms }
  serving = true
  try {
    return operate(ch, op, value, opts, ms)
  } finally {
    serving = false
  }
}

const operate = (
  ch: Channel<unknown>,
  op: string,
  value: unknown,
  opts: { readonly block?: boolean; readonly timeout?: number } | undefined,
  ms: number | undefined
): Promise<unknown> => {
  switch (op) {
    case "put":
      return ch.put(value, opts)
    case "get":
      return ch.get(opts)
    case "poll":
      return ch.poll(ms ?? 0)
    case "qsize":
      return ch.qsize()
    case "full":
      return ch.full()
    case "close":
      return ch.close()
    case "taskDone":
      return ch.taskDone()
    case "join":
      return ch.join()
    default:
      return Promise.reject(new Error(`unknown channel operation ${op}`))
  }
}

/**
 * Answers a worker's request (`req` message) on its link.
 *
 * @category handles
 * @since 0.2.0
 */
export const answer = (link: Link, m: Extract<FromWorker, { t: "req" }>): void => {
  let value: unknown
  try {
    value = m.b === undefined ? undefined : unpack({ b: m.b }, false)[0]
  } catch (e) {
    link.send({ t: "reply", rid: m.rid, ok: false, e: toWire(e) }, [])
    return
  }
  serve(m.op, m.id, value, m.ms).then(
    (v) => {
      const list: Array<ArrayBuffer> = []
      let p
      try {
        // A value that cannot exist in a child process (shared memory) is refused here, not left to fail there.
        if (link.kind === "process" && v !== undefined) checkProcessArguments(v)
        p = v === undefined ? undefined : pack([v], link.transfer, list, false)
      } catch (e) {
        link.send({ t: "reply", rid: m.rid, ok: false, e: toWire(e) }, [])
        return
      }
      link.send({ t: "reply", rid: m.rid, ok: true, ...(p ? { b: p.b } : {}) }, list)
    },
    (e) => link.send({ t: "reply", rid: m.rid, ok: false, e: toWire(e) }, [])
  )
}

let runner: Runner | undefined

/**
 * Binds this worker's runner, through which proxies make their requests.
 *
 * @category handles
 * @since 0.2.0
 */
export const bindRunner = (r: Runner): void => {
  runner = r
}

const request = (op: string, id: number, value?: unknown, ms?: number): Promise<unknown> =>
  runner === undefined
    ? Promise.reject(new Error("this channel's home is not reachable from here (channels reach one level: the parent and its workers)"))
    : runner.request(op, id, value, ms === undefined ? undefined : { ms })

const toMs = (options?: { readonly block?: boolean; readonly timeout?: number }): number | undefined =>
  options?.block === false ? -1 : options?.timeout

/**
 * A channel seen from a worker: every operation is a request to the
 * channel's home.
 *
 * @category models
 * @since 0.2.0
 */
export class ChannelProxy<A> implements ChannelLike<A> {
  readonly id: number
  constructor(id: number) {
    this.id = id
  }
  /** @internal */
  [HandleKey](): HandleData {
    return { kind: "channel", id: this.id }
  }
  put(value: A, options?: { readonly block?: boolean; readonly timeout?: number }): Promise<void> {
    return request("put", this.id, value, toMs(options)) as Promise<void>
  }
  get(options?: { readonly block?: boolean; readonly timeout?: number }): Promise<A> {
    return request("get", this.id, undefined, toMs(options)) as Promise<A>
  }
  poll(timeout = 0): Promise<boolean> {
    return request("poll", this.id, undefined, timeout) as Promise<boolean>
  }
  putNowait(value: A): Promise<void> {
    return this.put(value, { block: false })
  }
  getNowait(): Promise<A> {
    return this.get({ block: false })
  }
  qsize(): Promise<number> {
    return request("qsize", this.id) as Promise<number>
  }
  empty(): Promise<boolean> {
    return this.qsize().then((n) => n === 0)
  }
  full(): Promise<boolean> {
    return request("full", this.id) as Promise<boolean>
  }
  close(): Promise<void> {
    return request("close", this.id) as Promise<void>
  }
  taskDone(): Promise<void> {
    return request("taskDone", this.id) as Promise<void>
  }
  join(): Promise<void> {
    return request("join", this.id) as Promise<void>
  }
}

/**
 * Registers how a handle of `kind` built on channels is rebuilt (the
 * multiprocessing `Queue` and `Pipe` connections register theirs).
 *
 * @category handles
 * @since 0.2.0
 */
export const registerChannelHandle = (
  kind: string,
  build: (resolve: (id: number) => ChannelLike<unknown>, data: { readonly id: number } & Record<string, unknown>) => unknown
): void => {
  registerHandle(kind, (data) => build(resolveChannel, data))
}

const resolveChannel = (id: number): ChannelLike<unknown> => channelAt(id) ?? new ChannelProxy(id)

registerChannelHandle("channel", (resolve, d) => resolve(d.id))

/**
 * One end of a pipe (Python's `multiprocessing.connection.Connection`):
 * `send` puts a value in the other end's inbox, `recv` takes from its own.
 * It travels to workers as a handle, like a channel.
 *
 * @example
 * ```ts
 * import { Pipe } from "rankflow/patterns/process"
 * const [a, b] = Pipe()
 * await a.send({ hello: 1 })
 * await b.recv() // { hello: 1 }
 * ```
 * @category models
 * @since 0.2.0
 */
export class Connection<A = unknown> {
  /** @internal */ readonly inbox: ChannelLike<A> | undefined
  /** @internal */ readonly outbox: ChannelLike<A> | undefined
  constructor(inbox: ChannelLike<A> | undefined, outbox: ChannelLike<A> | undefined) {
    this.inbox = inbox
    this.outbox = outbox
  }
  /** @internal */
  [HandleKey](): HandleData {
    return { kind: "conn", id: this.inbox?.id ?? 0, out: this.outbox?.id ?? 0 }
  }
  /** Is this end readable? */
  get readable(): boolean {
    return this.inbox !== undefined
  }
  /** Is this end writable? */
  get writable(): boolean {
    return this.outbox !== undefined
  }
  /** Sends a value to the other end. */
  send(value: A): Promise<void> {
    if (this.outbox === undefined) return Promise.reject(new Closed({ what: "connection", message: "this end of the pipe is read-only" }))
    return this.outbox.put(value)
  }
  /** Receives the next value; fails with `Closed` (Python's EOFError) once the other end closed and nothing is left. */
  recv(): Promise<A> {
    if (this.inbox === undefined) return Promise.reject(new Closed({ what: "connection", message: "this end of the pipe is write-only" }))
    return this.inbox.get()
  }
  /** Is a value there to `recv`, waiting at most `timeout` ms (0: now)? */
  poll(timeout = 0): Promise<boolean> {
    return this.inbox === undefined ? Promise.resolve(false) : this.inbox.poll(timeout)
  }
  /** Closes this end: the other end's `recv` fails with `Closed` once it has read what was sent. */
  close(): Promise<void> {
    return this.outbox === undefined ? Promise.resolve() : this.outbox.close()
  }
}

registerChannelHandle("conn", (resolve, d) =>
  new Connection(d.id === 0 ? undefined : resolve(d.id), (d.out as number) === 0 ? undefined : resolve(d.out as number)))
