/**
 * The actor system of one rank: actors (a behavior and a mailbox each), the
 * run queue that drains their mailboxes, and the standing receive that
 * serves the other ranks' systems.
 *
 * The hot path is plain synchronous code. A mailbox is an array with a read
 * index and a scheduled flag; a tell pushes the message and, the first time,
 * puts the actor on the rank's run queue, which is drained in a microtask
 * with a budget (then in a macrotask, so the event loop and the transport
 * stay responsive). A behavior handles one message at a time; when it
 * returns a promise the actor waits for it before the next message. A local
 * tell allocates nothing; an ask allocates one promise.
 *
 * Every rank runs one system over a duplicate of the communicator (its own
 * context). Remote operations are small arrays sent with one tag; a receive
 * from each peer that never matches turns that peer's loss into
 * `Terminated { reason: "rank-lost" }` notices and failed asks.
 *
 * @since 0.3.0
 */
import { ANY_SOURCE, Codec, type Comm, Errors, Status } from "../../core/promise/index.ts"
import {
  ActorFailed,
  AskCycle,
  AskTimeout,
  DeadActor,
  fromWire,
  MailboxFull,
  NameTaken,
  toWire,
  UnknownActor,
  UnknownBehavior
} from "./Errors.ts"
import { ActorRef } from "./Ref.ts"

// ------------------------------------------------------------------ public types

/**
 * A behavior: handles one message at a time. For an ask, the value it
 * returns (or its promise resolves to) is the answer, unless it answered
 * earlier with `ctx.reply`. A throw (or a rejected promise) fails the actor.
 *
 * **When to use**: Use it for the behavior of a local spawn, or return it from a `Behavior.define` factory.
 *
 * @example
 * ```ts
 * import { ActorSystem, type Handler } from "rankflow/patterns/actor"
 * const double: Handler<number> = (n) => n * 2
 * const ref = ActorSystem.local().spawn(double)
 * ```
 * @category models
 * @since 0.3.0
 */
export type Handler<M = any> = (msg: M, ctx: Context) => unknown

/**
 * Makes a behavior from spawn arguments: called once per start (and again on
 * each supervised restart), so the state it closes over starts fresh.
 *
 * **When to use**: Use it with `Behavior.define` for actors that other ranks spawn by name, or that supervisors restart.
 *
 * @example
 * ```ts
 * import { Behavior, type Factory } from "rankflow/patterns/actor"
 * const greeter: Factory<string, string> = (greeting) => (name) => `${greeting}, ${name}`
 * Behavior.define("greeter", greeter)
 * ```
 * @category models
 * @since 0.3.0
 */
export type Factory<A = any, M = any> = (args: A, ctx: Context) => Handler<M>

/**
 * What a full bounded mailbox does with one more message: `"suspend"` makes
 * the sender wait (a local tell, or a tell from another rank, returns a
 * promise that resolves when there is room); `"dropNewest"` drops it (a dead
 * letter); `"fail"` refuses it with `MailboxFull`.
 *
 * **When to use**: Pick `"suspend"` to slow producers down, `"dropNewest"` for lossy feeds, `"fail"` to refuse loudly.
 *
 * @example
 * ```ts
 * import type { Overflow } from "rankflow/patterns/actor"
 * const lossy: Overflow = "dropNewest"
 * ```
 * @category models
 * @since 0.3.0
 */
export type Overflow = "suspend" | "dropNewest" | "fail"

/**
 * Mailbox options: unbounded by default.
 *
 * **When to use**: Bound a mailbox that producers could outrun.
 *
 * @example
 * ```ts
 * import { ActorSystem, type MailboxOptions } from "rankflow/patterns/actor"
 * const mailbox: MailboxOptions = { capacity: 64, overflow: "suspend" }
 * const ref = ActorSystem.local().spawn(() => {}, { mailbox })
 * ```
 * @category models
 * @since 0.3.0
 */
export interface MailboxOptions {
  readonly capacity?: number | undefined
  readonly overflow?: Overflow | undefined
}

/**
 * Options of a spawn.
 *
 * **When to use**: Place an actor on another rank, pass its factory arguments, bound its mailbox.
 *
 * @example
 * ```ts
 * import type { SpawnOptions } from "rankflow/patterns/actor"
 * const options: SpawnOptions<number> = { on: 1, args: 10, mailbox: { capacity: 8 } }
 * ```
 * @category models
 * @since 0.3.0
 */
export interface SpawnOptions<A = unknown> {
  /** The rank to run it on (default: this one). Only named behaviors travel. */
  readonly on?: number | undefined
  /** Arguments for a named behavior's factory (must be encodable to travel). */
  readonly args?: A | undefined
  readonly mailbox?: MailboxOptions | undefined
}

/**
 * Options of an ask.
 *
 * **When to use**: Bound the wait of an ask that may never be answered.
 *
 * @example
 * ```ts
 * import { ActorSystem, type AskOptions } from "rankflow/patterns/actor"
 * const system = ActorSystem.local()
 * const options: AskOptions = { timeout: 100 }
 * const answer = system.ask(system.spawn((m: number) => m), 1, options)
 * ```
 * @category models
 * @since 0.3.0
 */
export interface AskOptions {
  /** Fail with `AskTimeout` after this many ms (default: wait until answered, or the actor or its rank dies). */
  readonly timeout?: number | undefined
}

/**
 * Why an actor stopped: `"normal"` (it stopped, or was stopped),
 * `"failure"` (its behavior threw), `"rank-lost"` (its rank died or
 * ended), `"noproc"` (it was already gone when watched).
 *
 * **When to use**: Tell a crash (`"failure"`) or a lost rank from a normal stop in a watcher.
 *
 * @example
 * ```ts
 * import type { TerminationReason } from "rankflow/patterns/actor"
 * const abnormal = (r: TerminationReason) => r === "failure" || r === "rank-lost"
 * ```
 * @category models
 * @since 0.3.0
 */
export type TerminationReason = "normal" | "failure" | "rank-lost" | "noproc"

/**
 * The notice a watcher gets in its mailbox when a watched actor stops.
 *
 * @example
 * ```ts
 * import { Terminated } from "rankflow/patterns/actor"
 * import type { Context } from "rankflow/patterns/actor"
 * const onMessage = (msg: unknown, ctx: Context) => {
 *   if (msg instanceof Terminated) console.log(`${msg.ref} stopped: ${msg.reason}`)
 * }
 * ```
 * @category models
 * @since 0.3.0
 */
export class Terminated {
  readonly ref: ActorRef
  readonly reason: TerminationReason
  readonly error: unknown
  constructor(ref: ActorRef, reason: TerminationReason, error?: unknown) {
    this.ref = ref
    this.reason = reason
    this.error = error
  }
}

/**
 * A message that could not be delivered, with why.
 *
 * **When to use**: Log or count what could not be delivered (`onDeadLetter`).
 *
 * @example
 * ```ts
 * import { ActorSystem, type DeadLetter } from "rankflow/patterns/actor"
 * const letters: Array<DeadLetter> = []
 * const system = ActorSystem.local({ onDeadLetter: (l) => letters.push(l) })
 * ```
 * @category models
 * @since 0.3.0
 */
export interface DeadLetter {
  readonly to: ActorRef
  readonly message: unknown
  readonly reason: string
}

/**
 * Options of a system.
 *
 * **When to use**: Hook dead letters and failures, or change the run-queue budget.
 *
 * @example
 * ```ts
 * import { ActorSystem, type SystemOptions } from "rankflow/patterns/actor"
 * const options: SystemOptions = { budget: 1024, onFailure: (ref, e) => console.error(`${ref} failed`, e) }
 * const system = ActorSystem.local(options)
 * ```
 * @category models
 * @since 0.3.0
 */
export interface SystemOptions {
  /** Messages handled per run-queue slice before the event loop gets a turn (default 4096). */
  readonly budget?: number | undefined
  /** Called for each dead letter (they are counted in `deadLetters` anyway). */
  readonly onDeadLetter?: ((letter: DeadLetter) => void) | undefined
  /** Called when an actor's behavior fails (counted in `failures` anyway). */
  readonly onFailure?: ((ref: ActorRef, error: unknown) => void) | undefined
}

// ------------------------------------------------------------------ behaviors

const behaviors = new Map<string, Factory>()

/**
 * The behaviors that can be spawned by name, on any rank: every rank runs
 * the same module, so each defines the same names at load time.
 *
 * @example
 * ```ts
 * import { Behavior } from "rankflow/patterns/actor"
 * Behavior.define("counter", (start: number) => {
 *   let n = start
 *   return (msg: "inc" | "get") => (msg === "inc" ? void n++ : n)
 * })
 * ```
 * @category behaviors
 * @since 0.3.0
 */
export const Behavior = {
  /** Defines (or redefines) the behavior `name`. */
  define<A, M>(name: string, factory: Factory<A, M>): string {
    if (typeof name !== "string" || name.length === 0) throw new TypeError("Behavior.define: the name must be a non-empty string")
    if (typeof factory !== "function") throw new TypeError(`Behavior.define("${name}"): the factory must be a function`)
    behaviors.set(name, factory as Factory)
    return name
  },
  /** Is `name` defined on this rank? */
  has(name: string): boolean {
    return behaviors.has(name)
  },
  /** The names defined on this rank. */
  names(): Array<string> {
    return [...behaviors.keys()]
  }
}

// ------------------------------------------------------------------ internals

const TAG = 1
const TAG_SENTINEL = 2
/** Ids allocated by another rank's remote spawn: (origin + 1) * 2^32 + n. */
const REMOTE_ID = 0x1_0000_0000

const K = {
  TELL: 0,
  ASK: 1,
  REPLY: 2,
  SPAWN: 3,
  SPAWN_FAILED: 4,
  CREDIT: 5,
  WATCH: 6,
  UNWATCH: 7,
  TERMINATED: 8,
  STOP: 9,
  REGISTER: 10,
  WHEREIS: 11,
  UNREGISTER: 12
} as const
type K = number

/** Where an answer goes: a local promise or an asker on another rank. */
class Reply {
  resolve: ((v: unknown) => void) | undefined = undefined
  reject: ((e: unknown) => void) | undefined = undefined
  /** Asker's rank for a remote ask (-1 local). */
  rank = -1
  askId = 0
  /** Keys of the actors awaiting this answer (for cycle detection). */
  chain: ReadonlyArray<number> = EMPTY
  timer: ReturnType<typeof setTimeout> | undefined = undefined
  /** Target (for pending remote asks, to fail them when the rank dies). */
  target: ActorRef | undefined = undefined
  done = false
}

const EMPTY: ReadonlyArray<number> = []

const keyOf = (rank: number, id: number): number => rank * 0x2_0000_0000_0000 + id
const keyName = (k: number): string => `${Math.floor(k / 0x2_0000_0000_0000)}:${k % 0x2_0000_0000_0000}`

interface Watcher {
  readonly rank: number
  readonly id: number
}

/** One actor. @internal */
class Cell {
  readonly id: number
  readonly incarnation: number
  readonly ref: ActorRef
  readonly key: number
  readonly capacity: number
  readonly overflow: Overflow
  handler: Handler = undefined as any
  ctx_: Context | undefined = undefined
  readonly system: ActorSystem
  /** The mailbox: (message, reply, origin rank) triples from `head`; made on first use. */
  box: Array<unknown> | undefined = undefined
  head = 0
  scheduled = false
  running = false
  alive = true
  /** Local senders waiting for room (overflow "suspend"). */
  waiting: Array<unknown> | undefined = undefined
  waitingResolve: Array<() => void> | undefined = undefined
  /** Credited messages handled per remote rank since the last CREDIT. */
  consumed: Array<number> | undefined = undefined
  watchers: Array<Watcher> | undefined = undefined
  stopHooks: Array<(reason: TerminationReason) => void> | undefined = undefined
  current: Reply | undefined = undefined
  constructor(system: ActorSystem, id: number, incarnation: number, capacity: number, overflow: Overflow, window: number) {
    this.id = id
    this.incarnation = incarnation
    this.ref = new ActorRef(system.rank, id, incarnation, window)
    this.key = keyOf(system.rank, id)
    this.capacity = capacity
    this.overflow = overflow
    this.system = system
  }

  get ctx(): Context {
    return this.ctx_ ??= new Context(this.system, this)
  }

  /** Messages waiting. */
  get length(): number {
    return this.box === undefined ? 0 : (this.box.length - this.head) / 3
  }
}

/**
 * What a behavior sees: its own ref, the system, and the ways to answer,
 * send, spawn, watch and stop.
 *
 * **When to use**: Reach it as the second argument of a behavior.
 *
 * @example
 * ```ts
 * import { ActorSystem, type Context } from "rankflow/patterns/actor"
 * const system = ActorSystem.local()
 * const echo = system.spawn((msg: string, ctx: Context) => {
 *   ctx.reply(`${ctx.self} got ${msg}`)
 * })
 * ```
 * @category models
 * @since 0.3.0
 */
export class Context {
  /** @internal */
  readonly cell: Cell
  readonly system: ActorSystem
  constructor(system: ActorSystem, cell: Cell) {
    this.system = system
    this.cell = cell
  }

  /** This actor's ref. */
  get self(): ActorRef {
    return this.cell.ref
  }

  /** This rank. */
  get rank(): number {
    return this.system.rank
  }

  /** Answers the ask being handled now (later returns are ignored); false when there is none. */
  reply(value: unknown): boolean {
    const r = this.cell.current
    if (r === undefined || r.done) return false
    this.system.answer(r, true, value)
    return true
  }

  /** `system.tell` from this actor. */
  tell(ref: ActorRef<any>, msg: unknown): void | Promise<void> {
    return this.system.tell(ref, msg)
  }

  /** `system.ask` from this actor: an ask that would wait on this actor fails at once with `AskCycle`. */
  ask<R = unknown>(ref: ActorRef<any>, msg: unknown, options?: AskOptions): Promise<R> {
    const cur = this.cell.current
    const chain = cur === undefined ? [this.cell.key] : [...cur.chain, this.cell.key]
    return this.system.askChain<R>(ref, msg, options, chain)
  }

  /** `system.spawn` from this actor. */
  spawn<A>(behavior: string | Handler, options?: SpawnOptions<A>): ActorRef {
    return this.system.spawn(behavior, options)
  }

  /** Sends a `Terminated` notice to this actor's mailbox when `ref` stops. */
  watch(ref: ActorRef<any>): void {
    this.system.watchFor(this.cell.id, ref)
  }

  /** Cancels a `watch`. */
  unwatch(ref: ActorRef<any>): void {
    this.system.unwatchFor(this.cell.id, ref)
  }

  /** Stops this actor after the current message (reason "normal"). */
  stop(): void {
    this.system.stopCell(this.cell, "normal", undefined)
  }

  /** Runs `hook` when this actor stops, for whatever reason (to release what it holds). */
  onStop(hook: (reason: TerminationReason) => void): void {
    ;(this.cell.stopHooks ??= []).push(hook)
  }
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && (typeof v === "object" || typeof v === "function") && typeof (v as any).then === "function"

const fnv = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}

interface NameEntry {
  ref: ActorRef
}

// ------------------------------------------------------------------ the system

/**
 * The actor system of one rank.
 *
 * **When to use**: start one on every rank with {@link ActorSystem.start}
 * (collective: every rank of the communicator calls it), spawn actors, talk
 * to them with `tell` / `ask`, and `shutdown` it (collective) at the end.
 *
 * @example
 * ```ts
 * import { ActorSystem, Behavior } from "rankflow/patterns/actor"
 * import type { Comm } from "rankflow/promise"
 * Behavior.define("counter", () => {
 *   let n = 0
 *   return (msg: "inc" | "get") => (msg === "inc" ? void n++ : n)
 * })
 * export default async (comm: Comm) => {
 *   const system = await ActorSystem.start(comm)
 *   const counter = system.spawn("counter", { on: (comm.rank + 1) % comm.size })
 *   system.tell(counter, "inc")
 *   const n = await system.ask<number>(counter, "get")
 *   await system.shutdown()
 *   return n
 * }
 * ```
 * @category models
 * @since 0.3.0
 */
export class ActorSystem {
  readonly rank: number
  readonly size: number
  /** The system's own communicator (a duplicate of the one it started from). */
  readonly comm: Comm | undefined
  /** Messages that could not be delivered (see `onDeadLetter`). */
  deadLetters = 0
  /** Actors whose behavior failed. */
  failures = 0
  /** Malformed envelopes received from other ranks (ignored). */
  malformed = 0
  private readonly options: SystemOptions
  private readonly budget: number
  /** Actors by id: local ids index an array, ids from remote spawns a map. */
  private readonly slots: Array<Cell | undefined> = []
  private readonly far = new Map<number, Cell>()
  private live = 0
  private nextId = 1
  /** Highest remote-spawn counter seen per origin rank (for DeadActor vs UnknownActor). */
  private readonly remoteSeen: Array<number>
  private nextRemote = 0
  private readonly rq: Array<Cell> = []
  private rqHead = 0
  private draining = false
  private drainQueued = false
  private readonly drainBound = (): void => this.drain()
  // remote state
  private nextAsk = 1
  private readonly asks = new Map<number, Reply>()
  private readonly lost: Array<boolean>
  /** Credit per remote suspend-mailbox (key), and the tells waiting for it. */
  private readonly credit = new Map<number, { credit: number; dead: boolean; queue: Array<unknown>; resolves: Array<() => void>; ref: ActorRef }>()
  /** Watches of actors on other ranks: rank -> [target, watcher id]. */
  private readonly watching = new Map<number, Array<[ActorRef, number]>>()
  /** Outside watchers (promises): negative ids. */
  private readonly outside = new Map<number, (t: Terminated) => void>()
  private nextOutside = -1
  private readonly names = new Map<string, NameEntry>()
  /** Remote spawns that failed here, by id (the latest 1024), so watchers and askers learn why. */
  private readonly spawnFailed = new Map<number, unknown>()
  private closed = false
  private readonly status = new Status()
  private pendingRecv: { wait(): Promise<unknown>; test(s?: Status): [boolean, unknown]; cancel(): void } | undefined = undefined

  private constructor(rank: number, size: number, comm: Comm | undefined, options: SystemOptions) {
    this.rank = rank
    this.size = size
    this.comm = comm
    this.options = options
    this.budget = options.budget ?? 4096
    this.remoteSeen = new Array(size).fill(0)
    this.lost = new Array(size).fill(false)
  }

  /**
   * Starts the system of this rank over a duplicate of `comm` (collective:
   * every rank of `comm` calls it).
   */
  static async start(comm: Comm, options: SystemOptions = {}): Promise<ActorSystem> {
    const own = await comm.dup()
    const s = new ActorSystem(own.rank, own.size, own, options)
    s.listen()
    return s
  }

  /** A system of this rank alone, with no communicator (local actors only). */
  static local(options: SystemOptions = {}): ActorSystem {
    return new ActorSystem(0, 1, undefined, options)
  }

  // ------------------------------------------------------------ spawning

  /**
   * Starts an actor and returns its ref at once. `behavior` is a handler
   * function (this rank only) or the name of a behavior defined with
   * `Behavior.define` (any rank, `on`). On another rank the actor starts
   * when the request arrives; a name unknown there makes it fail (its
   * watchers get `Terminated { reason: "failure" }` with `UnknownBehavior`).
   */
  spawn<A = unknown>(behavior: string | Handler, options?: SpawnOptions<A>): ActorRef {
    return this.spawnAs(behavior, options, -1, 0)
  }

  /** @internal spawn with a given id (restarts) or a new one (id -1). */
  spawnAs<A>(behavior: string | Handler, options: SpawnOptions<A> | undefined, id: number, incarnation: number): ActorRef {
    const on = options?.on ?? this.rank
    const mb = options?.mailbox
    const capacity = mb?.capacity ?? Infinity
    const overflow = mb?.overflow ?? "suspend"
    if (!(capacity === Infinity || (Number.isInteger(capacity) && capacity > 0))) {
      throw new Errors.InvalidArgument({ rank: this.rank, op: "spawn", reason: `mailbox capacity must be a positive integer; got ${capacity}` })
    }
    if (overflow !== "suspend" && overflow !== "dropNewest" && overflow !== "fail") {
      throw new Errors.InvalidArgument({ rank: this.rank, op: "spawn", reason: `mailbox overflow must be "suspend", "dropNewest" or "fail"; got ${String(overflow)}` })
    }
    if (!Number.isInteger(on) || on < 0 || on >= this.size) {
      throw new Errors.InvalidRank({ rank: this.rank, op: "spawn", peer: on, size: this.size })
    }
    const window = overflow === "suspend" && capacity !== Infinity && this.size > 1
      ? Math.max(1, Math.floor(capacity / (this.size - 1)))
      : 0
    if (on === this.rank) {
      const cell = this.makeCell(id < 0 ? this.nextId++ : id, incarnation, capacity, overflow, window)
      try {
        this.startCell(cell, behavior, options?.args)
      } catch (e) {
        cell.alive = false
        this.removeCell(cell.id)
        throw e
      }
      return cell.ref
    }
    if (typeof behavior !== "string") {
      throw new Errors.InvalidArgument({
        rank: this.rank,
        op: "spawn",
        reason: `a behavior function cannot travel to rank ${on}: define it by name with Behavior.define and spawn the name`
      })
    }
    if (this.lost[on]) {
      throw new DeadActor({ rank: on, id, incarnation, op: "spawn", reason: `rank ${on} is lost` })
    }
    const rid = id < 0 ? (this.rank + 1) * REMOTE_ID + ++this.nextRemote : id
    const ref = new ActorRef(on, rid, incarnation, window)
    this.send([K.SPAWN, behavior, options?.args, capacity === Infinity ? 0 : capacity, overflow, rid, incarnation], on, "spawn")
    return ref
  }

  private cellOf(id: number): Cell | undefined {
    return id < REMOTE_ID ? this.slots[id] : this.far.get(id)
  }

  private putCell(id: number, cell: Cell): void {
    if (this.cellOf(id) === undefined) this.live++
    if (id < REMOTE_ID) this.slots[id] = cell
    else this.far.set(id, cell)
  }

  private removeCell(id: number): void {
    if (this.cellOf(id) === undefined) return
    this.live--
    if (id < REMOTE_ID) this.slots[id] = undefined
    else this.far.delete(id)
  }

  private allCells(): Array<Cell> {
    const out: Array<Cell> = []
    for (const c of this.slots) if (c !== undefined) out.push(c)
    for (const c of this.far.values()) out.push(c)
    return out
  }

  private makeCell(id: number, incarnation: number, capacity: number, overflow: Overflow, window: number): Cell {
    const cell = new Cell(this, id, incarnation, capacity, overflow, window)
    this.putCell(id, cell)
    if (id >= REMOTE_ID) {
      const origin = Math.floor(id / REMOTE_ID) - 1
      const n = id % REMOTE_ID
      if (origin >= 0 && origin < this.size && n > this.remoteSeen[origin]!) this.remoteSeen[origin] = n
    }
    return cell
  }

  private startCell(cell: Cell, behavior: string | Handler, args: unknown): void {
    if (typeof behavior === "function") {
      cell.handler = behavior
      return
    }
    const factory = behaviors.get(behavior)
    if (factory === undefined) throw new UnknownBehavior({ rank: this.rank, name: String(behavior), known: Behavior.names() })
    cell.handler = factory(args, cell.ctx)
    if (typeof cell.handler !== "function") {
      throw new Errors.InvalidArgument({ rank: this.rank, op: "spawn", reason: `the factory of behavior "${behavior}" did not return a function` })
    }
  }

  // ------------------------------------------------------------ tell / ask

  /**
   * Sends `msg` to `ref`; returns at once, or a promise when the actor's
   * bounded mailbox (overflow "suspend") is full, resolving when there is
   * room. Throws `MailboxFull` (overflow "fail", local), `Unencodable` (a
   * message another rank cannot get). A tell to a dead or unknown actor is a
   * dead letter (counted, and reported to `onDeadLetter`).
   */
  tell(ref: ActorRef<any>, msg: unknown): void | Promise<void> {
    if (ref.rank === this.rank) {
      const cell = this.cellOf(ref.id)
      if (cell === undefined || cell.incarnation !== ref.incarnation || !cell.alive) {
        this.deadLetter(ref, msg, cell === undefined ? "no such actor" : "the actor is dead")
        return
      }
      if (cell.length >= cell.capacity) return this.full(cell, msg)
      this.enqueue(cell, msg, undefined, -1)
      return
    }
    return this.tellRemote(ref, msg)
  }

  private full(cell: Cell, msg: unknown): void | Promise<void> {
    switch (cell.overflow) {
      case "dropNewest":
        this.deadLetter(cell.ref, msg, `mailbox full (capacity ${cell.capacity})`)
        return
      case "fail":
        throw new MailboxFull({ rank: this.rank, id: cell.id, incarnation: cell.incarnation, capacity: cell.capacity })
      default:
        return new Promise<void>((resolve) => {
          ;(cell.waiting ??= []).push(msg)
          ;(cell.waitingResolve ??= []).push(resolve)
        })
    }
  }

  private tellRemote(ref: ActorRef<any>, msg: unknown): void | Promise<void> {
    this.checkRef(ref, "tell")
    if (this.lost[ref.rank]) {
      this.deadLetter(ref, msg, `rank ${ref.rank} is lost`)
      return
    }
    if (ref.window > 0) {
      const key = keyOf(ref.rank, ref.id)
      let st = this.credit.get(key)
      if (st === undefined) {
        st = { credit: ref.window, dead: false, queue: [], resolves: [], ref }
        this.credit.set(key, st)
      }
      if (st.dead) {
        this.deadLetter(ref, msg, "the actor is dead")
        return
      }
      if (st.credit <= 0 || st.queue.length > 0) {
        this.checkEncodable(ref, msg)
        return new Promise<void>((resolve) => {
          st.queue.push(msg)
          st.resolves.push(resolve)
        })
      }
      st.credit--
      this.send([K.TELL, ref.id, ref.incarnation, msg, 1], ref.rank, "tell", ref)
      return
    }
    this.send([K.TELL, ref.id, ref.incarnation, msg, 0], ref.rank, "tell", ref)
  }

  /**
   * Sends `msg` to `ref` and resolves to the answer (what the behavior
   * returned, or gave `ctx.reply`). Rejects with `UnknownActor`,
   * `DeadActor`, `ActorFailed` (the behavior threw on this message),
   * `MailboxFull`, `AskTimeout`, `AskCycle` or `Unencodable`.
   */
  ask<R = unknown>(ref: ActorRef<any>, msg: unknown, options?: AskOptions): Promise<R> {
    return this.askChain<R>(ref, msg, options, EMPTY)
  }

  /** @internal */
  askChain<R>(ref: ActorRef<any>, msg: unknown, options: AskOptions | undefined, chain: ReadonlyArray<number>): Promise<R> {
    const reply = new Reply()
    reply.chain = chain
    const p = new Promise<R>((resolve, reject) => {
      reply.resolve = resolve as (v: unknown) => void
      reply.reject = reject
    })
    try {
      if (ref.rank === this.rank) this.deliverAsk(ref.id, ref.incarnation, msg, reply, "ask")
      else this.askRemote(ref, msg, reply)
    } catch (e) {
      this.answer(reply, false, e)
      return p
    }
    const timeout = options?.timeout
    if (timeout !== undefined && !reply.done) {
      reply.timer = setTimeout(() => {
        if (reply.rank < 0 && reply.askId !== 0) this.asks.delete(reply.askId)
        this.answer(reply, false, new AskTimeout({ rank: ref.rank, id: ref.id, incarnation: ref.incarnation, timeout }))
      }, timeout)
    }
    return p
  }

  private askRemote(ref: ActorRef<any>, msg: unknown, reply: Reply): void {
    this.checkRef(ref, "ask")
    if (this.lost[ref.rank]) {
      throw new DeadActor({ rank: ref.rank, id: ref.id, incarnation: ref.incarnation, op: "ask", reason: `rank ${ref.rank} is lost` })
    }
    const id = this.nextAsk++
    reply.askId = id
    reply.target = ref
    // the chain travels only when there is one (asks from outside actors have none)
    const env = reply.chain.length > 0 ? [K.ASK, ref.id, ref.incarnation, msg, id, reply.chain] : [K.ASK, ref.id, ref.incarnation, msg, id]
    this.send(env, ref.rank, "ask", ref)
    this.asks.set(id, reply)
  }

  /** Puts an ask into a local mailbox, or fails `reply` with why not. */
  private deliverAsk(id: number, incarnation: number, msg: unknown, reply: Reply, op: string): void {
    const cell = this.cellOf(id)
    if (cell === undefined || cell.incarnation !== incarnation || !cell.alive) {
      throw this.missing(id, incarnation, cell, op)
    }
    if (reply.chain.length > 0 && reply.chain.includes(cell.key)) {
      throw new AskCycle({ rank: this.rank, chain: [...reply.chain.map(keyName), keyName(cell.key)] })
    }
    if (cell.length >= cell.capacity && cell.overflow === "fail") {
      throw new MailboxFull({ rank: this.rank, id, incarnation, capacity: cell.capacity })
    }
    if (cell.length >= cell.capacity && cell.overflow === "dropNewest") {
      this.deadLetter(cell.ref, msg, `mailbox full (capacity ${cell.capacity})`)
      throw new MailboxFull({ rank: this.rank, id, incarnation, capacity: cell.capacity })
    }
    // "suspend": an ask waits for its answer anyway; it is not held back.
    this.enqueue(cell, msg, reply, -1)
  }

  private missing(id: number, incarnation: number, cell: Cell | undefined, op: string): Error {
    if (cell !== undefined) {
      return new DeadActor({
        rank: this.rank,
        id,
        incarnation,
        op,
        reason: cell.incarnation !== incarnation ? `stale incarnation (now ${cell.incarnation})` : "it has stopped"
      })
    }
    const why = this.spawnFailed.get(id)
    if (why !== undefined) {
      return new DeadActor({ rank: this.rank, id, incarnation, op, reason: `its spawn failed: ${(why as Error)?.message ?? String(why)}` })
    }
    if (this.everLived(id)) return new DeadActor({ rank: this.rank, id, incarnation, op, reason: "it has stopped" })
    return new UnknownActor({ rank: this.rank, id, incarnation, op })
  }

  private everLived(id: number): boolean {
    if (!Number.isSafeInteger(id) || id < 1) return false
    if (id < REMOTE_ID) return id < this.nextId
    const origin = Math.floor(id / REMOTE_ID) - 1
    return origin >= 0 && origin < this.size && id % REMOTE_ID <= this.remoteSeen[origin]!
  }

  /** @internal completes an ask (once). */
  answer(r: Reply, ok: boolean, value: unknown): void {
    if (r.done) return
    r.done = true
    if (r.timer !== undefined) clearTimeout(r.timer)
    if (r.rank < 0) {
      if (ok) r.resolve!(value)
      else r.reject!(value)
      return
    }
    if (this.lost[r.rank] || this.closed) return
    try {
      this.send([K.REPLY, r.askId, ok ? 1 : 0, ok ? value : toWire(value)], r.rank, "reply")
    } catch (e) {
      // the answer cannot travel: the asker gets why
      this.send([K.REPLY, r.askId, 0, toWire(e)], r.rank, "reply")
    }
  }

  // ------------------------------------------------------------ mailbox and run queue

  private enqueue(cell: Cell, msg: unknown, reply: Reply | undefined, origin: number): void {
    const box = (cell.box ??= [])
    box.push(msg, reply, origin)
    if (!cell.scheduled && !cell.running) this.schedule(cell)
  }

  private schedule(cell: Cell): void {
    cell.scheduled = true
    this.rq.push(cell)
    if (!this.draining && !this.drainQueued) {
      this.drainQueued = true
      queueMicrotask(this.drainBound)
    }
  }

  private drain(): void {
    this.drainQueued = false
    this.draining = true
    let budget = this.budget
    try {
      while (this.rqHead < this.rq.length && budget > 0) {
        const cell = this.rq[this.rqHead++]!
        cell.scheduled = false
        budget -= this.run(cell, budget < 256 ? budget : 256)
        if (cell.alive && !cell.running && !cell.scheduled && cell.length > 0) {
          cell.scheduled = true
          this.rq.push(cell)
        }
      }
    } finally {
      this.draining = false
      if (this.rqHead >= this.rq.length) {
        this.rq.length = 0
        this.rqHead = 0
      } else {
        if (this.rqHead > 1024) {
          this.rq.splice(0, this.rqHead)
          this.rqHead = 0
        }
        this.drainQueued = true
        setImmediate(this.drainBound)
      }
    }
  }

  /** Handles up to `limit` messages of `cell`; returns how many. */
  private run(cell: Cell, limit: number): number {
    let n = 0
    const box = cell.box
    if (box === undefined) return 0
    while (n < limit && cell.alive && !cell.running && cell.head < box.length) {
      const i = cell.head
      cell.head = i + 3
      const msg = box[i]
      const reply = box[i + 1] as Reply | undefined
      const origin = box[i + 2] as number
      box[i] = undefined
      box[i + 1] = undefined
      n++
      if (origin >= 0) this.consumed(cell, origin)
      if (cell.waiting !== undefined && cell.waiting.length > 0) this.admitWaiting(cell)
      cell.current = reply
      let out: unknown
      try {
        out = cell.handler(msg, cell.ctx_ ?? cell.ctx)
      } catch (e) {
        this.fail(cell, e)
        break
      }
      if (isThenable(out)) {
        cell.running = true
        out.then(
          (v) => this.settled(cell, reply, v),
          (e) => {
            cell.running = false
            this.fail(cell, e)
          }
        )
        break
      }
      if (reply !== undefined && !reply.done) this.answer(reply, true, out)
      cell.current = undefined
    }
    if (cell.box !== box) return n // stopped meanwhile
    if (cell.head >= box.length) {
      box.length = 0
      cell.head = 0
    } else if (cell.head > 3072 && cell.head * 2 > box.length) {
      box.splice(0, cell.head)
      cell.head = 0
    }
    return n
  }

  private settled(cell: Cell, reply: Reply | undefined, v: unknown): void {
    cell.running = false
    if (reply !== undefined && !reply.done) this.answer(reply, true, v)
    cell.current = undefined
    if (cell.alive && cell.length > 0 && !cell.scheduled) this.schedule(cell)
  }

  private admitWaiting(cell: Cell): void {
    while (cell.waiting!.length > 0 && cell.length < cell.capacity) {
      const msg = cell.waiting!.shift()
      const resolve = cell.waitingResolve!.shift()!
      ;(cell.box ??= []).push(msg, undefined, -1)
      resolve()
    }
  }

  /** A credited message from `origin` was handled: give the credit back in batches. */
  private consumed(cell: Cell, origin: number): void {
    const c = (cell.consumed ??= new Array(this.size).fill(0))
    const n = ++c[origin]!
    const half = cell.ref.window > 1 ? cell.ref.window >> 1 : 1
    if (n >= half) {
      c[origin] = 0
      if (!this.lost[origin] && !this.closed) this.send([K.CREDIT, cell.id, n], origin, "credit")
    }
  }

  // ------------------------------------------------------------ failure, stop, watch

  private fail(cell: Cell, e: unknown): void {
    const r = cell.current
    cell.current = undefined
    if (r !== undefined && !r.done) {
      this.answer(r, false, new ActorFailed({ rank: this.rank, id: cell.id, incarnation: cell.incarnation, cause: e }))
    }
    this.failures++
    this.hook(this.options.onFailure, cell.ref, e)
    this.stopCell(cell, "failure", e)
  }

  /** @internal */
  stopCell(cell: Cell, reason: TerminationReason, error: unknown): void {
    if (!cell.alive) return
    cell.alive = false
    if (this.cellOf(cell.id) === cell) this.removeCell(cell.id)
    // what is left in the mailbox
    const box = cell.box ?? []
    for (let i = cell.head; i < box.length; i += 3) {
      const r = box[i + 1] as Reply | undefined
      if (r !== undefined) {
        this.answer(r, false, new DeadActor({ rank: this.rank, id: cell.id, incarnation: cell.incarnation, op: "ask", reason: "it stopped before handling the message" }))
      } else if (!(box[i] instanceof Terminated)) {
        this.deadLetter(cell.ref, box[i], "the actor stopped before handling it")
      }
    }
    if (cell.waiting !== undefined) {
      for (const m of cell.waiting) this.deadLetter(cell.ref, m, "the actor stopped before handling it")
      for (const r of cell.waitingResolve!) r()
    }
    cell.box = undefined
    cell.head = 0
    // senders on other ranks waiting for credit: let them go (their tells are dead letters now)
    if (cell.ref.window > 0) {
      for (let p = 0; p < this.size; p++) if (p !== this.rank && !this.lost[p] && !this.closed) this.send([K.CREDIT, cell.id, -1], p, "credit")
    }
    if (cell.stopHooks !== undefined) {
      for (const h of cell.stopHooks) {
        try {
          h(reason)
        } catch (e) {
          this.hook(this.options.onFailure, cell.ref, e)
        }
      }
    }
    if (cell.watchers !== undefined) {
      for (const w of cell.watchers) this.notify(w, cell.ref, reason, error)
    }
  }

  private notify(w: Watcher, ref: ActorRef, reason: TerminationReason, error: unknown): void {
    if (w.rank === this.rank) this.deliverTerminated(w.id, new Terminated(ref, reason, error))
    else if (!this.lost[w.rank] && !this.closed) {
      let wire: unknown
      try {
        wire = toWire(error)
        Codec.encode(wire)
      } catch {
        wire = String(error)
      }
      this.send([K.TERMINATED, w.id, ref.rank, ref.id, ref.incarnation, reason, wire], w.rank, "terminated")
    }
  }

  private deliverTerminated(watcher: number, t: Terminated): void {
    if (watcher < 0) {
      const cb = this.outside.get(watcher)
      if (cb !== undefined) {
        this.outside.delete(watcher)
        cb(t)
      }
      return
    }
    const cell = this.cellOf(watcher)
    if (cell !== undefined && cell.alive) this.enqueue(cell, t, undefined, -1) // not held back by the capacity
  }

  /** @internal */
  watchFor(watcher: number, ref: ActorRef<any>): void {
    if (ref.rank === this.rank) {
      const cell = this.cellOf(ref.id)
      if (cell === undefined || cell.incarnation !== ref.incarnation || !cell.alive) {
        const t = new Terminated(ref, "noproc")
        queueMicrotask(() => this.deliverTerminated(watcher, t))
        return
      }
      ;(cell.watchers ??= []).push({ rank: this.rank, id: watcher })
      return
    }
    this.checkRef(ref, "watch")
    if (this.lost[ref.rank]) {
      const t = new Terminated(ref, "rank-lost")
      queueMicrotask(() => this.deliverTerminated(watcher, t))
      return
    }
    let list = this.watching.get(ref.rank)
    if (list === undefined) this.watching.set(ref.rank, list = [])
    list.push([ref, watcher])
    this.send([K.WATCH, ref.id, ref.incarnation, watcher], ref.rank, "watch")
  }

  /** @internal */
  unwatchFor(watcher: number, ref: ActorRef<any>): void {
    if (ref.rank === this.rank) {
      const cell = this.cellOf(ref.id)
      if (cell?.watchers !== undefined) cell.watchers = cell.watchers.filter((w) => !(w.rank === this.rank && w.id === watcher))
      return
    }
    const list = this.watching.get(ref.rank)
    if (list !== undefined) {
      const i = list.findIndex(([r, w]) => w === watcher && r.equals(ref))
      if (i >= 0) list.splice(i, 1)
    }
    if (!this.lost[ref.rank] && !this.closed) this.send([K.UNWATCH, ref.id, ref.incarnation, watcher], ref.rank, "unwatch")
  }

  /**
   * Resolves with the `Terminated` notice when `ref` stops (from code
   * outside actors; inside one, use `ctx.watch`, which puts the notice in
   * the mailbox).
   */
  watch(ref: ActorRef<any>): Promise<Terminated> {
    const id = this.nextOutside--
    return new Promise<Terminated>((resolve, reject) => {
      this.outside.set(id, resolve)
      try {
        this.watchFor(id, ref)
      } catch (e) {
        this.outside.delete(id)
        reject(e)
      }
    })
  }

  /** Stops the actor `ref` (reason "normal"); after the message it is handling, if any. */
  stop(ref: ActorRef<any>): void {
    if (ref.rank === this.rank) {
      const cell = this.cellOf(ref.id)
      if (cell !== undefined && cell.incarnation === ref.incarnation) this.stopCell(cell, "normal", undefined)
      return
    }
    this.checkRef(ref, "stop")
    if (!this.lost[ref.rank]) this.send([K.STOP, ref.id, ref.incarnation], ref.rank, "stop")
  }

  /** Is `ref` a live actor of this rank? (Other ranks' actors: use `watch` or `ask`.) */
  isAlive(ref: ActorRef<any>): boolean {
    const cell = ref.rank === this.rank ? this.cellOf(ref.id) : undefined
    return cell !== undefined && cell.alive && cell.incarnation === ref.incarnation
  }

  /** Messages waiting in the mailbox of `ref`, an actor of this rank (-1 if it is not live here). */
  mailboxSize(ref: ActorRef<any>): number {
    const cell = ref.rank === this.rank ? this.cellOf(ref.id) : undefined
    return cell !== undefined && cell.alive && cell.incarnation === ref.incarnation ? cell.length : -1
  }

  /** Number of live actors on this rank. */
  get actorCount(): number {
    return this.live
  }

  // ------------------------------------------------------------ names

  /** The rank that keeps the name `name` (a hash of it). */
  homeOf(name: string): number {
    return fnv(name) % this.size
  }

  /**
   * Registers `name` for `ref` on the name's home rank; rejects with
   * `NameTaken` if another live actor holds it (a restarted incarnation of
   * the same actor takes it over). The name is dropped when the actor stops.
   */
  register(name: string, ref: ActorRef<any>): Promise<void> {
    if (typeof name !== "string" || name.length === 0) {
      return Promise.reject(new Errors.InvalidArgument({ rank: this.rank, op: "register", reason: "a name must be a non-empty string" }))
    }
    if (!(ref instanceof ActorRef)) {
      return Promise.reject(new Errors.InvalidArgument({ rank: this.rank, op: "register", reason: `not an ActorRef: ${Codec.describeValue(ref)}` }))
    }
    const home = this.homeOf(name)
    if (home === this.rank) {
      try {
        this.registerHere(name, ref)
        return Promise.resolve()
      } catch (e) {
        return Promise.reject(e)
      }
    }
    return this.request(home, [K.REGISTER, 0, name, ref], "register").then(() => undefined)
  }

  /** Resolves to the ref registered as `name`, or undefined. */
  whereis(name: string): Promise<ActorRef | undefined> {
    const home = this.homeOf(name)
    if (home === this.rank) return Promise.resolve(this.names.get(name)?.ref)
    return this.request(home, [K.WHEREIS, 0, name], "whereis") as Promise<ActorRef | undefined>
  }

  /** Removes `name` (if registered to `ref`, when given). */
  unregister(name: string, ref?: ActorRef<any>): void {
    const home = this.homeOf(name)
    if (home === this.rank) this.unregisterHere(name, ref)
    else if (!this.lost[home]) this.send([K.UNREGISTER, name, ref ?? null], home, "unregister")
  }

  private registerHere(name: string, ref: ActorRef): void {
    const have = this.names.get(name)
    if (have !== undefined && !(have.ref.rank === ref.rank && have.ref.id === ref.id && have.ref.incarnation <= ref.incarnation)) {
      throw new NameTaken({ name, home: this.rank, holder: have.ref.toString() })
    }
    const entry: NameEntry = { ref }
    this.names.set(name, entry)
    // drop the name when the actor stops
    this.watch(ref).then(() => {
      if (this.names.get(name) === entry) this.names.delete(name)
    }, () => {})
  }

  private unregisterHere(name: string, ref: ActorRef | undefined | null): void {
    const have = this.names.get(name)
    if (have !== undefined && (ref == null || have.ref.equals(ref))) this.names.delete(name)
  }

  /** A request to another system, answered with REPLY. */
  private request(rank: number, env: Array<unknown>, op: string): Promise<unknown> {
    if (this.lost[rank]) {
      return Promise.reject(new Errors.PeerLost({ rank: this.rank, op, peer: rank, tag: TAG, reason: "failed" }))
    }
    const reply = new Reply()
    const p = new Promise<unknown>((resolve, reject) => {
      reply.resolve = resolve
      reply.reject = reject
    })
    const id = this.nextAsk++
    reply.askId = id
    reply.target = new ActorRef(rank, 0, 0)
    env[1] = id
    try {
      this.send(env, rank, op)
      this.asks.set(id, reply)
    } catch (e) {
      this.answer(reply, false, e)
    }
    return p
  }

  // ------------------------------------------------------------ dead letters

  /** Calls a user hook; a hook that throws never takes the run queue down. */
  private hook<A extends Array<any>>(f: ((...args: A) => void) | undefined, ...args: A): void {
    if (f === undefined) return
    try {
      f(...args)
    } catch {
      // the hook's own bug: nothing here can report it better than ignoring it
    }
  }

  private deadLetter(to: ActorRef, message: unknown, reason: string): void {
    this.deadLetters++
    this.hook(this.options.onDeadLetter, { to, message, reason })
  }

  // ------------------------------------------------------------ the wire

  private checkRef(ref: ActorRef<any>, op: string): void {
    if (!(ref instanceof ActorRef)) {
      throw new Errors.InvalidArgument({ rank: this.rank, op, reason: `not an ActorRef: ${Codec.describeValue(ref)}` })
    }
    if (!Number.isInteger(ref.rank) || ref.rank < 0 || ref.rank >= this.size) {
      throw new UnknownActor({ rank: ref.rank, id: ref.id, incarnation: ref.incarnation, op })
    }
  }

  private checkEncodable(ref: ActorRef, msg: unknown): void {
    const bad = Codec.findUnencodable(msg, "message")
    if (bad !== undefined) {
      throw new Errors.Unencodable({ rank: this.rank, op: "tell", peer: ref.rank, tag: TAG, what: bad.what, path: bad.path })
    }
  }

  private send(env: Array<unknown>, rank: number, op: string, ref?: ActorRef): void {
    if (this.closed) {
      throw new DeadActor({ rank, id: ref?.id ?? 0, incarnation: ref?.incarnation ?? 0, op, reason: "this rank's actor system has shut down" })
    }
    try {
      this.comm!.isend(env, rank, TAG)
    } catch (e) {
      if (e instanceof Errors.Unencodable) {
        throw new Errors.Unencodable({ rank: this.rank, op, peer: rank, tag: TAG, what: e.what, path: e.path.replace(/^the message\[3\]/, "the message") })
      }
      throw e
    }
  }

  private listen(): void {
    if (this.size === 1) return
    for (let p = 0; p < this.size; p++) {
      if (p === this.rank) continue
      // never matched: fails when peer p is lost or ends
      this.comm!.irecv(p, TAG_SENTINEL).wait().then(
        () => {},
        () => {
          if (!this.closed) this.rankLost(p)
        }
      )
    }
    void this.loop()
  }

  private async loop(): Promise<void> {
    const comm = this.comm!
    const status = this.status
    let burst = 0
    while (!this.closed) {
      // a long burst of envelopes: give the run queue and the event loop a turn
      if (++burst >= 1024) {
        burst = 0
        await new Promise((r) => setImmediate(r))
        if (this.closed) return
      }
      const req = comm.irecv(ANY_SOURCE, TAG)
      this.pendingRecv = req
      let env: unknown
      try {
        const [done, v] = req.test(status)
        if (done) env = v
        else {
          burst = 0
          // let the run queue and the callers' continuations go first
          await undefined
          if (this.rqHead < this.rq.length) await new Promise((r) => setImmediate(r))
          env = await req.wait(status)
        }
      } catch (e) {
        if (this.closed) return
        if (e instanceof Errors.Undecodable) continue
        // every peer is gone
        return
      }
      if (this.closed) return
      if (status.cancelled) continue
      try {
        if (!this.dispatch(env, status.source)) this.malformed++
      } catch {
        // a malformed envelope from a peer never takes this rank down
        this.malformed++
      }
    }
  }

  /** Serves one envelope from rank `src`; false if it is malformed. */
  private dispatch(env: unknown, src: number): boolean {
    if (!Array.isArray(env) || typeof env[0] !== "number" || (typeof env[1] !== "number" && typeof env[1] !== "string")) return false
    switch (env[0] as number) {
      case K.TELL: {
        const [, id, inc, msg, credited] = env as [K, number, number, unknown, number]
        const cell = this.cellOf(id)
        if (cell === undefined || cell.incarnation !== inc || !cell.alive) {
          this.deadLetter(new ActorRef(this.rank, id, inc), msg, cell === undefined ? "no such actor" : "the actor is dead")
          if (credited === 1) this.send([K.CREDIT, id, -1], src, "credit")
          return true
        }
        if (credited === 1) {
          this.enqueue(cell, msg, undefined, src)
          return true
        }
        if (cell.length >= cell.capacity && cell.overflow !== "suspend") {
          this.deadLetter(cell.ref, msg, cell.overflow === "fail"
            ? new MailboxFull({ rank: this.rank, id, incarnation: inc, capacity: cell.capacity }).message
            : `mailbox full (capacity ${cell.capacity})`)
          return true
        }
        this.enqueue(cell, msg, undefined, -1)
        return true
      }
      case K.ASK: {
        const [, id, inc, msg, askId, chain] = env as [K, number, number, unknown, number, Array<number>]
        const reply = new Reply()
        reply.rank = src
        reply.askId = askId
        reply.chain = Array.isArray(chain) ? chain : EMPTY
        try {
          this.deliverAsk(id, inc, msg, reply, "ask")
        } catch (e) {
          this.answer(reply, false, e)
        }
        return true
      }
      case K.REPLY: {
        const [, askId, ok, value] = env as [K, number, number, unknown]
        const r = this.asks.get(askId)
        if (r === undefined) return true // timed out meanwhile
        this.asks.delete(askId)
        r.rank = -1
        this.answer(r, ok === 1, ok === 1 ? value : fromWire(value))
        return true
      }
      case K.SPAWN: {
        const [, name, args, capacity, overflow, id, inc] = env as [K, string, unknown, number, Overflow, number, number]
        // ids of remote spawns come from the spawner's own range
        if (!Number.isSafeInteger(id) || Math.floor(id / REMOTE_ID) - 1 !== src || !Number.isSafeInteger(inc) || inc < 0) return false
        if (!(capacity === 0 || (Number.isSafeInteger(capacity) && capacity > 0)) || !["suspend", "dropNewest", "fail"].includes(overflow)) return false
        if (this.cellOf(id)?.alive === true) return false
        const window = overflow === "suspend" && capacity > 0 ? Math.max(1, Math.floor(capacity / (this.size - 1))) : 0
        const cell = this.makeCell(id, inc, capacity > 0 ? capacity : Infinity, overflow, window)
        try {
          this.startCell(cell, name, args)
        } catch (e) {
          this.removeCell(id)
          this.spawnFailed.set(id, e)
          if (this.spawnFailed.size > 1024) this.spawnFailed.delete(this.spawnFailed.keys().next().value!)
          this.send([K.SPAWN_FAILED, id, inc, toWire(e)], src, "spawn")
          cell.alive = false
          this.failures++
          this.hook(this.options.onFailure, cell.ref, e)
        }
        return true
      }
      case K.SPAWN_FAILED: {
        const [, id, inc, err] = env as [K, number, number, unknown]
        this.failures++
        this.hook(this.options.onFailure, new ActorRef(src, id, inc), fromWire(err))
        return true
      }
      case K.CREDIT: {
        const [, id, n] = env as [K, number, number]
        const st = this.credit.get(keyOf(src, id))
        if (st === undefined) return true
        if (n < 0) {
          st.dead = true
          for (const m of st.queue) this.deadLetter(st.ref, m, "the actor is dead")
          st.queue.length = 0
          for (const r of st.resolves.splice(0)) r()
          return true
        }
        st.credit += n
        this.flushCredit(st)
        return true
      }
      case K.WATCH: {
        const [, id, inc, watcher] = env as [K, number, number, number]
        const cell = this.cellOf(id)
        if (cell === undefined || cell.incarnation !== inc || !cell.alive) {
          const why = cell === undefined ? this.spawnFailed.get(id) : undefined
          this.send([K.TERMINATED, watcher, this.rank, id, inc, why === undefined ? "noproc" : "failure", why === undefined ? null : toWire(why)], src, "terminated")
          return true
        }
        ;(cell.watchers ??= []).push({ rank: src, id: watcher })
        return true
      }
      case K.UNWATCH: {
        const [, id, , watcher] = env as [K, number, number, number]
        const cell = this.cellOf(id)
        if (cell?.watchers !== undefined) cell.watchers = cell.watchers.filter((w) => !(w.rank === src && w.id === watcher))
        return true
      }
      case K.TERMINATED: {
        const [, watcher, rank, id, inc, reason, err] = env as [K, number, number, number, number, TerminationReason, unknown]
        const list = this.watching.get(rank)
        if (list !== undefined) {
          const i = list.findIndex(([r, w]) => w === watcher && r.id === id && r.incarnation === inc)
          if (i >= 0) {
            const [ref] = list.splice(i, 1)[0]!
            this.deliverTerminated(watcher, new Terminated(ref, reason, fromWire(err)))
            return true
          }
        }
        this.deliverTerminated(watcher, new Terminated(new ActorRef(rank, id, inc), reason, fromWire(err)))
        return true
      }
      case K.STOP: {
        const [, id, inc] = env as [K, number, number]
        const cell = this.cellOf(id)
        if (cell !== undefined && cell.incarnation === inc) this.stopCell(cell, "normal", undefined)
        return true
      }
      case K.REGISTER: {
        const [, askId, name, ref] = env as [K, number, string, ActorRef]
        const reply = new Reply()
        reply.rank = src
        reply.askId = askId
        try {
          if (!(ref instanceof ActorRef)) throw new Errors.InvalidArgument({ rank: this.rank, op: "register", reason: "not an ActorRef" })
          this.registerHere(name, ref)
          this.answer(reply, true, null)
        } catch (e) {
          this.answer(reply, false, e)
        }
        return true
      }
      case K.WHEREIS: {
        const [, askId, name] = env as [K, number, string]
        const reply = new Reply()
        reply.rank = src
        reply.askId = askId
        this.answer(reply, true, this.names.get(name)?.ref)
        return true
      }
      case K.UNREGISTER: {
        const [, name, ref] = env as [K, string, ActorRef | null]
        this.unregisterHere(name, ref)
        return true
      }
    }
    return false
  }

  private flushCredit(st: { credit: number; queue: Array<unknown>; resolves: Array<() => void>; ref: ActorRef }): void {
    while (st.credit > 0 && st.queue.length > 0) {
      const msg = st.queue.shift()
      const resolve = st.resolves.shift()!
      st.credit--
      try {
        this.send([K.TELL, st.ref.id, st.ref.incarnation, msg, 1], st.ref.rank, "tell", st.ref)
      } catch {
        this.deadLetter(st.ref, msg, "it could not be sent")
      }
      resolve()
    }
  }

  /** Peer `p` is gone: its actors are, too. */
  private rankLost(p: number): void {
    if (this.lost[p]) return
    this.lost[p] = true
    // asks waiting on it
    for (const [id, r] of this.asks) {
      if (r.target?.rank === p) {
        this.asks.delete(id)
        r.rank = -1
        const t = r.target
        this.answer(r, false, t.id === 0
          ? new Errors.PeerLost({ rank: this.rank, op: "name lookup", peer: p, tag: TAG, reason: "failed" })
          : new DeadActor({ rank: p, id: t.id, incarnation: t.incarnation, op: "ask", reason: `rank ${p} is lost` }))
      }
    }
    // watches of its actors
    const list = this.watching.get(p)
    if (list !== undefined) {
      this.watching.delete(p)
      for (const [ref, watcher] of list) this.deliverTerminated(watcher, new Terminated(ref, "rank-lost"))
    }
    // its watches of ours
    for (const cell of this.allCells()) {
      if (cell.watchers !== undefined) cell.watchers = cell.watchers.filter((w) => w.rank !== p)
    }
    // tells waiting for its credit
    for (const [k, st] of this.credit) {
      if (st.ref.rank !== p) continue
      this.credit.delete(k)
      for (const m of st.queue) this.deadLetter(st.ref, m, `rank ${p} is lost`)
      for (const r of st.resolves) r()
    }
    // names of its actors
    for (const [name, e] of this.names) if (e.ref.rank === p) this.names.delete(name)
  }

  // ------------------------------------------------------------ life cycle

  /**
   * Stops every actor of this rank and the system (collective: every rank
   * calls it, so that no rank leaves while others still talk to it). Ranks
   * that are lost are skipped.
   */
  async shutdown(): Promise<void> {
    if (this.closed) return
    const comm = this.comm
    if (comm !== undefined) {
      // let what is in flight land before the ranks agree to stop
      await new Promise((r) => setImmediate(r))
      try {
        // with a rank lost, the barrier could only fail (and leave its messages unreceived)
        if (!this.lost.includes(true)) await comm.barrier()
      } catch {
        // a rank died meanwhile: stop anyway
      }
    }
    // from here on nothing goes to the other ranks: they are stopping too
    this.closed = true
    for (const cell of this.allCells()) this.stopCell(cell, "normal", undefined)
    for (const [, r] of this.asks) {
      r.rank = -1
      this.answer(r, false, new DeadActor({ rank: r.target?.rank ?? -1, id: r.target?.id ?? 0, incarnation: r.target?.incarnation ?? 0, op: "ask", reason: "the actor system has shut down" }))
    }
    this.asks.clear()
    if (comm !== undefined) {
      this.pendingRecv?.cancel()
      comm.free()
    }
  }
}
