/**
 * The worker transport's launcher: worker threads linked by shared-memory
 * rings (see `Endpoint.ts`), one rank per thread or, when the world has
 * more ranks than the machine has cores, several (M:N placement:
 * `ranksPerThread`, by default the fewest per thread that keep the threads
 * within the cores). Ranks of one thread share its event loop and hand
 * frames to each other directly; ranks of different threads use the rings.
 *
 * The launcher allocates the world's shared memory, starts the threads, and
 * watches them. When a rank fails (its program throws, its thread throws at
 * top level, or the thread exits before reporting), every other rank is told,
 * so the requests that depend on it fail instead of waiting; when every rank
 * has ended, the threads are stopped (and terminated if they do not stop
 * within a grace period).
 *
 * @example
 * ```ts
 * import { runWorld } from "rankflow/promise"
 * await runWorld({ size: 4, transport: "worker" }, new URL("./app.ts", import.meta.url))
 * ```
 * @since 0.1.0
 */
import { availableParallelism } from "node:os"
import { extname } from "node:path"
import { createInterface } from "node:readline"
import type { Readable, Writable } from "node:stream"
import { Worker } from "node:worker_threads"
import { Codec, Errors, World } from "../../core/index.ts"
import { allocate } from "./Endpoint.ts"

// What a rank's thread runs, beside this module: Boot.ts (which turns the
// compile cache on and loads Entry.ts) in the repository, Boot.js in the
// built package (this module's own extension either way).
const ENTRY = new URL(`./Boot${extname(import.meta.url)}`, import.meta.url)
const STOP_GRACE_MS = 2000

/** Forwards `from` to `to` line by line, each line prefixed. */
const prefixLines = (from: Readable, prefix: string, to: Writable): Promise<void> =>
  new Promise((resolve) => {
    const rl = createInterface({ input: from, crlfDelay: Infinity })
    rl.on("line", (line) => to.write(`${prefix}${line}\n`))
    rl.on("close", resolve)
  })

/**
 * Launches a world of worker threads.
 *
 * Transport options: `capacity` (bytes of each ring, a power of two),
 * `eagerLimit` (bytes), `ranksPerThread` (a positive integer; default
 * {@link defaultRanksPerThread}).
 *
 * @category launchers
 * @since 0.1.0
 */
/**
 * How many ranks share a thread by default: one while the world fits the
 * machine's cores, else the fewest that keep the threads within the cores
 * (a world of 8 on 2 cores: 4 per thread, 2 threads).
 *
 * @example
 * ```ts
 * import { defaultRanksPerThread } from "./Worker.ts"
 * defaultRanksPerThread(8, 2) // 4
 * ```
 * @category placement
 * @since 0.3.0
 */
export const defaultRanksPerThread = (size: number, cores = availableParallelism()): number =>
  size <= cores ? 1 : Math.ceil(size / Math.max(1, cores))

/**
 * The ranks of each thread for a world of `size` with `perThread` ranks per
 * thread: consecutive ranks, so neighbours in a ring or a tree share a
 * thread.
 *
 * @category placement
 * @since 0.3.0
 */
export const placement = (size: number, perThread: number): Array<Array<number>> => {
  const threads: Array<Array<number>> = []
  for (let r = 0; r < size; r += perThread) threads.push(Array.from({ length: Math.min(perThread, size - r) }, (_, i) => r + i))
  return threads
}

export const launcher: World.Launcher = {
  name: "worker",
  launch(spec) {
    if (typeof spec.program !== "string") {
      return Promise.reject(new TypeError("the worker transport runs a module on each rank: pass its URL"))
    }
    const capacity = spec.options?.capacity
    const eagerLimit = spec.options?.eagerLimit
    const perThread = spec.options?.ranksPerThread ?? defaultRanksPerThread(spec.size)
    if (typeof perThread !== "number" || !Number.isInteger(perThread) || perThread < 1) {
      return Promise.reject(
        new Errors.InvalidArgument({ rank: -1, op: "runWorld", reason: `ranksPerThread must be a positive whole number; got ${String(perThread)}` })
      )
    }
    const threads = placement(spec.size, perThread)
    const shared = allocate(spec.size, typeof capacity === "number" ? capacity : undefined)
    const size = spec.size
    return new Promise((resolve) => {
      const outcomes = new Map<number, World.RankOutcome>()
      const workers: Array<Worker> = []
      /** The thread of each rank. */
      const threadOf = new Array<number>(spec.size)
      threads.forEach((ranks, t) => ranks.forEach((r) => (threadOf[r] = t)))
      const exited: Array<Promise<void>> = []
      const piped: Array<Promise<void>> = []
      let ended = false

      const end = async (stop: boolean): Promise<void> => {
        if (ended) return
        ended = true
        if (stop) for (const w of workers) w.postMessage({ type: "stop" })
        const grace = setTimeout(() => workers.forEach((w) => void w.terminate()), stop ? STOP_GRACE_MS : 0)
        await Promise.all(exited)
        clearTimeout(grace)
        await Promise.all(piped)
        resolve([...outcomes.values()])
      }

      const record = (rank: number, ok: boolean, value: unknown, error: unknown): void => {
        if (outcomes.has(rank) || ended) return
        const o: World.RankOutcome = { rank, ok, value, error, at: performance.now() }
        outcomes.set(rank, o)
        spec.onOutcome?.(o)
        if (!ok) {
          const wire = Errors.toWire(error)
          // Its own thread's ranks know already; a thread of one rank has no one to tell.
          workers.forEach((w, t) => {
            if (t !== threadOf[rank] || threads[t]!.length > 1) w.postMessage({ type: "lost", rank, error: wire })
          })
        }
        if (outcomes.size === size) void end(true)
      }

      spec.signal.addEventListener("abort", () => void end(false), { once: true })

      const compileCache = World.compileCacheBase()
      threads.forEach((ranks, t) => {
        const tag = spec.tagOutput === true
        const label = ranks.length === 1 ? `${ranks[0]}` : `${ranks[0]}-${ranks[ranks.length - 1]}`
        // The rank that called process.exit, written by the thread (several ranks share it).
        const exitRank = new Int32Array(new SharedArrayBuffer(4)).fill(-1)
        const w = new Worker(ENTRY, {
          workerData: { ranks, threads: threads.length, exitRank, tagOutput: tag, shared, program: spec.program, engine: spec.engine ?? {}, eagerLimit, compileCache },
          argv: [...(spec.argv ?? [])],
          stdout: tag,
          stderr: tag,
          name: `rankflow rank${ranks.length > 1 ? "s" : ""} ${label}`
        })
        workers.push(w)
        if (tag) {
          // A thread of several ranks prefixes each rank's lines itself.
          const prefix = ranks.length === 1 ? `[${label}] ` : ""
          piped.push(prefixLines(w.stdout, prefix, process.stdout))
          piped.push(prefixLines(w.stderr, prefix, process.stderr))
        }
        w.on("message", (m: { type: string; rank: number; ok: boolean; value?: Uint8Array; error?: unknown }) => {
          if (m.type !== "done") return
          if (m.ok) record(m.rank, true, Codec.decode(m.value!), undefined)
          else record(m.rank, false, undefined, Errors.fromWire(m.error))
        })
        w.on("error", (e) => ranks.forEach((rank) => record(rank, false, undefined, e)))
        exited.push(
          new Promise((done) =>
            w.on("exit", (code) => {
              const culprit = Atomics.load(exitRank, 0)
              if (culprit >= 0) record(culprit, false, undefined, new Error(`rank ${culprit}'s thread exited (code ${code}) before its program finished`))
              for (const rank of ranks) {
                record(
                  rank,
                  false,
                  undefined,
                  new Error(
                    culprit >= 0
                      ? `rank ${rank}'s thread exited (code ${code}) before its program finished: rank ${culprit}, which shared it, called process.exit`
                      : `rank ${rank}'s thread exited (code ${code}) before its program finished`
                  )
                )
              }
              done()
            })
          )
        )
      })
      if (spec.signal.aborted) void end(false)
    })
  }
}
