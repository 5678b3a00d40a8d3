/**
 * The TCP transport's launcher: hosts the rendezvous coordinator, runs
 * ranks as child processes on this machine, and — for a multi-machine world
 * (`rankflow run --listen HOST:PORT`) — hands the other ranks to agents that
 * join from other machines (`rankflow join HOST:PORT`).
 *
 * Every rank, local or remote, is a child process running `Entry.ts`: it
 * binds a TCP port, publishes it at the coordinator and gets every peer's.
 * The launcher watches every rank as the process transport does: when one
 * fails (its program throws, its process exits or is killed, its agent's
 * machine goes away) every other rank is told at once — local ones over
 * IPC, remote ones through their agent — so what depends on it fails instead
 * of waiting; when every rank has ended they are told to stop.
 *
 * An agent's channel (see `Rendezvous.connectAgent`) carries, after the
 * grant: from the agent `{t:"done", rank, ok, value|error}` (Codec bytes in
 * base64), `{t:"exit", rank, code, signal}` and `{t:"out", rank, fd, line}`
 * (its ranks' output, printed by the head); from the head `{t:"lost", rank,
 * error, exited}` and `{t:"stop"}` / `{t:"kill"}`; both ways `{t:"ping"}`
 * every heartbeat interval, and a side silent for the detector timeout is
 * taken for gone (its machine vanished without closing the connection).
 *
 * Transport options (`runWorld`'s `transportOptions`): the stream limits
 * (see `StreamOptions`), and `listen` ("host:port": host the coordinator
 * there and accept agents), `local` (ranks run here when listening; the
 * first `local` ranks), `advertise` (the host name or address peers dial
 * this machine's ranks at), `rendezvousTimeout` (ms every rank has to show
 * up; default 60 000, and 10 minutes when listening).
 *
 * @since 0.1.0
 */
import { availableParallelism, networkInterfaces } from "node:os"
import { extname } from "node:path"
import { fileURLToPath } from "node:url"
import { Codec, Errors } from "../../core/index.ts"
import type { World } from "../../core/index.ts"
import { bare, type LocalRank, Outcomes, type RankEvents, spawnChild, STOP_GRACE_MS } from "../stream/Children.ts"
import { loadSecret, newSecret, SECRET_ENV, SECRET_FILE_ENV } from "../stream/Handshake.ts"
import { type Channel, parseHostPort, startCoordinator, type TlsOptions } from "../stream/Rendezvous.ts"
import { limits } from "../stream/Transport.ts"
import { loadTls, tlsFilesFromEnvironment } from "./Endpoint.ts"

// The child side beside this module: Entry.ts in the repository, Entry.js
// in the built package (this module's own extension either way).
const ENTRY = fileURLToPath(new URL(`./Entry${extname(import.meta.url)}`, import.meta.url))

/**
 * Spawns rank `rank` of a world whose coordinator is `coordinator`.
 * `pipe`: hand output to `events.line` (else it goes to this process's).
 *
 * @category internals
 * @since 0.1.0
 */
export const spawnRank = (
  rank: number,
  size: number,
  coordinator: string,
  world: string,
  secret: string,
  config: string,
  argv: ReadonlyArray<string>,
  pipe: boolean,
  events: RankEvents
): LocalRank => {
  const env: Record<string, string | undefined> = {
    ...process.env,
    RANKFLOW_RANK: String(rank),
    RANKFLOW_SIZE: String(size),
    RANKFLOW_COORDINATOR: coordinator,
    RANKFLOW_WORLD: world,
    RANKFLOW_TCP_CONFIG: config,
    [SECRET_ENV]: secret
  }
  delete env[SECRET_FILE_ENV]
  delete env.RANKFLOW_HOST_COORDINATOR
  return spawnChild(ENTRY, rank, env, argv, pipe, events)
}

/**
 * A value or error as base64 Codec bytes, for an agent's channel.
 *
 * @category internals
 * @since 0.1.0
 */
export const pack = (v: unknown): string => Buffer.from(Codec.encode(v)).toString("base64")

/**
 * The inverse of {@link pack}.
 *
 * @category internals
 * @since 0.1.0
 */
export const unpack = (s: unknown): unknown => (typeof s === "string" ? Codec.decode(new Uint8Array(Buffer.from(s, "base64"))) : undefined)

/**
 * A wire error (`Errors.toWire`) as {@link pack}ed bytes; one the codec
 * cannot carry travels as its message.
 *
 * @category internals
 * @since 0.1.0
 */
export const packError = (wire: unknown): string => {
  try {
    return pack(wire)
  } catch {
    return pack({ _error: "Error", message: String((wire as { message?: unknown })?.message ?? wire) })
  }
}

/**
 * Keeps an agent's channel alive both ways: sends a ping every `every` ms
 * and calls `onSilent` once nothing has been heard for `silentAfter` ms
 * (call `heard` on every message).
 *
 * @category internals
 * @since 0.1.0
 */
export const keepAlive = (ch: Channel, every: number, silentAfter: number, onSilent: () => void): { heard(): void; stop(): void } => {
  let last = performance.now()
  const timer = setInterval(() => {
    ch.send({ t: "ping" })
    if (performance.now() - last > silentAfter) {
      clearInterval(timer)
      onSilent()
    }
  }, every)
  timer.unref()
  return { heard: () => void (last = performance.now()), stop: () => clearInterval(timer) }
}

const tlsFrom = (o: Readonly<Record<string, unknown>> | undefined): TlsOptions | undefined => {
  const t = o?.tls as { cert: string; key: string; ca: string } | undefined
  if (t !== undefined) return loadTls(t)
  const files = tlsFilesFromEnvironment()
  return files === undefined ? undefined : loadTls(files)
}

/**
 * Launches a world over TCP.
 *
 * @category launchers
 * @since 0.1.0
 */
export const launcher: World.Launcher = {
  name: "tcp",
  async launch(spec) {
    if (typeof spec.program !== "string") throw new TypeError("the tcp transport runs a module on each rank: pass its URL")
    const o = spec.options ?? {}
    const options = { ...limits(o) }
    const size = spec.size
    const listen = typeof o.listen === "string" ? parseHostPort(o.listen) : undefined
    const local = listen === undefined ? size : Math.min(size, typeof o.local === "number" ? o.local : availableParallelism())
    if (!Number.isInteger(local) || local < 0) throw new RangeError(`local must be a whole number of ranks; got ${String(o.local)}`)
    // A world that listens for other machines uses the secret they know; a local one makes its own.
    let secret: string
    try {
      secret = listen === undefined ? newSecret() : new TextDecoder().decode(loadSecret(process.env))
    } catch (e) {
      throw bare(`a world that listens for other machines needs their shared secret: ${(e as { reason?: string }).reason ?? String(e)} (the same on every machine)`)
    }
    const tls = tlsFrom(o)
    const rendezvousTimeout = typeof o.rendezvousTimeout === "number" ? o.rendezvousTimeout : listen === undefined ? 60_000 : 600_000
    const wildcard = listen !== undefined && (listen.host === "0.0.0.0" || listen.host === "::")
    const advertise = typeof o.advertise === "string" ? o.advertise : wildcard ? firstAddress() : undefined
    const config = JSON.stringify({
      program: spec.program,
      engine: spec.engine ?? {},
      options: { ...options, rendezvousTimeout },
      listenHost: listen === undefined ? "127.0.0.1" : undefined,
      advertise
    })
    const tag = spec.tagOutput === true

    const locals: Array<LocalRank> = []
    const exited = new Set<number>()
    /** Remote ranks by rank: their agent's channel. */
    const agents = new Map<number, Channel>()
    let next = local
    let finish: (v: ReadonlyArray<World.RankOutcome>) => void = () => {}
    const result = new Promise<ReadonlyArray<World.RankOutcome>>((r) => (finish = r))
    let remoteGone: () => void = () => {}
    const remoteEnded = new Promise<void>((r) => (remoteGone = r))
    const checkRemote = (): void => {
      for (let r = local; r < size; r++) if (!exited.has(r)) return
      remoteGone()
    }
    const channels = (except = -1): Set<Channel> => new Set([...agents].filter(([r]) => r !== except).map(([, c]) => c))

    const tellAll = (m: { type: string }, except: number): void => {
      locals.forEach((c, r) => r !== except && c.tell(m))
      if (agents.size === 0) return
      const { type, error, ...rest } = m as { type: string; error?: unknown }
      const packed = error === undefined ? undefined : packError(error)
      for (const ch of channels(except)) ch.send({ ...rest, t: type, ...(packed === undefined ? {} : { error: packed }) })
    }

    const outcomes = new Outcomes(size, spec.onOutcome, tellAll, () => void end(true))
    const record = outcomes.record.bind(outcomes)
    let ended = false

    const end = async (stop: boolean): Promise<void> => {
      if (!outcomes.finish()) return
      ended = true
      const kill = (): void => {
        for (const [r, c] of locals.entries()) if (!exited.has(r)) c.child.kill("SIGKILL")
        for (const ch of channels()) ch.send({ t: "kill" })
      }
      if (stop) {
        for (const c of locals) c.tell({ type: "stop" })
        for (const ch of channels()) ch.send({ t: "stop" })
      } else kill()
      const grace = setTimeout(kill, stop ? STOP_GRACE_MS : 0)
      // Ranks no agent took cannot be waited for; the others are, until their agent says they exited or goes away.
      for (let r = next; r < size; r++) exited.add(r)
      checkRemote()
      const bound = setTimeout(remoteGone, STOP_GRACE_MS * 3)
      await Promise.all([...locals.map((c) => c.ended), remoteEnded])
      clearTimeout(grace)
      clearTimeout(bound)
      for (const ch of channels()) ch.close()
      coordinator.close()
      finish(outcomes.list())
    }

    const exitOf = (rank: number, code: number | null, signal: string | null, error?: Error): void => {
      exited.add(rank)
      outcomes.exit(rank, code, signal, error)
      checkRemote()
    }

    const fromAgent = (m: Record<string, unknown>): void => {
      const rank = m.rank
      if (typeof rank !== "number" || !agents.has(rank)) return
      if (m.t === "done") {
        if (m.ok === true) record(rank, true, unpack(m.value), undefined, false)
        else record(rank, false, undefined, Errors.fromWire(unpack(m.error)), false)
      } else if (m.t === "exit") {
        if (!exited.has(rank)) exitOf(rank, typeof m.code === "number" ? m.code : null, typeof m.signal === "string" ? m.signal : null)
      } else if (m.t === "out" && typeof m.line === "string") {
        ;(m.fd === 2 ? process.stderr : process.stdout).write(`${tag ? `[${rank}] ` : ""}${m.line}\n`)
      }
    }

    const coordinator = await startCoordinator({
      size,
      secret: new TextEncoder().encode(secret),
      host: listen?.host ?? "127.0.0.1",
      port: listen?.port ?? 0,
      tls,
      timeout: rendezvousTimeout,
      agent: listen === undefined
        ? undefined
        : (want, ch) => {
          if (ended) return { refuse: "the world has ended" }
          if (next + want > size) return { refuse: `${want} ranks asked; ${size - next} of ${size} are left` }
          const ranks = Array.from({ length: want }, (_, i) => next + i)
          next += want
          for (const r of ranks) agents.set(r, ch)
          const gone = (why: string): void => {
            alive.stop()
            for (const r of ranks) if (!exited.has(r)) exitOf(r, null, null, bare(`rank ${r}'s machine (its agent at ${ch.remote}) ${why} before the world ended`))
          }
          // A machine that vanishes without closing its connection falls silent.
          const alive = keepAlive(ch, options.heartbeatInterval, options.detectorTimeout, () => {
            ch.close()
            gone(`was silent for ${options.detectorTimeout} ms`)
          })
          ch.onMessage = (m) => {
            alive.heard()
            fromAgent(m)
          }
          ch.onClose = () => gone("disconnected")
          process.stderr.write(`rankflow: ranks ${ranks[0]}..${ranks[ranks.length - 1]} joined from ${ch.remote}\n`)
          return { ranks, extra: { argv: spec.argv ?? [], config: JSON.parse(config), tagOutput: tag } }
        }
    })
    const coordinatorAddress = listen !== undefined && !wildcard ? String(o.listen) : coordinator.address.replace(/^0\.0\.0\.0:|^\[::\]:/, "127.0.0.1:")
    if (listen !== undefined) {
      process.stderr.write(
        `rankflow: listening at ${coordinator.address} for a world of ${size}; ${local === 0 ? "no rank runs" : local === 1 ? "rank 0 runs" : `ranks 0..${local - 1} run`} here; ${size - local} more join with \`rankflow join ${o.listen} -n K app.ts\`\n`
      )
    }

    spec.signal.addEventListener("abort", () => void end(false), { once: true })
    coordinator.done.catch((e) => {
      // Ranks that never showed up: the world cannot start.
      for (const r of (e as { missing?: ReadonlyArray<number> }).missing ?? []) record(r, false, undefined, e, true)
    })
    const events: RankEvents = {
      done: (rank, ok, value, error) => record(rank, ok, value, error, false),
      exit: exitOf,
      line: (rank, fd, line) => (fd === 1 ? process.stdout : process.stderr).write(`[${rank}] ${line}\n`)
    }
    for (let rank = 0; rank < local; rank++) {
      locals.push(spawnRank(rank, size, coordinatorAddress, coordinator.world, secret, config, spec.argv ?? [], tag, events))
    }
    if (spec.signal.aborted) void end(false)
    return result
  }
}

/** This machine's first non-internal IPv4 address (what peers on other machines dial), or 127.0.0.1. */
const firstAddress = (): string => {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address
  }
  return "127.0.0.1"
}
