/**
 * The engine under every executor and pool: a queue of jobs, a set of
 * workers (threads, processes, or ranks of a communicator), and the policy
 * that hands jobs to workers.
 *
 * **Batching.** A job is one call or a chunk of calls (`map`'s chunks). The
 * pool learns each function's mean run time from its workers' reports; a
 * function whose calls take less than `tinyMs` is *tiny*, and queued calls of
 * tiny functions are shipped many to a message (up to `maxBatch` calls, as
 * many as fit in `batchMs` of work, never more than a fair share of the
 * queue), with up to two batches in flight per worker so a worker never waits
 * for the next one. Calls of a function not yet measured, or slow ones, or
 * with a timeout or an abort signal, go one at a time, to a worker that has
 * nothing else in flight: their start is their dispatch, and aborting them
 * touches nothing else. A lone call goes out at once, so batching costs
 * latency nothing.
 *
 * **Failures.** A worker that ends in any way fails every call in flight on
 * it with `WorkerExited` (or, for a call being aborted, with its
 * cancellation or timeout) and is replaced. Recycling (`maxTasksPerChild`,
 * `maxMemoryPerChild`) retires a worker after its in-flight calls finish and
 * starts its replacement at once.
 *
 * **Aborts.** Aborting a running call (its future's `abort()`, its own
 * `signal`, its `timeout`) fires the `AbortSignal` the call sees; if the call
 * has not ended `abortGrace` ms later, its worker is terminated.
 *
 * @since 0.2.0
 */
import { availableParallelism } from "node:os"
import { answer } from "./Channel.ts"
import {
  CancelledError,
  fromWire,
  QueueFull,
  ShutdownError,
  TaskTimeout,
  toWire,
  WorkerExited
} from "./Errors.ts"
import { checkProcessArguments } from "./Guards.ts"
import { type ExitInfo, type Link, type SpawnOptions, startProcess, startThread } from "./Link.ts"
import { Histogram, type PoolMetrics } from "./Metrics.ts"
import type { FromWorker, ToWorker } from "./Runner.ts"
import { type Definition, definitionOf, keyOf, type Runnable } from "./Task.ts"
import { pack, unpack } from "./Wire.ts"

const QUEUED = 0
const RUNNING = 1
const DONE = 2

/**
 * One job: calls of one function (one for `submit`, a chunk for `map`),
 * and what receives its outcome. Futures and map chunks are jobs; the pool
 * fills the fields below when the job is queued.
 *
 * @category models
 * @since 0.2.0
 */
export abstract class Job {
  /** @internal */ pool: WorkerPool | undefined = undefined
  /** @internal */ fid = 0
  /** @internal one argument tuple (`n` 1), or a list of them */ tuples: Array<unknown> | undefined = undefined
  /** @internal number of calls */ n = 0
  /** @internal */ timeout: number | undefined = undefined
  /** @internal */ exclusive = false
  /** @internal */ jobState = QUEUED
  /** @internal */ batch: Batch | undefined = undefined
  /** @internal */ abortReason: "abort" | "timeout" | undefined = undefined
  /** @internal */ timer: ReturnType<typeof setTimeout> | undefined = undefined

  /** The job was handed to a worker. */
  abstract _running(): void
  /**
   * The job finished: its results are `values[at .. at + n)`; `errors` lists
   * `[index within the job, error]` for the calls that threw.
   */
  abstract _settle(values: Array<unknown>, at: number, n: number, errors: Array<readonly [number, unknown]> | undefined): void
  /** The whole job failed (cancelled, timed out, lost with its worker). */
  abstract _fail(error: unknown, cancelled: boolean): void
}

interface Batch {
  readonly id: number
  readonly slot: Slot
  readonly jobs: Array<Job>
  readonly calls: number
  readonly exclusive: boolean
  grace?: ReturnType<typeof setTimeout> | undefined
}

interface Slot {
  readonly index: number
  readonly link: Link
  readonly inflight: Map<number, Batch>
  readonly defined: Set<number>
  exclusive: boolean
  done: number
  retiring: boolean
  dead: boolean
  refd: boolean
}

/**
 * Options of a pool of workers.
 *
 * @category models
 * @since 0.2.0
 */
export interface WorkerPoolOptions extends SpawnOptions {
  /** `thread` (worker threads, the default) or `process` (child processes). */
  readonly kind?: "thread" | "process" | undefined
  /** How many workers at most (default: the machine's available parallelism). Workers start as work arrives. */
  readonly maxWorkers?: number | undefined
  /** Runs once in every worker before its first task. */
  readonly initializer?: Runnable | undefined
  readonly initargs?: ReadonlyArray<unknown> | undefined
  /** Replace a worker after it has run this many calls (Python's `maxtasksperchild`). */
  readonly maxTasksPerChild?: number | undefined
  /** Replace a worker whose memory (a thread: its heap; a process: its RSS) exceeds this many MiB after a task. */
  readonly maxMemoryPerChild?: number | undefined
  /** At most this many calls wait in the queue: `submit` throws `QueueFull` beyond it. */
  readonly maxQueue?: number | undefined
  /** How long an aborted running call may take to end before its worker is terminated (ms, default 1000). */
  readonly abortGrace?: number | undefined
  /** Ship calls of tiny functions many to a message (default true). */
  readonly batching?: boolean | undefined
  /** Most calls in one message (default 4096). */
  readonly maxBatch?: number | undefined
  /** A function whose mean call takes less than this (ms) is batched (default 0.25). */
  readonly tinyMs?: number | undefined
  /** Work per batch to aim for (ms, default 2). */
  readonly batchMs?: number | undefined
  /** Starts worker number `index` (default: a thread or a process, by `kind`). */
  readonly start?: ((index: number) => Link) | undefined
  /** Replace workers that end (default true; a communicator's ranks cannot be). */
  readonly replace?: boolean | undefined
  /** Start every worker now rather than as work arrives. */
  readonly eager?: boolean | undefined
}

const STOP_GRACE_MS = 2000

/**
 * A pool of workers running jobs. Executors and `Pool` are faces of it.
 *
 * @category models
 * @since 0.2.0
 */
export class WorkerPool {
  readonly kind: "thread" | "process" | "rank"
  readonly maxWorkers: number
  private readonly options: WorkerPoolOptions
  private readonly queue: Array<Job> = []
  private head = 0
  private queuedCalls = 0
  private runningCalls = 0
  private readonly slots: Array<Slot> = []
  private readonly live = new Set<Slot>()
  private nextSlot = 0
  private nextBatch = 1
  private scheduled = false
  private closed = false
  private broken: unknown = undefined
  private readonly exits: Array<Promise<void>> = []
  private readonly roomWaiters: Array<() => void> = []
  private readonly idleWaiters: Array<() => void> = []
  // functions
  private readonly fidByObject = new WeakMap<object, number>()
  private readonly fidByKey = new Map<string, number>()
  private readonly defs: Array<Definition> = []
  private readonly statN: Array<number> = []
  private readonly statMs: Array<number> = []
  private readonly initDef: Definition | undefined
  // metrics
  private completed = 0
  private failed = 0
  private cancelledCalls = 0
  private batches = 0
  private readonly hist = new Histogram()
  private readonly maxBatch: number
  private readonly tinyMs: number
  private readonly batchMs: number
  private readonly batching: boolean
  private readonly abortGrace: number
  private readonly maxQueue: number

  constructor(options: WorkerPoolOptions = {}) {
    this.options = options
    this.kind = options.start !== undefined ? "rank" : options.kind ?? "thread"
    const n = options.maxWorkers ?? availableParallelism()
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`maxWorkers must be a positive integer; got ${n}`)
    this.maxWorkers = n
    this.maxBatch = options.maxBatch ?? 4096
    this.tinyMs = options.tinyMs ?? 0.25
    this.batchMs = options.batchMs ?? 2
    this.batching = options.batching ?? true
    this.abortGrace = options.abortGrace ?? 1000
    this.maxQueue = options.maxQueue ?? Infinity
    if (options.maxTasksPerChild !== undefined && !(options.maxTasksPerChild >= 1)) {
      throw new RangeError(`maxTasksPerChild must be at least 1; got ${options.maxTasksPerChild}`)
    }
    this.initDef = options.initializer === undefined ? undefined : definitionOf(options.initializer)
    if (options.eager === true) for (let i = 0; i < n; i++) this.spawn()
  }

  // ---------------------------------------------------------------- jobs

  /** The id of a runnable's function in this pool (throws `CapturedVariables` / `Unshippable`). */
  fidOf(r: Runnable): number {
    const obj = r as unknown as object
    const known = this.fidByObject.get(obj)
    if (known !== undefined) return known
    const def = definitionOf(r)
    const key = keyOf(def)
    let fid = this.fidByKey.get(key)
    if (fid === undefined) {
      fid = this.defs.length
      this.defs.push(def)
      this.statN.push(0)
      this.statMs.push(0)
      this.fidByKey.set(key, fid)
    }
    this.fidByObject.set(obj, fid)
    return fid
  }

  /** Throws when the pool takes no more work. */
  checkOpen(op: string): void {
    if (this.broken !== undefined) throw this.broken
    if (this.closed) throw new ShutdownError({ op })
  }

  /** Is there room for `calls` more queued calls? */
  hasRoom(calls = 1): boolean {
    return this.queuedCalls + calls <= this.maxQueue || this.queuedCalls === 0
  }

  /** Resolves when the queue has room (at once if it has). */
  ready(): Promise<void> {
    if (this.hasRoom()) return Promise.resolve()
    return new Promise((resolve) => this.roomWaiters.push(resolve))
  }

  /**
   * Queues `job`: `n` calls of function `fid` (`tuples` is the argument
   * tuple when `n` is 1, else the list of tuples). Throws `ShutdownError`
   * after shutdown and `QueueFull` when the queue is full (unless `force`).
   */
  enqueue(
    job: Job,
    fid: number,
    tuples: Array<unknown>,
    n: number,
    options?: { readonly timeout?: number | undefined; readonly signal?: AbortSignal | undefined; readonly force?: boolean }
  ): void {
    this.checkOpen("submit")
    if (options?.force !== true && this.queuedCalls + n > this.maxQueue && this.queuedCalls > 0) throw new QueueFull({ maxQueue: this.maxQueue })
    job.pool = this
    job.fid = fid
    job.tuples = tuples
    job.n = n
    if (this.kind === "process") {
      // What cannot exist in another process (shared memory) is refused here, before it leaves.
      try {
        checkProcessArguments(tuples)
      } catch (e) {
        job.jobState = DONE
        this.failed += n
        job._fail(e, false)
        return
      }
    }
    if (options !== undefined) {
      const timeout = options.timeout
      const signal = options.signal
      job.timeout = timeout
      job.exclusive = timeout !== undefined || signal !== undefined
      if (signal !== undefined) {
        if (signal.aborted) {
          job.jobState = DONE
          this.cancelledCalls += n
          job._fail(new CancelledError({ reason: "its signal was aborted before it was submitted", running: false, cause: signal.reason }), true)
          return
        }
        signal.addEventListener("abort", () => this.abort(job, "abort"), { once: true })
      }
    }
    this.queue.push(job)
    this.queuedCalls += n
    this.kick()
  }

  private kick(): void {
    // A worker with nothing in flight takes work now (latency); otherwise
    // let the queue gather this tick's submissions into batches.
    if (this.hasIdleSlot()) this.dispatch()
    else if (!this.scheduled) {
      this.scheduled = true
      queueMicrotask(() => {
        this.scheduled = false
        this.dispatch()
      })
    }
  }

  private hasIdleSlot(): boolean {
    if (this.slots.length < this.maxWorkers && !this.closingWorkers) return true
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!
      if (s.inflight.size === 0 && !s.retiring) return true
    }
    return false
  }

  /** Cancels a queued job (true), or does nothing to a running or finished one (false). */
  cancel(job: Job): boolean {
    if (job.jobState !== QUEUED) return false
    job.jobState = DONE
    this.queuedCalls -= job.n
    this.cancelledCalls += job.n
    job._fail(new CancelledError({ reason: "cancelled before it started", running: false }), true)
    this.compact()
    this.wakeRoom()
    this.checkIdle()
    return true
  }

  /**
   * Aborts a job: cancels it if queued; if running, fires its abort signal
   * and terminates its worker if it has not ended `abortGrace` ms later.
   */
  abort(job: Job, reason: "abort" | "timeout" = "abort"): boolean {
    if (job.jobState === QUEUED) return this.cancel(job)
    if (job.jobState !== RUNNING || job.abortReason !== undefined) return false
    job.abortReason = reason
    const b = job.batch!
    if (b.jobs.length === 1) {
      b.slot.link.send({ t: "abort", id: b.id, reason }, [])
      if (b.grace === undefined) {
        b.grace = setTimeout(() => {
          if (b.slot.inflight.has(b.id)) b.slot.link.kill()
        }, this.abortGrace)
      }
    }
    return true
  }

  // ------------------------------------------------------------- workers

  private closingWorkers = false

  private spawn(): Slot {
    const index = this.nextSlot++
    const o = this.options
    const link = o.start !== undefined
      ? o.start(index)
      : this.kind === "process"
      ? startProcess(o)
      : startThread(o)
    const s: Slot = {
      index,
      link,
      inflight: new Map(),
      defined: new Set(),
      exclusive: false,
      done: 0,
      retiring: false,
      dead: false,
      refd: true
    }
    link.onMessage = (m) => this.onMessage(s, m)
    let exited!: () => void
    this.exits.push(new Promise<void>((r) => (exited = r)))
    link.onExit = (info) => {
      this.onExit(s, info)
      exited()
    }
    if (this.initDef !== undefined) {
      const list: Array<ArrayBuffer> = []
      const p = pack([[...(this.options.initargs ?? [])]], link.transfer, list, true)
      link.send({ t: "init", def: this.initDef, b: p.b, ...(p.r ? { r: p.r } : {}) }, list)
    }
    this.slots.push(s)
    this.live.add(s)
    return s
  }

  private setRef(s: Slot, on: boolean): void {
    if (s.refd !== on) {
      s.refd = on
      s.link.ref(on)
    }
  }

  private onMessage(s: Slot, m: FromWorker): void {
    switch (m.t) {
      case "done":
        return this.onDone(s, m)
      case "start": {
        const b = s.inflight.get(m.id)
        if (b === undefined) return
        for (const job of b.jobs) {
          if (job.timeout !== undefined && job.timer === undefined && job.jobState === RUNNING) {
            job.timer = setTimeout(() => this.abort(job, "timeout"), job.timeout)
          }
        }
        return
      }
      case "inited":
        if (m.e !== undefined) this.breakPool(fromWire(m.e), s)
        return
      case "req":
        answer(s.link, m)
        return
    }
  }

  private onDone(s: Slot, m: Extract<FromWorker, { t: "done" }>): void {
    const b = s.inflight.get(m.id)
    if (b === undefined) return
    s.inflight.delete(m.id)
    if (b.exclusive) s.exclusive = false
    if (b.grace !== undefined) clearTimeout(b.grace)
    this.runningCalls -= b.calls
    s.done += b.calls
    let values: Array<unknown>
    let errs = m.e
    try {
      values = unpack(m, false)
    } catch (e) {
      values = []
      errs = [[-1, toWire(new Error(`the results could not be decoded: ${e instanceof Error ? e.message : e}`))]]
    }
    // learn how long calls take
    const per = m.ms / b.calls
    this.hist.record(per, b.calls)
    for (const job of b.jobs) {
      this.statN[job.fid]! += job.n
      this.statMs[job.fid]! += per * job.n
    }
    const all = errs !== undefined && errs.length > 0 && errs[0]![0] === -1 ? fromWire(errs[0]![1]) : undefined
    let ei = 0
    let at = 0
    for (const job of b.jobs) {
      const n = job.n
      let mine: Array<readonly [number, unknown]> | undefined
      if (all !== undefined) {
        mine = []
        for (let i = 0; i < n; i++) mine.push([i, all])
      } else if (errs !== undefined) {
        while (ei < errs.length && errs[ei]![0] < at + n) {
          ;(mine ??= []).push([errs[ei]![0] - at, fromWire(errs[ei]![1])])
          ei++
        }
      }
      this.finishJob(job, values, at, n, mine)
      at += n
    }
    this.afterBatch(s, m.mem)
  }

  private finishJob(job: Job, values: Array<unknown>, at: number, n: number, errs: Array<readonly [number, unknown]> | undefined): void {
    if (job.jobState === DONE) return
    job.jobState = DONE
    if (job.timer !== undefined) clearTimeout(job.timer)
    if (job.abortReason === "timeout") {
      this.failed += n
      job._fail(new TaskTimeout({ timeoutMs: job.timeout!, terminated: false }), false)
    } else if (job.abortReason === "abort" && errs !== undefined) {
      this.cancelledCalls += n
      job._fail(new CancelledError({ reason: "aborted while running", running: true, cause: errs[0]![1] }), true)
    } else {
      const bad = errs === undefined ? 0 : errs.length
      this.failed += bad
      this.completed += n - bad
      job._settle(values, at, n, errs)
    }
  }

  private afterBatch(s: Slot, mem: number | undefined): void {
    const o = this.options
    if (!s.retiring) {
      if (o.maxTasksPerChild !== undefined && s.done >= o.maxTasksPerChild) this.retire(s)
      else if (o.maxMemoryPerChild !== undefined && mem !== undefined && mem > o.maxMemoryPerChild * 1048576) this.retire(s)
    }
    if (s.retiring && s.inflight.size === 0) s.link.send({ t: "exit" }, [])
    this.wakeRoom()
    this.dispatch()
    if (s.inflight.size === 0 && !s.retiring) this.setRef(s, false)
    this.checkIdle()
  }

  private retire(s: Slot): void {
    s.retiring = true
    const i = this.slots.indexOf(s)
    if (i >= 0) this.slots.splice(i, 1)
  }

  private onExit(s: Slot, info: ExitInfo): void {
    s.dead = true
    this.live.delete(s)
    const i = this.slots.indexOf(s)
    if (i >= 0) this.slots.splice(i, 1)
    for (const b of s.inflight.values()) {
      if (b.grace !== undefined) clearTimeout(b.grace)
      this.runningCalls -= b.calls
      for (const job of b.jobs) {
        if (job.jobState === DONE) continue
        job.jobState = DONE
        if (job.timer !== undefined) clearTimeout(job.timer)
        const n = job.n
        if (job.abortReason === "timeout") {
          this.failed += n
          job._fail(new TaskTimeout({ timeoutMs: job.timeout!, terminated: true }), false)
        } else if (job.abortReason === "abort") {
          this.cancelledCalls += n
          job._fail(
            new CancelledError({
              reason: `aborted while running; it did not end within ${this.abortGrace} ms, so its worker was terminated`,
              running: true
            }),
            true
          )
        } else {
          this.failed += n
          job._fail(
            new WorkerExited({
              worker: s.index,
              kind: this.kind,
              reason: info.reason,
              exitCode: info.exitCode,
              signal: info.signal,
              cause: info.cause
            }),
            false
          )
        }
      }
    }
    s.inflight.clear()
    if (!this.closingWorkers && this.broken === undefined && (this.options.replace ?? true)) {
      // Replace it: at once if there is work, else when work comes.
      if (this.head < this.queue.length) this.dispatch()
    }
    this.wakeRoom()
    this.checkIdle()
  }

  private breakPool(error: unknown, s: Slot): void {
    // The worker whose initializer failed leaves without running what it was handed: those calls fail with the error.
    for (const b of s.inflight.values()) {
      this.runningCalls -= b.calls
      for (const job of b.jobs) {
        if (job.jobState === DONE) continue
        job.jobState = DONE
        if (job.timer !== undefined) clearTimeout(job.timer)
        this.failed += job.n
        job._fail(error, false)
      }
    }
    s.inflight.clear()
    if (this.broken === undefined) {
      this.broken = error
      // Every queued job fails with the initializer's error.
      for (let i = this.head; i < this.queue.length; i++) {
        const job = this.queue[i]!
        if (job.jobState !== QUEUED) continue
        job.jobState = DONE
        this.failed += job.n
        job._fail(error, false)
      }
      this.queue.length = 0
      this.head = 0
      this.queuedCalls = 0
    }
    this.wakeRoom()
    this.checkIdle()
  }

  // ------------------------------------------------------------ dispatch

  private isTiny(fid: number): boolean {
    const n = this.statN[fid]!
    return n > 0 && this.statMs[fid]! / n < this.tinyMs
  }

  private peek(): Job | undefined {
    while (this.head < this.queue.length) {
      const j = this.queue[this.head]!
      if (j.jobState === QUEUED) return j
      this.head++
    }
    this.compact()
    return undefined
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head)
      this.head = 0
    } else if (this.head === this.queue.length && this.head > 0) {
      this.queue.length = 0
      this.head = 0
    }
  }

  /** Hands queued jobs to workers. */
  dispatch(): void {
    if (this.broken !== undefined) return
    let job = this.peek()
    if (job === undefined) return
    // Start workers while there is more queued than idle workers can take.
    if (!this.closingWorkers) {
      let idle = 0
      for (const s of this.slots) if (s.inflight.size === 0) idle++
      while (this.slots.length < this.maxWorkers && idle < this.queuedCalls) {
        this.spawn()
        idle++
      }
    }
    const nSlots = this.slots.length
    if (nSlots === 0) return
    // Least loaded first: a pass per level of in-flight batches.
    for (let level = 0; level < 2 && job !== undefined; level++) {
      for (let k = 0; k < nSlots && job !== undefined; k++) {
        const s = this.slots[k]!
        if (s.retiring || s.dead || s.exclusive || s.inflight.size !== level) continue
        const batchable = this.batching && !job.exclusive && this.isTiny(job.fid)
        if (!batchable) {
          if (level > 0) continue
          this.send(s, [job], job.n, true)
        } else {
          const fair = Math.ceil(this.queuedCalls / nSlots)
          const mean = this.statMs[job.fid]! / this.statN[job.fid]!
          let limit = Math.min(this.maxBatch, fair, Math.max(1, Math.floor(this.batchMs / Math.max(mean, 1e-6))))
          const left = this.options.maxTasksPerChild !== undefined ? this.options.maxTasksPerChild - s.done - this.inflightCalls(s) : Infinity
          if (left <= 0) continue
          limit = Math.min(limit, left)
          const jobs: Array<Job> = [job]
          let calls = job.n
          this.head++
          for (;;) {
            const next = this.peek()
            if (next === undefined || next.exclusive || !this.isTiny(next.fid) || calls + next.n > limit) break
            jobs.push(next)
            calls += next.n
            this.head++
          }
          this.send(s, jobs, calls, false)
          job = this.peek()
          continue
        }
        this.head++
        job = this.peek()
      }
    }
  }

  private inflightCalls(s: Slot): number {
    let n = 0
    for (const b of s.inflight.values()) n += b.calls
    return n
  }

  private send(s: Slot, jobs: Array<Job>, calls: number, exclusive: boolean): void {
    const id = this.nextBatch++
    let tuples: Array<unknown>
    let fns: number | Array<number>
    const first = jobs[0]!
    if (jobs.length === 1) {
      tuples = first.n === 1 ? [first.tuples] : first.tuples!
      fns = first.fid
    } else {
      tuples = []
      let mixed = false
      for (const j of jobs) {
        if (j.fid !== first.fid) mixed = true
        if (j.n === 1) tuples.push(j.tuples)
        else for (const t of j.tuples!) tuples.push(t)
      }
      if (mixed) {
        fns = []
        for (const j of jobs) for (let i = 0; i < j.n; i++) fns.push(j.fid)
      } else fns = first.fid
    }
    let defs: Array<readonly [number, Definition]> | undefined
    for (const j of jobs) {
      if (!s.defined.has(j.fid)) {
        s.defined.add(j.fid)
        ;(defs ??= []).push([j.fid, this.defs[j.fid]!])
      }
    }
    const list: Array<ArrayBuffer> = []
    let packed
    try {
      packed = pack(tuples, s.link.transfer, list, true)
    } catch (e) {
      // Some arguments cannot travel: fail those jobs, send the rest.
      this.queuedCalls -= calls
      const ok: Array<Job> = []
      for (const j of jobs) {
        try {
          pack(j.n === 1 ? [j.tuples] : j.tuples!, false, [], true)
          ok.push(j)
        } catch (err) {
          j.jobState = DONE
          this.failed += j.n
          j._fail(err, false)
        }
      }
      if (ok.length > 0) {
        let n = 0
        for (const j of ok) n += j.n
        this.queuedCalls += n
        this.send(s, ok, n, exclusive)
      }
      void e
      return
    }
    const b: Batch = { id, slot: s, jobs, calls, exclusive }
    s.inflight.set(id, b)
    if (exclusive) s.exclusive = true
    this.queuedCalls -= calls
    this.runningCalls += calls
    this.batches++
    let notify = false
    for (const j of jobs) {
      j.jobState = RUNNING
      j.batch = b
      if (j.timeout !== undefined) notify = true
      j._running()
    }
    this.setRef(s, true)
    s.link.send({
      t: "run",
      id,
      ...(defs ? { defs } : {}),
      fns,
      ...(notify ? { notify } : {}),
      ...(this.options.maxMemoryPerChild !== undefined ? { mem: true } : {}),
      b: packed.b,
      ...(packed.r ? { r: packed.r } : {})
    } as ToWorker, list)
  }

  private wakeRoom(): void {
    while (this.roomWaiters.length > 0 && this.hasRoom()) this.roomWaiters.shift()!()
  }

  // ------------------------------------------------------------- closing

  /** Is nothing queued or running? */
  get idle(): boolean {
    return this.queuedCalls === 0 && this.runningCalls === 0
  }

  private checkIdle(): void {
    if (!this.idle) return
    for (const w of this.idleWaiters.splice(0)) w()
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Takes no more work; with `cancelFutures`, cancels every queued job. */
  close(cancelQueued = false): void {
    this.closed = true
    if (cancelQueued) {
      for (let i = this.head; i < this.queue.length; i++) this.cancel(this.queue[i]!)
    }
    for (const w of this.roomWaiters.splice(0)) w()
  }

  /**
   * Ends every worker: asks them to leave once idle, and terminates those
   * still there after a grace period. Resolves when all have ended.
   */
  async stopWorkers(now = false): Promise<void> {
    this.closingWorkers = true
    if (now) {
      for (const s of [...this.live]) s.link.kill()
    } else {
      for (const s of this.live) {
        this.setRef(s, true)
        s.link.send({ t: "exit" }, [])
      }
    }
    const grace = setTimeout(() => {
      for (const s of this.live) s.link.kill()
    }, STOP_GRACE_MS)
    await Promise.all(this.exits)
    clearTimeout(grace)
  }

  /** Ends the pool now: cancels queued jobs, kills workers (running jobs fail with `WorkerExited`). */
  terminate(): Promise<void> {
    this.close(true)
    return this.stopWorkers(true)
  }

  /** Counts and the run-time histogram. */
  metrics(): PoolMetrics {
    return {
      queued: this.queuedCalls,
      running: this.runningCalls,
      completed: this.completed,
      failed: this.failed,
      cancelled: this.cancelledCalls,
      workers: this.slots.length,
      started: this.nextSlot,
      batches: this.batches,
      runTime: this.hist.summary()
    }
  }

  /** Process ids (or thread ids) of the live workers. */
  pids(): Array<number | undefined> {
    return this.slots.map((s) => s.link.pid)
  }
}
