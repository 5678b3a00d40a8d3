/**
 * Gather, scatter and allgather, for values and for typed-array buffers
 * (equal blocks and the v forms with counts and displacements).
 *
 * - gather: binomial tree towards the root (⌈log2 p⌉ rounds); each rank
 *   forwards the bodies of its subtree as they came.
 * - scatter: binomial tree from the root, each rank passing on its
 *   subtree's share.
 * - allgather: Bruck's algorithm (⌈log2 p⌉ rounds, any p) for values and
 *   small blocks; a ring (p - 1 rounds of one block each) for blocks of
 *   32 KiB and more, where bandwidth matters more than rounds.
 *
 * @since 0.1.0
 */
import type * as Codec from "../Codec.ts"
import type { Body } from "../Engine.ts"
import type { CommCore } from "../internal/CommCore.ts"
import type { Req } from "../internal/Req.ts"
import { parentMask } from "./Bcast.ts"
import { block, checkTyped, equalBlock, intoBuffer, layout } from "./Buffers.ts"
import { decode, encodeOnce, type Sched, start } from "./Sched.ts"
import * as Errors from "../Errors.ts"

/** Bodies travel between ranks as [fmt, bytes] pairs. */
type Wire = Array<[number, Uint8Array]>
const toWire = (bodies: ReadonlyArray<Body>): Wire => bodies.map((b) => [b.fmt, b.bytes])
const fromWire = (w: Wire): Array<Body> => w.map(([fmt, bytes]) => ({ fmt, bytes }))

/**
 * Gathers one body per rank at `root`: calls `done(bodies)` there with the
 * bodies in rank order, and `done(undefined)` elsewhere.
 */
const gatherBodies = (s: Sched, mine: Body, root: number, done: (bodies: Array<Body> | undefined) => void): void => {
  const c = s.c
  const p = c.size
  const me = (c.rank - root + p) % p
  let acc: Array<Body> = [mine] // relative ranks me, me + 1, ...
  const step = (mask: number, round: number): void => {
    if (mask >= p) {
      // The root: relative order → absolute order.
      const out = new Array<Body>(p)
      acc.forEach((b, rel) => (out[(rel + root) % p] = b))
      return done(out)
    }
    if (me & mask) {
      const sent = s.send(toWire(acc), (c.rank - mask + p) % p, round)
      return s.then([sent], () => done(undefined))
    }
    if (me + mask >= p) return step(mask << 1, round + 1)
    const r = s.recv((c.rank + mask) % p, round)
    s.then([r], () => {
      acc = acc.concat(fromWire(r.value as Wire))
      step(mask << 1, round + 1)
    })
  }
  step(1, 0)
}

/**
 * Scatters `bodies` (rank order, at the root) so that each rank gets its
 * own: calls `done(body)` everywhere. Uses round `round`.
 */
export const scatterBodiesAt = (s: Sched, bodies: ReadonlyArray<Body> | undefined, root: number, round: number, done: (mine: Body) => void): void => {
  const c = s.c
  const p = c.size
  const me = (c.rank - root + p) % p
  const mask = parentMask(me, p)
  // Subtree of relative rank `me`: [me, me + mask) ∩ [0, p), as relative bodies.
  const pass = (sub: ReadonlyArray<Body>): void => {
    const sends: Array<Req> = []
    for (let m = mask >> 1; m > 0; m >>= 1) {
      if (me + m < p) sends.push(s.send(toWire(sub.slice(m, Math.min(2 * m, p - me))), (c.rank + m) % p, round))
    }
    s.then(sends, () => done(sub[0]!))
  }
  if (me === 0) {
    const rel = Array.from({ length: p }, (_, i) => bodies![(i + root) % p]!)
    return pass(rel)
  }
  const r = s.recv((c.rank - mask + p) % p, round)
  s.then([r], () => pass(fromWire(r.value as Wire)))
}

const checkCount = (c: CommCore, data: unknown, op: string): ReadonlyArray<unknown> => {
  if (!Array.isArray(data) || data.length !== c.size) {
    throw new Errors.InvalidArgument({ rank: c.rank, op, reason: `the root's data must be an array of ${c.size} items (one per rank); got ${Array.isArray(data) ? `${data.length} items` : typeof data}` })
  }
  return data
}

/**
 * Gathers `data` from every rank at `root`: an array in rank order there,
 * undefined elsewhere.
 *
 * @category collectives
 * @since 0.1.0
 */
export const gather = (c: CommCore, data: unknown, root: number, op = "gather"): Req =>
  start(c, op, (s) => {
    c.checkRoot(root, op)
    gatherBodies(s, encodeOnce(c, data, op), root, (bodies) => s.done(bodies?.map(decode)))
  })

/**
 * Gathers blocks of typed arrays into `recvbuf` at `root` (equal blocks, or
 * `counts`/`displs` in elements for the v form). Resolves to `recvbuf` at the
 * root, undefined elsewhere.
 *
 * @category collectives
 * @since 0.1.0
 */
export const Gatherv = (
  c: CommCore,
  sendbuf: Codec.TypedArray,
  recvbuf: Codec.TypedArray | undefined,
  counts: ReadonlyArray<number> | undefined,
  displs: ReadonlyArray<number> | undefined,
  root: number,
  op = counts === undefined ? "Gather" : "Gatherv"
): Req =>
  start(c, op, (s) => {
    c.checkRoot(root, op)
    checkTyped(c, sendbuf, op, "the send buffer")
    let lay: ReturnType<typeof layout> | undefined
    if (c.rank === root) {
      checkTyped(c, recvbuf, op, "the root's receive buffer")
      lay = layout(c, op, counts ?? new Array(c.size).fill(equalBlock(c, op, recvbuf, c.size, "the receive buffer")), displs, recvbuf.length, "the receive buffer")
    }
    gatherBodies(s, block(sendbuf, 0, sendbuf.length), root, (bodies) => {
      if (bodies === undefined) return s.done(undefined)
      const e = recvbuf!.BYTES_PER_ELEMENT
      bodies.forEach((b, i) => intoBuffer(c, recvbuf!, b, i, op, lay!.displs[i]! * e, lay!.counts[i]! * e))
      s.done(recvbuf)
    })
  })

/**
 * Scatters the root's array of `size` items: rank i gets item i.
 *
 * @category collectives
 * @since 0.1.0
 */
export const scatter = (c: CommCore, data: unknown, root: number, op = "scatter"): Req =>
  start(c, op, (s) => {
    c.checkRoot(root, op)
    const bodies = c.rank === root ? checkCount(c, data, op).map((x) => encodeOnce(c, x, op)) : undefined
    scatterBodiesAt(s, bodies, root, 0, (mine) => s.done(decode(mine)))
  })

/**
 * Scatters blocks of the root's `sendbuf` into each rank's `recvbuf` (equal
 * blocks, or `counts`/`displs` in elements). Resolves to `recvbuf`.
 *
 * @category collectives
 * @since 0.1.0
 */
export const Scatterv = (
  c: CommCore,
  sendbuf: Codec.TypedArray | undefined,
  counts: ReadonlyArray<number> | undefined,
  displs: ReadonlyArray<number> | undefined,
  recvbuf: Codec.TypedArray,
  root: number,
  op = counts === undefined ? "Scatter" : "Scatterv"
): Req =>
  start(c, op, (s) => {
    c.checkRoot(root, op)
    checkTyped(c, recvbuf, op, "the receive buffer")
    let bodies: Array<Body> | undefined
    if (c.rank === root) {
      checkTyped(c, sendbuf, op, "the root's send buffer")
      const lay = layout(c, op, counts ?? new Array(c.size).fill(equalBlock(c, op, sendbuf, c.size, "the send buffer")), displs, sendbuf.length, "the send buffer")
      bodies = lay.counts.map((n, i) => block(sendbuf, lay.displs[i]!, n))
    }
    scatterBodiesAt(s, bodies, root, 0, (mine) => s.done(intoBuffer(c, recvbuf, mine, root, op)))
  })

/** Allgathers one body per rank: calls `done(bodies)` in rank order on every rank. */
const allgatherBodies = (s: Sched, mine: Body, ring: boolean, done: (bodies: Array<Body>) => void): void => {
  const c = s.c
  const p = c.size
  const out = new Array<Body>(p)
  if (ring) {
    // Ring: in round k pass on the block received in round k - 1.
    out[c.rank] = mine
    const next = (c.rank + 1) % p
    const prev = (c.rank - 1 + p) % p
    const step = (k: number): void => {
      if (k >= p - 1) return done(out)
      const r = s.recv(prev, k, { raw: true })
      const w = s.sendBody(out[(c.rank - k + p) % p]!, next, k)
      s.then([r, w], () => {
        out[(c.rank - k - 1 + p) % p] = r.value as Body
        step(k + 1)
      })
    }
    return step(0)
  }
  // Bruck: blocks[j] is the body of rank (rank + j) mod p.
  let blocks: Array<Body> = [mine]
  const step = (k: number, round: number): void => {
    if (k >= p) {
      blocks.forEach((b, j) => (out[(c.rank + j) % p] = b))
      return done(out)
    }
    const count = Math.min(k, p - k)
    const r = s.recv((c.rank + k) % p, round)
    const w = s.send(toWire(blocks.slice(0, count)), (c.rank - k + p) % p, round)
    s.then([r, w], () => {
      blocks = blocks.concat(fromWire(r.value as Wire))
      step(k << 1, round + 1)
    })
  }
  step(1, 0)
}

/** Blocks at least this large go around a ring. */
export const RING_BYTES = 32 * 1024

/**
 * Gathers `data` from every rank on every rank, in rank order.
 *
 * @category collectives
 * @since 0.1.0
 */
export const allgather = (c: CommCore, data: unknown, op = "allgather"): Req =>
  start(c, op, (s) => {
    const mine = encodeOnce(c, data, op)
    allgatherBodies(s, mine, false, (bodies) => s.done(bodies.map(decode)))
  })

/**
 * Gathers every rank's `sendbuf` into every rank's `recvbuf` (equal blocks,
 * or `counts`/`displs` in elements). Resolves to `recvbuf`.
 *
 * @category collectives
 * @since 0.1.0
 */
export const Allgatherv = (
  c: CommCore,
  sendbuf: Codec.TypedArray,
  recvbuf: Codec.TypedArray,
  counts: ReadonlyArray<number> | undefined,
  displs: ReadonlyArray<number> | undefined,
  op = counts === undefined ? "Allgather" : "Allgatherv"
): Req =>
  start(c, op, (s) => {
    checkTyped(c, sendbuf, op, "the send buffer")
    checkTyped(c, recvbuf, op, "the receive buffer")
    const lay = layout(c, op, counts ?? new Array(c.size).fill(equalBlock(c, op, recvbuf, c.size, "the receive buffer")), displs, recvbuf.length, "the receive buffer")
    const e = recvbuf.BYTES_PER_ELEMENT
    if (sendbuf.length !== lay.counts[c.rank]) {
      throw new Errors.InvalidArgument({ rank: c.rank, op, reason: `the send buffer has ${sendbuf.length} elements but this rank's count is ${lay.counts[c.rank]}` })
    }
    // Every rank must pick the same algorithm: decide on the counts, which
    // every rank passes alike, not on this rank's own block.
    const ring = Math.max(...lay.counts) * e >= RING_BYTES && c.size > 2
    allgatherBodies(s, block(sendbuf, 0, sendbuf.length), ring, (bodies) => {
      bodies.forEach((b, i) => intoBuffer(c, recvbuf, b, i, op, lay.displs[i]! * e, lay.counts[i]! * e))
      s.done(recvbuf)
    })
  })

export { checkCount }
