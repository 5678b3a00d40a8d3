/**
 * The rendezvous: how the ranks of a world learn each other's addresses.
 *
 * A coordinator (hosted by a launcher, by rank 0 under `mpirun`/`srun`, or by
 * the head of a multi-machine `rankflow run --listen`) listens on a TCP port.
 * Every rank connects to it, proves it knows the world's secret, publishes
 * one opaque address string ("tcp://10.0.0.2:41234", "ws://host:8080/r3",
 * anything its transport can dial) and, once every rank of the world has
 * published, gets the whole table: the world id and the address of every
 * rank, in rank order. The coordinator proves it knows the secret too, over
 * the table it sends, so a rank never dials addresses from an impostor.
 *
 * The API is three calls:
 *
 * - {@link startCoordinator}`({ size, secret, host, port, timeout })` →
 *   `{ address, world, done, close }`; `done` resolves to the table once
 *   every rank has published, or rejects with `ERR_MISSING_RANKS` naming
 *   the ranks that never showed up within `timeout`.
 * - {@link rendezvous}`({ coordinator: "host:port", rank, size, secret,
 *   address })` → `{ world, addresses }`. `address` may be a function of the
 *   local IP address this rank uses to reach the coordinator, so a rank
 *   advertises the interface its peers can route to. It retries while the
 *   coordinator is not listening yet, until its `timeout`.
 * - {@link connectAgent} / the coordinator's `agent` hook: an authenticated
 *   message channel for a launcher's agents (`rankflow join`), on the same
 *   port.
 *
 * Wire format: the client sends the preamble `RFRZ` + version byte (1), then
 * both sides send frames `u32 length (big-endian) | UTF-8 JSON`:
 *
 * ```text
 * client      → coordinator  {t:"hello", role:"rank", rank, size, nonce}   (or role:"agent", want)
 * coordinator → client       {t:"challenge", nonce}
 * client      → coordinator  {t:"auth", proof, address}
 * coordinator → client       {t:"table", table:{world, addresses}, proof}   (when all ranks are in)
 *                            {t:"ranks", grant:{ranks, size, world, …}, proof}   (to an agent, at once)
 *                            {t:"refuse", code, reason, missing?}            (instead, on any failure)
 * ```
 *
 * Proofs are HMAC-SHA256 keyed with the secret, over a role label, the
 * hello's and the challenge's exact bytes (both nonces), and the client's
 * address or the coordinator's table or grant; they are compared in
 * constant time. (Messages on an agent's channel after the grant are not
 * authenticated one by one: use TLS where the network is not trusted.)
 * Before a client has proven itself the coordinator reads frames of at most
 * 4 KiB and gives it `handshakeTimeout` to finish; bad input (wrong magic or
 * version, a frame too large, malformed JSON, a wrong proof, a rank out of
 * range or already taken, a size that disagrees) closes that connection
 * with a typed reason, logged; it never ends the coordinator.
 *
 * @example
 * ```ts
 * import { startCoordinator, rendezvous } from "rankflow/transports/stream/Rendezvous"
 * const secret = new TextEncoder().encode("s3cret")
 * const c = await startCoordinator({ size: 2, secret })
 * const [a, b] = await Promise.all([0, 1].map((rank) =>
 *   rendezvous({ coordinator: c.address, rank, size: 2, secret, address: (ip) => `tcp://${ip}:${4000 + rank}` })))
 * a.addresses // ["tcp://127.0.0.1:4000", "tcp://127.0.0.1:4001"]
 * c.close()
 * ```
 * @since 0.1.0
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto"
import { connect as netConnect, createServer as netCreateServer, isIPv6, type Server, type Socket } from "node:net"
import { connect as tlsConnect, createServer as tlsCreateServer, type SecureContextOptions, type TLSSocket } from "node:tls"
import * as Data from "effect/Data"

/**
 * The codes of rendezvous errors.
 *
 * @category errors
 * @since 0.1.0
 */
export type RendezvousCode =
  /** The stream does not start with `RFRZ`. */
  | "ERR_BAD_MAGIC"
  /** The client speaks another rendezvous version. */
  | "ERR_BAD_VERSION"
  /** A frame longer than allowed. */
  | "ERR_FRAME_TOO_LARGE"
  /** A frame that is not the JSON message expected now. */
  | "ERR_MALFORMED"
  /** A wrong proof: the other side does not know the world's secret. */
  | "ERR_AUTH_FAILED"
  /** A rank outside the world. */
  | "ERR_BAD_RANK"
  /** Another live client already published this rank. */
  | "ERR_DUPLICATE_RANK"
  /** The client's world size differs from the coordinator's. */
  | "ERR_SIZE_MISMATCH"
  /** An address that is empty or too long. */
  | "ERR_BAD_ADDRESS"
  /** An agent asked for more ranks than are left. */
  | "ERR_NO_RANKS_LEFT"
  /** A client did not finish its handshake in time. */
  | "ERR_HANDSHAKE_TIMEOUT"
  /** Too many connections are in their handshake at once. */
  | "ERR_TOO_MANY_PENDING"
  /** Some ranks never published within the coordinator's timeout (`missing` names them). */
  | "ERR_MISSING_RANKS"
  /** The client got no table within its timeout. */
  | "ERR_TIMEOUT"
  /** The coordinator refused this client (the reason says why). */
  | "ERR_REFUSED"
  /** The connection failed or ended. */
  | "ERR_CONNECTION"
  /** The coordinator was closed before the world was complete. */
  | "ERR_CLOSED"

/**
 * A rendezvous failure: its code, the rank that saw it (-1 for the
 * coordinator), what happened, and the ranks that never showed up (for
 * `ERR_MISSING_RANKS`, and `ERR_REFUSED` when the coordinator said so).
 *
 * @category errors
 * @since 0.1.0
 */
export class RendezvousError extends Data.TaggedError("RendezvousError")<{
  readonly code: RendezvousCode
  readonly rank: number
  readonly reason: string
  readonly missing: ReadonlyArray<number>
  readonly message: string
}> {
  constructor(f: { readonly code: RendezvousCode; readonly rank: number; readonly reason: string; readonly missing?: ReadonlyArray<number> }) {
    super({ ...f, missing: f.missing ?? [], message: `rendezvous ${f.code}${f.rank >= 0 ? ` on rank ${f.rank}` : ""}: ${f.reason}` })
  }
}

/**
 * A line for the coordinator's log: a refused connection, a missing rank.
 *
 * @category models
 * @since 0.1.0
 */
export interface RendezvousLogEntry {
  readonly level: "warn" | "info"
  readonly code: RendezvousCode
  /** The client's rank, when its hello named one; else -1. */
  readonly rank: number
  readonly message: string
}

/**
 * What a rendezvous gives: the world id and every rank's address.
 *
 * @category models
 * @since 0.1.0
 */
export interface Table {
  readonly world: string
  readonly addresses: ReadonlyArray<string>
}

/**
 * TLS for the rendezvous (and the transports): node:tls's certificate
 * options (`cert`, `key`, `ca` as PEM). Both ends present a certificate and
 * both require the other's to be signed by `ca`: a peer without one is
 * refused. Host names are not checked — the world's CA and secret say who
 * belongs to it.
 *
 * @category models
 * @since 0.1.0
 */
export type TlsOptions = Pick<SecureContextOptions, "cert" | "key" | "ca" | "passphrase">

/**
 * The rendezvous magic: "RFRZ".
 *
 * @category constants
 * @since 0.1.0
 */
export const MAGIC = "RFRZ"

/**
 * The rendezvous protocol version.
 *
 * @category constants
 * @since 0.1.0
 */
export const VERSION = 1

/** Largest frame a client may send before it has proven itself. */
const HANDSHAKE_MAX = 4096
/** Largest address a rank may publish. */
const MAX_ADDRESS = 1024
/** Largest frame an authenticated peer may send (agents' messages, tables). */
const MAX_FRAME = 64 * 1024 * 1024

/**
 * A socket's frames: `u32 length | JSON`, with a maximum size that can be
 * raised once the other side is authenticated.
 */
class Framed {
  readonly socket: Socket
  max: number
  private buf: Buffer = Buffer.alloc(0)
  /** Called with each frame; may be replaced (an agent's channel takes over). */
  onFrame: ((m: Record<string, unknown>, raw: Buffer) => void) | undefined = undefined
  /** Called once, when the stream fails or ends; may be replaced. */
  onFail: ((code: RendezvousCode, reason: string) => void) | undefined = undefined
  private failed = false

  constructor(socket: Socket, max: number) {
    this.socket = socket
    this.max = max
  }

  /** Starts reading after `skip` preamble bytes have been taken by `pre`. */
  start(
    onFrame: (m: Record<string, unknown>, raw: Buffer) => void,
    onFail: (code: RendezvousCode, reason: string) => void,
    pre?: (bytes: Buffer) => number
  ): void {
    this.onFrame = onFrame
    this.onFail = onFail
    let preDone = pre === undefined
    this.socket.on("data", (chunk: Buffer) => {
      if (this.failed) return
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
      if (!preDone) {
        const used = pre!(this.buf)
        if (used <= 0) return
        preDone = true
        this.buf = this.buf.subarray(used)
      }
      this.drain()
    })
    this.socket.on("end", () => this.fail("ERR_CONNECTION", this.buf.length > 0 ? "the stream ended in the middle of a frame" : "the other side closed the connection"))
    this.socket.on("close", () => this.fail("ERR_CONNECTION", "the connection closed"))
    this.socket.on("error", (e: NodeJS.ErrnoException) => this.fail("ERR_CONNECTION", `socket error ${e.code ?? e.message}`))
  }

  private drain(): void {
    while (!this.failed && this.buf.length >= 4) {
      const n = this.buf.readUInt32BE(0)
      if (n > this.max) return this.fail("ERR_FRAME_TOO_LARGE", `a frame of ${n} bytes (the maximum here is ${this.max})`)
      if (this.buf.length < 4 + n) return
      const raw = this.buf.subarray(4, 4 + n)
      this.buf = this.buf.subarray(4 + n)
      let m: unknown
      try {
        m = JSON.parse(raw.toString("utf8"))
      } catch {
        return this.fail("ERR_MALFORMED", "a frame that is not JSON")
      }
      if (typeof m !== "object" || m === null || Array.isArray(m) || typeof (m as { t?: unknown }).t !== "string") {
        return this.fail("ERR_MALFORMED", "a frame that is not a message object")
      }
      this.onFrame!(m as Record<string, unknown>, Buffer.from(raw))
    }
  }

  /** Sends `m`; returns the exact bytes of its JSON (what proofs cover). */
  send(m: unknown): Buffer {
    const body = Buffer.from(JSON.stringify(m), "utf8")
    const head = Buffer.allocUnsafe(4)
    head.writeUInt32BE(body.length, 0)
    if (!this.socket.destroyed) this.socket.write(Buffer.concat([head, body]))
    return body
  }

  fail(code: RendezvousCode, reason: string): void {
    if (this.failed) return
    this.failed = true
    this.onFail?.(code, reason)
  }

  /** Stops reading; ends the socket after what was written. */
  close(): void {
    this.failed = true
    this.socket.end()
    setTimeout(() => this.socket.destroy(), 1000).unref()
  }
}

const mac = (secret: Uint8Array, label: string, ...parts: ReadonlyArray<Uint8Array | string>): string => {
  const h = createHmac("sha256", secret)
  h.update(`rankflow/rendezvous/v${VERSION}/${label}`)
  for (const p of parts) {
    const b = typeof p === "string" ? Buffer.from(p, "utf8") : p
    const len = Buffer.allocUnsafe(4)
    len.writeUInt32BE(b.byteLength, 0)
    h.update(len)
    h.update(b)
  }
  return h.digest("hex")
}

const same = (expected: string, got: unknown): boolean =>
  typeof got === "string" && got.length === expected.length && timingSafeEqual(Buffer.from(expected), Buffer.from(got))

const isRank = (v: unknown, size: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v < size

/**
 * Splits "host:port" (or "[v6]:port"); throws a RangeError naming what is wrong.
 *
 * @category addresses
 * @since 0.1.0
 */
export const parseHostPort = (s: string): { host: string; port: number } => {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s.trim())
  const port = Number(m?.[3])
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`"${s}" is not host:port`)
  const host = m[1] ?? m[2]!
  return { host: host === "" ? "0.0.0.0" : host, port }
}

/**
 * "host:port", bracketing an IPv6 host.
 *
 * @category addresses
 * @since 0.1.0
 */
export const formatHostPort = (host: string, port: number): string => (isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`)

// ------------------------------------------------------------- coordinator

/**
 * An agent's authenticated channel to the coordinator (or the coordinator's
 * to an agent): JSON messages both ways.
 *
 * @category models
 * @since 0.1.0
 */
export interface Channel {
  /** Sends one message (a JSON object with a string `t`). */
  send(m: { readonly t: string; readonly [k: string]: unknown }): void
  /** Called with each message received. */
  onMessage: (m: Record<string, unknown>) => void
  /** Called once when the channel ends, with the reason. */
  onClose: (e: RendezvousError) => void
  close(): void
  /** The other end's address ("host:port"). */
  readonly remote: string
}

/**
 * What the coordinator's `agent` hook is asked: an authenticated agent wants
 * `want` ranks. Return the ranks it gets (they count as claimed, and the
 * agent is told them), or a reason to refuse it.
 *
 * @category models
 * @since 0.1.0
 */
export type AgentHook = (want: number, channel: Channel) => { readonly ranks: ReadonlyArray<number>; readonly extra?: Record<string, unknown> } | { readonly refuse: string }

/**
 * The coordinator's options.
 *
 * @category models
 * @since 0.1.0
 */
export interface CoordinatorOptions {
  readonly size: number
  readonly secret: Uint8Array
  /** The world id to hand out. Default: a random UUID. */
  readonly world?: string
  /** Where to listen. Default 127.0.0.1. */
  readonly host?: string
  /** Port to listen on; 0 picks a free one. Default 0. */
  readonly port?: number
  /** Every rank must have published within this long of the start (ms). Default 60 000. */
  readonly timeout?: number
  /** A client must finish its handshake within this long (ms). Default 10 000. */
  readonly handshakeTimeout?: number
  /** Clients in their handshake at once; more are closed. Default 64. */
  readonly maxPendingHandshakes?: number
  /** Mutual TLS (see {@link TlsOptions}). */
  readonly tls?: TlsOptions
  /** Accept `rankflow join` agents (see {@link AgentHook}). */
  readonly agent?: AgentHook
  /** Where log lines go. Default: warnings to stderr. */
  readonly log?: (e: RendezvousLogEntry) => void
}

/**
 * A running coordinator.
 *
 * @category models
 * @since 0.1.0
 */
export interface Coordinator {
  /** "host:port" it listens on (the port resolved). */
  readonly address: string
  readonly port: number
  readonly world: string
  /** The table once every rank has published; rejects with `ERR_MISSING_RANKS` or `ERR_CLOSED`. */
  readonly done: Promise<Table>
  /** Ranks that have published so far. */
  published(): ReadonlyArray<number>
  /** Stops listening and closes every connection (agents' channels included). */
  close(): void
}

const defaultLog = (e: RendezvousLogEntry): void => {
  if (e.level === "warn") process.stderr.write(`rankflow: rendezvous: ${e.message}\n`)
}

/**
 * Starts a coordinator for a world of `size` ranks; resolves once it
 * listens.
 *
 * @category coordinator
 * @since 0.1.0
 */
export const startCoordinator = (o: CoordinatorOptions): Promise<Coordinator> => {
  if (!Number.isInteger(o.size) || o.size < 1) return Promise.reject(new RangeError(`size must be a positive integer; got ${o.size}`))
  if (o.secret.byteLength === 0) return Promise.reject(new RendezvousError({ code: "ERR_AUTH_FAILED", rank: -1, reason: "the secret is empty" }))
  const size = o.size
  const secret = o.secret
  const world = o.world ?? randomUUID()
  const log = o.log ?? defaultLog
  const handshakeTimeout = o.handshakeTimeout ?? 10_000
  const maxPending = o.maxPendingHandshakes ?? 64
  const addresses: Array<string | undefined> = new Array(size).fill(undefined)
  const waiting = new Map<number, { f: Framed; hello: Buffer; challenge: Buffer }>()
  const claimed = new Set<number>()
  const sockets = new Set<Socket>()
  const channels = new Set<Channel>()
  let pending = 0
  let complete = false
  let closed = false
  let resolveDone!: (t: Table) => void
  let rejectDone!: (e: RendezvousError) => void
  const done = new Promise<Table>((res, rej) => {
    resolveDone = res
    rejectDone = rej
  })
  done.catch(() => {})
  const say = (level: "warn" | "info", code: RendezvousCode, rank: number, message: string): void => {
    try {
      log({ level, code, rank, message })
    } catch {
      // a log that throws must not break the coordinator
    }
  }
  const missing = (): Array<number> => addresses.flatMap((a, r) => (a === undefined ? [r] : []))

  const finish = (): void => {
    complete = true
    clearTimeout(deadline)
    const table: Table = { world, addresses: addresses as Array<string> }
    const tableJson = JSON.stringify(table)
    for (const [, w] of waiting) {
      w.f.send({ t: "table", table, proof: mac(secret, "coordinator", w.hello, w.challenge, tableJson) })
      w.f.close()
    }
    waiting.clear()
    resolveDone(table)
    if (o.agent === undefined || claimed.size >= size) server.close()
  }

  const deadline = setTimeout(() => {
    if (complete || closed) return
    const m = missing()
    const e = new RendezvousError({ code: "ERR_MISSING_RANKS", rank: -1, reason: `rank${m.length > 1 ? "s" : ""} ${m.join(", ")} did not show up within ${o.timeout ?? 60_000} ms`, missing: m })
    say("warn", "ERR_MISSING_RANKS", -1, e.reason)
    for (const [, w] of waiting) {
      w.f.send({ t: "refuse", code: "ERR_MISSING_RANKS", reason: e.reason, missing: m })
      w.f.close()
    }
    waiting.clear()
    rejectDone(e)
    server.close()
  }, o.timeout ?? 60_000)
  deadline.unref()

  const onSocket = (socket: Socket): void => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
    socket.setNoDelay(true)
    if (closed) return void socket.destroy()
    if (pending >= maxPending) {
      say("warn", "ERR_TOO_MANY_PENDING", -1, `closed a connection from ${socket.remoteAddress}: ERR_TOO_MANY_PENDING (${pending} in their handshake)`)
      socket.on("error", () => {})
      return void socket.destroy()
    }
    pending++
    let inHandshake = true
    const endHandshake = (): void => {
      if (!inHandshake) return
      inHandshake = false
      pending--
      clearTimeout(timer)
    }
    const f = new Framed(socket, HANDSHAKE_MAX)
    let rank = -1
    let hello: Buffer | undefined
    let challenge: Buffer | undefined
    let role: "rank" | "agent" = "rank"
    let want = 0
    let channel: Channel | undefined
    const refuse = (code: RendezvousCode, reason: string, warn = true): void => {
      endHandshake()
      say(warn ? "warn" : "info", code, rank, `closed a connection from ${socket.remoteAddress ?? "?"}${rank >= 0 ? ` (rank ${rank})` : ""}: ${code}: ${reason}`)
      if (code !== "ERR_CONNECTION" && !socket.destroyed) f.send({ t: "refuse", code, reason })
      f.close()
      if (rank >= 0 && waiting.get(rank)?.f === f) {
        // A published rank that misbehaves afterwards must publish again.
        waiting.delete(rank)
        if (!complete) addresses[rank] = undefined
      }
    }
    const timer = setTimeout(() => refuse("ERR_HANDSHAKE_TIMEOUT", `no handshake within ${handshakeTimeout} ms`), handshakeTimeout)
    timer.unref()
    f.start(
      (m, raw) => {
        if (channel !== undefined) return channel.onMessage(m)
        if (hello === undefined) {
          if (m.t !== "hello" || typeof m.nonce !== "string" || m.nonce.length !== 64) return refuse("ERR_MALFORMED", "expected a hello with a 32-byte nonce")
          if (m.role === "agent") {
            if (o.agent === undefined) return refuse("ERR_MALFORMED", "this coordinator takes no agents")
            if (typeof m.want !== "number" || !Number.isInteger(m.want) || m.want < 1 || m.want > size) return refuse("ERR_MALFORMED", `an agent must want 1 to ${size} ranks`)
            role = "agent"
            want = m.want
          } else {
            if (m.size !== size) return refuse("ERR_SIZE_MISMATCH", `the client's world has ${String(m.size)} ranks; this one has ${size}`)
            if (!isRank(m.rank, size)) return refuse("ERR_BAD_RANK", `rank ${String(m.rank)} is not a rank of a world of ${size}`)
            rank = m.rank
          }
          hello = raw
          challenge = f.send({ t: "challenge", nonce: randomBytes(32).toString("hex") })
          return
        }
        if (m.t !== "auth") return refuse("ERR_MALFORMED", `expected auth; got ${m.t}`)
        const address = typeof m.address === "string" ? m.address : ""
        if (!same(mac(secret, "client", hello, challenge!, address), m.proof)) return refuse("ERR_AUTH_FAILED", "the client's proof is wrong (it does not know the world's secret)")
        if (role === "agent") {
          endHandshake()
          f.max = MAX_FRAME
          const ch: Channel = {
            remote: `${socket.remoteAddress}:${socket.remotePort}`,
            send: (msg) => void f.send(msg),
            onMessage: () => {},
            onClose: () => {},
            close: () => f.close()
          }
          const answer = o.agent!(want, ch)
          if ("refuse" in answer) return refuse("ERR_NO_RANKS_LEFT", answer.refuse)
          for (const r of answer.ranks) claimed.add(r)
          channel = ch
          channels.add(ch)
          const grant = { ...(answer.extra ?? {}), ranks: answer.ranks, size, world }
          f.send({ t: "ranks", grant, proof: mac(secret, "coordinator", hello, challenge!, JSON.stringify(grant)) })
          if (complete && claimed.size >= size) server.close()
          return
        }
        if (address.length === 0 || address.length > MAX_ADDRESS) return refuse("ERR_BAD_ADDRESS", `an address must have 1 to ${MAX_ADDRESS} characters`)
        if (complete) return refuse("ERR_DUPLICATE_RANK", `the world is complete; rank ${rank} has published already`)
        const other = waiting.get(rank)
        if (other !== undefined && !other.f.socket.destroyed) return refuse("ERR_DUPLICATE_RANK", `rank ${rank} has published already from ${other.f.socket.remoteAddress}`)
        endHandshake()
        addresses[rank] = address
        waiting.set(rank, { f, hello, challenge: challenge! })
        if (missing().length === 0) finish()
      },
      (code, reason) => {
        if (channel !== undefined) {
          channels.delete(channel)
          return channel.onClose(new RendezvousError({ code, rank: -1, reason }))
        }
        if (rank >= 0 && waiting.get(rank)?.f === f && !complete) {
          // A rank that hangs up before the table is out must publish again.
          waiting.delete(rank)
          addresses[rank] = undefined
          say("info", code, rank, `rank ${rank} left before the world was complete: ${reason}`)
          return
        }
        if (inHandshake) refuse(code, reason, code !== "ERR_CONNECTION")
      },
      (bytes) => {
        if (bytes.length < 5) {
          if (bytes.subarray(0, 4).toString("latin1") !== MAGIC.slice(0, Math.min(4, bytes.length))) refuse("ERR_BAD_MAGIC", "the stream does not start with RFRZ")
          return -1
        }
        if (bytes.subarray(0, 4).toString("latin1") !== MAGIC) refuse("ERR_BAD_MAGIC", "the stream does not start with RFRZ")
        else if (bytes[4] !== VERSION) refuse("ERR_BAD_VERSION", `rendezvous version ${bytes[4]}; this coordinator speaks ${VERSION}`)
        else return 5
        return -1
      }
    )
  }

  const server: Server = o.tls !== undefined
    ? tlsCreateServer({ ...o.tls, requestCert: true, rejectUnauthorized: true }, onSocket)
    : netCreateServer(onSocket)
  server.on("tlsClientError", (e: NodeJS.ErrnoException, s: TLSSocket) => {
    say("warn", "ERR_AUTH_FAILED", -1, `refused a TLS connection from ${s?.remoteAddress ?? "?"}: ${e.code ?? e.message}`)
    s?.destroy()
  })

  return new Promise((resolve, reject) => {
    server.once("error", (e) => {
      clearTimeout(deadline)
      reject(e)
    })
    server.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => {
      server.on("error", () => {})
      const a = server.address()
      const port = typeof a === "object" && a !== null ? a.port : (o.port ?? 0)
      resolve({
        address: formatHostPort(o.host ?? "127.0.0.1", port),
        port,
        world,
        done,
        published: () => addresses.flatMap((a, r) => (a === undefined ? [] : [r])),
        close: () => {
          if (closed) return
          closed = true
          clearTimeout(deadline)
          server.close()
          for (const s of sockets) s.destroy()
          if (!complete) rejectDone(new RendezvousError({ code: "ERR_CLOSED", rank: -1, reason: "the coordinator was closed before every rank published", missing: missing() }))
        }
      })
    })
  })
}

// ------------------------------------------------------------------ client

/**
 * A rank's rendezvous options.
 *
 * @category models
 * @since 0.1.0
 */
export interface RendezvousOptions {
  /** The coordinator's "host:port". */
  readonly coordinator: string
  readonly rank: number
  readonly size: number
  readonly secret: Uint8Array
  /**
   * This rank's address, or a function of the local IP address of the
   * connection to the coordinator (the interface the world can route to).
   */
  readonly address: string | ((localIp: string) => string)
  /** Give up after this long, retrying meanwhile while the coordinator is not listening (ms). Default 75 000. */
  readonly timeout?: number
  /** Mutual TLS (see {@link TlsOptions}). */
  readonly tls?: TlsOptions
  readonly signal?: AbortSignal
}

const RETRYABLE = new Set(["ECONNREFUSED", "ENOENT", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EAI_AGAIN", "EPIPE"])

/**
 * Opens a TCP connection to `host:port` (mutual TLS with `tls`, the peer's
 * certificate checked against its CA but not its name) with Nagle off;
 * rejects with the socket's error.
 *
 * @category internals
 * @since 0.1.0
 */
export const openSocket = (host: string, port: number, tls: TlsOptions | undefined, highWaterMark?: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const hwm = highWaterMark === undefined ? {} : { highWaterMark }
    const socket: Socket = tls !== undefined
      ? tlsConnect({ host, port, ...tls, rejectUnauthorized: true, checkServerIdentity: () => undefined, ...hwm } as never)
      : netConnect({ host, port, noDelay: true, ...hwm } as never)
    const failed = (e: Error): void => {
      socket.destroy()
      reject(e)
    }
    socket.once("error", failed)
    socket.once(tls !== undefined ? "secureConnect" : "connect", () => {
      socket.off("error", failed)
      socket.setNoDelay(true)
      resolve(socket)
    })
  })

const open = (coordinator: string, tls: TlsOptions | undefined): Promise<Socket> => {
  const { host, port } = parseHostPort(coordinator)
  return openSocket(host, port, tls)
}

type Attempt = { ok: true; value: unknown; keep?: boolean } | { ok: false; retry: boolean; error: RendezvousError }

/** One connection: hello, challenge, auth, then `then` decides what to wait for. */
const attempt = async (
  coordinator: string,
  tls: TlsOptions | undefined,
  secret: Uint8Array,
  rank: number,
  helloFields: Record<string, unknown>,
  address: (localIp: string) => string,
  onAnswer: (m: Record<string, unknown>, hello: Buffer, challenge: Buffer, f: Framed) => Attempt | undefined,
  signal: AbortSignal
): Promise<Attempt> => {
  let socket: Socket
  try {
    socket = await open(coordinator, tls)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? ""
    return { ok: false, retry: RETRYABLE.has(code), error: new RendezvousError({ code: "ERR_CONNECTION", rank, reason: `cannot reach the coordinator at ${coordinator}: ${code || (e as Error).message}` }) }
  }
  return new Promise<Attempt>((resolve) => {
    const f = new Framed(socket, MAX_FRAME)
    let hello: Buffer | undefined
    let challenge: Buffer | undefined
    let settled = false
    let gotChallenge = false
    const settle = (a: Attempt): void => {
      if (settled) return
      settled = true
      signal.removeEventListener("abort", onAbort)
      if (!a.ok) socket.destroy()
      else if (a.keep !== true) f.close()
      resolve(a)
    }
    const onAbort = (): void => settle({ ok: false, retry: false, error: new RendezvousError({ code: "ERR_TIMEOUT", rank, reason: "aborted" }) })
    signal.addEventListener("abort", onAbort)
    f.start(
      (m) => {
        if (m.t === "refuse") {
          const code = typeof m.code === "string" ? m.code : "?"
          const missing = Array.isArray(m.missing) ? m.missing.filter((x): x is number => typeof x === "number") : []
          return settle({
            ok: false,
            retry: false,
            error: new RendezvousError({ code: code === "ERR_MISSING_RANKS" ? "ERR_MISSING_RANKS" : "ERR_REFUSED", rank, reason: `the coordinator refused: ${code}: ${String(m.reason ?? "")}`, missing })
          })
        }
        if (!gotChallenge) {
          if (m.t !== "challenge" || typeof m.nonce !== "string") {
            return settle({ ok: false, retry: false, error: new RendezvousError({ code: "ERR_MALFORMED", rank, reason: `expected a challenge from the coordinator; got ${m.t}` }) })
          }
          gotChallenge = true
          challenge = Buffer.from(JSON.stringify(m), "utf8")
          const a = address(socket.localAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1")
          f.send({ t: "auth", address: a, proof: mac(secret, "client", hello!, challenge, a) })
          return
        }
        const out = onAnswer(m, hello!, challenge!, f)
        if (out !== undefined) settle(out)
      },
      (code, reason) =>
        settle({ ok: false, retry: code === "ERR_CONNECTION", error: new RendezvousError({ code, rank, reason: `the connection to the coordinator at ${coordinator}: ${reason}` }) }),
      undefined
    )
    socket.write(Buffer.concat([Buffer.from(MAGIC, "latin1"), Buffer.of(VERSION)]))
    hello = f.send({ t: "hello", ...helloFields, nonce: randomBytes(32).toString("hex") })
  })
}

/** Retries `once` while it says so, until `timeout`. */
const retrying = async (rank: number, coordinator: string, timeout: number, outer: AbortSignal | undefined, once: (signal: AbortSignal) => Promise<Attempt>): Promise<unknown> => {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(), timeout)
  const onOuter = (): void => ac.abort()
  outer?.addEventListener("abort", onOuter)
  let last: RendezvousError | undefined
  try {
    for (let delay = 50; !ac.signal.aborted; delay = Math.min(1000, delay * 2)) {
      const a = await once(ac.signal)
      if (a.ok) return a.value
      if (!a.retry || ac.signal.aborted) {
        if (ac.signal.aborted && a.error.reason === "aborted") break
        throw a.error
      }
      last = a.error
      await new Promise<void>((r) => {
        const t = setTimeout(r, delay)
        ac.signal.addEventListener("abort", () => (clearTimeout(t), r()), { once: true })
      })
    }
    throw new RendezvousError({
      code: "ERR_TIMEOUT",
      rank,
      reason: `no answer from the coordinator at ${coordinator} within ${timeout} ms${last !== undefined ? ` (last: ${last.reason})` : ""}`
    })
  } finally {
    clearTimeout(timer)
    outer?.removeEventListener("abort", onOuter)
  }
}

/**
 * Publishes this rank's address at the coordinator and resolves to the
 * world's table once every rank has published. Rejects with a
 * {@link RendezvousError}: `ERR_MISSING_RANKS` (naming them) when the
 * coordinator gave up waiting, `ERR_REFUSED` when it refused this rank (a
 * wrong secret, a rank taken), `ERR_AUTH_FAILED` when the coordinator could
 * not prove it knows the secret, `ERR_TIMEOUT` when nothing came in time.
 *
 * @category client
 * @since 0.1.0
 */
export const rendezvous = async (o: RendezvousOptions): Promise<Table> => {
  const address = typeof o.address === "string" ? ((a: string) => () => a)(o.address) : o.address
  const value = await retrying(o.rank, o.coordinator, o.timeout ?? 75_000, o.signal, (signal) =>
    attempt(o.coordinator, o.tls, o.secret, o.rank, { role: "rank", rank: o.rank, size: o.size }, address, (m, hello, challenge) => {
      if (m.t !== "table" || typeof m.table !== "object" || m.table === null) {
        return { ok: false, retry: false, error: new RendezvousError({ code: "ERR_MALFORMED", rank: o.rank, reason: `expected the table; got ${m.t}` }) }
      }
      const table = m.table as { world?: unknown; addresses?: unknown }
      if (!same(mac(o.secret, "coordinator", hello, challenge, JSON.stringify(m.table)), m.proof)) {
        return { ok: false, retry: false, error: new RendezvousError({ code: "ERR_AUTH_FAILED", rank: o.rank, reason: "the coordinator's proof is wrong (it does not know the world's secret)" }) }
      }
      if (typeof table.world !== "string" || !Array.isArray(table.addresses) || table.addresses.length !== o.size || !table.addresses.every((a) => typeof a === "string")) {
        return { ok: false, retry: false, error: new RendezvousError({ code: "ERR_MALFORMED", rank: o.rank, reason: "the table does not fit this world" }) }
      }
      return { ok: true, value: { world: table.world, addresses: table.addresses as Array<string> } }
    }, signal))
  return value as Table
}

/**
 * What an agent learns when the coordinator accepts it.
 *
 * @category models
 * @since 0.1.0
 */
export interface AgentGrant {
  readonly ranks: ReadonlyArray<number>
  readonly size: number
  readonly world: string
  /** Whatever else the coordinator's hook sent (`extra`). */
  readonly extra: Record<string, unknown>
  readonly channel: Channel
}

/**
 * Connects an agent (`rankflow join`): authenticates, asks for `want`
 * ranks, and resolves to the ranks granted and an open channel.
 *
 * @category client
 * @since 0.1.0
 */
export const connectAgent = async (o: { readonly coordinator: string; readonly secret: Uint8Array; readonly want: number; readonly timeout?: number; readonly tls?: TlsOptions }): Promise<AgentGrant> => {
  const value = await retrying(-1, o.coordinator, o.timeout ?? 30_000, undefined, (signal) =>
    attempt(o.coordinator, o.tls, o.secret, -1, { role: "agent", want: o.want }, () => "", (m, hello, challenge, f) => {
      const g = m.grant as Record<string, unknown> | undefined
      if (m.t !== "ranks" || typeof g !== "object" || g === null || !same(mac(o.secret, "coordinator", hello, challenge, JSON.stringify(g)), m.proof)) {
        return { ok: false, retry: false, error: new RendezvousError({ code: "ERR_AUTH_FAILED", rank: -1, reason: "the coordinator's grant is malformed or its proof is wrong" }) }
      }
      const { ranks, size, world, ...extra } = g
      if (!Array.isArray(ranks) || typeof size !== "number" || typeof world !== "string") {
        return { ok: false, retry: false, error: new RendezvousError({ code: "ERR_MALFORMED", rank: -1, reason: "the coordinator's grant lacks ranks, size or world" }) }
      }
      const channel: Channel = {
        remote: o.coordinator,
        send: (msg) => void f.send(msg),
        onMessage: () => {},
        onClose: () => {},
        close: () => f.close()
      }
      // From now on the framed socket feeds the channel.
      f.onFrame = (msg) => channel.onMessage(msg)
      f.onFail = (code, reason) => channel.onClose(new RendezvousError({ code, rank: -1, reason }))
      return { ok: true, keep: true, value: { ranks: ranks as Array<number>, size: size as number, world: world as string, extra, channel } }
    }, signal))
  return value as AgentGrant
}
