/**
 * Barrier by dissemination: in round k every rank signals rank + 2^k and
 * waits for rank - 2^k (mod size). ⌈log2 p⌉ rounds, any number of ranks.
 *
 * @since 0.1.0
 */
import type { CommCore } from "../internal/CommCore.ts"
import type { Req } from "../internal/Req.ts"
import { start } from "./Sched.ts"

const SIGNAL = new Uint8Array(0)

/**
 * @category collectives
 * @since 0.1.0
 */
export const barrier = (c: CommCore, op = "barrier"): Req =>
  start(c, op, (s) => {
    const p = c.size
    const round = (k: number, r: number): void => {
      if (k >= p) return s.done(undefined)
      // Received into an empty buffer: nothing to decode or allocate.
      const got = s.recv((c.rank - k + p) % p, r, { buf: SIGNAL })
      const sent = s.send(SIGNAL, (c.rank + k) % p, r)
      s.then([got, sent], () => round(k << 1, r + 1))
    }
    round(1, 0)
  })

