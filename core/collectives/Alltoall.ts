/**
 * All-to-all by pairwise exchange: in round k (1 ≤ k < p) every rank sends
 * its block for rank + k and receives the block of rank - k, so every round
 * is a perfect matching and no rank is flooded. For values and for
 * typed-array buffers (equal blocks, or the v form).
 *
 * @since 0.1.0
 */
import type * as Codec from "../Codec.ts"
import type { Body } from "../Engine.ts"
import type { CommCore } from "../internal/CommCore.ts"
import type { Req } from "../internal/Req.ts"
import { block, checkTyped, equalBlock, intoBuffer, layout } from "./Buffers.ts"
import { checkCount } from "./Gather.ts"
import { decode, encodeOnce, type Sched, start } from "./Sched.ts"

const exchange = (s: Sched, bodies: ReadonlyArray<Body>, done: (got: Array<Body>) => void, into?: (from: number) => ArrayBufferView): void => {
  const c = s.c
  const p = c.size
  const got = new Array<Body>(p)
  // A rank's own block is copied, as every other one is.
  const own = bodies[c.rank]!
  got[c.rank] = { fmt: own.fmt, bytes: own.bytes.slice() }
  const step = (k: number): void => {
    if (k >= p) return done(got)
    const from = (c.rank - k + p) % p
    const r = s.recv(from, k, into === undefined ? { raw: true } : { buf: into(from) })
    const w = s.sendBody(bodies[(c.rank + k) % p]!, (c.rank + k) % p, k)
    s.then([r, w], () => {
      if (into === undefined) got[from] = r.value as Body
      step(k + 1)
    })
  }
  step(1)
}

/**
 * Sends item i of `data` (an array of `size` items) to rank i; returns the
 * items received, in rank order.
 *
 * @category collectives
 * @since 0.1.0
 */
export const alltoall = (c: CommCore, data: unknown, op = "alltoall"): Req =>
  start(c, op, (s) => {
    const bodies = checkCount(c, data, op).map((x) => encodeOnce(c, x, op))
    exchange(s, bodies, (got) => s.done(got.map(decode)))
  })

/**
 * Sends block i of `sendbuf` to rank i and receives rank i's block into
 * block i of `recvbuf` (equal blocks, or counts and displacements in
 * elements). Resolves to `recvbuf`.
 *
 * @category collectives
 * @since 0.1.0
 */
export const Alltoallv = (
  c: CommCore,
  sendbuf: Codec.TypedArray,
  sendcounts: ReadonlyArray<number> | undefined,
  sdispls: ReadonlyArray<number> | undefined,
  recvbuf: Codec.TypedArray,
  recvcounts: ReadonlyArray<number> | undefined,
  rdispls: ReadonlyArray<number> | undefined,
  op = sendcounts === undefined ? "Alltoall" : "Alltoallv"
): Req =>
  start(c, op, (s) => {
    checkTyped(c, sendbuf, op, "the send buffer")
    checkTyped(c, recvbuf, op, "the receive buffer")
    const out = layout(c, op, sendcounts ?? new Array(c.size).fill(equalBlock(c, op, sendbuf, c.size, "the send buffer")), sdispls, sendbuf.length, "the send buffer")
    const into = layout(c, op, recvcounts ?? new Array(c.size).fill(equalBlock(c, op, recvbuf, c.size, "the receive buffer")), rdispls, recvbuf.length, "the receive buffer")
    // Blocks from peers land straight in their place in recvbuf.
    const place = (i: number) => recvbuf.subarray(into.displs[i]!, into.displs[i]! + into.counts[i]!)
    const e = recvbuf.BYTES_PER_ELEMENT
    exchange(s, out.counts.map((n, i) => block(sendbuf, out.displs[i]!, n)), (got) => {
      intoBuffer(c, recvbuf, got[c.rank]!, c.rank, op, into.displs[c.rank]! * e, into.counts[c.rank]! * e)
      s.done(recvbuf)
    }, place)
  })
