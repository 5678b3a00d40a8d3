/**
 * The child side of the process transport: builds this rank's stream
 * transport over Unix sockets and its engine, runs the program module,
 * reports the outcome to the launcher, and serves peers until told to stop.
 *
 * It learns its rank, the world size, the socket directory and the world id
 * from its environment (`RANKFLOW_RANK`, `RANKFLOW_SIZE`,
 * `RANKFLOW_SOCKET_DIR`, `RANKFLOW_WORLD`), the program and options from
 * `RANKFLOW_PROCESS_CONFIG`, and the secret from `RANKFLOW_SECRET` (or
 * `RANKFLOW_SECRET_FILE`), which it removes from its environment before the
 * program runs. Its arguments are the program's (`process.argv.slice(2)`).
 *
 * Messages from the launcher (IPC): `{ type: "lost", rank, error, exited }`
 * (a peer failed; `exited`: its process is gone) and `{ type: "stop" }`. A
 * launcher that disappears (the IPC channel closes) ends the rank.
 *
 * @since 0.1.0
 */
import { Codec, Errors, World } from "../../core/index.ts"
import { loadSecret, SECRET_ENV, SECRET_FILE_ENV } from "../stream/Handshake.ts"
import { limits, StreamTransport } from "../stream/Transport.ts"
import { UnixConnector } from "./Endpoint.ts"

interface Config {
  readonly program: string
  readonly engine: Record<string, unknown>
  readonly options: Record<string, unknown>
}

const env = process.env
const rank = Number(env.RANKFLOW_RANK)
const size = Number(env.RANKFLOW_SIZE)
const dir = env.RANKFLOW_SOCKET_DIR!
const world = env.RANKFLOW_WORLD!
const config: Config = JSON.parse(env.RANKFLOW_PROCESS_CONFIG ?? "{}")
const secret = loadSecret(env, rank)
delete env[SECRET_ENV]
delete env[SECRET_FILE_ENV]
delete env.RANKFLOW_PROCESS_CONFIG

let reported = false
let stopping = false
const send = (m: unknown, then?: () => void): void => {
  if (process.connected) process.send!(m, undefined, {}, () => then?.())
  else then?.()
}

const report = (outcome: { ok: boolean; value?: unknown; error?: unknown }, then?: () => void): void => {
  if (reported) return then?.()
  reported = true
  if (outcome.ok) {
    try {
      send({ type: "done", ok: true, value: Codec.encode(outcome.value).slice() }, then)
      return
    } catch (e) {
      outcome = { ok: false, error: new Error(`the program's result cannot be sent to the launcher: ${e instanceof Error ? e.message : e}`) }
    }
  }
  send({ type: "done", ok: false, error: Errors.toWire(outcome.error) }, then)
}

// A throw outside the program's promise chain ends the rank, reported as its failure.
process.on("uncaughtException", (error) => report({ ok: false, error }, () => process.exit(1)))
// The launcher is gone: nobody can stop this rank any more.
process.on("disconnect", () => {
  if (!stopping) process.exit(reported ? 0 : 1)
})

const opts = limits(config.options)
const transport = new StreamTransport({
  ...opts,
  rank,
  size,
  world,
  secret,
  connector: new UnixConnector(dir, rank, opts.highWaterMark)
})
const engine = World.makeEngine(transport, config.engine)

process.on("message", (m: { type: string; rank?: number; error?: unknown; exited?: boolean }) => {
  if (m.type === "lost") {
    engine.peerFailed(m.rank!, Errors.fromWire(m.error))
    if (m.exited === true) transport.forget(m.rank!)
  } else if (m.type === "stop") {
    stopping = true
    engine.close()
    transport.close()
    process.disconnect()
    // Leave even if the program left a timer or socket open.
    setTimeout(() => process.exit(0), 500).unref()
  }
})

try {
  await transport.start()
  report(await World.runRank(engine, await World.loadProgram(config.program)))
} catch (error) {
  report({ ok: false, error })
}
