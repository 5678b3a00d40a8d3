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
import { type ChildConfig, rankOver, readConfig, runChild, takeSecret } from "../stream/Child.ts"
import { rendezvous } from "../stream/Rendezvous.ts"
import { limits, StreamTransport } from "../stream/Transport.ts"
import { pem, WebSocketConnector, type WebSocketTls } from "./Endpoint.ts"

interface Config extends ChildConfig {
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
const config = readConfig<Config>("RANKFLOW_WEBSOCKET_CONFIG")
const secret = takeSecret(env, rank)

let connector: WebSocketConnector | undefined

await runChild({
  program: config.program,
  onStop: () => connector?.close(),
  build: async () => {
    const opts = limits(config.options)
    const tls = config.tls === undefined ? undefined : { cert: pem(config.tls.cert), key: pem(config.tls.key), ca: pem(config.tls.ca) }
    const c = new WebSocketConnector({
      rank,
      ...(config.host !== undefined ? { host: config.host } : {}),
      ...(config.path !== undefined ? { path: config.path } : {}),
      ...(tls !== undefined ? { tls } : {}),
      ...(config.randomMask !== undefined ? { randomMask: config.randomMask } : {}),
      maxFrame: opts.maxFrame,
      handshakeTimeout: opts.handshakeTimeout
    })
    connector = c
    const url = await c.bind()
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
    c.setAddresses(table.addresses)
    const transport = new StreamTransport({ ...opts, rank, size, world: table.world, secret, connector: c })
    return rankOver(transport, config.engine, () => c.close())
  }
})
