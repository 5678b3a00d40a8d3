/**
 * Length-prefixed frames over a byte stream (a child process's pipe): each
 * message is a 4-byte little-endian length followed by the message encoded
 * by rankflow's codec. The reader is bounded: a length past its maximum, a
 * body the codec cannot decode, or a message of the wrong shape is a typed
 * {@link MalformedFrame}, reported once, after which the stream is ignored.
 *
 * @since 0.2.0
 */
import * as Data from "effect/Data"
import { Codec } from "../../core/index.ts"

/**
 * The largest frame body a {@link Deframer} accepts by default: 1 GiB.
 *
 * @category constants
 * @since 0.3.0
 */
export const DEFAULT_MAX_FRAME_BYTES = 1 << 30

/**
 * A peer on a pool pipe sent bytes that are not a frame of this protocol: a
 * length past the maximum, a body the codec cannot decode, or a message of
 * the wrong shape. `offset` is the stream position of the frame's start
 * (-1 when not known).
 *
 * @example
 * ```ts
 * import { MalformedFrame } from "rankflow/patterns/executor"
 * const e = new MalformedFrame({ offset: 0, reason: "a frame of 4294967295 bytes, past the maximum of 1073741824" })
 * e.message // "malformed frame at byte 0: a frame of 4294967295 bytes, past the maximum of 1073741824"
 * ```
 * @category errors
 * @since 0.3.0
 */
export class MalformedFrame extends Data.TaggedError("MalformedFrame")<{
  readonly offset: number
  readonly reason: string
  readonly cause?: unknown
  readonly message: string
}> {
  constructor(f: { readonly offset: number; readonly reason: string; readonly cause?: unknown }) {
    super({ ...f, message: `malformed frame${f.offset >= 0 ? ` at byte ${f.offset}` : ""}: ${f.reason}` })
  }
}

/**
 * Options of a {@link Deframer}.
 *
 * @category models
 * @since 0.3.0
 */
export interface DeframerOptions {
  /** Largest body accepted, in bytes (default {@link DEFAULT_MAX_FRAME_BYTES}). */
  readonly maxFrameBytes?: number
  /** Checks a decoded message; returns why it is not one, or undefined. */
  readonly check?: (m: unknown) => string | undefined
  /** Called once, with the first malformed frame; nothing is read after it. */
  readonly onError: (e: MalformedFrame) => void
}

/**
 * One message as a frame.
 *
 * @category encoding
 * @since 0.2.0
 */
export const frame = (message: unknown): Buffer => {
  const body = Codec.encode(message)
  const out = Buffer.allocUnsafe(4 + body.byteLength)
  out.writeUInt32LE(body.byteLength, 0)
  out.set(body, 4)
  return out
}

/**
 * Cuts a byte stream back into messages. It holds at most one frame's bytes
 * (and refuses a length past `maxFrameBytes` as soon as it reads it), and
 * turns any malformed frame into one `onError` call, never a throw.
 *
 * @example
 * ```ts
 * import { Deframer, frame } from "rankflow/patterns/pool"
 * const got: Array<unknown> = []
 * const d = new Deframer((m) => got.push(m), { onError: (e) => console.error(e.message) })
 * d.push(frame({ t: "start", id: 1 }))
 * ```
 * @category decoding
 * @since 0.2.0
 */
export class Deframer {
  private pending: Array<Buffer> = []
  private size = 0
  private offset = 0
  private failed = false
  private readonly onMessage: (m: unknown) => void
  private readonly max: number
  private readonly options: DeframerOptions

  constructor(onMessage: (m: unknown) => void, options: DeframerOptions) {
    this.onMessage = onMessage
    this.options = options
    this.max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  }

  /** Has a malformed frame ended this stream? */
  get broken(): boolean {
    return this.failed
  }

  /** Feeds a chunk; calls `onMessage` for every complete frame. */
  push(chunk: Buffer): void {
    if (this.failed) return
    this.pending.push(chunk)
    this.size += chunk.byteLength
    while (this.size >= 4) {
      let head = this.pending[0]!
      if (head.byteLength < 4) head = this.merge()
      const len = head.readUInt32LE(0)
      if (len > this.max) return this.fail(`a frame of ${len} bytes, past the maximum of ${this.max}`)
      if (this.size < 4 + len) return
      if (head.byteLength < 4 + len) head = this.merge()
      const body = head.subarray(4, 4 + len)
      const rest = head.subarray(4 + len)
      if (rest.byteLength > 0) this.pending[0] = rest
      else this.pending.shift()
      this.size -= 4 + len
      let m: unknown
      try {
        m = Codec.decode(body)
      } catch (cause) {
        return this.fail(`a body of ${len} bytes the codec cannot decode`, cause)
      }
      const wrong = this.options.check?.(m)
      if (wrong !== undefined) return this.fail(wrong)
      this.offset += 4 + len
      this.onMessage(m)
      if (this.failed) return
    }
  }

  private fail(reason: string, cause?: unknown): void {
    this.failed = true
    this.pending = []
    this.size = 0
    this.options.onError(new MalformedFrame({ offset: this.offset, reason, ...(cause !== undefined ? { cause } : {}) }))
  }

  private merge(): Buffer {
    const all = Buffer.concat(this.pending, this.size)
    this.pending = [all]
    return all
  }
}
