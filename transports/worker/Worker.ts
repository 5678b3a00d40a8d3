/**
 * The worker transport's launcher: one worker thread per rank, linked by
 * shared-memory rings (see `Endpoint.ts`).
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
import { extname } from "node:path"
import { createInterface } from "node:readline"
import type { Readable, Writable } from "node:stream"
import { Worker } from "node:worker_threads"
import { Codec, Errors } from "../../core/index.ts"
import type { World } from "../../core/index.ts"
import { allocate } from "./Endpoint.ts"

// The thread side beside this module: Entry.ts in the repository, Entry.js
// in the built package (this module's own extension either way).
const ENTRY = new URL(`./Entry${extname(import.meta.url)}`, import.meta.url)
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
 * `eagerLimit` (bytes).
 *
 * @category launchers
 * @since 0.1.0
 */
export const launcher: World.Launcher = {
  name: "worker",
  launch(spec) {
    if (typeof spec.program !== "string") {
      return Promise.reject(new TypeError("the worker transport runs a module on each rank: pass its URL"))
    }
    const capacity = spec.options?.capacity
    const eagerLimit = spec.options?.eagerLimit
    const shared = allocate(spec.size, typeof capacity === "number" ? capacity : undefined)
    const size = spec.size
    return new Promise((resolve) => {
      const outcomes = new Map<number, World.RankOutcome>()
      const workers: Array<Worker> = []
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
          workers.forEach((w, r) => {
            if (r !== rank) w.postMessage({ type: "lost", rank, error: wire })
          })
        }
        if (outcomes.size === size) void end(true)
      }

      spec.signal.addEventListener("abort", () => void end(false), { once: true })

      for (let rank = 0; rank < size; rank++) {
        const tag = spec.tagOutput === true
        const w = new Worker(ENTRY, {
          workerData: { rank, shared, program: spec.program, engine: spec.engine ?? {}, eagerLimit },
          argv: [...(spec.argv ?? [])],
          stdout: tag,
          stderr: tag,
          name: `rankflow rank ${rank}`
        })
        workers.push(w)
        if (tag) {
          piped.push(prefixLines(w.stdout, `[${rank}] `, process.stdout))
          piped.push(prefixLines(w.stderr, `[${rank}] `, process.stderr))
        }
        w.on("message", (m: { type: string; ok: boolean; value?: Uint8Array; error?: unknown }) => {
          if (m.type !== "done") return
          if (m.ok) record(rank, true, Codec.decode(m.value!), undefined)
          else record(rank, false, undefined, Errors.fromWire(m.error))
        })
        w.on("error", (e) => record(rank, false, undefined, e))
        exited.push(
          new Promise((done) =>
            w.on("exit", (code) => {
              record(rank, false, undefined, new Error(`rank ${rank}'s thread exited (code ${code}) before its program finished`))
              done()
            })
          )
        )
      }
      if (spec.signal.aborted) void end(false)
    })
  }
}
