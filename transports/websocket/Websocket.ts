/**
 * The WebSocket transport's launcher: one child process per rank on this
 * machine, linked by WebSockets on 127.0.0.1 (see `Endpoint.ts` and the
 * stream protocol in `../stream/`); the ranks meet at a rendezvous
 * coordinator the launcher hosts (`../stream/Rendezvous.ts`), each
 * publishing its `ws://` (or `wss://`) URL.
 *
 * The launcher makes a secret for the world, starts the coordinator, and
 * spawns every rank with this Node running `Entry.ts`; rank, size,
 * coordinator and program travel in the environment, the secret too (never
 * on a command line), and the program's arguments are the child's. It
 * watches the children as the process transport's launcher does: a rank
 * that fails is told to every other rank at once, and when every rank has
 * ended they are told to stop, and killed after a grace period.
 *
 * @example
 * ```ts
 * import { runWorld } from "rankflow/promise"
 * await runWorld({ size: 4, transport: "websocket", transportOptions: { path: "/rankflow" } }, new URL("./app.ts", import.meta.url))
 * ```
 * @since 0.1.0
 */
import { randomUUID } from "node:crypto"
import { extname } from "node:path"
import { fileURLToPath } from "node:url"
import type { World } from "../../core/index.ts"
import { launchChildren } from "../stream/Children.ts"
import { newSecret, SECRET_ENV } from "../stream/Handshake.ts"
import { startCoordinator } from "../stream/Rendezvous.ts"
import { limits } from "../stream/Transport.ts"
import { DEFAULT_PATH, pem, type WebSocketTls } from "./Endpoint.ts"

// The child side beside this module: Entry.ts in the repository, Entry.js
// in the built package (this module's own extension either way).
const ENTRY = fileURLToPath(new URL(`./Entry${extname(import.meta.url)}`, import.meta.url))

/**
 * The WebSocket options a launcher reads from `transportOptions`, beside
 * the stream protocol's limits: `path` (default `/rankflow`), `host` (the
 * interface the ranks listen on, default 127.0.0.1), `tls` ({ cert, key,
 * ca }: PEM text or file paths; default from `RANKFLOW_TLS_CERT`,
 * `RANKFLOW_TLS_KEY` and `RANKFLOW_TLS_CA`, which name files),
 * `randomMask` (default true) and `advertise` (the URL a rank publishes
 * instead of its own, `{rank}` and `{port}` filled in: a proxy's).
 */
const wsOptions = (o: Readonly<Record<string, unknown>> | undefined): { host?: string; path: string; tls?: WebSocketTls; randomMask?: boolean; advertise?: string } => {
  const path = o?.path ?? DEFAULT_PATH
  if (typeof path !== "string" || !path.startsWith("/") || /[\s?#]/.test(path)) throw new RangeError(`the WebSocket path must start with "/" and have no spaces, "?" or "#"; got ${String(path)}`)
  const host = o?.host
  if (host !== undefined && (typeof host !== "string" || host === "")) throw new RangeError(`the WebSocket host must be an interface address; got ${String(host)}`)
  const randomMask = o?.randomMask
  if (randomMask !== undefined && typeof randomMask !== "boolean") throw new RangeError(`randomMask must be a boolean; got ${String(randomMask)}`)
  const advertise = o?.advertise
  if (advertise !== undefined && (typeof advertise !== "string" || !/^wss?:\/\/[^/\s]+\/\S*$/.test(advertise))) {
    throw new RangeError(`advertise must be a ws:// or wss:// URL with a path ({rank} and {port} are filled in); got ${String(advertise)}`)
  }
  const env = process.env
  const given = (o?.tls ?? (env.RANKFLOW_TLS_CERT !== undefined || env.RANKFLOW_TLS_KEY !== undefined || env.RANKFLOW_TLS_CA !== undefined
    ? { cert: env.RANKFLOW_TLS_CERT, key: env.RANKFLOW_TLS_KEY, ca: env.RANKFLOW_TLS_CA }
    : undefined)) as Record<string, unknown> | undefined
  let tls: WebSocketTls | undefined
  if (given !== undefined) {
    const fromEnv = o?.tls === undefined
    for (const k of ["cert", "key", "ca"]) {
      if (typeof given[k] !== "string" || given[k] === "") {
        throw new RangeError(
          fromEnv
            ? `TLS needs all of RANKFLOW_TLS_CERT, RANKFLOW_TLS_KEY and RANKFLOW_TLS_CA; RANKFLOW_TLS_${k.toUpperCase()} is not set`
            : `TLS needs cert, key and ca (PEM text or file paths); ${k} is missing`
        )
      }
    }
    tls = { cert: given.cert as string, key: given.key as string, ca: given.ca as string }
    // Read the files now, so a missing one is the launch's error, not every rank's.
    for (const k of ["cert", "key", "ca"] as const) pem(tls[k])
  }
  return { path, ...(typeof host === "string" ? { host } : {}), ...(tls !== undefined ? { tls } : {}), ...(typeof randomMask === "boolean" ? { randomMask } : {}), ...(typeof advertise === "string" ? { advertise } : {}) }
}

/**
 * Launches a world of child processes linked by WebSockets.
 *
 * Transport options: the stream protocol's limits (`maxFrame`,
 * `handshakeTimeout`, `heartbeatInterval`, `detectorTimeout`,
 * `reconnectAttempts`, `connectTimeout`, `highWaterMark`, `maxQueued`,
 * `maxPendingHandshakes`, `eagerLimit`; see `StreamOptions`), and `path`,
 * `host`, `tls`, `randomMask` (see `WebSocketOptions`) and `advertise`.
 *
 * @category launchers
 * @since 0.1.0
 */
export const launcher: World.Launcher = {
  name: "websocket",
  launch(spec) {
    if (typeof spec.program !== "string") {
      return Promise.reject(new TypeError("the websocket transport runs a module on each rank: pass its URL"))
    }
    let options: Record<string, number>
    let ws: ReturnType<typeof wsOptions>
    try {
      options = { ...limits(spec.options) }
      ws = wsOptions(spec.options)
    } catch (e) {
      return Promise.reject(e)
    }
    const size = spec.size
    const secret = newSecret()
    const config = JSON.stringify({ program: spec.program, engine: spec.engine ?? {}, options, ...ws })
    return startCoordinator({
      size,
      secret: new TextEncoder().encode(secret),
      world: randomUUID(),
      timeout: options.connectTimeout!,
      ...(ws.tls !== undefined ? { tls: { cert: pem(ws.tls.cert), key: pem(ws.tls.key), ca: pem(ws.tls.ca) } } : {})
    }).then((coordinator) =>
      launchChildren(spec, {
        entry: ENTRY,
        env: (rank) => ({
          RANKFLOW_RANK: String(rank),
          RANKFLOW_SIZE: String(size),
          RANKFLOW_COORDINATOR: coordinator.address,
          RANKFLOW_WEBSOCKET_CONFIG: config,
          [SECRET_ENV]: secret
        }),
        close: () => coordinator.close()
      })
    )
  }
}
