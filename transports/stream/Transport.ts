/**
 * The stream transport: core's `TransportShape` over byte streams of any
 * kind, given a {@link Connector} that opens them.
 *
 * One protocol core — handshake, framing, flow control, failure detection —
 * serves every byte-stream transport (as nats.js's does): a transport only
 * says how to listen for streams and how to dial a peer. The process
 * transport gives Unix domain sockets; TCP and WebSocket give theirs.
 *
 * Between each pair of ranks there is one {@link Link}; the higher rank dials
 * the lower. Delivery comes from the event loop (a stream's `data` events),
 * so `poll` has nothing to drain synchronously and returns at once; a wait
 * completes as soon as its frame is read.
 *
 * @example
 * ```ts
 * import { StreamTransport, type Connector } from "rankflow/transports/stream/Transport"
 * declare const connector: Connector
 * const t = new StreamTransport({ rank: 0, size: 2, world: "w1", secret: new TextEncoder().encode("s"), connector })
 * // World.makeEngine(t) attaches the engine; then:
 * await t.start()
 * ```
 * @since 0.1.0
 */
import type { Duplex } from "node:stream"
import { Envelope, Errors } from "../../core/index.ts"
import type { Transport } from "../../core/index.ts"
import { Conn, type ConnState } from "./Connection.ts"
import * as Handshake from "./Handshake.ts"
import { Link } from "./Link.ts"
import { type Code, StreamError } from "./StreamError.ts"

type Frame = Envelope.Frame

/**
 * What a byte-stream transport supplies: streams. `listen` accepts the
 * streams peers dial to this rank; `dial` opens one to a peer. Streams are
 * Node duplex streams of bytes (a `net.Socket`, a WebSocket stream); the
 * protocol core does everything else.
 *
 * @category models
 * @since 0.1.0
 */
export interface Connector {
  /** The transport's name ("process", "tcp", ...), for errors. */
  readonly name: string
  /** Starts accepting streams, handing each to `accept`; resolves once listening. */
  readonly listen: (accept: (stream: Duplex) => void) => Promise<void>
  /** Opens a stream to `peer`; resolves once it is connected, rejects if it cannot be. */
  readonly dial: (peer: number) => Promise<Duplex>
  /** Stops accepting and releases what `listen` took. */
  readonly close: () => void
}

/**
 * A line for the log: a refused connection, a lost peer, a broken link.
 *
 * @category models
 * @since 0.1.0
 */
export interface LogEntry {
  /** `warn`: bad input or a lost peer; `info`: a link that broke and came back. */
  readonly level: "warn" | "info"
  readonly rank: number
  /** The peer, or -1 when not known (before a handshake names it). */
  readonly peer: number
  readonly code: Code | undefined
  readonly message: string
}

/**
 * The stream protocol's limits. Every one has a safe default.
 *
 * @category models
 * @since 0.1.0
 */
export interface StreamOptions {
  /** Largest frame accepted or sent, header included (bytes). Default 4 MiB. Larger DATA bodies travel in pieces of at most this. */
  readonly maxFrame?: number
  /** A connection whose handshake takes longer is closed (ms). Default 10 000. */
  readonly handshakeTimeout?: number
  /** An idle link sends a heartbeat this often (ms). Default 1000. */
  readonly heartbeatInterval?: number
  /**
   * A connection silent this long is closed as broken, and a peer that
   * cannot be reached again within this long is lost (ms). Default 10 000.
   */
  readonly detectorTimeout?: number
  /** Dials after a broken connection before the peer is lost. Default 20. */
  readonly reconnectAttempts?: number
  /** How long ranks have to make their first connection (ms). Default 30 000. */
  readonly connectTimeout?: number
  /** Bytes queued in one turn past which they are written at once. Default 1 MiB. */
  readonly highWaterMark?: number
  /** Bytes copied and not yet acknowledged past which `send` returns false. Default 64 MiB. */
  readonly maxQueued?: number
  /** Accepted connections in their handshake at once; more are closed. Default 64. */
  readonly maxPendingHandshakes?: number
  /** Bytes a message may have and still go eagerly. Default 64 KiB. */
  readonly eagerLimit?: number
  /** Where log lines go. Default: warnings to stderr, `info` nowhere. */
  readonly log?: (entry: LogEntry) => void
}

/**
 * Everything a stream transport needs: who this rank is, the world, the
 * secret, the connector, and the limits.
 *
 * @category models
 * @since 0.1.0
 */
export interface StreamConfig extends StreamOptions {
  readonly rank: number
  readonly size: number
  /** The world's id: both ends of a link must agree on it. */
  readonly world: string
  /** The world's secret (see `Handshake.loadSecret`). */
  readonly secret: Uint8Array
  readonly connector: Connector
}

/**
 * The limits, resolved.
 *
 * @category models
 * @since 0.1.0
 */
export type Limits = Required<Omit<StreamOptions, "log">>

/**
 * The defaults of {@link StreamOptions}.
 *
 * @category models
 * @since 0.1.0
 */
export const defaults: Limits = {
  maxFrame: 4 * 1024 * 1024,
  handshakeTimeout: 10_000,
  heartbeatInterval: 1000,
  detectorTimeout: 10_000,
  reconnectAttempts: 20,
  connectTimeout: 30_000,
  highWaterMark: 1024 * 1024,
  maxQueued: 64 * 1024 * 1024,
  maxPendingHandshakes: 64,
  eagerLimit: 64 * 1024
}

/**
 * Reads the limits out of loose options (a launcher's `transportOptions`),
 * keeping the defaults for what is missing and refusing what is invalid.
 *
 * @category models
 * @since 0.1.0
 */
export const limits = (o: Readonly<Record<string, unknown>> | undefined): Limits => {
  const out: Record<string, number> = { ...defaults }
  for (const k of Object.keys(defaults) as Array<keyof Limits>) {
    const v = o?.[k]
    if (v === undefined) continue
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || !Number.isInteger(v)) {
      throw new RangeError(`the stream transport's ${k} must be a non-negative integer; got ${String(v)}`)
    }
    out[k] = v
  }
  if (out.maxFrame! < 1024 || out.maxFrame! > 0x7fffffff) throw new RangeError(`maxFrame must be from 1024 to 2^31-1 bytes; got ${out.maxFrame}`)
  if (out.eagerLimit! + Envelope.HEADER_BYTES > out.maxFrame!) {
    throw new RangeError(`eagerLimit (${out.eagerLimit}) must fit in a frame (maxFrame ${out.maxFrame}, less ${Envelope.HEADER_BYTES} bytes of header)`)
  }
  if (out.heartbeatInterval! < 1 || out.detectorTimeout! < 1 || out.handshakeTimeout! < 1) {
    throw new RangeError("heartbeatInterval, detectorTimeout and handshakeTimeout must be at least 1 ms")
  }
  return out as Limits
}

/**
 * What connections and links see of their transport.
 *
 * @category models
 * @since 0.1.0
 */
export interface Host {
  readonly name: string
  readonly rank: number
  readonly size: number
  readonly options: Limits
  readonly secret: Uint8Array
  readonly world: Uint8Array
  readonly incarnation: Uint8Array
  /** Bytes of body in each piece of a large DATA body. */
  readonly pieceBytes: number
  readonly links: ReadonlyArray<Link | undefined>
  readonly sink: Transport.Sink | undefined
  log(level: LogEntry["level"], message: string, peer: number, code?: Code): void
  /** Flushes `link` at the end of this turn. */
  schedule(link: Link): void
  /** Dials the peer of `link`; resolves once the stream is open (its handshake then runs). */
  dial(link: Link): Promise<void>
  /** A connection's handshake is done. */
  established(c: Conn): void
  /** A connection closed; `was` is the state it had. */
  closed(c: Conn, was: ConnState): void
  /** Gives up on a link's peer and tells the engine. */
  lose(link: Link, code: Code, reason: string): void
  /** The error a `send` throws when it cannot take a frame. */
  sendError(peer: number, e: StreamError): Error
}

const defaultLog = (e: LogEntry): void => {
  if (e.level === "warn") process.stderr.write(`rankflow: rank ${e.rank}: ${e.message}\n`)
}

/**
 * A transport over byte streams: one {@link Link} per peer, connections
 * from the connector.
 *
 * @category models
 * @since 0.1.0
 */
export class StreamTransport implements Transport.TransportShape, Host {
  readonly name: string
  readonly rank: number
  readonly size: number
  readonly eagerLimit: number
  readonly options: Limits
  readonly secret: Uint8Array
  readonly world: Uint8Array
  readonly incarnation = Handshake.random(Handshake.INCARNATION_BYTES)
  readonly pieceBytes: number
  readonly links: Array<Link | undefined>
  sink: Transport.Sink | undefined = undefined
  private readonly connector: Connector
  private readonly logTo: (e: LogEntry) => void
  private readonly dirty: Array<Link> = []
  private flushScheduled = false
  private readonly pending = new Set<Conn>()
  private readonly conns = new Set<Conn>()
  private ticker: ReturnType<typeof setInterval> | undefined = undefined
  private started = false
  private closedFlag = false

  constructor(config: StreamConfig) {
    if (!Number.isInteger(config.size) || config.size < 1) throw new RangeError(`size must be a positive integer; got ${config.size}`)
    if (!Number.isInteger(config.rank) || config.rank < 0 || config.rank >= config.size) {
      throw new RangeError(`rank must be from 0 to ${config.size - 1}; got ${config.rank}`)
    }
    if (config.secret.byteLength === 0) throw new StreamError({ code: "ERR_NO_SECRET", rank: config.rank, peer: -1, reason: "the secret is empty" })
    const world = new TextEncoder().encode(config.world)
    if (world.byteLength > Handshake.MAX_WORLD_BYTES) throw new RangeError(`the world id is longer than ${Handshake.MAX_WORLD_BYTES} bytes`)
    this.name = config.connector.name
    this.rank = config.rank
    this.size = config.size
    this.options = limits(config as unknown as Record<string, unknown>)
    this.eagerLimit = this.options.eagerLimit
    this.pieceBytes = Math.min(256 * 1024, this.options.maxFrame - Envelope.HEADER_BYTES)
    this.secret = config.secret
    this.world = world
    this.connector = config.connector
    this.logTo = config.log ?? defaultLog
    this.links = Array.from({ length: this.size }, (_, p) => (p === this.rank ? undefined : new Link(this, p)))
  }

  // ------------------------------------------------------- TransportShape

  send(f: Frame): boolean {
    const link = this.links[f.dst]
    if (link === undefined) throw this.sendError(f.dst, new StreamError({ code: "ERR_BAD_RANK", rank: this.rank, peer: f.dst, reason: `no link to rank ${f.dst}` }))
    return link.send(f)
  }

  attach(sink: Transport.Sink): void {
    this.sink = sink
  }

  /** Stream transports deliver from the event loop: nothing to drain here. */
  poll(): void {}

  /**
   * Starts listening, then dials every lower rank (in the background:
   * frames sent meanwhile wait in their links). Call after `attach`.
   */
  async start(): Promise<void> {
    if (this.started) return
    if (this.sink === undefined) throw new Error("attach the engine before starting the transport")
    this.started = true
    await this.connector.listen(this.accept)
    if (this.closedFlag) return
    this.ticker = setInterval(this.tick, Math.max(20, Math.min(250, this.options.heartbeatInterval >> 1)))
    this.ticker.unref?.()
    for (const link of this.links) if (link?.dialer) link.redial()
  }

  /** Flushes every link, says BYE to every peer, and stops listening. */
  close(): void {
    if (this.closedFlag) return
    this.closedFlag = true
    if (this.ticker !== undefined) clearInterval(this.ticker)
    for (const link of this.links) link?.close()
    for (const c of [...this.conns]) if (c.state === "handshake") c.close(undefined)
    try {
      this.connector.close()
    } catch {
      // already closed
    }
  }

  /**
   * Stops reconnecting to `peer`, quietly: its launcher says its process is
   * gone, and the engine has been told.
   */
  forget(peer: number): void {
    const link = this.links[peer]
    if (link !== undefined && link.state !== "lost" && link.state !== "closed") link.end("lost")
  }

  // ----------------------------------------------------------------- Host

  log(level: LogEntry["level"], message: string, peer: number, code?: Code): void {
    try {
      this.logTo({ level, rank: this.rank, peer, code, message })
    } catch {
      // a log that throws must not break the transport
    }
  }

  schedule(link: Link): void {
    this.dirty.push(link)
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(this.flushAll)
  }

  private readonly flushAll = (): void => {
    this.flushScheduled = false
    const links = this.dirty.splice(0)
    for (const l of links) l.flush()
  }

  async dial(link: Link): Promise<void> {
    const stream = await this.connector.dial(link.peer)
    if (this.closedFlag || link.state === "lost" || link.state === "closed") {
      stream.destroy()
      throw new Error("closed")
    }
    const c = new Conn(this, stream, "dialer", link.peer)
    this.conns.add(c)
  }

  private readonly accept = (stream: Duplex): void => {
    if (this.closedFlag) {
      stream.destroy()
      return
    }
    if (this.pending.size >= this.options.maxPendingHandshakes) {
      this.log("warn", `refused a connection: ERR_TOO_MANY_PENDING (${this.pending.size} connections are in their handshake)`, -1, "ERR_TOO_MANY_PENDING")
      stream.on("error", () => {})
      stream.destroy()
      return
    }
    const c = new Conn(this, stream, "acceptor", -1)
    this.pending.add(c)
    this.conns.add(c)
  }

  established(c: Conn): void {
    this.pending.delete(c)
  }

  closed(c: Conn, was: ConnState): void {
    this.pending.delete(c)
    this.conns.delete(c)
    const e = c.error
    if (was === "handshake" && e !== undefined && !this.closedFlag) {
      if (c.role === "acceptor") {
        // A peer that hangs up is not bad input; anything else is.
        this.log(e.code === "ERR_CONNECTION" ? "info" : "warn", `closed a connection${c.peer >= 0 ? ` from rank ${c.peer}` : ""}: ${e.code}: ${e.reason}`, c.peer, e.code)
      } else {
        this.log(c.fatal ? "warn" : "info", `a connection to rank ${c.peer} failed: ${e.code}: ${e.reason}`, c.peer, e.code)
      }
    }
    if (this.closedFlag) return
    if (c.role === "dialer" || was === "up") this.links[c.peer]?.connClosed(c)
  }

  lose(link: Link, code: Code, reason: string): void {
    if (link.state === "lost" || link.state === "closed") return
    const cause = new StreamError({ code, rank: this.rank, peer: link.peer, reason })
    link.end("lost", code, reason)
    if (this.closedFlag) return
    this.log("warn", `lost rank ${link.peer}: ${code}: ${reason}`, link.peer, code)
    this.sink?.peerLost(
      link.peer,
      new Errors.TransportError({ transport: this.name, rank: this.rank, peer: link.peer, reason: `${code}: ${reason}`, cause })
    )
  }

  sendError(peer: number, e: StreamError): Error {
    return new Errors.TransportError({ transport: this.name, rank: this.rank, peer, reason: `${e.code}: ${e.reason}`, cause: e })
  }

  private readonly tick = (): void => {
    const now = performance.now()
    for (const link of this.links) link?.tick(now)
  }

  // ---------------------------------------------------------- diagnostics

  /** The state of the link to `peer` (for tests and diagnostics). */
  linkState(peer: number): Link["state"] | undefined {
    return this.links[peer]?.state
  }

  /** Connections made to `peer` so far, the first included (for tests and diagnostics). */
  connectionsTo(peer: number): number {
    return this.links[peer]?.connections ?? 0
  }
}
