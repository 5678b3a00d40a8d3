/**
 * Length-prefixed frames over a byte stream (a child process's pipe): each
 * message is a 4-byte little-endian length followed by the message encoded
 * by rankflow's codec.
 *
 * @since 0.2.0
 */
import { Codec } from "../../core/index.ts"

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
 * Cuts a byte stream back into messages.
 *
 * @category decoding
 * @since 0.2.0
 */
export class Deframer {
  private pending: Array<Buffer> = []
  private size = 0
  private readonly onMessage: (m: unknown) => void

  constructor(onMessage: (m: unknown) => void) {
    this.onMessage = onMessage
  }

  /** Feeds a chunk; calls `onMessage` for every complete frame. */
  push(chunk: Buffer): void {
    this.pending.push(chunk)
    this.size += chunk.byteLength
    while (this.size >= 4) {
      let head = this.pending[0]!
      if (head.byteLength < 4) head = this.merge()
      const len = head.readUInt32LE(0)
      if (this.size < 4 + len) return
      if (head.byteLength < 4 + len) head = this.merge()
      const body = head.subarray(4, 4 + len)
      const rest = head.subarray(4 + len)
      if (rest.byteLength > 0) this.pending[0] = rest
      else this.pending.shift()
      this.size -= 4 + len
      this.onMessage(Codec.decode(body))
    }
  }

  private merge(): Buffer {
    const all = Buffer.concat(this.pending, this.size)
    this.pending = [all]
    return all
  }
}
