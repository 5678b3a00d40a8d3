/**
 * Broadcast along a binomial tree rooted at `root`: ⌈log2 p⌉ rounds, each
 * rank receiving once and sending to at most log2 p children. The root
 * encodes once; inner ranks forward the body as it came, without decoding
 * and encoding it again.
 *
 * @since 0.1.0
 */
import type { Body } from "../Engine.ts"
import type { CommCore } from "../internal/CommCore.ts"
import type { Req } from "../internal/Req.ts"
import { decode, encodeOnce, type Sched, start } from "./Sched.ts"
import * as Codec from "../Codec.ts"
import { Format } from "../Envelope.ts"

/** Sends `body` to this rank's children in the binomial tree (relative rank `me`, below `mask`). */
export const toChildren = (s: Sched, body: Body, me: number, mask: number, root: number, p: number, round: number): Array<Req> => {
  const sends: Array<Req> = []
  for (let m = mask >> 1; m > 0; m >>= 1) {
    if (me + m < p) sends.push(s.sendBody(body, (me + m + root) % p, round))
  }
  return sends
}

/** This rank's parent bit in the binomial tree: the lowest set bit of `me`, or the first power of two ≥ p for the root. */
export const parentMask = (me: number, p: number): number => {
  let mask = 1
  while (mask < p && (me & mask) === 0) mask <<= 1
  return mask
}

/**
 * Broadcasts `data` from `root`; with `buf`, non-roots receive into it
 * (type- and length-checked) and every rank gets `buf` back.
 *
 * @category collectives
 * @since 0.1.0
 */
export const bcast = (c: CommCore, data: unknown, root: number, buf?: ArrayBufferView, op = "bcast"): Req =>
  start(c, op, (s) => {
    c.checkRoot(root, op)
    const p = c.size
    const me = (c.rank - root + p) % p
    const mask = parentMask(me, p)
    const finish = (value: unknown, body: Body | undefined) => {
      if (body === undefined) return s.done(value)
      s.then(toChildren(s, body, me, mask, root, p, 0), () => s.done(value))
    }
    if (me === 0) {
      const value = buf ?? data
      finish(value, p > 1 ? encodeOnce(c, value, op) : undefined)
      return
    }
    if (buf !== undefined) {
      // The buffer form receives straight into the buffer and forwards from it.
      const r = s.recv((c.rank - mask + p) % p, 0, { buf })
      return s.then([r], () => finish(buf, { fmt: Format.RAW + Codec.viewKind(buf), bytes: new Uint8Array(buf.buffer, buf.byteOffset, r.count) }))
    }
    const r = s.recv((c.rank - mask + p) % p, 0, { raw: true })
    s.then([r], () => {
      const body = r.value as Body
      finish(decode(body), body)
    })
  })

