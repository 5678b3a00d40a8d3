/**
 * The stream protocol's wire format and its streaming parser.
 *
 * A stream opens with an 8-byte preamble from each side — the magic `RKFL`
 * and the protocol version (u32) — and then carries frames:
 *
 * ```text
 * u32 length | 32-byte header (core's Envelope.writeHeader) | body (length - 32 bytes)
 * ```
 *
 * All integers are little-endian. The header's kind is one of core's frame
 * kinds (EAGER, RTS, CTS, DATA, FIN, CREDIT) or one of the link's own
 * ({@link LinkKind}: the handshake, acknowledgements and heartbeats, goodbye
 * and refusal). The parser accepts bytes in any chunking, reads the length
 * first, and refuses a length larger than its maximum frame size or smaller
 * than a header, and a header of an unknown kind, before it keeps a byte of
 * the body: it never allocates more than the maximum frame size. Bodies it
 * hands out are borrowed views, valid only during the callback.
 *
 * @since 0.1.0
 */
import { endianness } from "node:os"
import { Envelope } from "../../core/index.ts"
import { StreamError } from "./StreamError.ts"

type Frame = Envelope.Frame

/**
 * The protocol's magic bytes: "RKFL".
 *
 * @category constants
 * @since 0.1.0
 */
export const MAGIC = Uint8Array.of(0x52, 0x4b, 0x46, 0x4c)

/**
 * The protocol version this code speaks.
 *
 * @category constants
 * @since 0.1.0
 */
export const VERSION = 1

/**
 * Bytes of the preamble: magic and version.
 *
 * @category constants
 * @since 0.1.0
 */
export const PREAMBLE_BYTES = 8

/**
 * Bytes of the length word before each frame.
 *
 * @category constants
 * @since 0.1.0
 */
export const LENGTH_BYTES = 4

/**
 * Bytes of a frame without a body, length word included.
 *
 * @category constants
 * @since 0.1.0
 */
export const FRAME_OVERHEAD = LENGTH_BYTES + Envelope.HEADER_BYTES

/**
 * The link's own frame kinds, beside core's. Their header fields:
 *
 * - `HELLO` (dialer → acceptor): `src` the dialer's rank, `ref` the rank it
 *   wants; body: nonce (32), incarnation (16), world id (UTF-8).
 * - `CHALLENGE` (acceptor → dialer): `src` the acceptor's rank; body: nonce
 *   (32), incarnation (16).
 * - `AUTH` (dialer → acceptor): `seq` the last sequence number the dialer
 *   received on this link; body: its proof (32).
 * - `ACCEPT` (acceptor → dialer): `seq` likewise; body: its proof (32).
 * - `ACK`: `seq` the last sequence number received. Sent when frames came
 *   in, and as the heartbeat when the link is idle.
 * - `BYE`: the sender is closing on purpose; do not reconnect.
 * - `REFUSE`: `tag` a code of `StreamError.Codes`; the connection closes.
 *
 * @category kinds
 * @since 0.1.0
 */
export const LinkKind = {
  HELLO: 0x41,
  CHALLENGE: 0x42,
  AUTH: 0x43,
  ACCEPT: 0x44,
  ACK: 0x45,
  BYE: 0x46,
  REFUSE: 0x47
} as const

const dataKinds = new Set<number>(Object.values(Envelope.Kind))
const linkKinds = new Set<number>(Object.values(LinkKind))

/**
 * Is `kind` one of core's frame kinds (a frame the engine receives)?
 *
 * @category kinds
 * @since 0.1.0
 */
export const isDataKind = (kind: number): boolean => dataKinds.has(kind)

/**
 * Is `kind` a kind this protocol knows (core's or the link's)?
 *
 * @category kinds
 * @since 0.1.0
 */
export const isKnownKind = (kind: number): boolean => dataKinds.has(kind) || linkKinds.has(kind)

const bigEndian = endianness() === "BE"
const words = new Int32Array(8)
const wordBytes = new Uint8Array(words.buffer)

const swap32 = (b: Uint8Array): void => {
  for (let i = 0; i < b.length; i += 4) {
    const a = b[i]!
    const c = b[i + 1]!
    b[i] = b[i + 3]!
    b[i + 1] = b[i + 2]!
    b[i + 2] = c
    b[i + 3] = a
  }
}

/**
 * Writes the preamble into `out` at `at`.
 *
 * @category encoding
 * @since 0.1.0
 */
export const writePreamble = (out: Uint8Array, at: number): void => {
  out.set(MAGIC, at)
  new DataView(out.buffer, out.byteOffset).setUint32(at + 4, VERSION, true)
}

/**
 * The preamble as bytes.
 *
 * @category encoding
 * @since 0.1.0
 */
export const preamble = (): Uint8Array => {
  const b = new Uint8Array(PREAMBLE_BYTES)
  writePreamble(b, 0)
  return b
}

/**
 * Writes one frame — length, header, and `bodyBytes` bytes of body (which
 * may be fewer than `f.size`: a piece of a DATA body) — into `out` at `at`.
 * The body bytes are copied from `body` if given; otherwise only the length
 * and header are written and the caller writes the body after them. Returns
 * the offset after the header (and body, if copied).
 *
 * @category encoding
 * @since 0.1.0
 */
export const writeFrame = (out: Uint8Array, at: number, f: Frame, bodyBytes: number, body: Uint8Array | undefined): number => {
  const len = Envelope.HEADER_BYTES + bodyBytes
  out[at] = len & 0xff
  out[at + 1] = (len >>> 8) & 0xff
  out[at + 2] = (len >>> 16) & 0xff
  out[at + 3] = (len >>> 24) & 0xff
  Envelope.writeHeader(words, 0, f)
  if (bigEndian) swap32(wordBytes)
  out.set(wordBytes, at + LENGTH_BYTES)
  let end = at + FRAME_OVERHEAD
  if (body !== undefined) {
    out.set(body, end)
    end += body.byteLength
  }
  return end
}

/**
 * Reads a header from `bytes` at `at` into `f` (reused).
 *
 * @category encoding
 * @since 0.1.0
 */
export const readFrameHeader = (bytes: Uint8Array, at: number, f: Frame): Frame => {
  wordBytes.set(bytes.subarray(at, at + Envelope.HEADER_BYTES))
  if (bigEndian) swap32(wordBytes)
  return Envelope.readHeader(words, 0, f)
}

/**
 * A fresh frame record for the parser to fill.
 *
 * @category encoding
 * @since 0.1.0
 */
export const blankFrame = (): Frame => ({ kind: 0, fmt: 0, src: 0, dst: 0, ctx: 0, tag: 0, seq: 0, id: 0, ref: 0, size: 0, body: undefined })

/**
 * What the parser calls for each frame: the header (reused for the next
 * frame) and the body (a borrowed view; empty for none).
 *
 * @category models
 * @since 0.1.0
 */
export type OnFrame = (f: Frame, body: Uint8Array) => void

const EMPTY = new Uint8Array(0)

/**
 * The streaming parser of one connection: preamble (optional), then frames.
 *
 * `push` may be given any chunking of the stream; frames that lie whole in a
 * chunk are handed out as views of it, others are gathered in a buffer that
 * grows to the largest frame seen and never past `maxFrame` (or, if
 * `place` says so, their bodies go straight where it says). After the first
 * malformed input the parser is failed: `push` returns that error again and
 * reads nothing more.
 *
 * @example
 * ```ts
 * import { Parser } from "rankflow/transports/stream/Framing"
 * const p = new Parser({ maxFrame: 1 << 20, preamble: true, rank: 0 })
 * const error = p.push(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), () => {})
 * error?.code // "ERR_BAD_MAGIC"
 * ```
 * @category parsing
 * @since 0.1.0
 */
export class Parser {
  /** The largest frame accepted: header and body, without the length word. May be raised after a handshake. */
  maxFrame: number
  /** The rank this parser belongs to, for errors. */
  readonly rank: number
  /** The peer, for errors, once known. */
  peer = -1
  private needPreamble: boolean
  private error: StreamError | undefined = undefined
  private stopped = false
  /** Gathered bytes of a partial length, preamble or frame. */
  private buf: Uint8Array = EMPTY
  private have = 0
  /** Length of the frame being gathered (after the length word), or -1 while reading the length. */
  private want = -1
  private readonly f: Frame = blankFrame()
  /** Where the body of the frame being gathered goes, if `place` gave a place. */
  private dest: Uint8Array | undefined = undefined
  /**
   * Asked, when the header of a frame that spans chunks is in, where its
   * body of `n` bytes should go: a view of exactly `n` bytes, or undefined
   * for the parser's own buffer. The frame is then handed out with that
   * view as its body. (The link places the pieces of a large DATA body
   * straight into the receive buffer.)
   */
  place: ((f: Frame, n: number) => Uint8Array | undefined) | undefined = undefined

  constructor(options: { readonly maxFrame: number; readonly preamble: boolean; readonly rank: number }) {
    this.maxFrame = options.maxFrame
    this.needPreamble = options.preamble
    this.rank = options.rank
  }

  /** Bytes this parser holds for a frame not yet complete. */
  get pending(): number {
    return this.have
  }

  /** Bytes of the buffer that gathers split frames (never more than `maxFrame`). */
  get capacity(): number {
    return this.buf.byteLength
  }

  /** The error that failed this parser, if any. */
  get failed(): StreamError | undefined {
    return this.error
  }

  /** Stops reading: the rest of the current chunk and later chunks are ignored. */
  stop(): void {
    this.stopped = true
  }

  private fail(code: StreamError["code"], reason: string): StreamError {
    this.error = new StreamError({ code, rank: this.rank, peer: this.peer, reason })
    this.buf = EMPTY
    this.dest = undefined
    this.have = 0
    return this.error
  }

  /** The stream ended: an error if it ended inside a frame. */
  end(): StreamError | undefined {
    if (this.error !== undefined || this.stopped) return this.error
    if (this.have > 0 || this.want >= 0) {
      return this.fail("ERR_TRUNCATED", `the stream ended inside a frame (${this.have} bytes of ${this.want >= 0 ? this.want : LENGTH_BYTES})`)
    }
    return undefined
  }

  /** Feeds a chunk; calls `onFrame` for every complete frame. Returns the error that failed the parser, if any. */
  push(chunk: Uint8Array, onFrame: OnFrame): StreamError | undefined {
    if (this.error !== undefined) return this.error
    let pos = 0
    const n = chunk.byteLength
    while (pos < n && !this.stopped) {
      if (this.needPreamble) {
        const take = Math.min(PREAMBLE_BYTES - this.have, n - pos)
        if (this.buf.byteLength < PREAMBLE_BYTES) this.buf = new Uint8Array(PREAMBLE_BYTES)
        this.buf.set(chunk.subarray(pos, pos + take), this.have)
        // Check the magic byte by byte, so garbage fails at its first byte.
        for (let i = this.have; i < this.have + take && i < MAGIC.length; i++) {
          if (this.buf[i] !== MAGIC[i]) return this.fail("ERR_BAD_MAGIC", "the stream does not start with the rankflow magic (RKFL)")
        }
        this.have += take
        pos += take
        if (this.have < PREAMBLE_BYTES) break
        const version = new DataView(this.buf.buffer, this.buf.byteOffset).getUint32(4, true)
        if (version !== VERSION) return this.fail("ERR_BAD_VERSION", `protocol version ${version}; this rank speaks version ${VERSION}`)
        this.needPreamble = false
        this.have = 0
        continue
      }
      if (this.want < 0) {
        // The length word, possibly split.
        let len: number
        if (this.have === 0 && n - pos >= LENGTH_BYTES) {
          len = (chunk[pos]! | (chunk[pos + 1]! << 8) | (chunk[pos + 2]! << 16) | (chunk[pos + 3]! << 24)) >>> 0
          pos += LENGTH_BYTES
        } else {
          if (this.buf.byteLength < LENGTH_BYTES) this.buf = new Uint8Array(Math.min(64, Math.max(LENGTH_BYTES, this.maxFrame)))
          while (this.have < LENGTH_BYTES && pos < n) this.buf[this.have++] = chunk[pos++]!
          if (this.have < LENGTH_BYTES) break
          const b = this.buf
          len = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0
          this.have = 0
        }
        if (len < Envelope.HEADER_BYTES) return this.fail("ERR_FRAME_TOO_SHORT", `a frame length of ${len} bytes is shorter than a header (${Envelope.HEADER_BYTES})`)
        if (len > this.maxFrame) return this.fail("ERR_FRAME_TOO_LARGE", `a frame of ${len} bytes; the maximum is ${this.maxFrame}`)
        this.want = len
      }
      const len = this.want
      if (this.have === 0 && n - pos >= len) {
        // The whole frame is in this chunk: hand out views of it.
        const f = readFrameHeader(chunk, pos, this.f)
        if (!isKnownKind(f.kind)) return this.fail("ERR_UNKNOWN_KIND", `a frame of unknown kind ${f.kind}`)
        this.want = -1
        const body = len > Envelope.HEADER_BYTES ? chunk.subarray(pos + Envelope.HEADER_BYTES, pos + len) : EMPTY
        pos += len
        onFrame(f, body)
        if (this.error !== undefined) return this.error
        continue
      }
      // Gather a split frame. Check the kind as soon as the header is in.
      if (this.dest !== undefined) {
        // The body goes straight to where the reader placed it.
        const take = Math.min(len - this.have, n - pos)
        this.dest.set(chunk.subarray(pos, pos + take), this.have - Envelope.HEADER_BYTES)
        this.have += take
        pos += take
      } else {
        const room = this.have < Envelope.HEADER_BYTES ? Envelope.HEADER_BYTES : len
        if (this.buf.byteLength < room) {
          const grown = new Uint8Array(Math.min(this.maxFrame, Math.max(room, this.buf.byteLength * 2)))
          grown.set(this.buf.subarray(0, this.have))
          this.buf = grown
        }
        const take = Math.min(room - this.have, n - pos)
        this.buf.set(chunk.subarray(pos, pos + take), this.have)
        this.have += take
        pos += take
        if (this.have === Envelope.HEADER_BYTES && room === Envelope.HEADER_BYTES) {
          const f = readFrameHeader(this.buf, 0, this.f)
          if (!isKnownKind(f.kind)) return this.fail("ERR_UNKNOWN_KIND", `a frame of unknown kind ${f.kind}`)
          if (len > Envelope.HEADER_BYTES && this.place !== undefined) {
            const dest = this.place(f, len - Envelope.HEADER_BYTES)
            if (dest !== undefined && dest.byteLength === len - Envelope.HEADER_BYTES) this.dest = dest
          }
        }
      }
      if (this.have < len) {
        if (pos < n) continue
        break
      }
      const f = readFrameHeader(this.buf, 0, this.f)
      const body = this.dest ?? (len > Envelope.HEADER_BYTES ? this.buf.subarray(Envelope.HEADER_BYTES, len) : EMPTY)
      this.want = -1
      this.have = 0
      this.dest = undefined
      onFrame(f, body)
      if (this.error !== undefined) return this.error
    }
    return this.error
  }
}
