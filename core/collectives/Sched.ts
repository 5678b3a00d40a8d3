/**
 * The schedule every collective runs on: rounds of point-to-point requests
 * on the communicator's collective context, each round started from the
 * completion of the previous one.
 *
 * A collective is a small state machine: `then(reqs, next)` calls `next`
 * synchronously when every request of a round has completed (inside the
 * engine, as frames arrive), so a collective advances while its rank spins
 * or sleeps in any wait, with no promise or fiber per step. The result is
 * one engine request (`out`), the same kind point-to-point returns, so
 * `waitAll` mixes both. A failed step fails `out` and cancels the receives
 * still posted.
 *
 * Tags: each collective call takes the communicator's next sequence number;
 * its messages carry `seq * ROUNDS + round`, so two collectives in flight on one
 * communicator (non-blocking ones) never take each other's messages, and
 * none ever matches user traffic (another context).
 *
 * @since 0.1.0
 */
import * as Codec from "../Codec.ts"
import type { Body } from "../Engine.ts"
import { Format } from "../Envelope.ts"
import * as Errors from "../Errors.ts"
import type { CommCore } from "../internal/CommCore.ts"
import { Req, whenAll } from "../internal/Req.ts"
import { acquire, release } from "./Buffers.ts"

/** Rounds a collective may use (tags per call). */
export const ROUNDS = 1024

/**
 * Encodes a value once, to send it to several peers. Raw values are their
 * bytes (the caller must not change them until the collective completes);
 * others are encoded and copied out of the codec's scratch buffer.
 */
export const encodeOnce = (c: CommCore, value: unknown, op: string): Body => {
  const kind = Codec.viewKind(value)
  if (kind >= 0) return { fmt: Format.RAW + kind, bytes: Codec.rawBytes(value as Codec.RawValue) }
  try {
    const bytes = Codec.encodeBody(value)
    return { fmt: Codec.bodyFormat(), bytes: bytes.slice() }
  } catch (e) {
    if (e instanceof Codec.Refused) {
      throw new Errors.Unencodable({ rank: c.rank, op, peer: -1, tag: -1, what: e.what, path: e.path.replace(/^value/, "the data") })
    }
    throw e
  }
}

/** Decodes a body received raw (the bytes are owned: a raw value is wrapped, not copied). */
export const decode = (b: Body): unknown => {
  if (b.fmt >= Format.RAW && b.fmt - Format.RAW !== Codec.KIND_BUFFER && b.bytes.byteOffset === 0 && b.bytes.byteLength === b.bytes.buffer.byteLength) {
    const info = Codec.kinds[b.fmt - Format.RAW]
    if (info?.make !== undefined && b.bytes.byteLength % info.bytes === 0) return info.make(b.bytes.buffer as ArrayBuffer, b.bytes.byteLength / info.bytes)
  }
  return Codec.decodeBody(b.fmt, b.bytes)
}

/** One run of a collective. */
export class Sched {
  readonly out: Req
  private readonly base: number
  private readonly posted: Array<Req> = []

  readonly c: CommCore
  readonly op: string
  constructor(c: CommCore, op: string) {
    c.live(op)
    this.c = c
    this.op = op
    this.out = new Req(op)
    this.base = c.nextCollectiveTag()
  }

  private tag(round: number): number {
    if (round >= ROUNDS) throw new Error(`${this.op}: round ${round} is past the ${ROUNDS} a collective may use`)
    return this.base + round
  }

  /** Sends `value` to local rank `peer` in `round`. */
  send(value: unknown, peer: number, round: number): Req {
    return this.c.isend(value, peer, this.tag(round), this.op, this.c.collCtx)
  }

  /** Sends an encoded body (kept valid by the caller until the collective ends). */
  sendBody(body: Body, peer: number, round: number): Req {
    return this.c.engine.isendBody(this.c, this.op, body.fmt, body.bytes, this.c.toWorld(peer), this.tag(round), this.c.collCtx, true)
  }

  /** Receives from local rank `peer` in `round`: a value, into `buf`, or the raw body. */
  recv(peer: number, round: number, how?: { readonly buf?: ArrayBufferView; readonly raw?: boolean }): Req {
    const r = this.c.engine.irecv(this.c, this.op, this.c.toWorld(peer), this.tag(round), this.c.collCtx, how?.buf, how?.raw === true)
    this.posted.push(r)
    return r
  }

  /**
   * Calls `next` when every request in `reqs` has completed, or fails the
   * collective with the first failure. `next` may start the next round; a
   * throw in it (an op that cannot combine its operands) fails the
   * collective too.
   */
  then(reqs: ReadonlyArray<Req>, next: () => void): void {
    whenAll(reqs, () => {
      if (this.out.done) return
      const bad = reqs.find((r) => r.error !== undefined)
      if (bad !== undefined) return this.fail(bad.error)
      this.step(next)
    })
  }

  /** Runs `f` now, failing the collective if it throws. */
  step(f: () => void): void {
    try {
      f()
    } catch (e) {
      this.fail(e)
    }
  }

  private temps: Array<ArrayBuffer> | undefined = undefined

  /** A scratch typed array of `like`'s kind and `length` elements, returned to the pool when this collective completes. */
  temp<T extends Codec.TypedArray>(like: T, length: number): T {
    const ab = acquire(length * like.BYTES_PER_ELEMENT)
    ;(this.temps ??= []).push(ab)
    return new (like.constructor as new(b: ArrayBuffer, o: number, n: number) => T)(ab, 0, length)
  }

  done(value: unknown): void {
    if (this.temps !== undefined) for (const t of this.temps) release(t)
    this.temps = undefined
    this.out.succeed(value)
  }

  fail(e: unknown): void {
    if (this.out.done) return
    for (const r of this.posted) if (!r.done) r.cancel()
    this.out.fail(e instanceof Errors.OpError && e.rank < 0 ? new Errors.OpError({ rank: this.c.rank, op: e.op, reason: e.reason }) : e)
  }
}

/** Starts a collective: runs `body(s)` at once, turning a throw into a failed request. */
export const start = (c: CommCore, op: string, body: (s: Sched) => void): Req => {
  const s = new Sched(c, op)
  s.step(() => body(s))
  return s.out
}
