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
import { availableParallelism } from "node:os"
import { parentPort, workerData } from "node:worker_threads"
import { Codec, Errors, World } from "../../core/index.ts"
import { LocalGroup, WorkerTransport } from "./Endpoint.ts"

const port = parentPort!
const { ranks, threads, shared, program, engine: engineOptions, eagerLimit } = workerData as {
  ranks: Array<number>
  threads: number
  shared: any
  program: string
  engine: World.LaunchSpec["engine"]
  eagerLimit: number | undefined
}
const group = ranks.length > 1 ? new LocalGroup(shared.size) : undefined
const transports = ranks.map((rank) => new WorkerTransport(rank, shared, eagerLimit, group))
// A waiting rank spins only when the world's threads fit the machine's cores.
const spin = threads <= availableParallelism() ? {} : { spinMicros: 0 }
const engines = transports.map((t) => World.makeEngine(t, { ...spin, ...engineOptions }))

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
    report(rank, await World.runRank(engine, loaded))
  } catch (error) {
    report(rank, { ok: false, error })
  }
}))
