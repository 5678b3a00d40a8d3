/**
 * The stream system of one rank: the standing receive that serves every
 * pipeline's frames on a communicator of its own, and the stage instances
 * this rank runs.
 *
 * A pipeline is a chain of segments: a source, stages, and the sink on the
 * subscriber's rank. A segment runs as one instance per rank it names; every
 * instance of one segment has a channel to every instance of the next. Each
 * channel has its own credit window: the producer sends at most `window`
 * items the consumer has not given back, and the consumer gives credit back
 * only once what it took has left it (its output queue is empty), so what an
 * instance holds stays within its window. Frames are multiplexed by stream
 * id on one tag; the receive loop never waits on a consumer (items wait in
 * the instance's input queue, which the credit bounds), so one slow stream
 * never stalls another.
 *
 * The hot path is plain synchronous code: an item is an array slot, a frame
 * carries a batch of items (everything emitted in one microtask, up to the
 * credit), and credit goes back in batches of half a window.
 *
 * @since 0.4.0
 */
import { isObservable, type Observable, Subject, type Subscription } from "rxjs"
import { ANY_SOURCE, Codec, type Comm, Errors, Status } from "../../core/promise/index.ts"
import { fromWire, InvalidPipeline, StageFailed, toWire, UnknownStage } from "./Errors.ts"
import { lookup, type SourceLike, Stage, type StageContext } from "./Stage.ts"

// ------------------------------------------------------------------ wire

const TAG = 1
const TAG_SENTINEL = 2
/** Stream ids: (driver rank) * 2^32 + a counter of the driver's. */
const SID = 0x1_0000_0000

/**
 * The frame kinds, each a small array sent with one tag on the system's
 * communicator:
 *
 * - `[SUBSCRIBE, sid, plan]` the subscriber's rank to each rank of the plan
 * - `[DATA, sid, seg, inst, from, items]` producer `from` of segment `seg - 1` to instance `inst` of `seg`
 * - `[CREDIT, sid, seg, inst, from, n]` consumer `from` of `seg + 1` to producer `inst` of `seg`
 * - `[COMPLETE, sid, seg, inst, from]` as DATA: producer `from` has no more items
 * - `[FAIL, sid, error]` any instance to the subscriber's rank
 * - `[CANCEL, sid]` the subscriber's rank to each rank of the plan
 * - `[READY, 0]` every rank to every other when it enters shutdown
 * - `[FIN, 0]` every rank to every other once all are in shutdown, after its last frame
 *
 * @internal
 */
export const K = { SUBSCRIBE: 0, DATA: 1, CREDIT: 2, COMPLETE: 3, FAIL: 4, CANCEL: 5, READY: 6, FIN: 7 } as const

/**
 * One segment of a plan, as it travels (functions stay home: a remote rank
 * finds them by name).
 *
 * @internal
 */
export interface SegmentPlan {
  readonly kind: "source" | "stage" | "sink"
  readonly name: string
  readonly args: unknown
  /** Instance i runs on ranks[i]. */
  readonly ranks: ReadonlyArray<number>
  /** Items each instance may hold on its input, split between its producers. */
  readonly credit: number
  /** The key function routing this segment's output (by name), or "" to spread it. */
  readonly key: string
  readonly keyGroups: number
}

/**
 * What the subscriber's rank holds besides the plan: the functions of
 * segments that run only here.
 *
 * @internal
 */
export interface LocalParts {
  readonly op: ReadonlyArray<((o: Observable<any>) => Observable<any>) | undefined>
  readonly source: SourceLike<any> | undefined
  readonly key: ReadonlyArray<((x: any) => unknown) | undefined>
}

/**
 * Where the sink delivers: an rxjs subscriber (push: credit goes back as
 * `next` returns), or a puller (an async iterator: credit goes back as items
 * are pulled).
 *
 * @internal
 */
export interface SinkTarget {
  readonly pull: boolean
  next(x: unknown): void
  error(e: unknown): void
  complete(): void
  /** Is the subscriber gone (stop delivering)? */
  closed(): boolean
}

/**
 * Counters of a rank's stream system.
 *
 * **When to use**: check that memory stays bounded (`peakBuffered`), or see how the frames batched.
 *
 * @example
 * ```ts
 * import type { Streams, StreamStats } from "rankflow/patterns/stream"
 * declare const streams: Streams
 * const s: StreamStats = streams.stats()
 * console.log(s.itemsSent / Math.max(1, s.framesSent)) // items per frame
 * ```
 * @category models
 * @since 0.4.0
 */
export interface StreamStats {
  /** Pipelines with an instance (or the subscriber) on this rank now. */
  readonly streams: number
  /** Items held on this rank now: waiting on an instance's input or in its output queue. */
  readonly buffered: number
  /** The most items ever held on this rank at once (reset by `resetPeak`). */
  readonly peakBuffered: number
  readonly framesSent: number
  readonly itemsSent: number
  readonly framesReceived: number
  readonly itemsReceived: number
}

/**
 * Options of a stream system.
 *
 * @example
 * ```ts
 * import type { StreamsOptions } from "rankflow/patterns/stream"
 * const options: StreamsOptions = { budget: 256 }
 * ```
 * @category models
 * @since 0.4.0
 */
export interface StreamsOptions {
  /** Items a source iterable yields per turn of the event loop (default 4096). */
  readonly budget?: number | undefined
}

const fnv = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}

/** A key's hash: numbers and strings cheaply, anything else by its JSON. */
const hashKey = (k: unknown): number => {
  if (typeof k === "number" && Number.isInteger(k)) {
    let h = Math.imul(k | 0, 0x9e3779b1) ^ Math.floor(k / 0x1_0000_0000)
    h ^= h >>> 16
    return h >>> 0
  }
  if (typeof k === "string") return fnv(k)
  return fnv(typeof k === "object" && k !== null ? JSON.stringify(k) : String(k))
}

const isAsyncIterable = (x: any): x is AsyncIterable<unknown> => x != null && typeof x[Symbol.asyncIterator] === "function"
const isIterable = (x: any): x is Iterable<unknown> => x != null && typeof x[Symbol.iterator] === "function"

/** The stream state on one rank. @internal */
class StreamState {
  readonly sid: number
  readonly driver: number
  readonly plan: ReadonlyArray<SegmentPlan>
  readonly instances = new Map<number, Instance>()
  /** Ranks the subscriber told (itself excluded). */
  readonly ranks: ReadonlyArray<number>
  sink: Instance | undefined = undefined
  done = false
  cancelled = false
  constructor(sid: number, driver: number, plan: ReadonlyArray<SegmentPlan>) {
    this.sid = sid
    this.driver = driver
    this.plan = plan
    const rs = new Set<number>()
    for (const s of plan) for (const r of s.ranks) if (r !== driver) rs.add(r)
    this.ranks = [...rs]
  }
}

const instKey = (seg: number, inst: number): number => seg * 0x10000 + inst

/** One instance of one segment. @internal */
class Instance {
  readonly sys: Streams
  readonly st: StreamState
  readonly seg: number
  readonly inst: number
  readonly plan: SegmentPlan
  readonly label: string
  ended = false
  // ---- input (stages and the sink)
  /** Ranks of the producers (the previous segment's instances). */
  readonly producers: ReadonlyArray<number>
  readonly inWindow: number
  readonly threshold: number
  inQ: Array<unknown> = []
  inFrom: Array<number> = []
  inHead = 0
  readonly unreturned: Array<number>
  inOpen: number
  input: Subject<unknown> | undefined = undefined
  // ---- output (sources and stages)
  readonly consumers: ReadonlyArray<number>
  readonly credit: Array<number>
  readonly batch: Array<Array<unknown> | undefined>
  dirty = false
  outQ: Array<unknown> = []
  outCh: Array<number> = []
  outHead = 0
  rr = 0
  outDone = false
  key: ((x: unknown) => unknown) | undefined = undefined
  readonly keyGroups: number
  sub: Subscription | undefined = undefined
  iter: Iterator<unknown> | AsyncIterator<unknown> | undefined = undefined
  asyncIter = false
  pulling = false
  wake: (() => void) | undefined = undefined
  // ---- sink
  target: SinkTarget | undefined = undefined
  waiters: Array<{ resolve: (r: IteratorResult<unknown>) => void; reject: (e: unknown) => void }> = []
  failure: unknown = undefined

  constructor(sys: Streams, st: StreamState, seg: number, inst: number) {
    this.sys = sys
    this.st = st
    this.seg = seg
    this.inst = inst
    this.plan = st.plan[seg]!
    this.label = this.plan.name
    const prev = seg > 0 ? st.plan[seg - 1]! : undefined
    const next = seg + 1 < st.plan.length ? st.plan[seg + 1]! : undefined
    this.producers = prev?.ranks ?? []
    this.inWindow = Math.max(1, Math.floor(this.plan.credit / Math.max(1, this.producers.length)))
    this.threshold = Math.max(1, Math.ceil(this.inWindow / 2))
    this.unreturned = new Array(this.producers.length).fill(0)
    this.inOpen = this.producers.length
    this.consumers = next?.ranks ?? []
    const w = next === undefined ? 0 : Math.max(1, Math.floor(next.credit / Math.max(1, this.plan.ranks.length)))
    this.credit = new Array(this.consumers.length).fill(w)
    this.batch = new Array(this.consumers.length).fill(undefined)
    this.keyGroups = this.plan.keyGroups
  }

  get ctx(): StageContext {
    return { rank: this.sys.rank, instance: this.inst, instances: this.plan.ranks.length, stage: this.label }
  }

  get buffered(): number {
    return this.inQ.length - this.inHead + this.outQ.length - this.outHead
  }

  // ------------------------------------------------------------ output side

  /** An item out of this instance's operator or source. Synchronous, allocation-free when credit allows. */
  emit(x: unknown): void {
    if (this.ended) return
    let ch = -1
    if (this.key !== undefined) {
      const n = this.consumers.length
      const g = hashKey(this.key(x)) % this.keyGroups
      ch = Math.floor((g * n) / this.keyGroups)
    }
    if (this.outHead === this.outQ.length) {
      const c = ch >= 0 ? (this.credit[ch]! > 0 ? ch : -1) : this.pick()
      if (c >= 0) {
        this.put(c, x)
        return
      }
    }
    this.outQ.push(x)
    this.outCh.push(ch)
    this.sys.buffer(1)
  }

  /** A consumer with credit, round robin; -1 if none has any. */
  private pick(): number {
    const n = this.credit.length
    for (let i = 0; i < n; i++) {
      const c = (this.rr + i) % n
      if (this.credit[c]! > 0) {
        this.rr = (c + 1) % n
        return c
      }
    }
    return -1
  }

  private put(c: number, x: unknown): void {
    this.credit[c]!--
    const b = this.batch[c]
    if (b === undefined) this.batch[c] = [x]
    else b.push(x)
    if (!this.dirty) {
      this.dirty = true
      this.sys.dirty(this)
    }
  }

  /** Sends the batches gathered (called at the end of the microtask, and before COMPLETE). */
  flush(): void {
    this.dirty = false
    if (this.ended) return
    for (let c = 0; c < this.batch.length; c++) {
      const b = this.batch[c]
      if (b === undefined) continue
      this.batch[c] = undefined
      if (!this.sys.sendData(this, c, b)) return
    }
  }

  /** Sends what waits in the output queue as far as credit goes. */
  drainOut(): void {
    while (this.outHead < this.outQ.length && !this.ended) {
      const want = this.outCh[this.outHead]!
      const c = want >= 0 ? (this.credit[want]! > 0 ? want : -1) : this.pick()
      if (c < 0) break
      const x = this.outQ[this.outHead]
      this.outQ[this.outHead] = undefined
      this.outHead++
      this.sys.buffer(-1)
      this.put(c, x)
    }
    if (this.outHead === this.outQ.length && this.outHead > 0) {
      this.outQ = []
      this.outCh = []
      this.outHead = 0
    } else if (this.outHead > 4096 && this.outHead * 2 > this.outQ.length) {
      this.outQ = this.outQ.slice(this.outHead)
      this.outCh = this.outCh.slice(this.outHead)
      this.outHead = 0
    }
  }

  onCredit(from: number, n: number): void {
    if (this.ended || !(from >= 0 && from < this.credit.length) || !(n > 0)) return
    this.credit[from]! += n
    this.drainOut()
    if (this.outHead < this.outQ.length) return
    if (this.outDone) return this.finish()
    if (this.plan.kind === "stage") this.pump()
    else this.pullMore()
  }

  private hasCredit(): boolean {
    for (let i = 0; i < this.credit.length; i++) if (this.credit[i]! > 0) return true
    return false
  }

  /** The operator (or source) completed: once its queue is out, COMPLETE goes to every consumer. */
  outComplete(): void {
    if (this.ended) return
    this.outDone = true
    if (this.outHead === this.outQ.length) this.finish()
  }

  private finish(): void {
    this.flush()
    if (this.ended) return
    for (let c = 0; c < this.consumers.length; c++) {
      this.sys.sendCtl([K.COMPLETE, this.st.sid, this.seg + 1, c, this.inst], this.consumers[c]!)
    }
    this.end()
  }

  fail(cause: unknown): void {
    if (this.ended) return
    const e = cause instanceof StageFailed || cause instanceof UnknownStage
      ? cause
      : new StageFailed({ stage: this.label, rank: this.sys.rank, instance: this.inst, cause })
    this.end()
    this.sys.failStream(this.st, e)
  }

  end(): void {
    if (this.ended) return
    this.ended = true
    this.sys.buffer(-this.buffered)
    this.inQ = []
    this.inFrom = []
    this.inHead = 0
    this.outQ = []
    this.outCh = []
    this.outHead = 0
    const sub = this.sub
    this.sub = undefined
    sub?.unsubscribe()
    const it = this.iter
    this.iter = undefined
    if (it !== undefined && !this.outDone) {
      try {
        const r = it.return?.()
        if (r !== undefined && typeof (r as any).then === "function") (r as Promise<unknown>).then(undefined, () => {})
      } catch {
        // a source's cleanup that throws changes nothing
      }
    }
    this.wake?.()
    if (this.target !== undefined && this.st.sink === this) this.st.sink = undefined
    this.sys.instanceEnded(this)
  }

  // ------------------------------------------------------------ input side

  onData(from: number, items: Array<unknown>): void {
    if (this.ended || !(from >= 0 && from < this.producers.length)) return
    const n = items.length
    for (let i = 0; i < n; i++) {
      this.inQ.push(items[i])
      this.inFrom.push(from)
    }
    this.sys.buffer(n)
    if (this.target !== undefined) this.deliver()
    else this.pump()
  }

  onComplete(from: number): void {
    if (this.ended || !(from >= 0 && from < this.producers.length)) return
    this.inOpen--
    if (this.target !== undefined) this.deliver()
    else this.pump()
  }

  /** Stage: feeds the operator while its output queue is empty. */
  pump(): void {
    const input = this.input
    if (input === undefined) return
    while (this.inHead < this.inQ.length && this.outHead === this.outQ.length && !this.ended) {
      const x = this.inQ[this.inHead]
      const f = this.inFrom[this.inHead]!
      this.inQ[this.inHead] = undefined
      this.inHead++
      this.sys.buffer(-1)
      this.unreturned[f]!++
      input.next(x)
    }
    if (this.ended) return
    this.compactIn()
    if (this.outHead === this.outQ.length) this.release(false)
    if (this.inOpen === 0 && this.inHead === this.inQ.length && !input.closed && !this.outDone) {
      this.input = undefined
      input.complete()
    }
  }

  private compactIn(): void {
    if (this.inHead === this.inQ.length) {
      if (this.inHead > 0) {
        this.inQ = []
        this.inFrom = []
        this.inHead = 0
      }
    } else if (this.inHead > 4096 && this.inHead * 2 > this.inQ.length) {
      this.inQ = this.inQ.slice(this.inHead)
      this.inFrom = this.inFrom.slice(this.inHead)
      this.inHead = 0
    }
  }

  /** Gives credit back to the producers, in batches (all of it when `all`). */
  release(all: boolean): void {
    for (let p = 0; p < this.unreturned.length; p++) {
      const n = this.unreturned[p]!
      if (n >= this.threshold || (all && n > 0)) {
        this.unreturned[p] = 0
        this.sys.sendCtl([K.CREDIT, this.st.sid, this.seg - 1, p, this.inst, n], this.producers[p]!)
      }
    }
  }

  /** Sink: hands items to the subscriber (push) or to waiting pulls. */
  deliver(): void {
    const t = this.target!
    if (t.pull) {
      while (this.waiters.length > 0 && this.inHead < this.inQ.length) {
        this.waiters.shift()!.resolve({ done: false, value: this.take() })
      }
      this.compactIn()
      this.release(false)
    } else {
      while (this.inHead < this.inQ.length && !this.ended) {
        const x = this.take()
        t.next(x)
        if (t.closed()) return
      }
      if (this.ended) return
      this.compactIn()
      this.release(false)
    }
    if (this.inOpen === 0 && this.inHead === this.inQ.length && !this.ended) {
      this.end()
      for (const w of this.waiters.splice(0)) w.resolve({ done: true, value: undefined })
      t.complete()
      this.sys.cancelStream(this.st)
    }
  }

  private take(): unknown {
    const x = this.inQ[this.inHead]
    const f = this.inFrom[this.inHead]!
    this.inQ[this.inHead] = undefined
    this.inHead++
    this.sys.buffer(-1)
    this.unreturned[f]!++
    return x
  }

  /** Sink, pull mode: the next item. */
  pull(): Promise<IteratorResult<unknown>> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.inHead < this.inQ.length) {
      const value = this.take()
      this.compactIn()
      this.release(false)
      if (this.inOpen === 0 && this.inHead === this.inQ.length) {
        this.end()
        this.target!.complete()
        this.sys.cancelStream(this.st)
      }
      return Promise.resolve({ done: false, value })
    }
    if (this.ended) return Promise.resolve({ done: true, value: undefined })
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }))
  }

  // ------------------------------------------------------------ sources

  startSource(src: SourceLike<unknown>): void {
    if (isObservable(src)) {
      this.sub = (src as Observable<unknown>).subscribe({
        next: (x) => this.emit(x),
        error: (e) => this.fail(e),
        complete: () => this.outComplete()
      })
      return
    }
    if (isAsyncIterable(src)) {
      this.iter = src[Symbol.asyncIterator]()
      this.asyncIter = true
    } else if (isIterable(src)) {
      this.iter = src[Symbol.iterator]()
    } else {
      throw new TypeError(`the source is not an Observable, an iterable or an async iterable: ${Codec.describeValue(src)}`)
    }
    this.pullMore()
  }

  /** Pulls from an iterable source while there is credit and nothing waits. */
  pullMore(): void {
    if (this.iter === undefined || this.ended || this.outDone) return
    if (this.asyncIter) {
      if (this.wake !== undefined) {
        const w = this.wake
        this.wake = undefined
        w()
      } else if (!this.pulling) void this.pullAsync()
      return
    }
    if (this.pulling) return
    this.pulling = true
    try {
      const it = this.iter as Iterator<unknown>
      let budget = this.sys.budget
      while (!this.ended && this.outHead === this.outQ.length && this.hasCredit()) {
        if (budget-- === 0) {
          setImmediate(() => this.pullMore())
          return
        }
        const r = it.next()
        if (r.done) {
          this.outComplete()
          return
        }
        this.emit(r.value)
      }
    } catch (e) {
      this.fail(e)
    } finally {
      this.pulling = false
    }
  }

  private async pullAsync(): Promise<void> {
    this.pulling = true
    const it = this.iter as AsyncIterator<unknown>
    try {
      while (!this.ended && !this.outDone) {
        if (!(this.outHead === this.outQ.length && this.hasCredit())) {
          await new Promise<void>((r) => (this.wake = r))
          continue
        }
        const r = await it.next()
        if (this.ended) return
        if (r.done) {
          this.outComplete()
          return
        }
        this.emit(r.value)
      }
    } catch (e) {
      this.fail(e)
    } finally {
      this.pulling = false
    }
  }
}

// ------------------------------------------------------------------ the system

/**
 * The stream system of one rank.
 *
 * **When to use**: start one on every rank with {@link Streams.start}
 * (collective), build pipelines on the rank that consumes them
 * (`Pipeline.from`), and `shutdown` it (collective) at the end. The other
 * ranks run their stage instances while they wait in `shutdown`.
 *
 * @example
 * ```ts
 * import { lastValueFrom, map, toArray } from "rxjs"
 * import { Pipeline, Stage, Streams } from "rankflow/patterns/stream"
 * import type { Comm } from "rankflow/promise"
 * const double = Stage.define("double", map((x: number) => x * 2))
 * export default async (comm: Comm) => {
 *   const streams = await Streams.start(comm)
 *   let out: Array<number> = []
 *   if (comm.rank === 0) out = await lastValueFrom(Pipeline.from(streams, [1, 2, 3]).via(double).toObservable().pipe(toArray()))
 *   await streams.shutdown()
 *   return out
 * }
 * ```
 * @category models
 * @since 0.4.0
 */
export class Streams {
  readonly rank: number
  readonly size: number
  /** The system's own communicator (a duplicate of the one it started from). */
  readonly comm: Comm
  /** Malformed frames received from other ranks (ignored). */
  malformed = 0
  /** @internal */
  readonly budget: number
  private readonly streams = new Map<number, StreamState>()
  /** Frames for streams whose SUBSCRIBE has not arrived yet (bounded by credit). */
  private readonly early = new Map<number, Array<unknown>>()
  /** Highest stream counter subscribed here, per subscriber rank. */
  private readonly seen: Array<number>
  private readonly lost: Array<boolean>
  private nextSid = 0
  private bufferedNow = 0
  private peak = 0
  private framesSent = 0
  private itemsSent = 0
  private framesReceived = 0
  private itemsReceived = 0
  private dirtyList: Array<Instance> = []
  private flushQueued = false
  /** No frame goes out any more (but FIN): set by shutdown once every rank is in it. */
  private closed = false
  private shuttingDown = false
  /** The receive loop has ended. */
  private stopped = false
  private loopEnded = false
  /** READY (index 0) and FIN (index 1) heard from each peer. */
  private readonly heard: [Array<boolean>, Array<boolean>]
  private waitingFor = -1
  private heardAll: (() => void) | undefined = undefined
  private readonly status = new Status()
  private pendingRecv: { cancel(): void } | undefined = undefined

  private constructor(comm: Comm, options: StreamsOptions) {
    this.comm = comm
    this.rank = comm.rank
    this.size = comm.size
    this.budget = options.budget ?? 4096
    this.seen = new Array(this.size).fill(0)
    this.lost = new Array(this.size).fill(false)
    this.heard = [new Array(this.size).fill(false), new Array(this.size).fill(false)]
  }

  /**
   * Starts this rank's stream system over a duplicate of `comm` (collective:
   * every rank of `comm` calls it).
   */
  static async start(comm: Comm, options: StreamsOptions = {}): Promise<Streams> {
    const own = await comm.dup()
    const s = new Streams(own, options)
    s.listen()
    return s
  }

  /** The counters of this rank. */
  stats(): StreamStats {
    return {
      streams: this.streams.size,
      buffered: this.bufferedNow,
      peakBuffered: this.peak,
      framesSent: this.framesSent,
      itemsSent: this.itemsSent,
      framesReceived: this.framesReceived,
      itemsReceived: this.itemsReceived
    }
  }

  /** Sets `peakBuffered` back to what is held now. */
  resetPeak(): void {
    this.peak = this.bufferedNow
  }

  /**
   * Stops the system (collective: every rank calls it, so that no rank
   * leaves while others still stream through it). Pipelines still running
   * are cancelled.
   */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return
    this.shuttingDown = true
    await new Promise((r) => setImmediate(r))
    // READY to every peer; this rank serves its streams until every live
    // peer is in shutdown too (a lost one is not waited for: a barrier could
    // wait on a live rank that gave up on the lost one).
    await this.allPeers(0, K.READY, Infinity)
    this.closed = true
    for (const st of [...this.streams.values()]) this.dropStream(st, new InvalidPipeline({ rank: this.rank, op: "shutdown", reason: "the stream system shut down while the pipeline ran" }))
    // FIN to every peer after this rank's last frame: once a peer's FIN is
    // here, so is every frame it sent before (one sender's messages do not
    // overtake each other), and none is left unreceived when the
    // communicator is freed. A peer silent for 10 s is not waited for.
    await this.allPeers(1, K.FIN, 10_000)
    this.stopped = true
    this.pendingRecv?.cancel()
    this.comm.free()
  }

  /** Sends `kind` to every live peer and waits until each has sent it here (or is lost). */
  private allPeers(phase: 0 | 1, kind: number, deadline: number): Promise<void> {
    if (this.loopEnded) return Promise.resolve()
    for (let p = 0; p < this.size; p++) {
      if (p === this.rank || this.lost[p]) continue
      try {
        this.comm.isend([kind, 0], p, TAG)
      } catch {
        // the peer is gone: rankLost counts it
      }
    }
    return new Promise<void>((resolve) => {
      const timer = deadline === Infinity ? undefined : setTimeout(() => this.heardAll?.(), deadline)
      this.waitingFor = phase
      this.heardAll = () => {
        clearTimeout(timer)
        this.waitingFor = -1
        this.heardAll = undefined
        resolve()
      }
      this.checkHeard()
    })
  }

  private checkHeard(): void {
    const phase = this.waitingFor
    if (phase < 0 || this.heardAll === undefined) return
    if (!this.loopEnded) for (let p = 0; p < this.size; p++) if (p !== this.rank && !this.heard[phase]![p] && !this.lost[p]) return
    this.heardAll()
  }

  // ------------------------------------------------------------ internals used by instances

  /** @internal */
  buffer(n: number): void {
    this.bufferedNow += n
    if (this.bufferedNow > this.peak) this.peak = this.bufferedNow
  }

  /** @internal */
  dirty(i: Instance): void {
    this.dirtyList.push(i)
    if (!this.flushQueued) {
      this.flushQueued = true
      queueMicrotask(this.flushAll)
    }
  }

  private readonly flushAll = (): void => {
    this.flushQueued = false
    const list = this.dirtyList
    this.dirtyList = []
    for (let i = 0; i < list.length; i++) if (list[i]!.dirty) list[i]!.flush()
  }

  /** @internal Sends a batch; false (and the instance failed) if it cannot travel. */
  sendData(i: Instance, c: number, items: Array<unknown>): boolean {
    const dst = i.consumers[c]!
    if (this.closed) return false
    try {
      this.comm.isend([K.DATA, i.st.sid, i.seg + 1, c, i.inst, items], dst, TAG)
    } catch (e) {
      if (e instanceof Errors.Unencodable) {
        let at = 0
        let bad: { what: string; path: string } | undefined
        for (; at < items.length; at++) if ((bad = Codec.findUnencodable(items[at], "the item")) !== undefined) break
        i.fail(new Errors.Unencodable({
          rank: this.rank,
          op: "stream send",
          peer: dst,
          tag: TAG,
          what: bad?.what ?? e.what,
          path: bad?.path ?? e.path
        }))
      } else i.fail(e)
      return false
    }
    this.framesSent++
    this.itemsSent += items.length
    return true
  }

  /** @internal */
  sendCtl(msg: Array<unknown>, dst: number): void {
    if (this.closed || this.lost[dst]) return
    try {
      this.comm.isend(msg, dst, TAG)
      this.framesSent++
    } catch {
      // only a FAIL whose cause cannot travel gets here: sendFail retries with a plain one
      if (msg[0] === K.FAIL) this.comm.isend([K.FAIL, msg[1], toWire(new Error(String((msg[2] as any)?.fields?.cause?.message ?? "a failure that cannot be encoded")))], dst, TAG)
    }
  }

  /** @internal */
  instanceEnded(i: Instance): void {
    const st = i.st
    st.instances.delete(instKey(i.seg, i.inst))
    if (st.instances.size === 0 && st.sink === undefined) this.forget(st)
  }

  private forget(st: StreamState): void {
    if (st.done) return
    st.done = true
    this.streams.delete(st.sid)
  }

  /** @internal A stage failed: tell the subscriber (which cancels the rest). */
  failStream(st: StreamState, e: unknown): void {
    if (st.driver === this.rank) this.driverFail(st, e)
    else this.sendCtl([K.FAIL, st.sid, toWire(e)], st.driver)
  }

  private driverFail(st: StreamState, e: unknown): void {
    if (st.cancelled) return
    const sink = st.sink
    this.cancelStream(st)
    if (sink !== undefined) {
      sink.failure = e
      for (const w of sink.waiters.splice(0)) w.reject(e)
      sink.target!.error(e)
    }
  }

  /**
   * @internal The subscriber's side ends a stream: early (unsubscribe,
   * failure), or once its sink completed (an instance that outlived it, a
   * producer whose consumer completed early with `take`, stops too).
   */
  cancelStream(st: StreamState): void {
    if (st.cancelled) return
    st.cancelled = true
    if (st.driver === this.rank) for (const r of st.ranks) this.sendCtl([K.CANCEL, st.sid], r)
    const sink = st.sink
    st.sink = undefined
    for (const i of [...st.instances.values()]) i.end()
    sink?.end()
    this.forget(st)
  }

  private dropStream(st: StreamState, e: unknown): void {
    if (st.driver === this.rank) this.driverFail(st, e)
    else this.cancelStream(st)
  }

  // ------------------------------------------------------------ opening a stream (the subscriber's rank)

  /** @internal Starts a stream of `plan` delivering to `target`; returns its cancel. */
  open(plan: ReadonlyArray<SegmentPlan>, local: LocalParts, target: SinkTarget): { cancel(): void; sink: Instance } {
    if (this.closed) throw new InvalidPipeline({ rank: this.rank, op: "subscribe", reason: "the stream system has shut down" })
    const sid = this.rank * SID + ++this.nextSid
    const st = new StreamState(sid, this.rank, plan)
    for (const r of st.ranks) {
      if (this.lost[r]) {
        const seg = plan.find((s) => s.ranks.includes(r))!
        throw new StageFailed({ stage: seg.name, rank: r, instance: seg.ranks.indexOf(r), cause: new Error(`rank ${r} is lost`) })
      }
    }
    this.streams.set(sid, st)
    for (const r of st.ranks) this.sendCtl([K.SUBSCRIBE, sid, plan], r)
    const last = plan.length - 1
    const sink = new Instance(this, st, last, 0)
    sink.target = target
    st.sink = sink
    this.build(st, local)
    return { cancel: () => this.cancelStream(st), sink }
  }

  /** Starts this rank's instances of a stream, consumers first. */
  private build(st: StreamState, local: LocalParts | undefined): void {
    const plan = st.plan
    for (let seg = plan.length - 2; seg >= 0 && !st.done; seg--) {
      const p = plan[seg]!
      for (let inst = 0; inst < p.ranks.length && !st.done; inst++) {
        if (p.ranks[inst] !== this.rank) continue
        const i = new Instance(this, st, seg, inst)
        st.instances.set(instKey(seg, inst), i)
        try {
          if (p.key !== "" || local?.key[seg] !== undefined) {
            const k = local?.key[seg] ?? lookup.key(p.key)?.fn
            if (k === undefined) throw new UnknownStage({ rank: this.rank, name: p.key, kind: "key", known: namesOf("key") })
            i.key = k
          }
          if (p.kind === "source") {
            let src = seg === 0 && st.driver === this.rank ? local?.source : undefined
            if (src === undefined) {
              const def = lookup.source(p.name)
              if (def === undefined) throw new UnknownStage({ rank: this.rank, name: p.name, kind: "source", known: namesOf("source") })
              src = def.make(p.args, i.ctx)
            }
            i.startSource(src!)
          } else {
            let op = local?.op[seg]
            if (op === undefined) {
              const def = lookup.stage(p.name)
              if (def === undefined) throw new UnknownStage({ rank: this.rank, name: p.name, kind: "stage", known: namesOf("stage") })
              op = def.make(p.args, i.ctx)
            }
            if (typeof op !== "function") throw new TypeError(`the factory of stage "${p.name}" did not return an operator function`)
            const input = new Subject<unknown>()
            i.input = input
            const out = op(input.asObservable())
            if (!isObservable(out)) throw new TypeError(`the operator of stage "${p.name}" did not return an Observable`)
            i.sub = out.subscribe({
              next: (x) => i.emit(x),
              error: (e) => i.fail(e),
              complete: () => i.outComplete()
            })
            if (i.ended) i.sub.unsubscribe()
          }
        } catch (e) {
          i.fail(e)
        }
      }
    }
  }

  // ------------------------------------------------------------ receiving

  private listen(): void {
    for (let p = 0; p < this.size; p++) {
      if (p === this.rank) continue
      // never matched: fails when peer p is lost or ends
      this.comm.irecv(p, TAG_SENTINEL).wait().then(
        () => {},
        () => {
          if (!this.stopped) this.rankLost(p)
        }
      )
    }
    void this.loop()
  }

  private async loop(): Promise<void> {
    const comm = this.comm
    const status = this.status
    let burst = 0
    while (!this.stopped) {
      if (++burst >= 1024) {
        burst = 0
        await new Promise((r) => setImmediate(r))
        if (this.stopped) return
      }
      const req = comm.irecv(ANY_SOURCE, TAG)
      this.pendingRecv = req
      let msg: unknown
      try {
        const [done, v] = req.test(status)
        if (done) msg = v
        else {
          burst = 0
          msg = await req.wait(status)
        }
      } catch (e) {
        if (this.stopped) return
        if (e instanceof Errors.Undecodable) continue
        // every peer is gone
        this.loopEnded = true
        this.checkHeard()
        return
      }
      if (this.stopped) return
      if (status.cancelled) continue
      try {
        if (!this.dispatch(msg, status.source)) this.malformed++
      } catch {
        // a malformed frame from a peer never takes this rank down
        this.malformed++
      }
    }
  }

  /** Serves one frame from rank `src`; false if it is malformed. */
  private dispatch(m: unknown, src: number): boolean {
    if (!Array.isArray(m) || typeof m[0] !== "number" || typeof m[1] !== "number") return false
    if (m[0] === K.READY || m[0] === K.FIN) {
      if (!(src >= 0 && src < this.size)) return false
      this.heard[m[0] === K.READY ? 0 : 1]![src] = true
      this.checkHeard()
      return true
    }
    this.framesReceived++
    const sid = m[1] as number
    const driver = Math.floor(sid / SID)
    const counter = sid % SID
    if (!(driver >= 0 && driver < this.size)) return false
    if (m[0] === K.SUBSCRIBE) {
      if (src !== driver || !Array.isArray(m[2])) return false
      if (counter > this.seen[driver]!) this.seen[driver] = counter
      const st = new StreamState(sid, driver, m[2] as Array<SegmentPlan>)
      this.streams.set(sid, st)
      this.build(st, undefined)
      const early = this.early.get(sid)
      if (early !== undefined) {
        this.early.delete(sid)
        for (let i = 0; i < early.length; i += 2) this.dispatch(early[i], early[i + 1] as number)
      }
      if (st.instances.size === 0 && !st.done) this.forget(st)
      return true
    }
    const st = this.streams.get(sid)
    if (st === undefined) {
      if (driver !== this.rank && counter > this.seen[driver]! && m[0] !== K.CANCEL) {
        // ahead of its SUBSCRIBE (from another sender): keep it until then
        let q = this.early.get(sid)
        if (q === undefined) this.early.set(sid, q = [])
        q.push(m, src)
        this.framesReceived--
      }
      return true
    }
    switch (m[0]) {
      case K.DATA: {
        const items = m[5]
        if (!Array.isArray(items)) return false
        this.itemsReceived += items.length
        const i = this.target(st, m[2], m[3])
        if (i !== undefined) i.onData(m[4] as number, items)
        return true
      }
      case K.CREDIT: {
        const i = st.instances.get(instKey(m[2] as number, m[3] as number))
        if (i !== undefined) i.onCredit(m[4] as number, m[5] as number)
        return true
      }
      case K.COMPLETE: {
        const i = this.target(st, m[2], m[3])
        if (i !== undefined) i.onComplete(m[4] as number)
        return true
      }
      case K.FAIL:
        if (st.driver !== this.rank) return false
        this.driverFail(st, fromWire(m[2]))
        return true
      case K.CANCEL:
        if (src !== st.driver) return false
        this.cancelStream(st)
        return true
      default:
        return false
    }
  }

  private target(st: StreamState, seg: unknown, inst: unknown): Instance | undefined {
    if (st.sink !== undefined && seg === st.plan.length - 1) return inst === 0 ? st.sink : undefined
    return st.instances.get(instKey(seg as number, inst as number))
  }

  private rankLost(p: number): void {
    this.lost[p] = true
    this.checkHeard()
    for (const sid of [...this.early.keys()]) if (Math.floor(sid / SID) === p) this.early.delete(sid)
    for (const st of [...this.streams.values()]) {
      if (st.driver === p) this.cancelStream(st)
      else if (st.driver === this.rank && st.ranks.includes(p)) {
        const seg = st.plan.find((s) => s.ranks.includes(p))!
        this.driverFail(st, new StageFailed({ stage: seg.name, rank: p, instance: seg.ranks.indexOf(p), cause: new Error(`rank ${p} is lost`) }))
      }
    }
  }
}

const namesOf = (kind: "stage" | "source" | "key"): Array<string> => Stage.names(kind)
