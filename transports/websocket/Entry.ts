/**
 * The rank side of the WebSocket transport: starts this rank's WebSocket
 * endpoint, publishes its URL at the world's rendezvous and learns every
 * other rank's, builds the stream transport over WebSockets and the engine,
 * runs the program module, reports the outcome to the launcher, and serves
 * peers until told to stop.
 *
 * It learns its rank and the world size from `RANKFLOW_RANK` and
 * `RANKFLOW_SIZE`, the coordinator from `RANKFLOW_COORDINATOR` (host:port),
 * the program and options from `RANKFLOW_WEBSOCKET_CONFIG`, and the secret
 * from `RANKFLOW_SECRET` (or `RANKFLOW_SECRET_FILE`), which it removes from
 * its environment before the program runs. The world id is the one the
 * coordinator hands out. Its arguments are the program's.
 *
 * Messages from the launcher (IPC), as for the process transport:
 * `{ type: "lost", rank, error, exited }` and `{ type: "stop" }`.
 *
 * @since 0.1.0
 */
import { Codec, Errors, World } from "../../core/index.ts"
import { loadSecret, SECRET_ENV, SECRET_FILE_ENV } from "../stream/Handshake.ts"
import { rendezvous } from "../stream/Rendezvous.ts"
import { limits, StreamTransport } from "../stream/Transport.ts"
import { pem, WebSocketConnector, type WebSocketTls } from "./Endpoint.ts"

interface Config {
  readonly program: string
  readonly engine: Record<string, unknown>
  readonly options: Record<string, unknown>
  readonly host?: string
  readonly path?: string
  readonly tls?: WebSocketTls
  readonly randomMask?: boolean
  /** The URL to publish instead of this rank's own (a proxy's), with `{rank}` and `{port}` filled in. */
  readonly advertise?: string
}

const env = process.env
const rank = Number(env.RANKFLOW_RANK)
const size = Number(env.RANKFLOW_SIZE)
const coordinator = env.RANKFLOW_COORDINATOR!
const config: Config = JSON.parse(env.RANKFLOW_WEBSOCKET_CONFIG ?? "{}")
const secret = loadSecret(env, rank)
delete env[SECRET_ENV]
delete env[SECRET_FILE_ENV]
delete env.RANKFLOW_WEBSOCKET_CONFIG

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

const opts = limits(config.options)
const tls = config.tls === undefined ? undefined : { cert: pem(config.tls.cert), key: pem(config.tls.key), ca: pem(config.tls.ca) }
const connector = new WebSocketConnector({
  rank,
  ...(config.host !== undefined ? { host: config.host } : {}),
  ...(config.path !== undefined ? { path: config.path } : {}),
  ...(tls !== undefined ? { tls } : {}),
  ...(config.randomMask !== undefined ? { randomMask: config.randomMask } : {}),
  maxFrame: opts.maxFrame,
  handshakeTimeout: opts.handshakeTimeout
})

let transport: StreamTransport | undefined
let engine: ReturnType<typeof World.makeEngine> | undefined
const lostEarly: Array<{ rank: number; error: unknown; exited: boolean }> = []

process.on("message", (m: { type: string; rank?: number; error?: unknown; exited?: boolean }) => {
  if (m.type === "lost") {
    if (engine === undefined) return void lostEarly.push({ rank: m.rank!, error: m.error, exited: m.exited === true })
    engine.peerFailed(m.rank!, Errors.fromWire(m.error))
    if (m.exited === true) transport!.forget(m.rank!)
  } else if (m.type === "stop") {
    stopping = true
    engine?.close()
    transport?.close()
    connector.close()
    process.disconnect()
    setTimeout(() => process.exit(0), 500).unref()
  }
})

try {
  const url = await connector.bind()
  // A rank behind a proxy publishes the proxy's URL; one listening on every
  // interface, its own with the address it reaches the coordinator by.
  const wildcard = config.host === "0.0.0.0" || config.host === "::"
  const address = config.advertise !== undefined
    ? config.advertise.replaceAll("{rank}", String(rank)).replaceAll("{port}", new URL(url).port)
    : wildcard
    ? (ip: string) => url.replace("//127.0.0.1:", `//${ip.includes(":") ? `[${ip}]` : ip}:`)
    : url
  const table = await rendezvous({
    coordinator,
    rank,
    size,
    secret,
    address,
    timeout: opts.connectTimeout,
    ...(tls !== undefined ? { tls } : {})
  })
  connector.setAddresses(table.addresses)
  transport = new StreamTransport({ ...opts, rank, size, world: table.world, secret, connector })
  engine = World.makeEngine(transport, config.engine)
  for (const l of lostEarly) {
    engine.peerFailed(l.rank, Errors.fromWire(l.error))
    if (l.exited) transport.forget(l.rank)
  }
  await transport.start()
  report(await World.runRank(engine, await World.loadProgram(config.program)))
} catch (error) {
  report({ ok: false, error })
}
