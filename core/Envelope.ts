/**
 * The frame: what a transport moves between two ranks.
 *
 * A frame is plain data. Transports move frames in order and know nothing of
 * tags, requests or communicators; the matching engine (`Engine`) reads the
 * header fields. The header is fixed-size so that byte transports can write it
 * with a few integer stores (see {@link HEADER_BYTES}).
 *
 * @since 0.1.0
 */

/**
 * Frame kinds.
 *
 * - `EAGER`: a whole message (small enough to send without asking).
 * - `RTS`: request to send a large message; carries its size, not its body.
 * - `CTS`: clear to send: the receiver matched an `RTS` and is ready.
 * - `DATA`: the body of a large message, addressed to the receive by `id`.
 * - `FIN`: the sender's program has finished; nothing more will come from it.
 * - `CREDIT`: the receiver gives back eager credit: `ref` bytes of the
 *   sender's eager window toward it, freed as its messages were consumed
 *   (see `docs/flow-control.md`). No body.
 *
 * @category kinds
 * @since 0.1.0
 */
export const Kind = {
  EAGER: 1,
  RTS: 2,
  CTS: 3,
  DATA: 4,
  FIN: 5,
  CREDIT: 6
} as const

/**
 * @category kinds
 * @since 0.1.0
 */
export type Kind = (typeof Kind)[keyof typeof Kind]

/**
 * Body formats (see `Codec.encodeBody`).
 *
 * - `MSGPACK`: msgpack of a value with no Map in it; maps decode as objects.
 * - `RECORDS`: msgpack with records, for values that hold a Map (objects are
 *   records, maps stay maps).
 * - `NUMBER`: one number, as 8 bytes of float64 (little-endian).
 * - `RAW + k`: the raw bytes of a typed array (or ArrayBuffer, DataView,
 *   Buffer) of kind `k` in `Codec.kinds`.
 * - `NONE`: no body.
 *
 * @category formats
 * @since 0.1.0
 */
export const Format = {
  NONE: 0,
  MSGPACK: 1,
  RECORDS: 2,
  NUMBER: 3,
  RAW: 16
} as const

/**
 * One frame. `body` is borrowed: a transport hands it to the sink (and the
 * engine hands it to a transport) only for the duration of that call; whoever
 * keeps it must copy it.
 *
 * @category models
 * @since 0.1.0
 */
export interface Frame {
  /** Frame kind, one of {@link Kind}. */
  kind: number
  /** Body format, one of {@link Format} (RAW + kind for raw values). */
  fmt: number
  /** World rank of the sender. */
  src: number
  /** World rank of the receiver. */
  dst: number
  /** Communicator context id. */
  ctx: number
  /** Message tag. */
  tag: number
  /** Per (src, dst) sequence number, for checks and resumption. */
  seq: number
  /** Rendezvous id: the sender's id in RTS/CTS, the receiver's id in DATA. */
  id: number
  /** Rendezvous reference: the receiver's id in CTS; the bytes of credit in CREDIT. */
  ref: number
  /** Size of the message body in bytes, as it travels. */
  size: number
  /** The body bytes (borrowed), or `undefined` for header-only frames. */
  body: Uint8Array | undefined
}

/**
 * Bytes a binary header takes on the wire: eight 32-bit words
 * (kind|fmt, ctx, tag, seq, id, ref, size, src).
 *
 * @category constants
 * @since 0.1.0
 */
export const HEADER_BYTES = 32

/**
 * Makes a frame.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  kind: number,
  src: number,
  dst: number,
  ctx: number,
  tag: number,
  fmt: number,
  size: number,
  body: Uint8Array | undefined
): Frame => ({ kind, fmt, src, dst, ctx, tag, seq: 0, id: 0, ref: 0, size, body })

/**
 * Writes the header of `f` into `words` (an Int32Array) at word index `at`.
 *
 * @category codec
 * @since 0.1.0
 */
export const writeHeader = (words: Int32Array, at: number, f: Frame): void => {
  words[at] = f.kind | (f.fmt << 8)
  words[at + 1] = f.ctx
  words[at + 2] = f.tag
  words[at + 3] = f.seq
  words[at + 4] = f.id
  words[at + 5] = f.ref
  words[at + 6] = f.size
  words[at + 7] = f.src
}

/**
 * Reads a header written by {@link writeHeader} into `f` (reused to avoid
 * allocation on the hot path). `size` is read as unsigned.
 *
 * @category codec
 * @since 0.1.0
 */
export const readHeader = (words: Int32Array, at: number, f: Frame): Frame => {
  const w0 = words[at]
  f.kind = w0 & 0xff
  f.fmt = (w0 >>> 8) & 0xff
  f.ctx = words[at + 1]
  f.tag = words[at + 2]
  f.seq = words[at + 3] >>> 0
  f.id = words[at + 4] >>> 0
  f.ref = words[at + 5] >>> 0
  f.size = words[at + 6] >>> 0
  f.src = words[at + 7]
  return f
}

/**
 * Names a kind, for error messages.
 *
 * @category utils
 * @since 0.1.0
 */
export const kindName = (kind: number): string => {
  switch (kind) {
    case Kind.EAGER:
      return "EAGER"
    case Kind.RTS:
      return "RTS"
    case Kind.CTS:
      return "CTS"
    case Kind.DATA:
      return "DATA"
    case Kind.FIN:
      return "FIN"
    case Kind.CREDIT:
      return "CREDIT"
    default:
      return `kind ${kind}`
  }
}
