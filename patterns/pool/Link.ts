/**
 * Links: the pool's side of one worker, a thread or a child process. A link
 * sends messages to its worker, hands back the worker's messages, and tells
 * once, how the worker ended.
 *
 * - Threads: a `MessagePort` for messages (buffers may be moved), and a
 *   shared counter bumped and notified after every message so that an idle
 *   worker sleeping in `Atomics.wait` wakes at once.
 * - Processes: `process.execPath` (this project's Node) runs the entry with
 *   the same `execArgv`; messages are length-prefixed codec frames on a pipe
 *   (file descriptor 3); stdio is inherited.
 *
 * @since 0.2.0
 */
import { spawn } from "node:child_process"
import type { Socket } from "node:net"
import { extname } from "node:path"
import { MessageChannel, type MessagePort, receiveMessageOnPort, type ResourceLimits, Worker } from "node:worker_threads"
import { World } from "../../core/index.ts"
import type { WorkerExitReason } from "./Errors.ts"
import { Deframer, frame, MalformedFrame } from "./Frames.ts"
import type { FromWorker, ToWorker } from "./Runner.ts"

/**
 * How a worker ended.
 *
 * @category models
 * @since 0.2.0
 */
export interface ExitInfo {
  readonly reason: WorkerExitReason
  readonly exitCode?: number | null | undefined
  readonly signal?: string | null | undefined
  readonly cause?: unknown
}

/**
 * The pool's side of one worker.
 *
 * @category models
 * @since 0.2.0
 */
export interface Link {
  readonly kind: "thread" | "process" | "rank"
  /** May buffers be moved to it? */
  readonly transfer: boolean
  /** The OS process id (a process), or the thread id (a thread). */
  readonly pid: number | undefined
  send(m: ToWorker, transferList: Array<ArrayBuffer>): void
  /** Ends the worker now (a thread's `terminate()`, a process's SIGTERM). */
  terminate(): void
  /** Ends the worker at once (SIGKILL for a process). */
  kill(): void
  /** Keep this process alive while the worker works (or not). */
  ref(on: boolean): void
  onMessage: (m: FromWorker) => void
  onExit: (info: ExitInfo) => void
}

/**
 * Options for starting workers.
 *
 * @category models
 * @since 0.2.0
 */
export interface SpawnOptions {
  /** Thread: V8 limits (an exceeded heap ends the worker as `oom`). Process: `maxOldGenerationSizeMb` becomes `--max-old-space-size`. */
  readonly resourceLimits?: ResourceLimits | undefined
  /** Environment of a process (default: this one's). */
  readonly env?: NodeJS.ProcessEnv | undefined
  /** Extra Node.js flags for a process. */
  readonly execArgv?: ReadonlyArray<string> | undefined
  /** A name for the thread (shown in debuggers). */
  readonly name?: string | undefined
}

// The worker sides beside this module: .ts in the repository, .js in the
// built package (this module's own extension either way).
const THREAD_ENTRY = new URL(`./ThreadBoot${extname(import.meta.url)}`, import.meta.url)
const PROCESS_ENTRY = new URL(`./ProcessEntry${extname(import.meta.url)}`, import.meta.url)

const noop = (): void => {}

const isId = (x: unknown): boolean => typeof x === "number" && Number.isInteger(x) && x >= 0

/**
 * Why `m` is not a message a worker may send the pool (or undefined when it
 * is one): the shapes of {@link FromWorker}, checked before the pool reads
 * a field of it.
 *
 * @category guards
 * @since 0.3.0
 */
export const checkFromWorker = (m: unknown): string | undefined => {
  if (typeof m !== "object" || m === null) return `a ${m === null ? "null" : typeof m} where a message object belongs`
  const o = m as Record<string, unknown>
  switch (o.t) {
    case "done":
      if (!isId(o.id)) return "a done message without a numeric id"
      if (!Array.isArray(o.b) && !(o.b instanceof Uint8Array)) return `a done message (id ${String(o.id)}) without its results`
      if (o.e !== undefined && !Array.isArray(o.e)) return `a done message (id ${String(o.id)}) with errors that are not a list`
      if (typeof o.ms !== "number") return `a done message (id ${String(o.id)}) without its time`
      return undefined
    case "start":
      return isId(o.id) ? undefined : "a start message without a numeric id"
    case "inited":
      return undefined
    case "req":
      return isId(o.rid) && typeof o.op === "string" && typeof o.id === "number" ? undefined : "a req message without rid, op and id"
    default:
      return `a message of unknown type ${JSON.stringify(String(o.t)).slice(0, 40)}`
  }
}

// Flags that say what this process runs rather than how Node runs: code
// given on the command line (`-e`, `-p`, with `--input-type`), a REPL, a
// syntax check, the test runner, a watcher. A worker runs its own entry, so
// it inherits every flag but these.
const dropWithValue = new Set(["-e", "--eval", "-p", "--print", "--input-type", "--watch-path", "--test-name-pattern", "--test-reporter", "--test-reporter-destination"])
const dropAlone = new Set(["-i", "--interactive", "-c", "--check", "--test", "--watch", "--watch-preserve-output", "--test-only"])

/**
 * The Node flags a worker inherits: this process's `execArgv` without those
 * that name what to run (`-e code`, `--input-type`, `--test`, ...).
 *
 * @category constructors
 * @since 0.2.0
 */
export const inheritedExecArgv = (argv: ReadonlyArray<string> = process.execArgv): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const eq = a.indexOf("=")
    const name = eq > 0 && a.startsWith("--") ? a.slice(0, eq) : a
    if (dropWithValue.has(name)) {
      if (eq < 0 || !a.startsWith("--")) i++
      continue
    }
    if (dropAlone.has(name)) continue
    out.push(a)
  }
  return out
}

/**
 * Starts a worker thread.
 *
 * @category constructors
 * @since 0.2.0
 */
export const startThread = (options: SpawnOptions = {}): Link => {
  const { port1, port2 } = new MessageChannel()
  const sab = new SharedArrayBuffer(4)
  const counter = new Int32Array(sab)
  const w = new Worker(THREAD_ENTRY, {
    workerData: { port: port2, sab, compileCache: World.compileCacheBase() },
    transferList: [port2 as unknown as ArrayBuffer],
    execArgv: inheritedExecArgv(),
    ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
    name: options.name ?? "rankflow pool worker"
  })
  let error: unknown
  let exited = false
  const link: Link = {
    kind: "thread",
    transfer: true,
    pid: w.threadId,
    send(m, list) {
      if (exited) return
      port1.postMessage(m, list)
      Atomics.add(counter, 0, 1)
      Atomics.notify(counter, 0, 1)
    },
    terminate() {
      void w.terminate()
    },
    kill() {
      void w.terminate()
    },
    ref(on) {
      if (on) {
        w.ref()
        port1.ref()
      } else {
        w.unref()
        port1.unref()
      }
    },
    onMessage: noop,
    onExit: noop
  }
  const drain = (): void => {
    let e
    while ((e = receiveMessageOnPort(port1 as MessagePort)) !== undefined) link.onMessage(e.message as FromWorker)
  }
  port1.on("message", (m: FromWorker) => {
    link.onMessage(m)
    drain()
  })
  w.on("error", (e) => {
    error = e
  })
  w.on("exit", (code) => {
    exited = true
    drain()
    port1.close()
    const oom = error instanceof Error && (error as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY"
    link.onExit(
      oom
        ? { reason: "oom", exitCode: code, cause: error }
        : error !== undefined
        ? { reason: "error", exitCode: code, cause: error }
        : { reason: "exit", exitCode: code }
    )
  })
  return link
}

/**
 * Starts a worker process with this project's Node (`process.execPath`).
 *
 * @category constructors
 * @since 0.2.0
 */
export const startProcess = (options: SpawnOptions = {}): Link => {
  const flags = [...inheritedExecArgv(), ...(options.execArgv ?? [])]
  const heap = options.resourceLimits?.maxOldGenerationSizeMb
  if (heap !== undefined) flags.push(`--max-old-space-size=${heap}`)
  const child = spawn(process.execPath, [...flags, PROCESS_ENTRY.pathname], {
    stdio: ["inherit", "inherit", "inherit", "pipe"],
    env: World.withCompileCache(options.env ?? process.env),
    serialization: "json"
  })
  const pipe = child.stdio[3] as Socket
  let exited = false
  let terminated = false
  const link: Link = {
    kind: "process",
    transfer: false,
    pid: child.pid,
    send(m) {
      if (exited || pipe.destroyed) return
      pipe.write(frame(m))
    },
    terminate() {
      terminated = true
      child.kill("SIGTERM")
    },
    kill() {
      terminated = true
      child.kill("SIGKILL")
    },
    ref(on) {
      if (on) {
        child.ref()
        pipe.ref()
      } else {
        child.unref()
        pipe.unref()
      }
    },
    onMessage: noop,
    onExit: noop
  }
  // Whatever the child writes on its pipe is checked: a frame that is not a
  // message of the protocol kills the child, and its calls fail with
  // WorkerExited (reason "malformed"), instead of a throw in this process.
  let malformed: MalformedFrame | undefined
  const refuse = (e: MalformedFrame): void => {
    if (malformed !== undefined) return
    malformed = e
    terminated = true
    child.kill("SIGKILL")
  }
  const deframer = new Deframer((m) => {
    try {
      link.onMessage(m as FromWorker)
    } catch (cause) {
      // A message of the right shape whose contents the pool cannot read
      // (results that do not unpack, say).
      refuse(new MalformedFrame({ offset: -1, reason: `a ${(m as { t: string }).t} message the pool cannot read`, cause }))
    }
  }, { check: checkFromWorker, onError: refuse })
  pipe.on("data", (chunk: Buffer) => deframer.push(chunk))
  pipe.on("error", noop)
  let spawnError: unknown
  child.on("error", (e) => {
    spawnError = e
  })
  child.on("exit", (code, signal) => {
    exited = true
    link.onExit(
      spawnError !== undefined
        ? { reason: "error", exitCode: code, cause: spawnError }
        : malformed !== undefined
        ? { reason: "malformed", exitCode: code, signal, cause: malformed }
        : signal !== null
        ? { reason: terminated ? "terminated" : signal === "SIGABRT" ? "oom" : "signal", exitCode: code, signal }
        : { reason: "exit", exitCode: code }
    )
  })
  return link
}
