/**
 * `Process`: one call in its own worker thread or child process, with
 * Python's lifecycle (`start`, `join`, `terminate`, `kill`, `exitCode`,
 * `isAlive`, `pid`).
 *
 * @since 0.2.0
 */
import { availableParallelism } from "node:os"
import { answer, onChannelWaiting } from "../pool/Channel.ts"
import { fromWire } from "../pool/Errors.ts"
import { checkProcessArguments } from "../pool/Guards.ts"
import { type Link, type SpawnOptions, startProcess, startThread } from "../pool/Link.ts"
import type { FromWorker } from "../pool/Runner.ts"
import { type ArgsOf, definitionOf, type Runnable } from "../pool/Task.ts"
import { pack } from "../pool/Wire.ts"

/**
 * A start method: `process` (a child process running this project's Node)
 * or `thread` (a worker thread).
 *
 * @category models
 * @since 0.2.0
 */
export type StartMethod = "thread" | "process"

let defaultMethod: StartMethod = "process"

/**
 * The start method used when none is given (Python's `set_start_method`).
 * `process` unless set.
 *
 * @example
 * ```ts
 * import { setStartMethod } from "rankflow/patterns/process"
 * setStartMethod("thread")
 * ```
 * @category context
 * @since 0.2.0
 */
export const setStartMethod = (method: StartMethod): void => {
  if (method !== "thread" && method !== "process") throw new TypeError(`unknown start method ${String(method)}: use "thread" or "process"`)
  defaultMethod = method
}

/**
 * The default start method (Python's `get_start_method`).
 *
 * @category context
 * @since 0.2.0
 */
export const getStartMethod = (): StartMethod => defaultMethod

/**
 * Options of a {@link Process}.
 *
 * @category models
 * @since 0.2.0
 */
export interface ProcessOptions<R extends Runnable> extends SpawnOptions {
  /** What it runs: a named export (`task(url, name)`) or a self-contained function. */
  readonly target: R
  readonly args?: ArgsOf<R> | undefined
  readonly name?: string | undefined
  /** `thread` or `process` (default: {@link getStartMethod}). */
  readonly context?: StartMethod | undefined
  /**
   * Python's `daemon`: this program does not wait for it to end, and it
   * ends with the program (a thread with its process; a child process when
   * its pipe to the program closes). Default false: the program stays alive
   * until the process ends.
   */
  readonly daemon?: boolean | undefined
}

let counter = 0

// Started and not yet ended, for activeChildren().
const children = new Set<Process<any>>()

/**
 * The processes started by this program that have not ended (Python's
 * `multiprocessing.active_children()`), in the order they started.
 *
 * @example
 * ```ts
 * import { activeChildren } from "rankflow/patterns/process"
 * for (const p of activeChildren()) p.terminate()
 * ```
 * @category context
 * @since 0.2.0
 */
export const activeChildren = (): Array<Process> => [...children]

/**
 * How many CPUs this program may use (Python's `multiprocessing.cpu_count()`;
 * Node's `os.availableParallelism()`): the default size of a `Pool`.
 *
 * @example
 * ```ts
 * import { cpuCount, Pool } from "rankflow/patterns/process"
 * await using p = new Pool(Math.max(1, cpuCount() - 1))
 * ```
 * @category context
 * @since 0.2.0
 */
export const cpuCount = (): number => availableParallelism()

// Live daemon processes, and whether this program waits on a queue or pipe (which a daemon may fill).
const daemons = new Set<Process<any>>()
let channelWaiting = false
let watching = false

const watchChannels = (): void => {
  if (watching) return
  watching = true
  onChannelWaiting((w) => {
    channelWaiting = w
    for (const d of daemons) d.refresh()
  })
}

/**
 * A call in its own thread or process. Its exit code is 0 when the target
 * returned (or its promise resolved), 1 when it threw (the error is printed
 * on standard error, as Python prints the traceback), the code it passed to
 * `process.exit`, or minus the signal number when it was terminated (-15)
 * or killed (-9).
 *
 * @example
 * ```ts
 * import { Process, Queue } from "rankflow/patterns/process"
 * const q = new Queue<string>()
 * const p = new Process({ target: async (q: Queue<string>) => { await q.put("hello") }, args: [q] })
 * p.start()
 * console.log(await q.get()) // "hello"
 * await p.join()
 * p.exitCode // 0
 * ```
 * @category models
 * @since 0.2.0
 */
export class Process<R extends Runnable = Runnable> {
  readonly name: string
  readonly method: StartMethod
  private readonly options: ProcessOptions<R>
  private link: Link | undefined = undefined
  private code: number | null = null
  private ended: Promise<void> | undefined = undefined
  private signalled: number | undefined = undefined
  private joining = 0
  /** The target's error, if it threw. */
  error: unknown = undefined

  constructor(options: ProcessOptions<R>) {
    this.options = options
    this.name = options.name ?? `Process-${++counter}`
    this.method = options.context ?? defaultMethod
    definitionOf(options.target) // refuse a closure now, not in start()
  }

  /** Starts it (once). */
  start(): void {
    if (this.link !== undefined) throw new Error(`${this.name}: a process can be started only once`)
    if (this.method === "process") checkProcessArguments(this.options.args ?? [])
    // Arguments that cannot travel are refused before anything is started.
    const list: Array<ArrayBuffer> = []
    const p = pack([[...(this.options.args ?? [])]], this.method === "thread", list, true)
    const link = this.method === "process" ? startProcess(this.options) : startThread({ ...this.options, name: this.name })
    this.link = link
    children.add(this)
    if (this.daemon) {
      daemons.add(this)
      watchChannels()
      this.refresh()
    }
    this.ended = new Promise<void>((resolve) => {
      link.onExit = (info) => {
        this.code = this.signalled !== undefined
          ? -this.signalled
          : info.signal
          ? -(signals[info.signal] ?? 1)
          : info.exitCode ?? 1
        // A thread that threw outside its target's promise (an uncaught error in a callback): keep that error.
        if (this.error === undefined && info.reason === "error") this.error = info.cause
        daemons.delete(this)
        children.delete(this)
        resolve()
      }
    })
    link.onMessage = (m: FromWorker) => {
      if (m.t === "req") answer(link, m)
      else if (m.t === "done") {
        const failed = m.e !== undefined && m.e.length > 0
        if (failed) {
          this.error = fromWire(m.e![0]![1])
          const e = this.error
          process.stderr.write(`${this.name}:\n${e instanceof Error ? e.stack ?? `${e.name}: ${e.message}` : String(e)}\n`)
        }
        link.send({ t: "exit", code: failed ? 1 : 0 }, [])
      }
    }
    link.send({ t: "run", id: 1, defs: [[0, definitionOf(this.options.target)]], fns: 0, b: p.b, ...(p.r ? { r: p.r } : {}) }, list)
  }

  /**
   * Waits for it to end; with `timeout` (ms), at most that long (check
   * `exitCode` or `isAlive()` after, as in Python).
   */
  join(timeout?: number): Promise<void> {
    if (this.ended === undefined) return Promise.reject(new Error(`${this.name}: cannot join a process that was not started`))
    // A daemon is waited for while someone joins it.
    this.joining++
    this.refresh()
    const joined = (): void => {
      this.joining--
      this.refresh()
    }
    if (timeout === undefined) return this.ended.then(joined)
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        joined()
        resolve()
      }, Math.max(0, timeout))
      void this.ended!.then(() => {
        clearTimeout(t)
        joined()
        resolve()
      })
    })
  }

  /**
   * @internal Keeps this program alive for it, or not: always for a
   * process that is not a daemon; for a daemon, while it is joined or this
   * program waits on a queue or a pipe.
   */
  refresh(): void {
    if (this.link === undefined || this.code !== null) return
    this.link.ref(!this.daemon || this.joining > 0 || channelWaiting)
  }

  /** Ends it now (a process: SIGTERM; a thread: `terminate()`); its exit code becomes -15. */
  terminate(): void {
    if (this.link === undefined || this.code !== null) return
    this.signalled ??= 15
    this.link.terminate()
  }

  /** Ends it at once (a process: SIGKILL); its exit code becomes -9. */
  kill(): void {
    if (this.link === undefined || this.code !== null) return
    this.signalled ??= 9
    this.link.kill()
  }

  /** Does this program leave without waiting for it (Python's `daemon`)? */
  get daemon(): boolean {
    return this.options.daemon === true
  }

  /** Has it started and not ended? */
  isAlive(): boolean {
    return this.link !== undefined && this.code === null
  }

  /** The exit code: `null` while it runs (or before it starts). */
  get exitCode(): number | null {
    return this.code
  }

  /** The child's process id (a thread: its thread id); `undefined` before `start`. */
  get pid(): number | undefined {
    return this.link?.pid
  }
}

const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15, SIGABRT: 6 }
