/**
 * The thread side of the worker transport: builds the transports and
 * engines of this thread's ranks over the world's shared memory (one rank,
 * or several with M:N placement), runs the program module on each, reports
 * each rank's outcome to the launcher, and serves peers until told to stop.
 *
 * Messages from the launcher: `{ type: "lost", rank, error }` (a peer
 * failed) and `{ type: "stop" }`.
 *
 * @since 0.1.0
 */
import { AsyncLocalStorage } from "node:async_hooks"
import { availableParallelism } from "node:os"
import { parentPort, workerData } from "node:worker_threads"
import { Codec, Engine, Errors, World } from "../../core/index.ts"
import { LocalGroup, WorkerTransport } from "./Endpoint.ts"

const port = parentPort!
const { ranks, threads, exitRank, tagOutput, shared, program, engine: engineOptions, eagerLimit } = workerData as {
  ranks: Array<number>
  threads: number
  /** Where this thread writes the rank that called process.exit, for the launcher. */
  exitRank: Int32Array
  tagOutput: boolean
  shared: any
  program: string
  engine: World.LaunchSpec["engine"]
  eagerLimit: number | undefined
}
const group = ranks.length > 1 ? new LocalGroup() : undefined
const transports = ranks.map((rank) => new WorkerTransport(rank, shared, eagerLimit, group))
// A waiting rank spins only when the world's threads fit the machine's
// cores — threads, not ranks: ranks sharing a thread spin together (the
// engine's own default counts ranks, which would never spin a world of
// several ranks per thread).
const spin = { spinMicros: threads <= availableParallelism() ? Engine.DEFAULT_SPIN_MICROS : 0 }
const engines = transports.map((t) => World.makeEngine(t, { ...spin, ...engineOptions }))

// With several ranks on this thread, each rank's program runs in its own
// async context, so that what a rank does on behalf of the whole thread can
// be told apart: who called process.exit (which ends them all), and whose
// line of output this is.
const current = group !== undefined ? new AsyncLocalStorage<number>() : undefined
/** Writes out a rank's unfinished lines (each tagged stream adds one). */
const flushers: Array<(rank: number) => void> = []
if (current !== undefined) {
  const exit = process.exit.bind(process)
  process.exit = ((code?: number | string | null) => {
    Atomics.store(exitRank, 0, current.getStore() ?? -1)
    return exit(code)
  }) as typeof process.exit
  if (tagOutput) for (const stream of [process.stdout, process.stderr]) tagLines(stream, current)
}

/**
 * Prefixes every line a rank writes on `stream` with `[rank] `. A rank's
 * unfinished line is held until its newline (or the rank's end), so ranks
 * that share the thread never mix within a line.
 */
function tagLines(stream: NodeJS.WriteStream, who: AsyncLocalStorage<number>): void {
  const write = stream.write.bind(stream) as (chunk: string, cb?: (e?: Error | null) => void) => boolean
  const partial = new Map<string, string>()
  stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((e?: Error | null) => void), cb?: (e?: Error | null) => void): boolean => {
    const rank = String(who.getStore() ?? ranks.join(","))
    const text = (partial.get(rank) ?? "") + (typeof chunk === "string" ? chunk : Buffer.from(chunk).toString(typeof encoding === "string" ? encoding : "utf8"))
    const done = typeof encoding === "function" ? encoding : cb
    const cut = text.lastIndexOf("\n") + 1
    partial.set(rank, text.slice(cut))
    if (cut === 0) {
      done?.()
      return true
    }
    return write(text.slice(0, cut).replace(/^(?=.)/gm, `[${rank}] `), done)
  }) as typeof stream.write
  flushers.push((rank) => {
    const rest = partial.get(String(rank))
    if (rest !== undefined && rest !== "") {
      partial.delete(String(rank))
      write(`[${rank}] ${rest}\n`)
    }
  })
}

const lost = (rank: number, error: unknown): void => {
  engines.forEach((e, i) => ranks[i] !== rank && e.peerFailed(rank, error))
}

port.on("message", (m: { type: string; rank?: number; error?: unknown }) => {
  if (m.type === "lost") lost(m.rank!, Errors.fromWire(m.error))
  else if (m.type === "stop") {
    for (const e of engines) e.close()
    for (const t of transports) t.close()
    port.close()
  }
})

const report = (rank: number, outcome: { ok: boolean; value?: unknown; error?: unknown }): void => {
  for (const flush of flushers) flush(rank)
  if (outcome.ok) {
    try {
      port.postMessage({ type: "done", rank, ok: true, value: Codec.encode(outcome.value).slice() })
      return
    } catch (e) {
      outcome = { ok: false, error: new Error(`the program's result cannot be sent to the launcher: ${e instanceof Error ? e.message : e}`) }
    }
  }
  // The ranks of this thread learn of it at once; the launcher tells the others.
  lost(rank, outcome.error)
  port.postMessage({ type: "done", rank, ok: false, error: Errors.toWire(outcome.error) })
}

let loaded: World.Program | undefined
let loadError: unknown
try {
  loaded = await World.loadProgram(program)
} catch (error) {
  loadError = error
}
await Promise.all(engines.map(async (engine, i) => {
  const rank = ranks[i]!
  if (loaded === undefined) return report(rank, { ok: false, error: loadError })
  try {
    report(rank, await (current !== undefined ? current.run(rank, () => World.runRank(engine, loaded!)) : World.runRank(engine, loaded)))
  } catch (error) {
    report(rank, { ok: false, error })
  }
}))
