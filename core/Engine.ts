/**
 * The engine: one per rank, the protocol half of MPI's PML.
 *
 * It owns the matcher (posted and unexpected queues), encodes and decodes
 * bodies with the codec, chooses eager or rendezvous for each message,
 * drives the rendezvous handshake (RTS, CTS, DATA), completes requests, and
 * turns a lost or finished peer into failed requests. All of it is
 * synchronous code over plain data: the faces (`Comm.ts`,
 * `promise/Comm.ts`) wrap it once per user call.
 *
 * Flow control (credit-based, per ordered pair of ranks, as in MVAPICH):
 * every rank splits its `maxUnexpectedBytes` into an eager window per
 * sender. A sender sends a message eagerly only while it holds credit for
 * that receiver (each message costs its size plus {@link MESSAGE_OVERHEAD})
 * and its link to it is writable; otherwise it sends an RTS alone and keeps
 * the body until the receiver asks for it. The receiver gives credit back in
 * batches (a CREDIT frame per quarter window) as messages are consumed. So
 * the bodies of unmatched messages a rank holds never exceed
 * `maxUnexpectedBytes`, whatever its peers do. See `docs/flow-control.md`.
 *
 * @since 0.1.0
 */
import * as Codec from "./Codec.ts"
import { Format, type Frame, Kind, kindName } from "./Envelope.ts"
import * as Errors from "./Errors.ts"
import { CommCore } from "./internal/CommCore.ts"
import { Req, SENT } from "./internal/Req.ts"
import { ANY_SOURCE, ANY_TAG, type Arrived, Matcher, type Posted } from "./Matching.ts"
import type { Sink, TransportShape } from "./Transport.ts"

/**
 * Options of a rank's engine.
 *
 * @category models
 * @since 0.1.0
 */
export interface EngineOptions {
  /**
   * Messages up to this many bytes go eagerly; larger ones by rendezvous.
   * Defaults to the transport's `eagerLimit`.
   */
  readonly eagerLimit?: number
  /**
   * Bytes of unmatched eager messages this rank may hold at most (each
   * counted as its size plus {@link MESSAGE_OVERHEAD}), split evenly into an
   * eager window per sender (this rank included). Past a sender's window its
   * messages go by rendezvous: their bodies stay at the sender until they
   * are received. Give every rank of a world the same value. Defaults to
   * {@link DEFAULT_MAX_UNEXPECTED_BYTES} (64 MiB).
   *
   * @since 0.3.0
   */
  readonly maxUnexpectedBytes?: number
  /**
   * How long a wait spins on the transport before it sleeps, in microseconds.
   * Defaults to 250 when the world fits the machine's cores and 0 when it
   * oversubscribes them (on the worker transport with several ranks per
   * thread: when its threads fit the cores).
   */
  readonly spinMicros?: number
  /** Where warnings go (unreceived messages at the end, protocol errors). */
  readonly onWarning?: (message: string) => void
}

const LIVE = 0
const FINISHED = 1
const FAILED = 2

/**
 * Bytes each eager message is charged beyond its body, against the
 * receiver's `maxUnexpectedBytes`: what an unmatched message costs the
 * receiver besides its body (its record in the unexpected queue and the
 * copy's own objects, measured at about 320 bytes on Node 24). So a flood of
 * empty messages is bounded too.
 *
 * @example
 * ```ts
 * import { Engine } from "rankflow"
 * // how many 8-byte messages fit in a 1 MiB eager window
 * const n = Math.floor((1 << 20) / (8 + Engine.MESSAGE_OVERHEAD))
 * ```
 * @category constants
 * @since 0.3.0
 */
export const MESSAGE_OVERHEAD = 320

/**
 * The default `maxUnexpectedBytes`: 64 MiB per rank. It keeps a full OSU
 * window (64 messages of the 64 KiB eager limit, 4 MiB) eager from up to 12
 * senders at once, so bandwidth does not drop to rendezvous in normal use,
 * while a world of 16 ranks on one machine holds at most 1 GiB of unmatched
 * bodies in all (a Node process's default heap limit is 2–4 GiB).
 *
 * @example
 * ```ts
 * import { Engine } from "rankflow"
 * const perSender = Engine.DEFAULT_MAX_UNEXPECTED_BYTES / 4 // the eager window in a world of 4
 * ```
 * @category constants
 * @since 0.3.0
 */
export const DEFAULT_MAX_UNEXPECTED_BYTES = 64 * 1024 * 1024

/**
 * Counters of a rank's engine: what it holds and how it sent. A snapshot;
 * read it with {@link statsOf} (or `engine.stats`).
 *
 * @category models
 * @since 0.3.0
 */
export interface EngineStats {
  /** The `maxUnexpectedBytes` in force. */
  readonly maxUnexpectedBytes: number
  /** The eager window each sender has toward this rank (bytes). */
  readonly eagerWindow: number
  /** Bytes of unmatched eager messages held now (size plus overhead each). Never above `maxUnexpectedBytes` while every rank uses the same value. */
  readonly unexpectedBytes: number
  /** The most `unexpectedBytes` has ever been. */
  readonly peakUnexpectedBytes: number
  /** Unmatched messages held now, eager ones and rendezvous requests (RTS, a header each). */
  readonly unexpectedMessages: number
  /** Messages this rank sent eagerly. */
  readonly eagerSends: number
  /** Messages this rank sent by rendezvous (too large, out of credit, or the link full). */
  readonly rendezvousSends: number
  /** CREDIT frames this rank sent (credit given back to its senders). */
  readonly creditFrames: number
  /** Has the engine been closed? */
  readonly closed: boolean
}

/** A posted receive. @internal */
export class RecvReq extends Req implements Posted {
  stamp = 0
  /** Where a chunked DATA body landed (see `target`). */
  landing: Uint8Array | undefined = undefined
  /** World rank the rendezvous is with, once matched. */
  peer = -1
  /** Deliver the body undecoded, as a {@link Body} (the collectives forward it). */
  raw = false
  readonly comm: CommCore
  readonly ctx: number
  /** World rank or ANY_SOURCE. */
  readonly src: number
  /** Receive buffer (the buffer API), or undefined for a new value. */
  readonly buf: ArrayBufferView | undefined
  constructor(op: string, comm: CommCore, ctx: number, src: number, tag: number, buf: ArrayBufferView | undefined) {
    super(op)
    this.comm = comm
    this.ctx = ctx
    this.src = src
    // The wanted tag (ANY_TAG or a tag) until it matches, then the message's.
    this.tag = tag
    this.buf = buf
  }
}

/** A rendezvous send waiting for its CTS. @internal */
class SendReq extends Req {
  comm: CommCore | undefined = undefined
  readonly dst: number
  readonly ctx: number
  readonly fmt: number
  readonly size: number
  body: Uint8Array | undefined
  constructor(op: string, dst: number, ctx: number, tag: number, fmt: number, size: number, body: Uint8Array | undefined) {
    super(op)
    this.dst = dst
    this.ctx = ctx
    this.tag = tag
    this.fmt = fmt
    this.size = size
    this.body = body
  }
}

/** An unexpected message (or RTS). @internal */
interface Incoming extends Arrived {
  readonly kind: number
  readonly fmt: number
  readonly size: number
  /** Sender's rendezvous id (RTS). */
  readonly id: number
  /** The body (EAGER), copied out of the transport; decoded when it matches. */
  readonly bytes: Uint8Array | undefined
}

/**
 * A message body as it travels: its format and bytes. What a raw receive
 * gives, and what `isendBody` sends, so that a collective can forward a
 * message without decoding and encoding it again.
 *
 * @category models
 * @since 0.1.0
 */
export interface Body {
  readonly fmt: number
  readonly bytes: Uint8Array
}

const EMPTY = new Uint8Array(0)

interface ProbeWaiter {
  readonly req: Req
  readonly comm: CommCore
  readonly ctx: number
  readonly src: number
  readonly tag: number
}

/**
 * How long a wait spins before it sleeps when the world's ranks (or, with
 * several ranks per thread, its threads) fit the machine's cores, in
 * microseconds.
 *
 * @category options
 * @since 0.3.0
 */
export const DEFAULT_SPIN_MICROS = 250

const defaultSpin = (size: number): number => {
  let cores = 1
  try {
    cores = (globalThis as any).navigator?.hardwareConcurrency ?? 1
  } catch {
    // keep 1
  }
  return size <= cores ? DEFAULT_SPIN_MICROS : 0
}

/**
 * The per-rank engine.
 *
 * @category models
 * @since 0.1.0
 */
export class Engine implements Sink {
  readonly rank: number
  readonly size: number
  readonly eagerLimit: number
  readonly spinMicros: number
  readonly matcher = new Matcher<RecvReq, Incoming>()
  /** Bytes of unmatched eager messages this rank holds at most. */
  readonly maxUnexpectedBytes: number
  /** The eager window of each sender toward this rank, and of this rank toward each peer. */
  readonly eagerWindow: number
  /** Credit is given back once this many bytes of a sender's messages were consumed. */
  private readonly creditBatch: number
  /** The largest body that may go eagerly: the eager limit, within what the window allows. */
  private readonly eagerMax: number
  /** Credit this rank holds toward each peer (bytes). */
  private readonly credit: Float64Array
  /** Credit consumed from each sender, not yet given back. */
  private readonly owed: Float64Array
  /** Unmatched eager bytes held from each sender. */
  private readonly held: Float64Array
  /** Is the link to each peer writable (no `send` has returned false since its `writable`)? */
  private readonly open: Uint8Array
  private readonly overstepped: Uint8Array
  private unexpectedBytes = 0
  private peakUnexpected = 0
  private eagerSends = 0
  private rendezvousSends = 0
  private creditFrames = 0
  private closed = false
  private readonly peers: Uint8Array
  private readonly peerCause: Array<unknown>
  private readonly seq: Uint32Array
  private nextId = 1
  private readonly rndvSends = new Map<number, SendReq>()
  private readonly rndvRecvs = new Map<number, RecvReq>()
  private readonly blocked = new Map<number, Array<Req>>()
  private probes: Array<ProbeWaiter> = []
  private readonly comms = new Map<number, CommCore>()
  private readonly warn: (message: string) => void
  private finished = false
  private readonly scratch: Frame

  readonly transport: TransportShape
  constructor(transport: TransportShape, options: EngineOptions = {}) {
    this.transport = transport
    this.rank = transport.rank
    this.size = transport.size
    this.eagerLimit = options.eagerLimit ?? transport.eagerLimit
    this.spinMicros = options.spinMicros ?? defaultSpin(transport.size)
    this.warn = options.onWarning ?? ((m) => process.emitWarning(m, "RankflowWarning"))
    const max = options.maxUnexpectedBytes ?? DEFAULT_MAX_UNEXPECTED_BYTES
    if (typeof max !== "number" || !(max >= 0) || max === Infinity) {
      throw new Errors.InvalidArgument({ rank: this.rank, op: "Engine", reason: `maxUnexpectedBytes must be a finite number of bytes, 0 or more; got ${String(max)}` })
    }
    this.maxUnexpectedBytes = max
    this.eagerWindow = Math.floor(max / this.size)
    this.creditBatch = Math.max(1, Math.floor(this.eagerWindow / 4))
    // A message may go eagerly only if it fits what is certain to come back:
    // with less than a batch unreturned, a sender always holds window - batch.
    this.eagerMax = Math.min(this.eagerLimit, this.eagerWindow - this.creditBatch - MESSAGE_OVERHEAD)
    this.credit = new Float64Array(this.size).fill(this.eagerWindow)
    this.owed = new Float64Array(this.size)
    this.held = new Float64Array(this.size)
    this.open = new Uint8Array(this.size).fill(1)
    this.overstepped = new Uint8Array(this.size)
    this.peers = new Uint8Array(this.size)
    this.peerCause = new Array(this.size)
    this.seq = new Uint32Array(this.size)
    this.scratch = { kind: 0, fmt: 0, src: this.rank, dst: 0, ctx: 0, tag: 0, seq: 0, id: 0, ref: 0, size: 0, body: undefined }
    transport.attach(this)
  }

  /** The next free context id (even; the odd one above is its collectives'). */
  nextCtx = 2
  private world_: CommCore | undefined = undefined
  private self_: CommCore | undefined = undefined

  /** The world communicator (context 0, collectives on 1). */
  worldComm(): CommCore {
    return (this.world_ ??= new CommCore(this, 0, Array.from({ length: this.size }, (_, i) => i)))
  }

  /** This rank alone (context -2, collectives on -1: never on a wire). */
  selfComm(): CommCore {
    return (this.self_ ??= new CommCore(this, -2, [this.rank]))
  }

  /** Registers a communicator's context so failures can reach its receives. */
  register(comm: CommCore): void {
    this.comms.set(comm.ctx, comm)
  }

  unregister(comm: CommCore): void {
    this.comms.delete(comm.ctx)
    for (const ctx of [comm.ctx, comm.collCtx]) {
      const left = this.matcher.dropContext(ctx)
      for (const r of left.posted) {
        r.fail(new Errors.InvalidRequest({ rank: comm.rank, op: r.op, reason: "the communicator was freed while the receive was pending" }))
      }
      // Unreceived eager messages are dropped with it: their credit goes back.
      for (const a of left.unexpected) if (a.kind === Kind.EAGER) this.release(a)
    }
  }

  /** Is world rank `peer` still running? */
  isLive(peer: number): boolean {
    return this.peers[peer] === LIVE
  }

  // ---------------------------------------------------------------- sending

  private header(kind: number, dst: number, ctx: number, tag: number): Frame {
    const f = this.scratch
    f.kind = kind
    f.dst = dst
    f.ctx = ctx
    f.tag = tag
    f.seq = this.seq[dst] = (this.seq[dst]! + 1) >>> 0
    f.fmt = Format.NONE
    f.id = 0
    f.ref = 0
    f.size = 0
    f.body = undefined
    return f
  }

  /** Hands a frame to the transport, or to this engine for a self-send. */
  private put(f: Frame): boolean {
    if (f.dst === this.rank) {
      // A fresh copy: delivery may send frames of its own (CTS, DATA), which
      // reuse the scratch frame.
      this.frame({ ...f })
      return true
    }
    return this.transport.send(f)
  }

  /**
   * Starts a send of `data` to world rank `dst`. Throws `Refused` from the
   * codec; the communicator turns it into `Unencodable`.
   */
  isend(comm: CommCore, op: string, data: unknown, dst: number, tag: number, ctx: number): Req {
    const kind = Codec.viewKind(data)
    if (kind >= 0) return this.isendBody(comm, op, Format.RAW + kind, Codec.rawBytes(data as Codec.RawValue), dst, tag, ctx, true)
    const body = Codec.encodeBody(data)
    return this.isendBody(comm, op, Codec.bodyFormat(), body, dst, tag, ctx, false)
  }

  /**
   * Sends an encoded body. `stable` says the bytes stay valid and unchanged
   * until the request completes (a raw user buffer, or a body the caller
   * owns); otherwise a body kept for rendezvous is copied.
   */
  isendBody(comm: CommCore, op: string, fmt: number, body: Uint8Array, dst: number, tag: number, ctx: number, stable: boolean): Req {
    const size = body.byteLength
    if (this.peers[dst] !== LIVE || this.closed) {
      const r = new Req(op)
      r.fail(this.closed ? this.closedError(comm, op, dst, tag) : this.lostError(comm, op, dst, tag))
      return r
    }
    // Eager while it fits the eager limit, this rank holds credit for it, and
    // the link is writable. A transport that cannot send at once copies the
    // frame, so the send is complete either way; the link is then marked full
    // and what follows goes by rendezvous until it is writable again.
    if (size <= this.eagerMax && this.open[dst] === 1 && this.credit[dst]! >= size + MESSAGE_OVERHEAD) {
      this.credit[dst] -= size + MESSAGE_OVERHEAD
      this.eagerSends++
      const f = this.header(Kind.EAGER, dst, ctx, tag)
      f.fmt = fmt
      f.size = size
      f.body = body
      if (!this.put(f)) this.open[dst] = 0
      return SENT
    }
    // Rendezvous: the body waits here until the receiver is ready. An encoded
    // body lives in the codec's scratch buffer, so it is copied; a raw body is
    // the caller's own buffer, which MPI forbids touching until the request
    // completes.
    const id = this.nextId++
    const r = new SendReq(op, dst, ctx, tag, fmt, size, stable ? body : body.slice())
    r.comm = comm
    this.rndvSends.set(id, r)
    this.rendezvousSends++
    const f = this.header(Kind.RTS, dst, ctx, tag)
    f.fmt = fmt
    f.size = size
    f.id = id
    if (!this.put(f)) this.open[dst] = 0
    return r
  }

  private block(dst: number, r: Req): void {
    let list = this.blocked.get(dst)
    if (list === undefined) this.blocked.set(dst, (list = []))
    list.push(r)
  }

  writable(dst: number): void {
    this.open[dst] = 1
    const list = this.blocked.get(dst)
    if (list === undefined) return
    this.blocked.delete(dst)
    for (const r of list) r.succeed(undefined)
  }

  // -------------------------------------------------------------- receiving

  /** Posts a receive from world rank `src` (or ANY_SOURCE). */
  irecv(comm: CommCore, op: string, src: number, tag: number, ctx: number, buf: ArrayBufferView | undefined, raw = false): RecvReq {
    const r = new RecvReq(op, comm, ctx, src, tag, buf)
    r.raw = raw
    if (this.closed) {
      r.fail(this.closedError(comm, op, src, tag))
      return r
    }
    r.canceller = this.cancelRecv
    const a = this.matcher.post(r)
    if (a !== undefined) this.take(r, a)
    else if (src !== ANY_SOURCE ? this.peers[src] !== LIVE : this.allGone(comm)) {
      this.matcher.cancel(r)
      r.fail(this.lostError(comm, op, src, tag))
    }
    return r
  }

  private readonly cancelRecv = (req: Req): boolean => {
    const r = req as RecvReq
    if (!this.matcher.cancel(r)) return false
    r.cancelled = true
    r.source = -1
    r.tag = -1
    r.count = 0
    r.succeed(undefined)
    return true
  }

  /** Cancels a pending receive or probe; false if it already matched. */
  cancel(r: Req): boolean {
    return r.cancel()
  }

  /** A matched unexpected arrival meets its receive. */
  private take(r: RecvReq, a: Incoming): void {
    if (a.kind === Kind.RTS) return this.acceptRts(r, a.src, a.tag, a.fmt, a.size, a.id)
    this.release(a)
    this.deliverBytes(r, a.src, a.tag, a.fmt, a.size, a.bytes, true)
  }

  // ------------------------------------------------------------------ credit

  /** An unmatched eager message leaves the queue (received or dropped): its bytes are free and its credit owed. */
  private release(a: Incoming): void {
    const charge = a.size + MESSAGE_OVERHEAD
    this.unexpectedBytes -= charge
    this.held[a.src] -= charge
    this.consumed(a.src, a.size)
  }

  /** An eager message from `src` was consumed: give its credit back once a batch is owed. */
  private consumed(src: number, size: number): void {
    if ((this.owed[src] += size + MESSAGE_OVERHEAD) >= this.creditBatch) this.giveCredit(src)
  }

  private giveCredit(src: number): void {
    const amount = this.owed[src]!
    this.owed[src] = 0
    if (src === this.rank) {
      this.credit[src] += amount
      return
    }
    // A finished peer sends no new messages; a failed one is gone.
    if (this.peers[src] !== LIVE || this.closed) return
    const f = this.header(Kind.CREDIT, src, 0, 0)
    f.ref = amount
    this.creditFrames++
    if (!this.put(f)) this.open[src] = 0
  }

  /** An eager message from `src` joins the unexpected queue. */
  private hold(src: number, size: number): void {
    const charge = size + MESSAGE_OVERHEAD
    if ((this.unexpectedBytes += charge) > this.peakUnexpected) this.peakUnexpected = this.unexpectedBytes
    if ((this.held[src] += charge) > this.eagerWindow && this.overstepped[src] === 0) {
      this.overstepped[src] = 1
      this.warn(
        `rank ${this.rank}: rank ${src} sent ${this.held[src]} bytes of unmatched eager messages, past its eager window of ${this.eagerWindow}: ` +
          `give every rank the same maxUnexpectedBytes`
      )
    }
  }

  /** This rank's counters. */
  get stats(): EngineStats {
    return {
      maxUnexpectedBytes: this.maxUnexpectedBytes,
      eagerWindow: this.eagerWindow,
      unexpectedBytes: this.unexpectedBytes,
      peakUnexpectedBytes: this.peakUnexpected,
      unexpectedMessages: this.matcher.unexpectedCount,
      eagerSends: this.eagerSends,
      rendezvousSends: this.rendezvousSends,
      creditFrames: this.creditFrames,
      closed: this.closed
    }
  }

  private finishStatus(r: RecvReq, src: number, tag: number, size: number): RecvReq {
    r.source = r.comm.toLocal(src)
    r.tag = tag
    r.count = size
    return r
  }

  private acceptRts(r: RecvReq, src: number, tag: number, fmt: number, size: number, sendId: number): void {
    this.finishStatus(r, src, tag, size)
    // Check a buffer receive before asking for the data: a mismatch fails now
    // (the sender's data is then fetched and dropped, so it completes too).
    const err = r.buf === undefined ? undefined : this.checkBuffer(r, src, tag, fmt, size)
    const id = this.nextId++
    r.peer = src
    if (err !== undefined) {
      r.fail(err)
      // Keep a sink for the DATA so the sender's request still completes.
      const sinkReq = new RecvReq(r.op, r.comm, r.ctx, src, tag, undefined)
      sinkReq.peer = src
      this.rndvRecvs.set(id, sinkReq)
    } else {
      this.rndvRecvs.set(id, r)
    }
    const f = this.header(Kind.CTS, src, r.ctx, tag)
    f.id = sendId
    f.ref = id
    this.put(f)
  }

  private checkBuffer(r: RecvReq, src: number, tag: number, fmt: number, size: number): Error | undefined {
    const buf = r.buf!
    if (fmt < Format.RAW) {
      const actual = fmt === Format.NUMBER ? "a number" : "an object (not a typed array)"
      return new Errors.TypeMismatch({ rank: r.comm.rank, peer: r.comm.toLocal(src), tag, expected: Codec.describeValue(buf), actual })
    }
    const kind = fmt - Format.RAW
    if (!Codec.compatible(kind, Codec.viewKind(buf))) {
      return new Errors.TypeMismatch({
        rank: r.comm.rank,
        peer: r.comm.toLocal(src),
        tag,
        expected: Codec.describeValue(buf),
        actual: Codec.describeRaw(kind, size)
      })
    }
    if (size > buf.byteLength) {
      return new Errors.Truncated({
        rank: r.comm.rank,
        peer: r.comm.toLocal(src),
        tag,
        length: size,
        capacity: buf.byteLength,
        buffer: Codec.describeValue(buf)
      })
    }
    return undefined
  }

  /**
   * Delivers body bytes into a receive. `owned` says the bytes are this
   * engine's own (not borrowed from a transport), so they may be kept.
   */
  private deliverBytes(r: RecvReq, src: number, tag: number, fmt: number, size: number, body: Uint8Array | undefined, owned: boolean): void {
    this.finishStatus(r, src, tag, size)
    const bytes = body ?? EMPTY
    if (r.buf !== undefined) {
      const err = this.checkBuffer(r, src, tag, fmt, size)
      if (err !== undefined) return r.fail(err)
      if (bytes !== r.landing) new Uint8Array(r.buf.buffer, r.buf.byteOffset, size).set(bytes)
      return r.succeed(r.buf)
    }
    const own = owned || bytes === r.landing
    if (r.raw) return r.succeed({ fmt, bytes: own ? bytes : bytes.slice() } satisfies Body)
    try {
      r.succeed(this.decodeBody(fmt, bytes, own))
    } catch (e) {
      r.fail(new Errors.Undecodable({ rank: r.comm.rank, peer: r.comm.toLocal(src), tag, reason: e instanceof Error ? e.message : String(e) }))
    }
  }

  private decodeBody(fmt: number, bytes: Uint8Array, owned: boolean): unknown {
    if (owned && fmt >= Format.RAW && fmt - Format.RAW !== Codec.KIND_BUFFER && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
      // The body landed in a buffer of its own: wrap it without a copy.
      const info = Codec.kinds[fmt - Format.RAW]
      if (info?.make !== undefined && bytes.byteLength % info.bytes === 0) return info.make(bytes.buffer as ArrayBuffer, bytes.byteLength / info.bytes)
    }
    return Codec.decodeBody(fmt, bytes)
  }

  // ---------------------------------------------------------------- probing

  /** Non-blocking probe: the earliest matching unexpected message's status. */
  iprobe(ctx: number, src: number, tag: number, status: Req): boolean {
    if (this.closed) throw this.closedError(this.comms.get(ctx), status.op, src, tag)
    const a = this.matcher.peek(ctx, src, tag)
    if (a === undefined) return false
    status.source = a.src
    status.tag = a.tag
    status.count = a.size
    return true
  }

  /** A request that completes (without receiving) when a match is there. */
  probe(comm: CommCore, op: string, src: number, tag: number, ctx: number): Req {
    const r = new Req(op)
    if (this.closed) {
      r.fail(this.closedError(comm, op, src, tag))
      return r
    }
    if (this.iprobe(ctx, src, tag, r)) {
      r.source = comm.toLocal(r.source)
      r.succeed(true)
      return r
    }
    if (src !== ANY_SOURCE ? this.peers[src] !== LIVE : this.allGone(comm)) {
      r.fail(this.lostError(comm, op, src, tag))
      return r
    }
    const w: ProbeWaiter = { req: r, comm, ctx, src, tag }
    this.probes.push(w)
    r.canceller = () => {
      const i = this.probes.indexOf(w)
      if (i < 0) return false
      this.probes.splice(i, 1)
      r.cancelled = true
      r.succeed(false)
      return true
    }
    return r
  }

  private wakeProbes(a: Incoming): void {
    if (this.probes.length === 0) return
    const woken: Array<ProbeWaiter> = []
    this.probes = this.probes.filter((w) => {
      const hit = w.ctx === a.ctx && (w.src === ANY_SOURCE || w.src === a.src) && (w.tag === ANY_TAG || w.tag === a.tag)
      if (hit) woken.push(w)
      return !hit
    })
    for (const w of woken) {
      w.req.source = w.comm.toLocal(a.src)
      w.req.tag = a.tag
      w.req.count = a.size
      w.req.succeed(true)
    }
  }

  // --------------------------------------------------------------- progress

  /** Polls the transport until `done()` or the spin budget is spent. */
  progress(done: () => boolean): void {
    this.transport.poll(done, this.spinMicros)
  }

  /** Delivers whatever the transport has now, without spinning. */
  progressOnce(): void {
    this.transport.poll(alwaysTrue, 0)
  }

  // --------------------------------------------------- the transport's sink

  frame(f: Frame): void {
    if (this.closed) return
    switch (f.kind) {
      case Kind.EAGER:
      case Kind.RTS: {
        const r = this.matcher.takePosted(f.ctx, f.src, f.tag)
        if (r !== undefined) {
          if (f.kind === Kind.EAGER) {
            this.deliverBytes(r, f.src, f.tag, f.fmt, f.size, f.body, false)
            this.consumed(f.src, f.size)
          } else this.acceptRts(r, f.src, f.tag, f.fmt, f.size, f.id)
          return
        }
        // Nobody waits for it yet: keep a copy of the body (the transport's
        // is borrowed), decoded when a receive takes it.
        const a: Incoming = {
          ctx: f.ctx,
          src: f.src,
          tag: f.tag,
          stamp: 0,
          kind: f.kind,
          fmt: f.fmt,
          size: f.size,
          id: f.id,
          bytes: f.kind === Kind.EAGER && f.body !== undefined && f.body.byteLength > 0 ? f.body.slice() : undefined
        }
        if (f.kind === Kind.EAGER) this.hold(f.src, f.size)
        this.matcher.addUnexpected(a)
        this.wakeProbes(a)
        return
      }
      case Kind.CREDIT: {
        const c = (this.credit[f.src] += f.ref)
        if (c > this.eagerWindow) {
          this.credit[f.src] = this.eagerWindow
          return this.protocolError(f, `credit of ${f.ref} bytes brings the eager window past ${this.eagerWindow}`)
        }
        return
      }
      case Kind.CTS: {
        const s = this.rndvSends.get(f.id)
        if (s === undefined) return this.protocolError(f, "CTS for an unknown send")
        this.rndvSends.delete(f.id)
        const d = this.header(Kind.DATA, f.src, s.ctx, s.tag)
        d.fmt = s.fmt
        d.size = s.size
        d.id = f.ref
        d.body = s.body
        s.body = undefined
        if (this.put(d)) s.succeed(undefined)
        else this.block(f.src, s)
        return
      }
      case Kind.DATA: {
        const r = this.rndvRecvs.get(f.id)
        if (r === undefined) return this.protocolError(f, "DATA for an unknown receive")
        this.rndvRecvs.delete(f.id)
        if (r.done) return // a failed buffer check: the data is dropped
        this.deliverBytes(r, f.src, f.tag, f.fmt, f.size, f.body, false)
        return
      }
      case Kind.FIN:
        return this.peerGone(f.src, FINISHED, undefined)
      default:
        return this.protocolError(f, "unknown frame kind")
    }
  }

  target(f: Frame): Uint8Array {
    const r = this.rndvRecvs.get(f.id)
    if (f.kind === Kind.DATA && r !== undefined && !r.done) {
      if (r.buf !== undefined && f.fmt >= Format.RAW && f.size <= r.buf.byteLength && Codec.compatible(f.fmt - Format.RAW, Codec.viewKind(r.buf))) {
        r.landing = new Uint8Array(r.buf.buffer, r.buf.byteOffset, f.size)
        return r.landing
      }
      if (r.buf === undefined) {
        r.landing = new Uint8Array(new ArrayBuffer(f.size))
        return r.landing
      }
    }
    return new Uint8Array(f.size)
  }

  private protocolError(f: Frame, what: string): void {
    this.warn(`rank ${this.rank}: dropped a ${kindName(f.kind)} frame from rank ${f.src}: ${what} (id ${f.id})`)
  }

  peerLost(peer: number, error: Errors.PeerLost | Errors.TransportError): void {
    this.peerGone(peer, FAILED, error instanceof Errors.PeerLost && error.cause !== undefined ? error.cause : error)
  }

  /** Marks world rank `peer` failed (its program threw or its thread died). */
  peerFailed(peer: number, cause: unknown): void {
    this.peerGone(peer, FAILED, cause)
  }

  private peerGone(peer: number, state: number, cause: unknown): void {
    if (peer === this.rank || this.peers[peer] === FAILED) return
    if (this.peers[peer] === FINISHED && state === FINISHED) return
    this.peers[peer] = state
    this.peerCause[peer] = cause
    // Rendezvous sends it will never answer.
    for (const [id, s] of this.rndvSends) {
      if (s.dst === peer) {
        this.rndvSends.delete(id)
        s.fail(this.lostError(this.comms.get(s.ctx), s.op, peer, s.tag))
      }
    }
    if (state === FAILED) {
      // Rendezvous receives waiting for its data (a finished peer still sends it).
      for (const [id, r] of this.rndvRecvs) {
        if (r.peer === peer) {
          this.rndvRecvs.delete(id)
          r.fail(this.lostError(r.comm, r.op, peer, r.tag))
        }
      }
      const blocked = this.blocked.get(peer)
      if (blocked !== undefined) {
        this.blocked.delete(peer)
        for (const r of blocked) r.fail(this.lostError(undefined, r.op, peer, -1))
      }
    }
    // Receives that can no longer match: from this peer, or from any source
    // when every other member of the communicator is gone.
    const dead = this.matcher.removePosted((r) => (r.src === ANY_SOURCE ? this.allGone(r.comm) : r.src === peer))
    for (const r of dead) r.fail(this.lostError(r.comm, r.op, r.src, r.tag))
    this.probes = this.probes.filter((w) => {
      if (w.src === ANY_SOURCE ? this.allGone(w.comm) : w.src === peer) {
        w.req.fail(this.lostError(w.comm, w.req.op, w.src, w.tag))
        return false
      }
      return true
    })
  }

  /**
   * Can no other member of `comm` send any more? (A communicator of this rank
   * alone never counts as gone: the rank may still send to itself.)
   */
  private allGone(comm: CommCore): boolean {
    if (comm.size === 1) return false
    for (let i = 0; i < comm.size; i++) {
      const w = comm.toWorld(i)
      if (w !== this.rank && this.peers[w] === LIVE) return false
    }
    return true
  }

  private lostError(comm: CommCore | undefined, op: string, peer: number, tag: number): Errors.PeerLost {
    const gone = peer === ANY_SOURCE ? firstGone(this.peers, this.rank) : peer
    const state = gone >= 0 ? this.peers[gone] : FINISHED
    return new Errors.PeerLost({
      rank: comm?.rank ?? this.rank,
      op,
      peer: peer === ANY_SOURCE ? ANY_SOURCE : comm?.toLocal(peer) ?? peer,
      tag,
      reason: state === FINISHED ? "finished" : "failed",
      ...(state === FAILED ? { cause: this.peerCause[gone] } : {})
    })
  }

  // ------------------------------------------------------------- life cycle

  /**
   * The program has returned: tell every peer (in band, after everything this
   * rank sent). The engine goes on serving rendezvous requests until closed.
   */
  finish(): void {
    if (this.finished || this.closed) return
    this.finished = true
    for (let p = 0; p < this.size; p++) {
      if (p !== this.rank && this.peers[p] !== FAILED) this.put(this.header(Kind.FIN, p, 0, 0))
    }
  }

  /** Describes messages that arrived but were never received. */
  unreceived(): string | undefined {
    if (this.matcher.unexpectedCount === 0) return undefined
    const by = new Map<string, number>()
    for (const a of this.matcher.unexpectedAll()) {
      const key = `from rank ${a.src} tag ${a.tag}${a.ctx > 1 ? ` (context ${a.ctx})` : ""}`
      by.set(key, (by.get(key) ?? 0) + 1)
    }
    return `rank ${this.rank} ended with ${this.matcher.unexpectedCount} unreceived message(s): ` +
      [...by].map(([k, n]) => `${n} ${k}`).join(", ")
  }

  /**
   * Closes the engine: reports unreceived messages, and fails everything
   * still pending with `EngineClosed` — posted receives, probes, rendezvous
   * sends waiting for their CTS, rendezvous receives waiting for their DATA,
   * and sends waiting for room. Operations started afterwards fail at once
   * (`iprobe` throws), and frames that still arrive are ignored.
   */
  close(): void {
    if (this.closed) return
    const left = this.unreceived()
    if (left !== undefined) this.warn(left)
    this.closed = true
    for (const r of this.matcher.removePosted(() => true)) r.fail(this.closedError(r.comm, r.op, r.src, r.tag))
    const probes = this.probes
    this.probes = []
    for (const w of probes) w.req.fail(this.closedError(w.comm, w.req.op, w.src, w.tag))
    const sends = [...this.rndvSends.values()]
    this.rndvSends.clear()
    for (const s of sends) s.fail(this.closedError(s.comm ?? this.comms.get(s.ctx), s.op, s.dst, s.tag))
    const recvs = [...this.rndvRecvs.values()]
    this.rndvRecvs.clear()
    for (const r of recvs) r.fail(this.closedError(r.comm, r.op, r.peer, r.tag))
    const blocked = [...this.blocked]
    this.blocked.clear()
    for (const [dst, list] of blocked) {
      for (const r of list) r.fail(this.closedError(r instanceof SendReq ? r.comm : undefined, r.op, dst, r.tag))
    }
  }

  private closedError(comm: CommCore | undefined, op: string, peer: number, tag: number): Errors.EngineClosed {
    return new Errors.EngineClosed({ rank: comm?.rank ?? this.rank, op, peer: peer < 0 ? peer : comm?.toLocal(peer) ?? peer, tag })
  }
}

/**
 * The counters of the engine under a communicator (either face): unmatched
 * bytes held and their peak, eager and rendezvous sends, credit frames.
 *
 * When to use: to watch flow control at work, or to check in a test that a
 * rank's unmatched messages stayed within `maxUnexpectedBytes`.
 *
 * @example
 * ```ts
 * import { Engine } from "rankflow"
 * import type { Comm } from "rankflow/promise"
 * export default async (comm: Comm) => {
 *   const s = Engine.statsOf(comm)
 *   return s.peakUnexpectedBytes <= s.maxUnexpectedBytes
 * }
 * ```
 * @category accessors
 * @since 0.3.0
 */
export const statsOf = (comm: { readonly core: { readonly engine: Engine } }): EngineStats => comm.core.engine.stats

const alwaysTrue = (): boolean => true

const firstGone = (peers: Uint8Array, self: number): number => {
  for (let i = 0; i < peers.length; i++) if (i !== self && peers[i] === FAILED) return i
  for (let i = 0; i < peers.length; i++) if (i !== self && peers[i] !== LIVE) return i
  return -1
}

