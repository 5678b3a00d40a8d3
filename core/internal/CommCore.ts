/**
 * The communicator core shared by both faces: a context id, a group (local
 * rank → world rank), argument checks that raise typed errors, and the
 * point-to-point operations as engine requests. The faces add only the
 * Promise or Effect wrapping.
 *
 * @internal
 */
import * as Codec from "../Codec.ts"
import type { Engine } from "../Engine.ts"
import * as Errors from "../Errors.ts"
import { allgather } from "../collectives/Gather.ts"
import { Group, UNDEFINED } from "../Group.ts"
import { ANY_SOURCE, ANY_TAG } from "../Matching.ts"
import { completed, Req, whenAll } from "./Req.ts"

/** Rank of the null process: sends to it and receives from it do nothing. */
export const PROC_NULL = -2
/** Largest tag. */
export const TAG_UB = 0x7fffffff

export class CommCore {
  readonly rank: number
  readonly size: number
  private readonly group_: Int32Array
  private readonly local: Int32Array
  freed = false

  readonly engine: Engine
  readonly ctx: number
  constructor(engine: Engine, ctx: number, group: ArrayLike<number>) {
    this.engine = engine
    this.ctx = ctx
    this.group_ = Int32Array.from(group)
    this.local = new Int32Array(engine.size).fill(-1)
    this.group_.forEach((w, i) => (this.local[w] = i))
    this.size = this.group_.length
    this.rank = this.local[engine.rank]!
    engine.register(this)
  }

  /** World rank of local rank `i`. */
  toWorld(i: number): number {
    return this.group_[i]!
  }

  /** Local rank of world rank `w` (or `w` itself for the wildcards). */
  toLocal(w: number): number {
    return w < 0 ? w : this.local[w]!
  }

  /** The context collectives of this communicator use. */
  get collCtx(): number {
    return this.ctx + 1
  }

  private collSeq = 0

  /**
   * The tag base of the next collective call on this communicator: every
   * rank calls collectives in the same order, so every rank gets the same
   * base for the same call.
   */
  nextCollectiveTag(): number {
    const t = (this.collSeq % (1 << 20)) * 1024
    this.collSeq++
    return t
  }

  checkRoot(root: number, op: string): void {
    if (Number.isInteger(root) && root >= 0 && root < this.size) return
    throw new Errors.InvalidRank({ rank: this.rank, op, peer: root, size: this.size })
  }

  /** The members, as a group. */
  get group(): Group {
    return new Group(Array.from(this.group_), this.engine.rank)
  }

  /** The communicator of this rank alone (MPI's COMM_SELF). */
  get self(): CommCore {
    return this.engine.selfComm()
  }

  /** The world communicator. */
  get world(): CommCore {
    return this.engine.worldComm()
  }

  /**
   * Agrees on a fresh context id with every member (the largest of their
   * next free ids), then calls `make(ctx)`. Collective over this
   * communicator.
   */
  private agree(op: string, extra: unknown, make: (ctx: number, extras: Array<unknown>) => CommCore | undefined): Req {
    this.live(op)
    const out = new Req(op)
    const all = allgather(this, [this.engine.nextCtx, extra], op)
    whenAll([all], () => {
      if (all.error !== undefined) return out.fail(all.error)
      const got = all.value as Array<[number, unknown]>
      const ctx = Math.max(...got.map((x) => x[0]))
      this.engine.nextCtx = ctx + 2
      try {
        out.succeed(make(ctx, got.map((x) => x[1])))
      } catch (e) {
        out.fail(e)
      }
    })
    return out
  }

  /** A new communicator with the same members and a context of its own. */
  dup(): Req {
    return this.agree("dup", null, (ctx) => new CommCore(this.engine, ctx, this.group_))
  }

  /**
   * Splits by `color`: ranks of one color form a communicator, ordered by
   * `key` (then by rank here). A rank with color UNDEFINED gets undefined.
   */
  split(color: number, key: number): Req {
    if (!Number.isInteger(color) || (color < 0 && color !== UNDEFINED) || !Number.isFinite(key)) {
      throw new Errors.InvalidArgument({ rank: this.rank, op: "split", reason: `color must be a non-negative integer or UNDEFINED, and key a number; got ${color}, ${key}` })
    }
    return this.agree("split", [color, key], (ctx, extras) => {
      if (color === UNDEFINED) return undefined
      const mine = (extras as Array<[number, number]>)
        .map(([c, k], rank) => ({ c, k, rank }))
        .filter((x) => x.c === color)
        .sort((a, b) => a.k - b.k || a.rank - b.rank)
      return new CommCore(this.engine, ctx, mine.map((x) => this.group_[x.rank]!))
    })
  }

  /** A communicator on `group` (a subset of this one): undefined on ranks outside it. */
  create(group: Group): Req {
    const outside = group.members.filter((m) => this.local[m] === -1)
    if (outside.length > 0) {
      throw new Errors.InvalidArgument({ rank: this.rank, op: "create", reason: `the group holds world ranks ${outside.join(", ")}, which are not in this communicator` })
    }
    return this.agree("create", null, (ctx) => (group.members.includes(this.engine.rank) ? new CommCore(this.engine, ctx, group.members) : undefined))
  }

  /** Releases the communicator: pending receives on it fail; it cannot be used again. */
  free(): void {
    if (this.freed) return
    if (this.ctx === 0) throw new Errors.InvalidRequest({ rank: this.rank, op: "free", reason: "the world communicator cannot be freed" })
    this.freed = true
    this.engine.unregister(this)
  }

  /** Throws InvalidRequest if the communicator has been freed. */
  live(op: string): void {
    if (this.freed) throw new Errors.InvalidRequest({ rank: this.rank, op, reason: "the communicator has been freed" })
  }

  checkPeer(peer: number, op: string, wildcard: boolean): void {
    if (Number.isInteger(peer) && ((peer >= 0 && peer < this.size) || peer === PROC_NULL || (wildcard && peer === ANY_SOURCE))) return
    throw new Errors.InvalidRank({ rank: this.rank, op, peer, size: this.size })
  }

  checkTag(tag: number, op: string, wildcard: boolean): void {
    if (Number.isInteger(tag) && ((tag >= 0 && tag <= TAG_UB) || (wildcard && tag === ANY_TAG))) return
    throw new Errors.InvalidTag({ rank: this.rank, op, tag })
  }

  checkBuffer(buf: unknown, op: string): asserts buf is ArrayBufferView {
    if (!ArrayBuffer.isView(buf) || Codec.viewKind(buf) < 0) {
      throw new Errors.InvalidArgument({
        rank: this.rank,
        op,
        reason: `the receive buffer must be a typed array, Buffer or DataView; got ${Codec.describeValue(buf)}`
      })
    }
  }

  /** The buffer API sends raw values only: typed arrays, Buffers, DataViews, ArrayBuffers. */
  checkSendBuffer(buf: unknown, op: string): void {
    if (Codec.viewKind(buf) < 0) {
      throw new Errors.InvalidArgument({
        rank: this.rank,
        op,
        reason: `the buffer API sends typed arrays, Buffers, DataViews and ArrayBuffers; got ${Codec.describeValue(buf)} (use the lowercase method for objects)`
      })
    }
  }

  /** Starts a send; throws typed errors for bad arguments and refused values. */
  isend(data: unknown, dest: number, tag: number, op = "isend", ctx = this.ctx): Req {
    this.live(op)
    this.checkPeer(dest, op, false)
    this.checkTag(tag, op, false)
    if (dest === PROC_NULL) return completed(op, undefined)
    try {
      return this.engine.isend(this, op, data, this.group_[dest]!, tag, ctx)
    } catch (e) {
      if (e instanceof Codec.Refused) {
        throw new Errors.Unencodable({ rank: this.rank, op, peer: dest, tag, what: e.what, path: e.path.replace(/^value/, "the message") })
      }
      throw e
    }
  }

  /** Posts a receive (into `buf` when given). */
  irecv(source: number, tag: number, buf: ArrayBufferView | undefined, op = "irecv", ctx = this.ctx): Req {
    this.live(op)
    this.checkPeer(source, op, true)
    this.checkTag(tag, op, true)
    if (buf !== undefined) this.checkBuffer(buf, op)
    if (source === PROC_NULL) {
      const r = completed(op, buf)
      r.source = PROC_NULL
      r.tag = ANY_TAG
      return r
    }
    return this.engine.irecv(this, op, source === ANY_SOURCE ? ANY_SOURCE : this.group_[source]!, tag, ctx, buf)
  }

  /** Sends and receives at once; the request's value is the received one. */
  sendrecv(
    data: unknown,
    dest: number,
    sendtag: number,
    source: number,
    recvtag: number,
    buf: ArrayBufferView | undefined,
    op = "sendrecv"
  ): Req {
    const r = this.irecv(source, recvtag, buf, op)
    let s: Req
    try {
      s = this.isend(data, dest, sendtag, op)
    } catch (e) {
      r.cancel()
      throw e
    }
    return join([r, s], r)
  }

  /** Non-blocking probe into `into` (a request used as a status record). */
  iprobe(source: number, tag: number, into: Req, op = "iprobe"): boolean {
    this.live(op)
    this.checkPeer(source, op, true)
    this.checkTag(tag, op, true)
    if (source === PROC_NULL) {
      into.source = PROC_NULL
      into.tag = ANY_TAG
      into.count = 0
      return true
    }
    this.engine.progressOnce()
    const hit = this.engine.iprobe(this.ctx, source === ANY_SOURCE ? ANY_SOURCE : this.group_[source]!, tag, into)
    if (hit) into.source = this.toLocal(into.source)
    return hit
  }

  /** A request that completes when a matching message is there. */
  probe(source: number, tag: number, op = "probe"): Req {
    this.live(op)
    this.checkPeer(source, op, true)
    this.checkTag(tag, op, true)
    if (source === PROC_NULL) {
      const r = completed(op, true)
      r.source = PROC_NULL
      r.tag = ANY_TAG
      return r
    }
    return this.engine.probe(this, op, source === ANY_SOURCE ? ANY_SOURCE : this.group_[source]!, tag, this.ctx)
  }

  /** A persistent send: `start` sends `data` again each time. */
  sendInit(data: unknown, dest: number, tag: number): Preq {
    this.checkPeer(dest, "sendInit", false)
    this.checkTag(tag, "sendInit", false)
    return new Preq(this, "send", () => this.isend(data, dest, tag, "send (persistent)"))
  }

  /** A persistent receive: `start` posts the receive again each time. */
  recvInit(source: number, tag: number, buf: ArrayBufferView | undefined): Preq {
    this.checkPeer(source, "recvInit", true)
    this.checkTag(tag, "recvInit", true)
    if (buf !== undefined) this.checkBuffer(buf, "recvInit")
    return new Preq(this, "recv", () => this.irecv(source, tag, buf, "recv (persistent)"))
  }

  /** Waits (spinning per the engine's policy) until `done()` holds. */
  progress(done: () => boolean): void {
    if (!done()) this.engine.progress(done)
  }
}

/**
 * A persistent request: made once, started many times. Between a `start` and
 * the completion of its round it is active; `free` ends it.
 */
export class Preq {
  current: Req | undefined = undefined
  freed = false

  readonly comm: CommCore
  readonly mode: "send" | "recv"
  private readonly launch: () => Req
  constructor(comm: CommCore, mode: "send" | "recv", launch: () => Req) {
    this.comm = comm
    this.mode = mode
    this.launch = launch
  }

  get active(): boolean {
    return this.current !== undefined && !this.current.done
  }

  start(): void {
    if (this.freed) throw new Errors.InvalidRequest({ rank: this.comm.rank, op: "start", reason: "the persistent request has been freed" })
    if (this.active) {
      throw new Errors.InvalidRequest({ rank: this.comm.rank, op: "start", reason: "the persistent request is still active; wait for it before starting it again" })
    }
    this.current = this.launch()
  }

  /** The request of the current round; an inactive one completes at once. */
  req(op: string): Req {
    if (this.freed) return failed(op, new Errors.InvalidRequest({ rank: this.comm.rank, op, reason: "the persistent request has been freed" }))
    return this.current ?? inactive(op)
  }

  free(): void {
    if (this.active) {
      throw new Errors.InvalidRequest({ rank: this.comm.rank, op: "free", reason: "the persistent request is active; wait for it (or cancel it) first" })
    }
    this.freed = true
    this.current = undefined
  }
}

const inactive = (op: string): Req => {
  const r = completed(op, undefined)
  r.source = ANY_SOURCE
  r.tag = ANY_TAG
  return r
}

const failed = (op: string, e: unknown): Req => {
  const r = new Req(op)
  r.fail(e)
  return r
}

/**
 * A request that completes when all of `reqs` have (or fails with the first
 * failure), with the value and status of `main`.
 */
export const join = (reqs: ReadonlyArray<Req>, main: Req): Req => {
  const out = new Req(main.op)
  out.canceller = () => reqs.some((r) => r.cancel())
  whenAll(reqs, () => {
    const bad = reqs.find((r) => r.error !== undefined)
    out.source = main.source
    out.tag = main.tag
    out.count = main.count
    out.cancelled = main.cancelled
    if (bad !== undefined) out.fail(bad.error)
    else out.succeed(main.value)
  })
  return out
}
