/**
 * Errors of the stream protocol, each with a stable code.
 *
 * Every way a byte stream can go wrong — garbage, a frame too large, a wrong
 * secret, a silent peer — has its own code (as ws's `WS_ERR_*` codes), so a
 * log line or a test can tell them apart without parsing messages. A
 * `StreamError` closes one connection; it never ends a rank by itself. When a
 * peer is lost for good, the engine is told with core's `TransportError`,
 * whose `cause` is the `StreamError` and whose `reason` starts with its code.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * The codes, with the number each travels as in a REFUSE frame.
 *
 * @example
 * ```ts
 * import { Codes } from "rankflow/transports/stream/StreamError"
 * Codes.ERR_AUTH_FAILED // 5
 * ```
 * @category codes
 * @since 0.1.0
 */
export const Codes = {
  /** The stream does not start with the protocol's magic bytes. */
  ERR_BAD_MAGIC: 1,
  /** The peer speaks another protocol version. */
  ERR_BAD_VERSION: 2,
  /** The peer belongs to another world. */
  ERR_WRONG_WORLD: 3,
  /** The peer claims a rank it cannot have (outside the world, or the wrong one for this link). */
  ERR_BAD_RANK: 4,
  /** The peer could not prove it knows the world's secret. */
  ERR_AUTH_FAILED: 5,
  /** The handshake did not finish in time. */
  ERR_HANDSHAKE_TIMEOUT: 6,
  /** A frame longer than the maximum frame size. */
  ERR_FRAME_TOO_LARGE: 7,
  /** A frame length smaller than a header. */
  ERR_FRAME_TOO_SHORT: 8,
  /** A frame of a kind this protocol does not have. */
  ERR_UNKNOWN_KIND: 9,
  /** A frame that does not fit its kind, or comes at the wrong time. */
  ERR_MALFORMED: 10,
  /** A sequence number out of order, or a resumption point that cannot be. */
  ERR_SEQUENCE: 11,
  /** The peer is another process than the one this link knew (it restarted). */
  ERR_PEER_RESTARTED: 12,
  /** Too many connections are in their handshake at once. */
  ERR_TOO_MANY_PENDING: 13,
  /** Nothing came from the peer for the detector timeout. */
  ERR_HEARTBEAT_TIMEOUT: 14,
  /** The peer could not be reached again within the detector timeout. */
  ERR_UNREACHABLE: 15,
  /** The peer refused the connection (its code is in the message). */
  ERR_REFUSED: 16,
  /** The stream failed (a socket error, or it ended). */
  ERR_CONNECTION: 17,
  /** No secret in the environment. */
  ERR_NO_SECRET: 18,
  /** A frame to send is larger than the maximum frame size. */
  ERR_SEND_TOO_LARGE: 19,
  /** The stream ended in the middle of a frame. */
  ERR_TRUNCATED: 20,
  /** An HTTP request at a WebSocket listener that is not a WebSocket upgrade to its path. */
  ERR_NOT_WEBSOCKET: 21,
  /** Bytes at an HTTP(S) listener that are not a valid HTTP request or WebSocket upgrade. */
  ERR_BAD_REQUEST: 22,
  /** A TLS handshake failed: no client certificate, or one the world's CA did not sign. */
  ERR_TLS: 23
} as const

/**
 * A stream protocol error code.
 *
 * @category codes
 * @since 0.1.0
 */
export type Code = keyof typeof Codes

const byNumber = new Map<number, Code>(Object.entries(Codes).map(([k, v]) => [v, k as Code]))

/**
 * The code that travels as `n`, or undefined for a number no code has.
 *
 * @category codes
 * @since 0.1.0
 */
export const codeOf = (n: number): Code | undefined => byNumber.get(n)

/**
 * One connection's failure: its code, the rank that saw it, the peer (or -1
 * when the peer is not known yet, before the handshake names it) and what
 * happened.
 *
 * @example
 * ```ts
 * import { StreamError } from "rankflow/transports/stream/StreamError"
 * const e = new StreamError({ code: "ERR_FRAME_TOO_LARGE", rank: 0, peer: -1, reason: "a frame of 9000000 bytes (the maximum is 4194304)" })
 * e.message // "ERR_FRAME_TOO_LARGE on rank 0: a frame of 9000000 bytes (the maximum is 4194304)"
 * ```
 * @category errors
 * @since 0.1.0
 */
export class StreamError extends Data.TaggedError("StreamError")<{
  readonly code: Code
  readonly rank: number
  readonly peer: number
  readonly reason: string
  readonly message: string
}> {
  constructor(f: { readonly code: Code; readonly rank: number; readonly peer: number; readonly reason: string }) {
    super({ ...f, message: `${f.code} on rank ${f.rank}${f.peer >= 0 ? ` (peer ${f.peer})` : ""}: ${f.reason}` })
  }
}
