/**
 * The child side of the TCP launcher (and of `rankflow join`): starts this
 * rank from its environment over TCP, runs the program module, reports the
 * outcome to its parent over IPC, and serves peers until told to stop.
 *
 * Environment: `RANKFLOW_RANK`, `RANKFLOW_SIZE`, `RANKFLOW_COORDINATOR`,
 * `RANKFLOW_WORLD`, the secret (`RANKFLOW_SECRET` or `RANKFLOW_SECRET_FILE`,
 * removed from the environment before the program runs), TLS files
 * (`RANKFLOW_TLS_CERT`/`KEY`/`CA`), and `RANKFLOW_TCP_CONFIG` (program,
 * engine and transport options as JSON). Its arguments are the program's.
 * IPC from the parent: `{ type: "lost", rank, error, exited }` and
 * `{ type: "stop" }`, as in the process transport.
 *
 * @since 0.1.0
 */
import { Codec, Errors, World } from "../../core/index.ts"
import { fromEnvironment } from "../stream/Bootstrap.ts"
import { SECRET_ENV, SECRET_FILE_ENV } from "../stream/Handshake.ts"
import { loadTls, tlsFilesFromEnvironment } from "./Endpoint.ts"
import { startRank, type TcpRank } from "./Rank.ts"

interface Config {
  readonly program: string
  readonly engine: Record<string, unknown>
  readonly options: Record<string, unknown>
  readonly listenHost?: string
  readonly advertise?: string
}

const env = process.env
const config: Config = JSON.parse(env.RANKFLOW_TCP_CONFIG ?? "{}")
delete env.RANKFLOW_TCP_CONFIG

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

process.on("uncaughtException", (error) => report({ ok: false, error }, () => process.exit(1)))
process.on("disconnect", () => {
  if (!stopping) process.exit(reported ? 0 : 1)
})

let rank: TcpRank | undefined
const early: Array<{ type: string; rank?: number; error?: unknown; exited?: boolean }> = []
const onMessage = (m: { type: string; rank?: number; error?: unknown; exited?: boolean }): void => {
  if (m.type === "stop") {
    stopping = true
    rank?.close()
    process.disconnect()
    setTimeout(() => process.exit(0), 500).unref()
  } else if (rank === undefined) early.push(m)
  else if (m.type === "lost") {
    rank.engine.peerFailed(m.rank!, Errors.fromWire(m.error))
    if (m.exited === true) rank.transport.forget(m.rank!)
  }
}
process.on("message", onMessage)

try {
  const b = fromEnvironment(env)
  delete env[SECRET_ENV]
  delete env[SECRET_FILE_ENV]
  const files = tlsFilesFromEnvironment(env)
  rank = await startRank(b, {
    ...config.options,
    tls: files === undefined ? undefined : loadTls(files),
    engine: config.engine,
    listenHost: config.listenHost,
    advertise: config.advertise
  })
  for (const m of early.splice(0)) onMessage(m)
  report(await World.runRank(rank.engine, await World.loadProgram(config.program)))
} catch (error) {
  report({ ok: false, error })
}
