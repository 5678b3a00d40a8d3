/**
 * Reductions: reduce, allreduce and reduceScatter, for values and for
 * typed-array buffers.
 *
 * - reduce: binomial tree (⌈log2 p⌉ rounds). A commutative op's tree is
 *   rooted at the root; a non-commutative one's at rank 0, where every
 *   subtree is a contiguous range of ranks combined lower-first, so the
 *   result is in rank order; rank 0 then hands it to the root.
 * - allreduce: recursive doubling (⌈log2 p⌉ rounds; when p is not a power of
 *   two, pairs of the first ranks fold into one first and get the result
 *   last), which keeps rank order for non-commutative ops. Typed arrays of
 *   32 KiB or more under a built-in op go around a ring instead
 *   (reduce-scatter, then allgather: 2(p - 1) rounds, each rank sending
 *   2(p - 1)/p of the data — bandwidth-optimal, as Rabenseifner's).
 * - reduceScatter: reduce (item by item) to rank 0, then scatter.
 *
 * Built-in ops combine typed arrays in place in the buffer forms, so an
 * `Allreduce` into a preallocated array allocates little.
 *
 * @since 0.1.0
 */
import type * as Codec from "../Codec.ts"
import * as Errors from "../Errors.ts"
import type { CommCore } from "../internal/CommCore.ts"
import type { Req } from "../internal/Req.ts"
import * as Op from "../Op.ts"
import { block, checkTyped, equalBlock, intoBuffer } from "./Buffers.ts"
import { checkCount, RING_BYTES, scatterBodiesAt } from "./Gather.ts"
import { decode, encodeOnce, type Sched, start } from "./Sched.ts"

/** Throws unless `op` is an op. */
export const checkOp = (c: CommCore, op: unknown, name: string): Op.Op => {
  if (!Op.isOp(op)) throw new Errors.InvalidArgument({ rank: c.rank, op: name, reason: `the op must be one of Op.SUM, Op.MAX, ... or Op.create(fn); got ${typeof op}` })
  return op
}

const isTyped = (v: unknown): v is Codec.TypedArray => ArrayBuffer.isView(v) && !(v instanceof DataView)
const builtinOp = (op: Op.Op): boolean => op.num !== undefined || op.big !== undefined

/**
 * `lower op higher`. With `into` (a typed array the reduction owns), a
 * built-in op on typed arrays writes there instead of allocating.
 */
export const combine = (op: Op.Op, lower: unknown, higher: unknown, into?: Codec.TypedArray): unknown =>
  into !== undefined && builtinOp(op) && isTyped(lower) && isTyped(higher)
    ? Op.combineTyped(op, lower, higher, into)
    : op.apply(lower, higher)

/**
 * Where to receive a partner's contribution to a buffer-form reduction: a
 * scratch array like `own`, reused for the whole call, when the op is a
 * built-in one and the running result is still `own` (undefined otherwise:
 * receive a new value).
 */
const scratches = new WeakMap<Sched, Codec.TypedArray>()
const scratchFor = (s: Sched, op: Op.Op, own: Codec.TypedArray | undefined, acc: unknown): { buf: Codec.TypedArray } | undefined => {
  if (own === undefined || acc !== own || !builtinOp(op)) return undefined
  let t = scratches.get(s)
  if (t === undefined) scratches.set(s, (t = s.temp(own, own.length)))
  return { buf: t }
}

/** A contribution received into scratch must fill it: ranks passed buffers of different lengths otherwise. */
const sameLength = (s: Sched, op: Op.Op, bytes: number, own: Codec.TypedArray): void => {
  if (bytes !== own.byteLength) {
    throw new Errors.OpError({
      rank: s.c.rank,
      op: op.name,
      reason: `another rank's buffer has ${bytes / own.BYTES_PER_ELEMENT} elements and this rank's ${own.length}: every rank must pass the same length`
    })
  }
}

/**
 * Reduces `value` over all ranks to `root`: calls `done(result)` there and
 * `done(undefined)` elsewhere. Uses rounds [base, base + 32) and base + 1000.
 */
export const reduceTo = (
  s: Sched,
  value: unknown,
  op: Op.Op,
  root: number,
  base: number,
  done: (v: unknown) => void,
  own?: Codec.TypedArray
): void => {
  const c = s.c
  const p = c.size
  const treeRoot = op.commute ? root : 0
  const rel = (c.rank - treeRoot + p) % p
  const abs = (r: number) => (r + treeRoot) % p
  let acc = value
  const atTop = (): void => {
    if (treeRoot === root) return done(acc)
    // A non-commutative op reduced at rank 0 for a root elsewhere.
    const w = s.send(acc, root, base + 1000)
    s.then([w], () => done(undefined))
  }
  const step = (mask: number, round: number): void => {
    if (mask >= p) return atTop()
    if (rel & mask) {
      const w = s.send(acc, abs(rel - mask), base + round)
      return s.then([w], () => {
        if (c.rank !== root) return done(undefined)
        const r = s.recv(0, base + 1000)
        s.then([r], () => done(r.value))
      })
    }
    if (rel + mask >= p) return step(mask << 1, round + 1)
    const into = scratchFor(s, op, own, acc)
    const r = s.recv(abs(rel + mask), base + round, into)
    s.then([r], () => {
      if (into !== undefined) sameLength(s, op, r.count, own!)
      acc = combine(op, acc, r.value, acc === own ? own : undefined)
      step(mask << 1, round + 1)
    })
  }
  step(1, 0)
}

/**
 * Reduces `data` with `op` to `root`: the result there, undefined elsewhere.
 *
 * @category collectives
 * @since 0.1.0
 */
export const reduce = (c: CommCore, data: unknown, op: Op.Op, root: number, name = "reduce"): Req =>
  start(c, name, (s) => {
    checkOp(c, op, name)
    c.checkRoot(root, name)
    reduceTo(s, data, op, root, 0, (v) => s.done(v))
  })

/**
 * Reduces `sendbuf` (element by element) into `recvbuf` at `root`.
 * Resolves to `recvbuf` at the root, undefined elsewhere.
 *
 * @category collectives
 * @since 0.1.0
 */
export const Reduce = (c: CommCore, sendbuf: Codec.TypedArray, recvbuf: Codec.TypedArray | undefined, op: Op.Op, root: number, name = "Reduce"): Req =>
  start(c, name, (s) => {
    checkOp(c, op, name)
    c.checkRoot(root, name)
    checkTyped(c, sendbuf, name, "the send buffer")
    if (c.rank === root) sameShape(c, sendbuf, recvbuf, name)
    const own = sendbuf.slice() as Codec.TypedArray
    reduceTo(s, own, op, root, 0, (v) => {
      if (c.rank !== root) return s.done(undefined)
      copyResult(c, recvbuf!, v, name)
      s.done(recvbuf)
    }, own)
  })

const sameShape = (c: CommCore, a: Codec.TypedArray, b: unknown, name: string): void => {
  checkTyped(c, b, name, "the receive buffer")
  if (a.constructor !== b.constructor || a.length !== b.length) {
    throw new Errors.InvalidArgument({ rank: c.rank, op: name, reason: `the receive buffer must be a ${a.constructor.name} of ${a.length} elements, as the send buffer; got ${b.constructor.name}(${b.length})` })
  }
}

const copyResult = (c: CommCore, into: Codec.TypedArray, v: unknown, name: string): void => {
  if (v === into) return
  if (!isTyped(v) || v.constructor !== into.constructor || v.length !== into.length) {
    throw new Errors.OpError({ rank: c.rank, op: name, reason: `the op's result must be a ${into.constructor.name} of ${into.length} elements to fill the receive buffer` })
  }
  ;(into as Float64Array).set(v as Float64Array)
}

/** Recursive doubling with the fold for a size that is not a power of two. */
const recursiveDoubling = (s: Sched, value: unknown, op: Op.Op, own: Codec.TypedArray | undefined, done: (v: unknown) => void): void => {
  const c = s.c
  const p = c.size
  const r = c.rank
  let pof2 = 1
  while (pof2 * 2 <= p) pof2 *= 2
  const rem = p - pof2
  let acc = value
  const mix = (lower: unknown, higher: unknown) => combine(op, lower, higher, acc === own ? own : undefined)
  const last = (): void => {
    if (r >= 2 * rem) return done(acc)
    if (r % 2 === 1) {
      const w = s.send(acc, r - 1, 200)
      return s.then([w], () => done(acc))
    }
    const into = scratchFor(s, op, own, acc)
    const g = s.recv(r + 1, 200, into === undefined ? undefined : { buf: own! })
    s.then([g], () => {
      if (into !== undefined) sameLength(s, op, g.count, own!)
      done(g.value)
    })
  }
  const doubling = (newrank: number, mask: number, round: number): void => {
    if (mask >= pof2) return last()
    const newdst = newrank ^ mask
    const dst = newdst < rem ? newdst * 2 + 1 : newdst + rem
    const into = scratchFor(s, op, own, acc)
    const g = s.recv(dst, round, into)
    const w = s.send(acc, dst, round)
    s.then([g, w], () => {
      if (into !== undefined) sameLength(s, op, g.count, own!)
      acc = newdst < newrank ? mix(g.value, acc) : mix(acc, g.value)
      doubling(newrank, mask << 1, round + 1)
    })
  }
  if (r < 2 * rem) {
    if (r % 2 === 0) {
      const w = s.send(acc, r + 1, 0)
      return s.then([w], () => last())
    }
    const into = scratchFor(s, op, own, acc)
    const g = s.recv(r - 1, 0, into)
    return s.then([g], () => {
      if (into !== undefined) sameLength(s, op, g.count, own!)
      acc = mix(g.value, acc)
      doubling(r >> 1, 1, 1)
    })
  }
  doubling(r - rem, 1, 1)
}

/** Ring allreduce of a typed array the reduction owns (`acc`), in place. */
const ring = (s: Sched, acc: Codec.TypedArray, op: Op.Op, done: (v: unknown) => void): void => {
  const c = s.c
  const p = c.size
  const n = acc.length
  const base = Math.floor(n / p)
  const extra = n % p
  const off = (j: number) => j * base + Math.min(j, extra)
  const len = (j: number) => base + (j < extra ? 1 : 0)
  const seg = (j: number) => acc.subarray(off(j), off(j) + len(j)) as Codec.TypedArray
  const next = (c.rank + 1) % p
  const prev = (c.rank - 1 + p) % p
  const tmp = s.temp(acc, len(0))
  const scatterStep = (k: number): void => {
    if (k >= p - 1) return gatherStep(0)
    const send = (c.rank - k + p) % p
    const into = (c.rank - k - 1 + p) % p
    const g = s.recv(prev, k, { buf: tmp.subarray(0, len(into)) })
    const w = s.sendBody(block(acc, off(send), len(send)), next, k)
    s.then([g, w], () => {
      const target = seg(into)
      Op.combineTyped(op, target, g.value as Codec.TypedArray, target)
      scatterStep(k + 1)
    })
  }
  const gatherStep = (k: number): void => {
    if (k >= p - 1) return done(acc)
    const send = (c.rank + 1 - k + p) % p
    const into = (c.rank - k + p) % p
    const g = s.recv(prev, p + k, { buf: seg(into) })
    const w = s.sendBody(block(acc, off(send), len(send)), next, p + k)
    s.then([g, w], () => gatherStep(k + 1))
  }
  scatterStep(0)
}

const useRing = (c: CommCore, op: Op.Op, v: unknown): v is Codec.TypedArray =>
  c.size > 2 && op.commute && builtinOp(op) && isTyped(v) && v.byteLength >= RING_BYTES && v.length >= c.size

/**
 * Reduces `data` with `op` on every rank.
 *
 * @category collectives
 * @since 0.1.0
 */
export const allreduce = (c: CommCore, data: unknown, op: Op.Op, name = "allreduce"): Req =>
  start(c, name, (s) => {
    checkOp(c, op, name)
    if (c.size === 1) return s.done(isTyped(data) ? data.slice() : decode(encodeOnce(c, data, name)))
    // Values may differ in kind or length from rank to rank (an OpError, found
    // by the op), so they are received as values and the algorithm does not
    // depend on this rank's own size; Allreduce (buffers, one length on every
    // rank by contract) takes the faster paths.
    recursiveDoubling(s, data, op, undefined, (v) => s.done(v))
  })

/**
 * Reduces `sendbuf` element by element into `recvbuf` on every rank
 * (`recvbuf` may be `sendbuf` itself). Resolves to `recvbuf`.
 *
 * @category collectives
 * @since 0.1.0
 */
export const Allreduce = (c: CommCore, sendbuf: Codec.TypedArray, recvbuf: Codec.TypedArray, op: Op.Op, name = "Allreduce"): Req =>
  start(c, name, (s) => {
    checkOp(c, op, name)
    checkTyped(c, sendbuf, name, "the send buffer")
    sameShape(c, sendbuf, recvbuf, name)
    if (recvbuf !== sendbuf) (recvbuf as Float64Array).set(sendbuf as Float64Array)
    if (c.size === 1) return s.done(recvbuf)
    if (useRing(c, op, recvbuf)) return ring(s, recvbuf, op, () => s.done(recvbuf))
    recursiveDoubling(s, recvbuf, op, recvbuf, (v) => {
      copyResult(c, recvbuf, v, name)
      s.done(recvbuf)
    })
  })

/**
 * Each rank passes `size` items; rank i gets item i reduced over all ranks.
 *
 * @category collectives
 * @since 0.1.0
 */
export const reduceScatter = (c: CommCore, data: unknown, op: Op.Op, name = "reduceScatter"): Req =>
  start(c, name, (s) => {
    checkOp(c, op, name)
    const items = checkCount(c, data, name)
    const itemwise = Op.create((a: Array<unknown>, b: Array<unknown>) => a.map((x, i) => op.apply(x, b[i])), op.commute, op.name)
    reduceTo(s, items, itemwise, 0, 0, (v) => {
      const bodies = c.rank === 0 ? (v as Array<unknown>).map((x) => encodeOnce(c, x, name)) : undefined
      scatterBodiesAt(s, bodies, 0, 500, (mine) => s.done(decode(mine)))
    })
  })

/**
 * Reduces `sendbuf` (p equal blocks) element by element and scatters the
 * blocks: rank i gets block i of the result in `recvbuf`.
 *
 * @category collectives
 * @since 0.1.0
 */
export const ReduceScatterBlock = (c: CommCore, sendbuf: Codec.TypedArray, recvbuf: Codec.TypedArray, op: Op.Op, name = "ReduceScatterBlock"): Req =>
  start(c, name, (s) => {
    checkOp(c, op, name)
    checkTyped(c, sendbuf, name, "the send buffer")
    checkTyped(c, recvbuf, name, "the receive buffer")
    const n = equalBlock(c, name, sendbuf, c.size, "the send buffer")
    if (n !== recvbuf.length) {
      throw new Errors.InvalidArgument({ rank: c.rank, op: name, reason: `the receive buffer must hold one block (${n} elements); it has ${recvbuf.length}` })
    }
    const own = sendbuf.slice() as Codec.TypedArray
    reduceTo(s, own, op, 0, 0, (v) => {
      let bodies
      if (c.rank === 0) {
        const total = isTyped(v) && v.length === own.length ? v : undefined
        if (total === undefined) throw new Errors.OpError({ rank: c.rank, op: name, reason: `the op's result must be a ${own.constructor.name} of ${own.length} elements` })
        bodies = Array.from({ length: c.size }, (_, i) => block(total, i * n, n))
      }
      scatterBodiesAt(s, bodies, 0, 500, (mine) => s.done(intoBuffer(c, recvbuf, mine, 0, name)))
    }, own)
  })

