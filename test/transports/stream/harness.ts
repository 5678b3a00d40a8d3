/**
 * Stream transports in this process over real Unix sockets, for the stream
 * protocol's tests: a world of engines, a connector that remembers its
 * streams (so a test can break them), and a raw client that speaks bytes.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { connect, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Duplex } from "node:stream"
import { type Engine, World } from "../../../core/index.ts"
import { socketPath, UnixConnector } from "../../../transports/process/Endpoint.ts"
import { Parser } from "../../../transports/stream/Framing.ts"
import { type Connector, type LogEntry, StreamTransport, type StreamOptions } from "../../../transports/stream/Transport.ts"

export const SECRET = new TextEncoder().encode("k3y-9f2c-5ab0-e771")

/** A fresh socket directory; `rm` removes it. */
export const socketDir = (): { dir: string; rm: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), "rankflow-test-"))
  return { dir, rm: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A connector (by default a Unix one) that keeps every stream it opens or accepts. */
export class Recording<C extends Connector = UnixConnector> implements Connector {
  readonly name: string
  readonly streams: Array<Duplex> = []
  readonly inner: C
  constructor(inner: C) {
    this.inner = inner
    this.name = inner.name
  }
  listen(accept: (s: Duplex) => void): Promise<void> {
    return this.inner.listen((s) => {
      this.streams.push(s)
      accept(s)
    })
  }
  async dial(peer: number): Promise<Duplex> {
    const s = await this.inner.dial(peer)
    this.streams.push(s)
    return s
  }
  close(): void {
    this.inner.close()
  }
  /** Destroys every open stream (the link between two live ranks breaks). */
  breakAll(): number {
    let n = 0
    for (const s of this.streams) {
      if (!s.destroyed) {
        s.destroy()
        n++
      }
    }
    return n
  }
}

export interface TestWorld {
  readonly dir: string
  readonly transports: Array<StreamTransport>
  readonly engines: Array<Engine.Engine>
  readonly connectors: Array<Recording>
  readonly logs: Array<LogEntry>
  readonly close: () => void
}

/**
 * A world of `size` stream transports in this process, started (only the
 * ranks in `members`, when given: the test plays the others; in `dir0`, when
 * given, which the caller removes).
 */
export const world = async (
  size: number,
  options: StreamOptions = {},
  secrets?: ReadonlyArray<Uint8Array>,
  members: ReadonlyArray<number> = Array.from({ length: size }, (_, r) => r),
  dir0?: string
): Promise<TestWorld> => {
  const { dir, rm } = dir0 === undefined ? socketDir() : { dir: dir0, rm: () => {} }
  const logs: Array<LogEntry> = []
  const connectors = members.map((r) => new Recording(new UnixConnector(dir, r)))
  const started = await startRanks(connectors, members, size, options, "test-world", (r) => secrets?.[r] ?? SECRET, (e) => logs.push(e))
  return {
    dir,
    ...started,
    connectors,
    logs,
    close: () => {
      started.close()
      rm()
    }
  }
}

/**
 * A stream transport over each of `connectors` (rank `ranks[i]` of a world
 * of `size` named `world`) and its engine, started; `close` closes them.
 */
export const startRanks = async (
  connectors: ReadonlyArray<Connector>,
  ranks: ReadonlyArray<number>,
  size: number,
  options: StreamOptions,
  world: string,
  secret: (rank: number) => Uint8Array,
  log: (e: LogEntry) => void
): Promise<{ transports: Array<StreamTransport>; engines: Array<Engine.Engine>; close: () => void }> => {
  const transports = connectors.map((connector, i) =>
    new StreamTransport({ log, ...options, rank: ranks[i]!, size, world, secret: secret(ranks[i]!), connector })
  )
  const engines = transports.map((t) => World.makeEngine(t, { onWarning: () => {} }))
  await Promise.all(transports.map((t) => t.start()))
  return {
    transports,
    engines,
    close: () => {
      for (const e of engines) e.close()
      for (const t of transports) t.close()
    }
  }
}

/** Runs a program (Promise face) on every rank of a test world. */
export const run = <A>(w: { readonly engines: ReadonlyArray<Engine.Engine> }, program: World.Program<A>) =>
  Promise.all(w.engines.map((e) => World.runRank(e, program as World.Program)))

/** A raw client on rank `rank`'s socket: write bytes, see what comes back and when it closes. */
export interface Raw {
  readonly socket: Socket
  readonly frames: Array<{ kind: number; tag: number; src: number; seq: number; body: Uint8Array }>
  readonly closed: Promise<void>
  readonly opened: Promise<void>
  parseError: string | undefined
}

export const raw = (dir: string, rank: number): Raw => {
  const socket = connect(socketPath(dir, rank))
  const parser = new Parser({ maxFrame: 1 << 20, preamble: true, rank: -1 })
  const r: Raw = {
    socket,
    frames: [],
    parseError: undefined,
    opened: new Promise((resolve) => socket.once("connect", () => resolve())),
    closed: new Promise((resolve) => socket.once("close", () => resolve()))
  }
  socket.on("error", () => {})
  socket.on("data", (chunk: Uint8Array) => {
    const e = parser.push(chunk, (f, body) => r.frames.push({ kind: f.kind, tag: f.tag, src: f.src, seq: f.seq, body: body.slice() }))
    if (e !== undefined) r.parseError = e.code
  })
  return r
}

/** The byte arrays one after the other. */
export const concat = (...parts: Array<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Resolves when `cond()` holds (checked every 5 ms), or rejects after `ms`. */
export const until = async (cond: () => boolean, ms = 5000, what = "a condition"): Promise<void> => {
  const t0 = performance.now()
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`${what} did not hold within ${ms} ms`)
    await sleep(5)
  }
}

/** Rank 0 of a world of `size` alone (the other ranks are the test's to play), listening. */
export const alone = async (size = 2, options: StreamOptions = {}) => {
  const { dir, rm } = socketDir()
  const logs: Array<LogEntry> = []
  const transport = new StreamTransport({ log: (e) => logs.push(e), ...options, rank: 0, size, world: "test-world", secret: SECRET, connector: new UnixConnector(dir, 0) })
  const engine = World.makeEngine(transport, { onWarning: () => {} })
  await transport.start()
  return {
    dir,
    transport,
    engine,
    logs,
    close: () => {
      engine.close()
      transport.close()
      rm()
    }
  }
}
