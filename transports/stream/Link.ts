/**
 * The link to one peer: frames delivered exactly once and in order over
 * connections that may break.
 *
 * Every frame for the peer gets the link's next sequence number and joins
 * the link's queue, where it stays until the peer acknowledges it. Frames
 * queued in one event-loop turn go out in one write at the end of the turn
 * (several where a large body travels by reference). The peer acknowledges
 * at the end of every turn in which frames came in, and when the link is
 * idle its acknowledgement doubles as a heartbeat.
 *
 * When the connection breaks, the rank with the higher number dials again
 * (with backoff, up to `reconnectAttempts` times) and the other waits; the
 * handshake of the new connection tells each side the last sequence number
 * the other received, so the sender drops what arrived, sends the rest again
 * from there, and the receiver drops anything it has already seen. A peer
 * not reached again within the detector timeout is lost: the engine is told
 * (`Sink.peerLost`) with a `TransportError` naming it, and whatever waits for
 * it fails.
 *
 * Bodies are copied into the queue, so `send` returns true at once, except
 * for a DATA body (a rendezvous) of more than 16 KiB: that body is the
 * engine's own until `writable` (the engine keeps it unchanged until then),
 * so it travels by reference, uncopied, in pieces of at most the maximum
 * frame size, and `send` returns false until the peer has acknowledged all
 * of it. The chunks frames are copied into are reused once the peer has
 * acknowledged every frame in them, so a stream of eager messages allocates
 * nothing.
 *
 * @since 0.1.0
 */
import { Envelope } from "../../core/index.ts"
import type { Conn } from "./Connection.ts"
import { FRAME_OVERHEAD, isDataKind, LinkKind, writeFrame } from "./Framing.ts"
import { type Code, StreamError } from "./StreamError.ts"
import type { Host } from "./Transport.ts"

type Frame = Envelope.Frame

/** Bytes of each chunk frames are copied into. */
const CHUNK = 256 * 1024
/**
 * A DATA body (rendezvous: the engine keeps it unchanged until `writable`)
 * larger than this travels by reference instead of being copied.
 */
const BY_REFERENCE = 16 * 1024
const EMPTY = new Uint8Array(0)
/** Free chunks a link keeps for reuse. */
const SPARE = 8

/** Sequence numbers are u32 and wrap: `a - b` as a signed 32-bit number. */
const diff = (a: number, b: number): number => (a - b) | 0

interface Entry {
  readonly seq: number
  /** The chunk holding the encoded frame (or, with `ext`, its length and header). */
  readonly chunk: Uint8Array
  readonly start: number
  readonly end: number
  /** A body piece sent by reference (a large DATA body). */
  readonly ext: Uint8Array | undefined
}

/** A DATA body arriving in pieces. */
interface Assembly {
  readonly f: Frame
  readonly target: Uint8Array
  got: number
}

/**
 * Where a link is.
 *
 * - `connecting`: never connected yet.
 * - `up`: a connection carries its frames.
 * - `down`: its connection broke; reconnecting.
 * - `lost`: given up; the engine was told.
 * - `closed`: closed on purpose (this rank's `close`, or the peer's BYE).
 *
 * @category models
 * @since 0.1.0
 */
export type LinkState = "connecting" | "up" | "down" | "lost" | "closed"

/**
 * The link to one peer.
 *
 * @category models
 * @since 0.1.0
 */
export class Link {
  readonly peer: number
  /** Does this rank dial the peer (it has the higher rank)? */
  readonly dialer: boolean
  state: LinkState = "connecting"
  conn: Conn | undefined = undefined
  /** The peer's incarnation, from its first handshake. */
  peerIncarnation: Uint8Array | undefined = undefined
  /** The last sequence number delivered from the peer. */
  recvSeq = 0
  /** Connections made on this link (the first included). */
  connections = 0

  private readonly host: Host
  // Outgoing.
  private nextSeq = 1
  private q: Array<Entry | undefined> = []
  private qHead = 0
  private written = 0
  private queuedBytes = 0
  private unwrittenBytes = 0
  private externals = 0
  private drainWait = false
  private wantWritable = false
  private chunk: Uint8Array = EMPTY
  /** Chunks free for reuse. */
  private spare: Array<Uint8Array> = []
  /** Chunks left behind with frames awaiting acknowledgement and no acknowledgement of ours in them. */
  private clean = new Set<Uint8Array>()
  /** Is an acknowledgement of ours in the current chunk? */
  private chunkAcks = false
  private used = 0
  private scheduled = false
  private lastWrite = 0
  // Incoming.
  private ackedSeq = 0
  private assembly: Assembly | undefined = undefined
  // Connecting.
  private readonly since: number
  private downSince = -1
  private attempts = 0
  private dialing = false
  private redialTimer: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(host: Host, peer: number) {
    this.host = host
    this.peer = peer
    this.dialer = host.rank > peer
    this.since = performance.now()
  }

  // ---------------------------------------------------------------- sending

  private reserve(n: number): number {
    if (this.chunk.byteLength - this.used < n) {
      // Done with this chunk: it is free again if no frame in it waits for an acknowledgement.
      const last = this.qHead < this.q.length ? this.q[this.q.length - 1]!.chunk : undefined
      if (this.chunkAcks) this.chunkAcks = false
      else if (last !== this.chunk) this.retire(this.chunk)
      else if (this.chunk.byteLength === CHUNK) this.clean.add(this.chunk)
      this.chunk = n <= CHUNK && this.spare.length > 0 ? this.spare.pop()! : new Uint8Array(Math.max(CHUNK, n))
      this.used = 0
    }
    const at = this.used
    this.used += n
    return at
  }

  /**
   * Keeps a chunk whose frames the peer has all acknowledged for reuse (the
   * peer has them, so no write still reads it). Never a chunk holding an
   * acknowledgement of ours: that is in no queue, so it may still wait in
   * the stream.
   */
  private retire(chunk: Uint8Array): void {
    this.clean.delete(chunk)
    if (chunk.byteLength === CHUNK && this.spare.length < SPARE) this.spare.push(chunk)
  }

  /** Is the engine to wait before sending more? */
  private blocked(): boolean {
    return this.drainWait || this.externals > 0 || this.queuedBytes > this.host.options.maxQueued
  }

  /** Queues `f` (from the engine); see `TransportShape.send`. */
  send(f: Frame): boolean {
    if (this.state === "lost" || this.state === "closed") return true
    const opts = this.host.options
    const body = f.body
    const n = body === undefined ? 0 : body.byteLength
    const saved = f.seq
    if (f.kind === Envelope.Kind.DATA && n > BY_REFERENCE) {
      // By reference, in pieces: the body is the engine's until `writable`.
      for (let off = 0; off < n; off += this.host.pieceBytes) {
        const piece = body!.subarray(off, Math.min(n, off + this.host.pieceBytes))
        const at = this.reserve(FRAME_OVERHEAD)
        f.seq = this.nextSeq
        writeFrame(this.chunk, at, f, piece.byteLength, undefined)
        this.push({ seq: this.nextSeq, chunk: this.chunk, start: at, end: at + FRAME_OVERHEAD, ext: piece })
        this.externals++
        this.unwrittenBytes += FRAME_OVERHEAD + piece.byteLength
      }
    } else {
      if (Envelope.HEADER_BYTES + n > opts.maxFrame) {
        throw this.host.sendError(
          this.peer,
          new StreamError({
            code: "ERR_SEND_TOO_LARGE",
            rank: this.host.rank,
            peer: this.peer,
            reason: `a ${Envelope.kindName(f.kind)} frame of ${n} bytes does not fit the maximum frame size (${opts.maxFrame}); ` +
              `lower the eager limit or raise maxFrame`
          })
        )
      }
      const len = FRAME_OVERHEAD + n
      const at = this.reserve(len)
      f.seq = this.nextSeq
      writeFrame(this.chunk, at, f, n, body)
      this.push({ seq: this.nextSeq, chunk: this.chunk, start: at, end: at + len, ext: undefined })
      this.queuedBytes += len
      this.unwrittenBytes += len
    }
    f.seq = saved
    if (this.unwrittenBytes >= opts.highWaterMark) this.flush()
    else this.schedule()
    if (this.blocked()) {
      this.wantWritable = true
      return false
    }
    return true
  }

  private push(e: Entry): void {
    this.q.push(e)
    this.nextSeq = (this.nextSeq + 1) >>> 0
  }

  /** Flushes at the end of this event-loop turn. */
  schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    this.host.schedule(this)
  }

  /**
   * Writes what is queued and not yet written (and an acknowledgement, if
   * frames came in since the last one, or `heartbeat`), gathered into as few
   * writes as the queue allows.
   */
  flush(heartbeat = false): void {
    this.scheduled = false
    const c = this.conn
    if (c === undefined || this.state !== "up") return
    const parts: Array<Uint8Array> = []
    let run: Uint8Array | undefined
    let runStart = 0
    let runEnd = 0
    const close = (): void => {
      if (run !== undefined && runEnd > runStart) parts.push(run.subarray(runStart, runEnd))
      run = undefined
    }
    for (let i = this.written; i < this.q.length; i++) {
      const e = this.q[i]!
      if (e.chunk === run && e.start === runEnd) runEnd = e.end
      else {
        close()
        run = e.chunk
        runStart = e.start
        runEnd = e.end
      }
      if (e.ext !== undefined) {
        close()
        parts.push(e.ext)
      }
    }
    this.written = this.q.length
    this.unwrittenBytes = 0
    if (heartbeat || this.recvSeq !== this.ackedSeq) {
      const at = this.reserve(FRAME_OVERHEAD)
      writeFrame(this.chunk, at, ackFrame(this.host.rank, this.recvSeq), 0, undefined)
      this.chunkAcks = true
      this.ackedSeq = this.recvSeq
      if (this.chunk === run && at === runEnd) runEnd = at + FRAME_OVERHEAD
      else {
        close()
        run = this.chunk
        runStart = at
        runEnd = at + FRAME_OVERHEAD
      }
    }
    close()
    if (parts.length === 0) return
    this.lastWrite = performance.now()
    if (!c.writeAll(parts)) this.drainWait = true
  }

  /** The connection's stream drained. */
  onDrain(c: Conn): void {
    if (c !== this.conn) return
    this.drainWait = false
    this.maybeWritable()
  }

  private maybeWritable(): void {
    if (!this.wantWritable || this.blocked() || this.state === "lost" || this.state === "closed") return
    this.wantWritable = false
    this.host.sink?.writable(this.peer)
  }

  /** The peer has everything up to `seq`: drop it from the queue. */
  private acked(seq: number): StreamError | undefined {
    const last = (this.nextSeq - 1) >>> 0
    if (diff(seq, last) > 0) {
      return new StreamError({ code: "ERR_SEQUENCE", rank: this.host.rank, peer: this.peer, reason: `an acknowledgement of ${seq}, beyond the last frame sent (${last})` })
    }
    while (this.qHead < this.q.length) {
      const e = this.q[this.qHead]!
      if (diff(e.seq, seq) > 0) break
      this.q[this.qHead++] = undefined
      if (e.ext !== undefined) this.externals--
      else this.queuedBytes -= e.end - e.start
      if (e.chunk !== this.chunk && (this.qHead === this.q.length || this.q[this.qHead]!.chunk !== e.chunk) && this.clean.has(e.chunk)) this.retire(e.chunk)
    }
    if (this.written < this.qHead) this.written = this.qHead
    if (this.qHead > 1024 && this.qHead * 2 > this.q.length) {
      this.q = this.q.slice(this.qHead)
      this.written -= this.qHead
      this.qHead = 0
    }
    this.maybeWritable()
    return undefined
  }

  // -------------------------------------------------------------- receiving

  /** A frame on this link's connection (after the handshake). */
  onFrame(c: Conn, f: Frame, body: Uint8Array): void {
    if (c !== this.conn) return
    switch (f.kind) {
      case LinkKind.ACK: {
        if (body.byteLength !== 0) return c.fail(c.err("ERR_MALFORMED", "an ACK with a body"))
        const e = this.acked(f.seq)
        if (e !== undefined) c.fail(e)
        return
      }
      case LinkKind.BYE:
        return this.peerClosed()
    }
    if (!isDataKind(f.kind)) return c.fail(c.err("ERR_MALFORMED", `a frame of kind ${f.kind} after the handshake`))
    if (f.src !== this.peer) return c.fail(c.err("ERR_MALFORMED", `a frame from rank ${f.src} on the link to rank ${this.peer}`))
    const d = diff(f.seq, this.recvSeq)
    if (d <= 0) return // sent again after a reconnect; already delivered
    if (d !== 1) return c.fail(c.err("ERR_SEQUENCE", `frame ${f.seq} after frame ${this.recvSeq}`))
    const n = body.byteLength
    const sink = this.host.sink!
    f.dst = this.host.rank
    if (this.assembly !== undefined || (f.kind === Envelope.Kind.DATA && n < f.size)) {
      const a = this.assembly
      if (f.kind !== Envelope.Kind.DATA || (a !== undefined && (f.id !== a.f.id || f.size !== a.f.size)) || (a?.got ?? 0) + n > f.size) {
        return c.fail(c.err("ERR_MALFORMED", `a ${Envelope.kindName(f.kind)} frame inside a DATA body that arrives in pieces`))
      }
      this.recvSeq = f.seq
      this.schedule()
      if (a === undefined) {
        const target = sink.target(f)
        if (target.byteLength < f.size) return this.host.lose(this, "ERR_MALFORMED", `the engine gave ${target.byteLength} bytes for a DATA body of ${f.size}`)
        target.set(body, 0)
        this.assembly = { f: { ...f, body: undefined }, target, got: n }
      } else {
        // A piece the parser placed (see `place`) is where it belongs already.
        if (body.buffer !== a.target.buffer || body.byteOffset !== a.target.byteOffset + a.got) a.target.set(body, a.got)
        a.got += n
      }
      const done = this.assembly!
      if (done.got === done.f.size) {
        this.assembly = undefined
        done.f.body = done.target
        sink.frame(done.f)
      }
      return
    }
    // A whole frame: its body must be all of it (none for RTS, CTS, FIN, CREDIT).
    const bodyless = f.kind === Envelope.Kind.RTS || f.kind === Envelope.Kind.CTS || f.kind === Envelope.Kind.FIN || f.kind === Envelope.Kind.CREDIT
    if (bodyless ? n !== 0 : n !== f.size) {
      return c.fail(c.err("ERR_MALFORMED", `a ${Envelope.kindName(f.kind)} frame with ${n} bytes of body (size ${f.size})`))
    }
    this.recvSeq = f.seq
    this.schedule()
    f.body = n > 0 ? body : undefined
    sink.frame(f)
  }

  /**
   * Where the body of a DATA frame spanning several reads should go: straight
   * into the receive buffer the engine gives (`Sink.target`), at the piece's
   * offset, instead of through the parser's buffer. Undefined for any other
   * frame.
   */
  place(c: Conn, f: Frame, n: number): Uint8Array | undefined {
    if (c !== this.conn || f.kind !== Envelope.Kind.DATA || f.src !== this.peer || diff(f.seq, this.recvSeq) !== 1) return undefined
    let a = this.assembly
    if (a === undefined) {
      if (n > f.size) return undefined
      f.dst = this.host.rank
      const target = this.host.sink!.target(f)
      if (target.byteLength < f.size) return undefined
      a = this.assembly = { f: { ...f, body: undefined }, target, got: 0 }
    } else if (f.id !== a.f.id || f.size !== a.f.size) return undefined
    if (a.got + n > a.f.size) return undefined
    return a.target.subarray(a.got, a.got + n)
  }

  // ------------------------------------------------------------ connections

  /**
   * A connection finished its handshake: resume on it from `peerLast` (the
   * last frame the peer received); `told` is what this side's handshake said
   * it had received.
   */
  up(c: Conn, peerLast: number, told: number): void {
    if (this.state === "lost" || this.state === "closed") return c.close(undefined)
    const first = this.qHead < this.q.length ? this.q[this.qHead]!.seq : this.nextSeq
    if (diff(peerLast, (first - 1) >>> 0) < 0) {
      c.close(c.err("ERR_SEQUENCE", `rank ${this.peer} resumes after frame ${peerLast}, before the first one kept (${first})`))
      return this.host.lose(this, "ERR_SEQUENCE", `rank ${this.peer} lost frames it had acknowledged`)
    }
    const old = this.conn
    this.conn = c
    if (old !== undefined && old !== c) old.close(undefined)
    this.dialing = false
    this.connections++
    const e = this.acked(peerLast)
    if (e !== undefined) {
      c.close(e)
      return this.host.lose(this, "ERR_SEQUENCE", e.reason)
    }
    const resumed = this.state === "down"
    this.state = "up"
    this.attempts = 0
    this.downSince = -1
    this.drainWait = false
    // The peer knows what the handshake told it; anything delivered since is acknowledged in the first flush.
    this.ackedSeq = told
    this.written = this.qHead
    this.lastWrite = performance.now()
    if (this.redialTimer !== undefined) clearTimeout(this.redialTimer)
    this.redialTimer = undefined
    if (resumed) this.host.log("info", `the link to rank ${this.peer} is back; resuming after frame ${peerLast}`, this.peer)
    this.flush()
    this.maybeWritable()
  }

  /** The link's connection closed (or a dial failed). */
  connClosed(c: Conn): void {
    if (c === this.conn) this.conn = undefined
    else if (!(c.role === "dialer" && c.state === "closed" && this.dialing && c.link === undefined)) return
    this.dialing = false
    this.drainWait = false
    if (this.state === "lost" || this.state === "closed") return
    if (c.fatal) return this.host.lose(this, c.error?.code ?? "ERR_REFUSED", c.error?.reason ?? "the peer refused the connection")
    if (this.state === "up") {
      this.state = "down"
      this.downSince = performance.now()
      this.host.log("info", `the link to rank ${this.peer} broke (${c.error?.message ?? "closed"}); ${this.dialer ? "reconnecting" : "waiting for it to reconnect"}`, this.peer)
    }
    if (this.dialer) this.redial()
  }

  /** Dials the peer now (the first time) or after a backoff. */
  redial(): void {
    if (this.dialing || this.redialTimer !== undefined || this.state === "up" || this.state === "lost" || this.state === "closed") return
    const opts = this.host.options
    let delay: number
    if (this.state === "connecting") {
      delay = this.attempts === 0 ? 0 : Math.min(250, 10 * 2 ** Math.min(this.attempts, 10))
    } else {
      if (this.attempts >= opts.reconnectAttempts) {
        return this.host.lose(this, "ERR_UNREACHABLE", `rank ${this.peer} could not be reached again in ${this.attempts} attempts`)
      }
      delay = Math.min(1000, 25 * 2 ** Math.min(this.attempts, 10))
    }
    this.attempts++
    this.redialTimer = setTimeout(() => {
      this.redialTimer = undefined
      this.dial()
    }, delay)
    this.redialTimer.unref?.()
  }

  private dial(): void {
    if (this.dialing || this.state === "up" || this.state === "lost" || this.state === "closed") return
    this.dialing = true
    this.host.dial(this).then(
      () => {},
      () => {
        this.dialing = false
        this.redial()
      }
    )
  }

  /** The peer said BYE: it is closing on purpose. */
  private peerClosed(): void {
    this.state = "closed"
    const c = this.conn
    this.conn = undefined
    c?.close(undefined, true)
    this.release()
  }

  /** Checks the timers: heartbeat, silence, and how long the peer has been away. */
  tick(now: number): void {
    const opts = this.host.options
    switch (this.state) {
      case "up": {
        const c = this.conn!
        if (now - c.lastRead > opts.detectorTimeout) {
          c.fail(c.err("ERR_HEARTBEAT_TIMEOUT", `nothing from rank ${this.peer} for ${Math.round(now - c.lastRead)} ms`))
        } else if (now - this.lastWrite >= opts.heartbeatInterval) {
          this.flush(true)
        }
        return
      }
      case "connecting":
        if (now - this.since > opts.connectTimeout) {
          this.host.lose(this, "ERR_UNREACHABLE", `rank ${this.peer} did not connect within ${opts.connectTimeout} ms`)
        }
        return
      case "down":
        if (now - this.downSince > opts.detectorTimeout) {
          this.host.lose(this, "ERR_UNREACHABLE", `rank ${this.peer} could not be reached again within ${opts.detectorTimeout} ms`)
        }
        return
    }
  }

  /** Ends the link for good (lost or closed): drops the queue and the timers. */
  end(state: "lost" | "closed", code?: Code, reason?: string): void {
    this.state = state
    const c = this.conn
    this.conn = undefined
    if (c !== undefined) {
      if (state === "closed") c.bye()
      else c.close(code === undefined ? undefined : c.err(code, reason ?? ""))
    }
    this.release()
  }

  private release(): void {
    if (this.redialTimer !== undefined) clearTimeout(this.redialTimer)
    this.redialTimer = undefined
    this.q = []
    this.qHead = 0
    this.written = 0
    this.queuedBytes = 0
    this.unwrittenBytes = 0
    this.externals = 0
    this.spare = []
    this.clean.clear()
    this.assembly = undefined
  }

  /** Flushes what is queued, then says BYE (this rank is closing). */
  close(): void {
    if (this.state === "lost" || this.state === "closed") return
    this.flush()
    this.end("closed")
  }

  /** Frames queued and not yet acknowledged (for tests and diagnostics). */
  get unacknowledged(): number {
    return this.q.length - this.qHead
  }
}

const ack: Frame = { kind: LinkKind.ACK, fmt: 0, src: 0, dst: 0, ctx: 0, tag: 0, seq: 0, id: 0, ref: 0, size: 0, body: undefined }
const ackFrame = (src: number, seq: number): Frame => {
  ack.src = src
  ack.seq = seq
  return ack
}
