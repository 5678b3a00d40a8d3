/**
 * One byte stream between two ranks: its parser and its handshake.
 *
 * A connection is made for every stream a rank dials or accepts. Until its
 * handshake is done it belongs to no link, its parser accepts only
 * handshake-sized frames, and a timer closes it if the handshake is slow.
 * Any bad input — garbage, a wrong magic, version or world, a wrong secret,
 * a frame that does not fit — closes it with a `StreamError` (logged, and
 * sent to the peer as a REFUSE frame when the peer speaks the protocol); no
 * byte of it reaches the engine. Once the handshake is done the connection
 * is handed to its link (`Link.ts`), which carries frames over it until it
 * breaks.
 *
 * @since 0.1.0
 */
import type { Duplex } from "node:stream"
import type { Envelope } from "../../core/index.ts"
import { LinkKind, Parser, preamble } from "./Framing.ts"
import * as Handshake from "./Handshake.ts"
import type { Link } from "./Link.ts"
import { type Code, codeOf, Codes, StreamError } from "./StreamError.ts"
import type { Host } from "./Transport.ts"

type Frame = Envelope.Frame

/** Codes with which a refused dialer should not try again. */
const FATAL: ReadonlySet<Code> = new Set<Code>([
  "ERR_BAD_VERSION",
  "ERR_WRONG_WORLD",
  "ERR_BAD_RANK",
  "ERR_AUTH_FAILED",
  "ERR_PEER_RESTARTED",
  "ERR_BAD_MAGIC"
])

/**
 * Where a connection is: in its handshake, carrying a link's frames, or
 * closed.
 *
 * @category models
 * @since 0.1.0
 */
export type ConnState = "handshake" | "up" | "closed"

/**
 * A connection: one stream, its parser, and its handshake.
 *
 * @category models
 * @since 0.1.0
 */
export class Conn {
  readonly stream: Duplex
  readonly role: "dialer" | "acceptor"
  /** The peer's rank (-1 on an accepted stream until its HELLO names it). */
  peer: number
  state: ConnState = "handshake"
  /** The link this connection carries, once its handshake is done. */
  link: Link | undefined = undefined
  /** Why it closed, if it failed. */
  error: StreamError | undefined = undefined
  /** Would retrying a dial that ended this way be pointless? */
  fatal = false
  /** When bytes last came in (performance.now). */
  lastRead: number
  readonly parser: Parser
  private readonly host: Host
  private readonly nonce = Handshake.random(Handshake.NONCE_BYTES)
  private peerNonce: Uint8Array | undefined = undefined
  private peerIncarnation: Uint8Array | undefined = undefined
  private step: "hello" | "challenge" | "auth" | "accept" = "hello"
  /** The last sequence number this side's handshake said it had received. */
  private told = 0
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(host: Host, stream: Duplex, role: "dialer" | "acceptor", peer: number) {
    this.host = host
    this.stream = stream
    this.role = role
    this.peer = peer
    this.lastRead = performance.now()
    this.parser = new Parser({ maxFrame: Handshake.HANDSHAKE_MAX_FRAME, preamble: true, rank: host.rank })
    this.parser.peer = peer
    ;(stream as { setNoDelay?: (b: boolean) => unknown }).setNoDelay?.(true)
    stream.on("data", this.onData)
    stream.on("end", this.onEnd)
    stream.on("error", this.onError)
    stream.on("close", this.onClose)
    stream.on("drain", this.onDrain)
    this.timer = setTimeout(this.onTimeout, host.options.handshakeTimeout)
    this.timer.unref?.()
    if (role === "dialer") {
      this.step = "challenge"
      this.write(concat(preamble(), Handshake.hello(host.rank, peer, this.nonce, host.incarnation, host.world)))
    } else {
      this.write(preamble())
    }
  }

  /** Writes bytes; false when the stream's buffer is past its high-water mark. */
  write(bytes: Uint8Array): boolean {
    if (this.state === "closed" || this.stream.destroyed) return true
    return this.stream.write(bytes)
  }

  /** Writes several buffers as one (a gathered write where the stream has one). */
  writeAll(parts: ReadonlyArray<Uint8Array>): boolean {
    if (this.state === "closed" || this.stream.destroyed) return true
    if (parts.length === 1) return this.stream.write(parts[0]!)
    this.stream.cork()
    let ok = true
    for (const p of parts) ok = this.stream.write(p)
    this.stream.uncork()
    return ok
  }

  private readonly onData = (chunk: Uint8Array): void => {
    if (this.state === "closed") return
    this.lastRead = performance.now()
    const err = this.parser.push(chunk, this.onFrame)
    if (err !== undefined && (this.state as ConnState) !== "closed") this.fail(err)
  }

  private readonly onEnd = (): void => {
    if (this.state === "closed") return
    const err = this.parser.end()
    this.close(err ?? this.err("ERR_CONNECTION", "the peer closed the stream"))
  }

  private readonly onError = (e: Error): void => {
    if (this.state === "closed") return
    const code = (e as NodeJS.ErrnoException).code
    this.close(this.err("ERR_CONNECTION", `the stream failed${code !== undefined ? ` (${code})` : ""}: ${e.message}`))
  }

  private readonly onClose = (): void => {
    if (this.state !== "closed") this.close(this.err("ERR_CONNECTION", "the stream closed"))
  }

  private readonly onDrain = (): void => {
    if (this.state === "up") this.link?.onDrain(this)
  }

  private readonly onTimeout = (): void => {
    this.timer = undefined
    if (this.state === "handshake") {
      this.fail(this.err("ERR_HANDSHAKE_TIMEOUT", `the handshake did not finish within ${this.host.options.handshakeTimeout} ms`))
    }
  }

  err(code: Code, reason: string): StreamError {
    return new StreamError({ code, rank: this.host.rank, peer: this.peer, reason })
  }

  private readonly onFrame = (f: Frame, body: Uint8Array): void => {
    if (this.state === "up") this.link!.onFrame(this, f, body)
    else if (this.state === "handshake") this.handshake(f, body)
  }

  // ------------------------------------------------------------- handshake

  private handshake(f: Frame, body: Uint8Array): void {
    const host = this.host
    if (f.kind === LinkKind.REFUSE) {
      const code = codeOf(f.tag)
      const e = this.err("ERR_REFUSED", `rank ${this.peer >= 0 ? this.peer : "?"} refused the connection: ${code ?? `code ${f.tag}`}`)
      this.fatal = code !== undefined && FATAL.has(code)
      return this.close(e)
    }
    if (this.role === "acceptor") {
      if (this.step === "hello" && f.kind === LinkKind.HELLO) {
        const h = Handshake.readHello(body)
        if (h === undefined) return this.fail(this.err("ERR_MALFORMED", `a HELLO of ${body.byteLength} bytes`))
        if (f.ref !== host.rank) return this.fail(this.err("ERR_BAD_RANK", `a HELLO for rank ${f.ref} reached rank ${host.rank}`))
        if (!Number.isInteger(f.src) || f.src <= host.rank || f.src >= host.size) {
          return this.fail(this.err("ERR_BAD_RANK", `a HELLO from rank ${f.src}: rank ${host.rank} accepts only ranks ${host.rank + 1}..${host.size - 1}`))
        }
        if (!Handshake.verify(host.world, h.world)) return this.fail(this.err("ERR_WRONG_WORLD", "a HELLO from another world"))
        this.peer = f.src
        this.parser.peer = f.src
        const link = host.links[f.src]!
        if (link.state === "lost" || link.state === "closed") {
          return this.fail(this.err("ERR_BAD_RANK", `rank ${f.src} is no longer part of this world's links (${link.state})`))
        }
        this.peerNonce = h.nonce
        this.peerIncarnation = h.incarnation
        this.step = "auth"
        this.write(Handshake.challenge(host.rank, this.nonce, host.incarnation))
        return
      }
      if (this.step === "auth" && f.kind === LinkKind.AUTH) {
        const t = this.transcript()
        if (!Handshake.verify(Handshake.proof(host.secret, "dialer", t), body)) {
          return this.fail(this.err("ERR_AUTH_FAILED", `rank ${this.peer} could not prove it knows the world's secret`))
        }
        const link = host.links[this.peer]!
        if (link.peerIncarnation !== undefined && !Handshake.verify(link.peerIncarnation, this.peerIncarnation!)) {
          return this.fail(this.err("ERR_PEER_RESTARTED", `a new process claims rank ${this.peer}`))
        }
        if (link.state === "lost" || link.state === "closed") return this.fail(this.err("ERR_BAD_RANK", `rank ${this.peer}'s link is ${link.state}`))
        this.told = link.recvSeq
        this.write(Handshake.answer(LinkKind.ACCEPT, host.rank, this.told, Handshake.proof(host.secret, "acceptor", t)))
        return this.established(link, f.seq)
      }
    } else {
      if (this.step === "challenge" && f.kind === LinkKind.CHALLENGE) {
        const c = Handshake.readChallenge(body)
        if (c === undefined) return this.fail(this.err("ERR_MALFORMED", `a CHALLENGE of ${body.byteLength} bytes`))
        if (f.src !== this.peer) return this.fail(this.err("ERR_BAD_RANK", `rank ${this.peer}'s address answered as rank ${f.src}`), true)
        const link = host.links[this.peer]!
        if (link.peerIncarnation !== undefined && !Handshake.verify(link.peerIncarnation, c.incarnation)) {
          return this.fail(this.err("ERR_PEER_RESTARTED", `a new process answers as rank ${this.peer}`), true)
        }
        this.peerNonce = c.nonce
        this.peerIncarnation = c.incarnation
        this.step = "accept"
        this.told = link.recvSeq
        this.write(Handshake.answer(LinkKind.AUTH, host.rank, this.told, Handshake.proof(host.secret, "dialer", this.transcript())))
        return
      }
      if (this.step === "accept" && f.kind === LinkKind.ACCEPT) {
        if (!Handshake.verify(Handshake.proof(host.secret, "acceptor", this.transcript()), body)) {
          return this.fail(this.err("ERR_AUTH_FAILED", `rank ${this.peer} could not prove it knows the world's secret`), true)
        }
        return this.established(host.links[this.peer]!, f.seq)
      }
    }
    this.fail(this.err("ERR_MALFORMED", `an unexpected frame (kind ${f.kind}) during the handshake`))
  }

  private transcript(): Handshake.Transcript {
    const host = this.host
    const dialing = this.role === "dialer"
    return {
      world: host.world,
      dialer: dialing ? host.rank : this.peer,
      acceptor: dialing ? this.peer : host.rank,
      dialerNonce: dialing ? this.nonce : this.peerNonce!,
      acceptorNonce: dialing ? this.peerNonce! : this.nonce,
      dialerIncarnation: dialing ? host.incarnation : this.peerIncarnation!,
      acceptorIncarnation: dialing ? this.peerIncarnation! : host.incarnation
    }
  }

  private established(link: Link, peerLastReceived: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.state = "up"
    this.link = link
    this.parser.maxFrame = this.host.options.maxFrame
    link.peerIncarnation ??= this.peerIncarnation
    this.parser.place = (f, n) => link.place(this, f, n)
    this.host.established(this)
    link.up(this, peerLastReceived, this.told)
  }

  // --------------------------------------------------------------- closing

  /**
   * Fails the connection with `e`: logs it, tells a peer that speaks the
   * protocol why (REFUSE, during the handshake), and closes.
   */
  fail(e: StreamError, fatal = false): void {
    if (this.state === "closed") return
    this.fatal ||= fatal || (this.role === "dialer" && FATAL.has(e.code))
    const speaks = e.code !== "ERR_BAD_MAGIC" && e.code !== "ERR_BAD_VERSION"
    if (this.state === "handshake" && this.role === "acceptor" && speaks) this.write(Handshake.refuse(this.host.rank, Codes[e.code]))
    this.close(e, this.state === "handshake" && speaks)
  }

  /**
   * Closes the connection: at once, or (`gently`) after what was written
   * has gone, within a second.
   */
  close(e: StreamError | undefined, gently = false): void {
    if (this.state === "closed") return
    const was = this.state
    this.state = "closed"
    this.error = e
    this.parser.stop()
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (gently) {
      this.stream.end()
      setTimeout(() => this.stream.destroy(), 1000).unref?.()
    } else {
      this.stream.destroy()
    }
    this.host.closed(this, was)
  }

  /** Sends BYE and closes after what was written has gone. */
  bye(): void {
    if (this.state !== "up") return this.close(undefined)
    this.write(Handshake.control(LinkKind.BYE, { src: this.host.rank }))
    this.close(undefined, true)
  }
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a, 0)
  out.set(b, a.byteLength)
  return out
}
