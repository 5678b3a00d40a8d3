/**
 * Helpers for the buffer forms of the collectives: checks, blocks and
 * copies of typed arrays.
 *
 * @since 0.1.0
 */
import * as Codec from "../Codec.ts"
import type { Body } from "../Engine.ts"
import { Format } from "../Envelope.ts"
import * as Errors from "../Errors.ts"
import type { CommCore } from "../internal/CommCore.ts"

/** Elements of a view have this many bytes (1 for a DataView or Buffer). */
export const bpe = (v: ArrayBufferView): number => (v as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1

/** Throws unless `v` is a typed array (not a DataView). */
export const checkTyped: (c: CommCore, v: unknown, op: string, what: string) => asserts v is Codec.TypedArray = (c, v, op, what) => {
  if (!ArrayBuffer.isView(v) || v instanceof DataView || Codec.viewKind(v) < 0) {
    throw new Errors.InvalidArgument({ rank: c.rank, op, reason: `${what} must be a typed array; got ${Codec.describeValue(v)}` })
  }
}

/** Copies a raw body from local rank `peer` into `buf`, checked for kind and length. */
export const intoBuffer = <T extends ArrayBufferView>(c: CommCore, buf: T, body: Body, peer: number, op: string, offsetBytes = 0, capacityBytes = buf.byteLength - offsetBytes): T => {
  const size = body.bytes.byteLength
  if (body.fmt < Format.RAW) {
    throw new Errors.TypeMismatch({ rank: c.rank, peer, tag: -1, expected: Codec.describeValue(buf), actual: "an object (not a typed array)" })
  }
  const kind = body.fmt - Format.RAW
  if (!Codec.compatible(kind, Codec.viewKind(buf))) {
    throw new Errors.TypeMismatch({ rank: c.rank, peer, tag: -1, expected: Codec.describeValue(buf), actual: Codec.describeRaw(kind, size) })
  }
  if (size > capacityBytes) {
    throw new Errors.Truncated({ rank: c.rank, peer, tag: -1, length: size, capacity: capacityBytes, buffer: Codec.describeValue(buf) })
  }
  new Uint8Array(buf.buffer, buf.byteOffset + offsetBytes, size).set(body.bytes)
  return buf
}

/**
 * Counts and displacements (in elements) of a v-form over a buffer of
 * `length` elements: displacements default to the prefix sums, and every
 * block must lie inside the buffer.
 */
export const layout = (
  c: CommCore,
  op: string,
  counts: ReadonlyArray<number>,
  displs: ReadonlyArray<number> | undefined,
  length: number,
  what: string
): { counts: ReadonlyArray<number>; displs: ReadonlyArray<number> } => {
  const ok = (xs: ReadonlyArray<number> | undefined) => xs === undefined || (xs.length === c.size && xs.every((x) => Number.isInteger(x) && x >= 0))
  if (!ok(counts) || !ok(displs)) {
    throw new Errors.InvalidArgument({ rank: c.rank, op, reason: `counts and displacements need ${c.size} non-negative whole numbers (one per rank)` })
  }
  let d = displs
  if (d === undefined) {
    const sums: Array<number> = []
    let at = 0
    for (const n of counts) {
      sums.push(at)
      at += n
    }
    d = sums
  }
  for (let i = 0; i < c.size; i++) {
    if (d[i]! + counts[i]! > length) {
      throw new Errors.InvalidArgument({
        rank: c.rank,
        op,
        reason: `block ${i} (${counts[i]} elements at ${d[i]}) does not fit ${what} of ${length} elements`
      })
    }
  }
  return { counts, displs: d }
}

/** The raw body of elements [from, from + count) of `v` (a view, no copy). */
export const block = (v: Codec.TypedArray, from: number, count: number): Body => ({
  fmt: Format.RAW + Codec.viewKind(v),
  bytes: new Uint8Array(v.buffer, v.byteOffset + from * v.BYTES_PER_ELEMENT, count * v.BYTES_PER_ELEMENT)
})

/** Equal blocks: `n` elements split over `p` ranks; throws unless it divides. */
export const equalBlock = (c: CommCore, op: string, v: Codec.TypedArray, parts: number, what: string): number => {
  if (v.length % parts !== 0) {
    throw new Errors.InvalidArgument({ rank: c.rank, op, reason: `${what} has ${v.length} elements, not a multiple of ${parts}` })
  }
  return v.length / parts
}

/** A new typed array of the same kind. */
export const like = <T extends Codec.TypedArray>(v: T, length: number): T => new (v.constructor as new(n: number) => T)(length)

/**
 * Scratch buffers for the reductions, reused across calls so a large
 * collective does not allocate (a fresh 1 MiB ArrayBuffer costs about as much
 * as sending it). A collective takes buffers with {@link Sched.temp} and they
 * come back here when it completes; one that fails keeps them (a receive may
 * still land in them).
 */
const pool: Array<ArrayBuffer> = []

export const acquire = (bytes: number): ArrayBuffer => {
  for (let i = 0; i < pool.length; i++) if (pool[i]!.byteLength >= bytes) return pool.splice(i, 1)[0]!
  return new ArrayBuffer(Math.max(bytes, 64))
}

export const release = (b: ArrayBuffer): void => {
  if (pool.length < 8) pool.push(b)
}
