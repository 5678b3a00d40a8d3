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
import { type ChildProcess, spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { createInterface } from "node:readline"
import type { Readable, Writable } from "node:stream"
import { fileURLToPath } from "node:url"
import { Codec, Errors } from "../../core/index.ts"
import type { World } from "../../core/index.ts"
import { newSecret, SECRET_ENV } from "../stream/Handshake.ts"
import { startCoordinator } from "../stream/Rendezvous.ts"
import { limits } from "../stream/Transport.ts"
import { DEFAULT_PATH, pem, type WebSocketTls } from "./Endpoint.ts"

const ENTRY = fileURLToPath(new URL("./Entry.ts", import.meta.url))
const STOP_GRACE_MS = 2000

/** Forwards `from` to `to` line by line, each line prefixed. */
const prefixLines = (from: Readable, prefix: string, to: Writable): Promise<void> =>
  new Promise((resolve) => {
    const rl = createInterface({ input: from, crlfDelay: Infinity })
    rl.on("line", (line) => to.write(`${prefix}${line}\n`))
    rl.on("close", resolve)
  })

/** An error without the launcher's stack: where the launcher noticed says nothing about the rank. */
const bare = (message: string): Error => {
  const e = new Error(message)
  e.stack = `Error: ${message}`
  return e
}

const describeExit = (rank: number, code: number | null, signal: NodeJS.Signals | null): string =>
  signal !== null
    ? `rank ${rank}'s process was killed (${signal}) before its program finished`
    : `rank ${rank}'s process exited (code ${code}) before its program finished`

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
    }).then((coordinator) => new Promise((resolve) => {
      const outcomes = new Map<number, World.RankOutcome>()
      const children: Array<ChildProcess> = []
      const running = new Set<number>()
      const exited: Array<Promise<void>> = []
      const piped: Array<Promise<void>> = []
      let ended = false

      const tell = (child: ChildProcess, m: unknown): void => {
        if (!child.connected) return
        try {
          child.send(m as never, (e) => void e)
        } catch {
          // the channel closed meanwhile: the child is exiting
        }
      }

      const end = async (stop: boolean): Promise<void> => {
        if (ended) return
        ended = true
        const kill = (): void => {
          for (const r of running) children[r]?.kill("SIGKILL")
        }
        if (stop) for (const c of children) tell(c, { type: "stop" })
        else kill()
        const grace = setTimeout(kill, stop ? STOP_GRACE_MS : 0)
        await Promise.all(exited)
        clearTimeout(grace)
        await Promise.all(piped)
        coordinator.close()
        resolve([...outcomes.values()])
      }

      const record = (rank: number, ok: boolean, value: unknown, error: unknown, gone: boolean): void => {
        if (ended) return
        if (!outcomes.has(rank)) {
          const o: World.RankOutcome = { rank, ok, value, error, at: performance.now() }
          outcomes.set(rank, o)
          spec.onOutcome?.(o)
          if (!ok) {
            const wire = Errors.toWire(error)
            children.forEach((c, r) => r !== rank && tell(c, { type: "lost", rank, error: wire, exited: gone }))
          }
        } else if (gone) {
          // It had reported, but its process is gone before the world ended:
          // the peers stop reconnecting to it.
          const wire = Errors.toWire(error)
          children.forEach((c, r) => r !== rank && tell(c, { type: "lost", rank, error: wire, exited: true }))
        }
        if (outcomes.size === size) void end(true)
      }

      spec.signal.addEventListener("abort", () => void end(false), { once: true })

      const tag = spec.tagOutput === true
      for (let rank = 0; rank < size; rank++) {
        const child = spawn(process.execPath, [ENTRY, ...(spec.argv ?? [])], {
          env: {
            ...process.env,
            RANKFLOW_RANK: String(rank),
            RANKFLOW_SIZE: String(size),
            RANKFLOW_COORDINATOR: coordinator.address,
            RANKFLOW_WEBSOCKET_CONFIG: config,
            [SECRET_ENV]: secret
          },
          stdio: ["ignore", tag ? "pipe" : "inherit", tag ? "pipe" : "inherit", "ipc"],
          serialization: "advanced"
        })
        children.push(child)
        running.add(rank)
        if (tag) {
          piped.push(prefixLines(child.stdout!, `[${rank}] `, process.stdout))
          piped.push(prefixLines(child.stderr!, `[${rank}] `, process.stderr))
        }
        child.on("message", (m: { type: string; ok: boolean; value?: Uint8Array; error?: unknown }) => {
          if (m.type !== "done") return
          if (m.ok) record(rank, true, Codec.decode(m.value!), undefined, false)
          else record(rank, false, undefined, Errors.fromWire(m.error), false)
        })
        exited.push(
          new Promise((done) => {
            let finished = false
            const over = (code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
              if (finished) return
              finished = true
              running.delete(rank)
              const why = error ?? bare(
                outcomes.has(rank) ? `rank ${rank}'s process ended (${signal ?? `code ${code}`}) before the world did` : describeExit(rank, code, signal)
              )
              record(rank, false, undefined, why, true)
              done()
            }
            child.on("error", (e) => {
              // Spawning failed (no exit follows) or a signal could not be sent.
              if (child.pid === undefined || child.exitCode !== null) over(null, null, e)
            })
            child.on("exit", (code, signal) => over(code, signal))
          })
        )
      }
      if (spec.signal.aborted) void end(false)
    }))
  }
}
