/**
 * Inclusive and exclusive prefix reductions by recursive doubling:
 * ⌈log2 p⌉ rounds, every rank exchanging its partial result with rank XOR
 * 2^k and combining lower ranks' partials first, so non-commutative ops give
 * the rank-ordered result.
 *
 * @since 0.1.0
 */
import type { CommCore } from "../internal/CommCore.ts"
import type { Req } from "../internal/Req.ts"
import type * as Op from "../Op.ts"
import { checkOp } from "./Reduce.ts"
import { start } from "./Sched.ts"

const prefix = (c: CommCore, data: unknown, op: Op.Op, exclusive: boolean, name: string): Req =>
  start(c, name, (s) => {
    checkOp(c, op, name)
    const p = c.size
    const r = c.rank
    let partial = data // the reduction of the block of ranks this rank has heard from
    let inclusive = data
    let before: unknown = undefined // the reduction of every rank below this one
    let heard = false
    const step = (mask: number, round: number): void => {
      if (mask >= p) return s.done(exclusive ? before : inclusive)
      const dst = r ^ mask
      if (dst >= p) return step(mask << 1, round + 1)
      const g = s.recv(dst, round)
      const w = s.send(partial, dst, round)
      s.then([g, w], () => {
        const theirs = g.value
        if (r > dst) {
          partial = op.apply(theirs, partial)
          inclusive = op.apply(theirs, inclusive)
          before = heard ? op.apply(theirs, before) : theirs
          heard = true
        } else partial = op.apply(partial, theirs)
        step(mask << 1, round + 1)
      })
    }
    step(1, 0)
  })

/**
 * Rank i gets data₀ op data₁ op … op dataᵢ.
 *
 * @category collectives
 * @since 0.1.0
 */
export const scan = (c: CommCore, data: unknown, op: Op.Op, name = "scan"): Req => prefix(c, data, op, false, name)

/**
 * Rank i gets data₀ op … op dataᵢ₋₁; rank 0 gets undefined.
 *
 * @category collectives
 * @since 0.1.0
 */
export const exscan = (c: CommCore, data: unknown, op: Op.Op, name = "exscan"): Req => prefix(c, data, op, true, name)
