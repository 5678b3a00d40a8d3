/**
 * The thread side of the worker transport: builds this rank's transport and
 * engine over the world's shared memory, runs the program module, reports
 * the outcome to the launcher, and serves peers until told to stop.
 *
 * Messages from the launcher: `{ type: "lost", rank, error }` (a peer
 * failed) and `{ type: "stop" }`.
 *
 * @since 0.1.0
 */
import { parentPort, workerData } from "node:worker_threads"
import { Codec, Errors, World } from "../../core/index.ts"
import { WorkerTransport } from "./Endpoint.ts"

const port = parentPort!
const { rank, shared, program, engine: engineOptions, eagerLimit } = workerData
const transport = new WorkerTransport(rank, shared, eagerLimit)
const engine = World.makeEngine(transport, engineOptions)

port.on("message", (m: { type: string; rank?: number; error?: unknown }) => {
  if (m.type === "lost") engine.peerFailed(m.rank!, Errors.fromWire(m.error))
  else if (m.type === "stop") {
    engine.close()
    transport.close()
    port.close()
  }
})

const report = (outcome: { ok: boolean; value?: unknown; error?: unknown }): void => {
  if (outcome.ok) {
    try {
      port.postMessage({ type: "done", ok: true, value: Codec.encode(outcome.value).slice() })
      return
    } catch (e) {
      outcome = { ok: false, error: new Error(`the program's result cannot be sent to the launcher: ${e instanceof Error ? e.message : e}`) }
    }
  }
  port.postMessage({ type: "done", ok: false, error: Errors.toWire(outcome.error) })
}

try {
  report(await World.runRank(engine, await World.loadProgram(program)))
} catch (error) {
  report({ ok: false, error })
}
