/**
 * The worker's side of a pool, whatever carries its messages (a worker
 * thread's port, a child process's pipe, a rank of a communicator): it
 * loads task functions, runs batches of calls one after another, and answers
 * with their results.
 *
 * Inside a task, {@link taskSignal} is the task's `AbortSignal`: it aborts
 * when the task is aborted (`future.abort()`) or runs past its timeout. A
 * function sent by its source also gets it as `this.signal`.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import { fromWire, toWire } from "./Errors.ts"
import type { Definition } from "./Task.ts"
import { isMoved, pack, type Packed, unpack } from "./Wire.ts"

/**
 * A message to a worker.
 *
 * - `run`: a batch of calls, one argument tuple each (`b`).
 * - `abort`: abort batch `id` (skip it if it has not started).
 * - `exit`: finish and leave.
 * - `init`: run the initializer.
 * - `reply`: the answer to a request this worker made (a queue operation).
 *
 * @category models
 * @since 0.2.0
 */
export type ToWorker =
  | {
    readonly t: "run"
    readonly id: number
    readonly defs?: ReadonlyArray<readonly [number, Definition]> | undefined
    /** The function of every call, or of each call in order. */
    readonly fns: number | ReadonlyArray<number>
    /** Tell when its first call starts, once its function has loaded (a task with a timeout). */
    readonly notify?: boolean | undefined
    /** Report memory after it. */
    readonly mem?: boolean | undefined
    readonly b: Packed["b"]
    readonly r?: Packed["r"]
  }
  | { readonly t: "abort"; readonly id: number; readonly reason: string }
  | { readonly t: "exit"; readonly code?: number | undefined }
  | {
    readonly t: "init"
    readonly def: Definition
    readonly b: Packed["b"]
    readonly r?: Packed["r"]
  }
  | { readonly t: "reply"; readonly rid: number; readonly ok: boolean; readonly b?: Packed["b"]; readonly e?: unknown }

/**
 * A message from a worker.
 *
 * - `done`: batch `id`'s results, in order; `e` lists `[index, error]`.
 * - `start`: batch `id` started (only when asked).
 * - `inited`: the initializer ran (`e` if it threw).
 * - `req`: a request for this side (a queue operation).
 *
 * @category models
 * @since 0.2.0
 */
export type FromWorker =
  | {
    readonly t: "done"
    readonly id: number
    readonly b: Packed["b"]
    readonly r?: Packed["r"]
    readonly e?: ReadonlyArray<readonly [number, unknown]> | undefined
    /** Milliseconds the batch ran. */
    readonly ms: number
    /** Memory in use after it (bytes), when asked. */
    readonly mem?: number | undefined
  }
  | { readonly t: "start"; readonly id: number }
  | { readonly t: "inited"; readonly e?: unknown }
  | { readonly t: "req"; readonly rid: number; readonly op: string; readonly id: number; readonly b?: Packed["b"]; readonly ms?: number }

/**
 * What a runner needs from its carrier.
 *
 * @category models
 * @since 0.2.0
 */
export interface Carrier {
  /** May buffers be moved (a thread)? */
  readonly transfer: boolean
  readonly post: (m: FromWorker, transferList: Array<ArrayBuffer>) => void
  /** Memory in use, for recycling by memory. */
  readonly memory: () => number
  /** Leave (after `exit`, or when the initializer failed). */
  readonly exit: (code: number) => void
}

const neverAborted = new AbortController().signal
let current: Batch | undefined

/**
 * Inside a task: its `AbortSignal`, aborted when the task is aborted or runs
 * past its timeout (with `reason` an `Error` saying which). Outside a task,
 * a signal that never aborts. Read it at any point of the task (tasks of a
 * worker run one at a time).
 *
 * @example
 * ```ts
 * import { taskSignal } from "rankflow/patterns/executor"
 * export const slow = async (ms: number) => {
 *   const signal = taskSignal()
 *   await new Promise((resolve, reject) => {
 *     const t = setTimeout(resolve, ms)
 *     signal.addEventListener("abort", () => { clearTimeout(t); reject(signal.reason) })
 *   })
 * }
 * ```
 * @category tasks
 * @since 0.2.0
 */
export const taskSignal = (): AbortSignal => (current === undefined ? neverAborted : current.signal)

class Batch {
  readonly m: Extract<ToWorker, { t: "run" }>
  private ac: AbortController | undefined = undefined
  reason: unknown = undefined
  aborted = false
  constructor(m: Extract<ToWorker, { t: "run" }>) {
    this.m = m
  }
  /** The batch's signal, made when first asked for (an AbortController is not free). */
  get signal(): AbortSignal {
    if (this.ac === undefined) {
      this.ac = new AbortController()
      if (this.aborted) this.ac.abort(this.reason)
    }
    return this.ac.signal
  }
  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    this.ac?.abort(reason)
  }
}

const fail = (e: unknown): unknown => toWire(e)

/**
 * Drives one worker: feed it every message with {@link Runner.receive}.
 *
 * @category running
 * @since 0.2.0
 */
export class Runner {
  private readonly carrier: Carrier
  private readonly fns = new Map<number, Function>()
  private readonly loading = new Map<number, Promise<Function>>()
  private readonly queue: Array<Batch> = []
  private readonly byId = new Map<number, Batch>()
  private readonly requests = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>()
  private nextRid = 1
  private busy = false
  private exiting = false
  private exitCode = 0
  private initializing: Promise<void> | undefined
  /** Called when the runner goes idle (nothing running or queued). */
  onIdle: (() => void) | undefined

  constructor(carrier: Carrier) {
    this.carrier = carrier
  }

  /** Is a batch running or waiting? */
  get active(): boolean {
    return this.busy || this.queue.length > 0 || this.initializing !== undefined
  }

  /** Handles one message. */
  receive(m: ToWorker): void {
    switch (m.t) {
      case "run": {
        const b = new Batch(m)
        this.byId.set(m.id, b)
        this.queue.push(b)
        if (!this.busy) this.pump()
        return
      }
      case "abort": {
        const b = this.byId.get(m.id)
        if (b !== undefined && !b.aborted) {
          const e = new Error(m.reason === "timeout" ? "the task ran past its timeout" : "the task was aborted")
          e.name = m.reason === "timeout" ? "TimeoutError" : "AbortError"
          b.abort(e)
        }
        return
      }
      case "exit":
        this.exiting = true
        this.exitCode = m.code ?? 0
        if (!this.active) this.carrier.exit(this.exitCode)
        return
      case "init":
        this.initializing = this.init(m).finally(() => {
          this.initializing = undefined
          if (!this.busy) this.pump()
        })
        return
      case "reply": {
        const r = this.requests.get(m.rid)
        if (r === undefined) return
        this.requests.delete(m.rid)
        if (m.ok) r.resolve(m.b === undefined ? undefined : unpack({ b: m.b }, false)[0])
        else r.reject(fromWire(m.e))
        return
      }
    }
  }

  /** Sends a request to the pool's side and waits for its reply. */
  request(op: string, id: number, value?: unknown, extra?: { ms?: number }): Promise<unknown> {
    const rid = this.nextRid++
    return new Promise((resolve, reject) => {
      this.requests.set(rid, { resolve, reject })
      const list: Array<ArrayBuffer> = []
      const b = value === undefined ? undefined : pack([value], this.carrier.transfer, list, false).b
      this.carrier.post({ t: "req", rid, op, id, ...(b === undefined ? {} : { b }), ...extra }, list)
    })
  }

  private async init(m: Extract<ToWorker, { t: "init" }>): Promise<void> {
    try {
      const fn = await load(m.def)
      const args = unpack(m, true)[0] as Array<unknown>
      await settle(fn.apply(undefined, args))
      this.carrier.post({ t: "inited" }, [])
    } catch (e) {
      this.carrier.post({ t: "inited", e: fail(e) }, [])
      this.exiting = true
      this.carrier.exit(1)
    }
  }

  private fn(id: number, defs: Extract<ToWorker, { t: "run" }>["defs"]): Function | Promise<Function> {
    const have = this.fns.get(id)
    if (have !== undefined) return have
    let p = this.loading.get(id)
    if (p === undefined) {
      const def = defs?.find((d) => d[0] === id)?.[1]
      if (def === undefined) return Promise.reject(new Error(`task function ${id} was never defined in this worker`))
      p = load(def).then((f) => {
        this.fns.set(id, f)
        this.loading.delete(id)
        return f
      }, (e) => {
        this.loading.delete(id)
        throw e
      })
      this.loading.set(id, p)
    }
    return p
  }

  private pump(): void {
    while (!this.busy && this.initializing === undefined) {
      const b = this.queue.shift()
      if (b === undefined) {
        if (this.exiting) this.carrier.exit(this.exitCode)
        else this.onIdle?.()
        return
      }
      this.busy = true
      const out = this.run(b)
      if (out !== undefined) {
        const next = (): void => {
          this.busy = false
          this.pump()
        }
        void out.then(next, next)
        return
      }
      this.busy = false
    }
  }

  // Runs a batch; returns a promise only when some call was asynchronous.
  private run(b: Batch): Promise<void> | undefined {
    const m = b.m
    const t0 = performance.now()
    let tuples: Array<unknown>
    try {
      tuples = unpack(m, true)
    } catch (e) {
      this.finish(b, t0, [], [[-1, fail(new Error(`the arguments could not be decoded: ${e instanceof Error ? e.message : e}`))]], 0)
      return undefined
    }
    const total = tuples.length
    const values: Array<unknown> = new Array(total)
    let errors: Array<readonly [number, unknown]> | undefined
    const fnIds = m.fns
    const self = { get signal(): AbortSignal {
      return b.signal
    } }
    // A task's timeout counts from when its first call starts, after its
    // function's module has loaded: the pool is told then.
    let notify = m.notify === true
    const call = (f: Function, i: number): unknown => {
      if (notify) {
        notify = false
        this.carrier.post({ t: "start", id: m.id }, [])
      }
      current = b
      try {
        return f.apply(self, tuples[i] as Array<unknown>)
      } finally {
        current = undefined
      }
    }
    const step = (i: number): Promise<void> | undefined => {
      for (; i < total; i++) {
        if (b.aborted) {
          ;(errors ??= []).push([i, fail(b.reason)])
          continue
        }
        const fid = typeof fnIds === "number" ? fnIds : fnIds[i]!
        let fn = this.fns.get(fid)
        try {
          let r: unknown
          if (fn === undefined) {
            const loaded = this.fn(fid, m.defs)
            if (typeof loaded === "function") {
              fn = loaded
              r = call(fn, i)
            } else {
              const at = i
              return loaded.then((f) => {
                let r: unknown
                try {
                  r = call(f, at)
                } catch (e) {
                  ;(errors ??= []).push([at, fail(e)])
                  return
                }
                return settled(at, r)
              }, (e) => {
                ;(errors ??= []).push([at, fail(e)])
              }).then(() => step(at + 1))
            }
          } else r = call(fn, i)
          if (typeof r === "object" && r !== null && (typeof (r as any).then === "function" || Effect.isEffect(r))) {
            const at = i
            return settled(at, r).then(() => step(at + 1))
          }
          values[i] = r
        } catch (e) {
          ;(errors ??= []).push([i, fail(e)])
        }
      }
      this.finish(b, t0, values, errors, total)
      return undefined
    }
    const settled = (at: number, r: unknown): Promise<void> => {
      // Tasks of a worker run one at a time: the batch is current until it settles.
      current = b
      return settle(r, b).then((v) => {
        current = undefined
        values[at] = v
      }, (e) => {
        current = undefined
        ;(errors ??= []).push([at, fail(e)])
      })
    }
    return step(0)
  }

  private finish(b: Batch, t0: number, values: Array<unknown>, errors: Array<readonly [number, unknown]> | undefined, total: number): void {
    const ms = performance.now() - t0
    this.byId.delete(b.m.id)
    const list: Array<ArrayBuffer> = []
    let packed: Packed
    try {
      packed = pack(values, this.carrier.transfer, list, false)
    } catch {
      // Some result cannot be encoded: find which, and fail those tasks.
      list.length = 0
      for (let i = 0; i < total; i++) {
        try {
          pack([values[i]], false, [], false)
        } catch (e) {
          values[i] = undefined
          ;(errors ??= []).push([i, fail(new TypeError(`the task's result cannot be sent back: ${e instanceof Error ? e.message : e}`))])
        }
      }
      packed = pack(values, this.carrier.transfer, list, false)
    }
    this.carrier.post({
      t: "done",
      id: b.m.id,
      b: packed.b,
      ...(packed.r === undefined ? {} : { r: packed.r }),
      ...(errors === undefined ? {} : { e: errors }),
      ms,
      ...(b.m.mem === true ? { mem: this.carrier.memory() } : {})
    }, list)
  }
}

const settle = (r: unknown, b?: Batch): Promise<unknown> => {
  if (Effect.isEffect(r)) return Effect.runPromise(r as Effect.Effect<unknown, unknown>, b ? { signal: b.signal } : undefined)
  return Promise.resolve(r).then((v) =>
    isMoved(v) || !Effect.isEffect(v) ? v : Effect.runPromise(v as Effect.Effect<unknown, unknown>, b ? { signal: b.signal } : undefined)
  )
}

const load = async (def: Definition): Promise<Function> => {
  if (def.kind === "src") {
    const f = (0, eval)(`(${def.src}\n)`)
    if (typeof f !== "function") throw new TypeError("the task's source is not a function")
    return f
  }
  const mod = await import(def.url)
  const f = mod[def.name]
  if (typeof f !== "function") {
    throw new TypeError(`${def.url} has no exported function named "${def.name}" (found ${typeof f}); task(url, name) names an export of the module`)
  }
  return f
}
