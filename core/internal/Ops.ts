/**
 * The communicator's operations, once for both faces.
 *
 * `Ops<F>` declares every operation's signature, with its documentation,
 * over a face descriptor `F` (what "completes later", "completes at once", a
 * request and a communicator are in that face). The Effect face's
 * `Communicator` and the Promise face's `Comm` are `Ops<EffectFace>` and
 * `Ops<PromiseFace>` (interface merging), so the two cannot drift apart in
 * names or arguments.
 *
 * `OPS` is the runtime table: for each operation its kind and how it maps
 * onto `CommCore` (the engine request it starts, or the value it reads).
 * `install` puts the table's methods and getters on a face's prototype,
 * wrapped by that face's `FaceRuntime` (Effect or Promise). The table's type
 * is derived from `Ops`: a missing or extra entry, or a kind that does not
 * match the declared return type, fails the type check.
 *
 * Kinds:
 * - `property`: a plain value read from the core (rank, size, group).
 * - `commProperty`: a communicator read from the core (COMM_SELF, COMM_WORLD).
 * - `blocking`: starts an engine request and completes with its value.
 * - `comm`: blocking, and its value is a new communicator (dup, split, create).
 * - `request`: starts an engine request and hands back a `Request` at once.
 * - `persistent`: makes a persistent request and hands back a `Prequest`.
 * - `local`: runs at once on the core (iprobe, free).
 *
 * No operation needs a hand-written special case today: `probe` (which
 * completes with its status record) is a `blocking` op with
 * `returnsStatus`, and `iprobe`/`free` are `local`. An operation the kinds
 * cannot express would get a kind of its own here (named in the table, so
 * `install` and the tests still see it) rather than a method written on one
 * face.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type * as Codec from "../Codec.ts"
import * as Alltoall from "../collectives/Alltoall.ts"
import * as Barrier from "../collectives/Barrier.ts"
import * as Bcast from "../collectives/Bcast.ts"
import * as Gather from "../collectives/Gather.ts"
import * as Reduce from "../collectives/Reduce.ts"
import * as Scan from "../collectives/Scan.ts"
import type { Communicator } from "../Comm.ts"
import type * as Errors from "../Errors.ts"
import type { Group } from "../Group.ts"
import { ANY_SOURCE, ANY_TAG } from "../Matching.ts"
import * as Op from "../Op.ts"
import type { Comm as PromiseComm } from "../promise/Comm.ts"
import type { Prequest as PromisePrequest, Request as PromiseRequest } from "../promise/Request.ts"
import type { Prequest as EffectPrequest, Request as EffectRequest } from "../Request.ts"
import { Status } from "../Status.ts"
import type { CommCore, Preq } from "./CommCore.ts"
import { Req } from "./Req.ts"

// ------------------------------------------------------ face descriptors

/**
 * What the shapes of one face are, as a type lambda over `A`: `Later` is an
 * operation that completes later, `Now` one that completes at once.
 */
export interface Face {
  readonly A: unknown
  readonly Later: unknown
  readonly Now: unknown
  readonly Request: unknown
  readonly Prequest: unknown
  readonly Comm: unknown
}

type With<F extends Face, A> = F & { readonly A: A }
/** An operation of face `F` that completes later with an `A`. */
export type Later<F extends Face, A> = With<F, A>["Later"]
/** An operation of face `F` that completes at once with an `A`. */
export type Now<F extends Face, A> = With<F, A>["Now"]
/** A request of face `F` for an `A`. */
export type RequestOf<F extends Face, A> = With<F, A>["Request"]
/** A persistent request of face `F` for an `A`. */
export type PrequestOf<F extends Face, A> = With<F, A>["Prequest"]

/** The Effect face: every operation is an Effect failing with a `CommError`. */
export interface EffectFace extends Face {
  readonly Later: Effect.Effect<this["A"], Errors.CommError>
  readonly Now: Effect.Effect<this["A"], Errors.CommError>
  readonly Request: EffectRequest<this["A"]>
  readonly Prequest: EffectPrequest<this["A"]>
  readonly Comm: Communicator
}

/** The Promise face: later is a Promise, at once is the value itself (a bad argument throws). */
export interface PromiseFace extends Face {
  readonly Later: Promise<this["A"]>
  readonly Now: this["A"]
  readonly Request: PromiseRequest<this["A"]>
  readonly Prequest: PromisePrequest<this["A"]>
  readonly Comm: PromiseComm
}

// ---------------------------------------------------------- signatures

/**
 * Every communicator operation, over face `F`. Lowercase methods carry any
 * value the codec can; capitalized methods are mpi4py's buffer API (send a
 * typed array's bytes, receive into a preallocated typed array, checked for
 * type and length).
 */
export interface Ops<F extends Face> {
  /** This rank's number in the communicator. */
  readonly rank: number
  /** Number of ranks in the communicator. */
  readonly size: number
  /** The members, as a group. */
  readonly group: Group
  /** The communicator of this rank alone. */
  readonly COMM_SELF: F["Comm"]
  /** The world communicator. */
  readonly COMM_WORLD: F["Comm"]

  // ------------------------------------------------- point-to-point, objects

  /** Sends `data` to `dest`; completes when `data` may be reused. */
  send(data: unknown, dest: number, tag?: number): Later<F, void>
  /** Receives a message; fills `status` if given. Interrupting (Effect face) cancels the receive. */
  recv<A = unknown>(source?: number, tag?: number, status?: Status): Later<F, A>
  /** Starts a send. */
  isend(data: unknown, dest: number, tag?: number): Now<F, RequestOf<F, void>>
  /** Posts a receive. */
  irecv<A = unknown>(source?: number, tag?: number): Now<F, RequestOf<F, A>>
  /** Sends to `dest` and receives from `source` at once (no deadlock in rings). */
  sendrecv<A = unknown>(data: unknown, dest: number, sendtag?: number, source?: number, recvtag?: number, status?: Status): Later<F, A>
  /** Waits until a matching message is there, without receiving it; completes with its status. */
  probe(source?: number, tag?: number, status?: Status): Later<F, Status>
  /** Is a matching message there now? Fills `status` when it is. */
  iprobe(source?: number, tag?: number, status?: Status): Now<F, boolean>
  /** A persistent send of `data` (read again at each `start`). */
  sendInit(data: unknown, dest: number, tag?: number): Now<F, PrequestOf<F, void>>
  /** A persistent receive. */
  recvInit<A = unknown>(source?: number, tag?: number): Now<F, PrequestOf<F, A>>

  // ------------------------------------------------- point-to-point, buffers

  /** Sends a typed array's bytes (mpi4py `Send`). */
  Send(buf: Codec.RawValue, dest: number, tag?: number): Later<F, void>
  /**
   * Receives into `buf` (mpi4py `Recv`): the message must be a typed array of
   * the same kind and no longer than `buf` (else `TypeMismatch` or
   * `Truncated`). Completes with `buf`; `status.count` has the bytes received.
   */
  Recv<T extends ArrayBufferView>(buf: T, source?: number, tag?: number, status?: Status): Later<F, T>
  /** Starts a buffer send. */
  Isend(buf: Codec.RawValue, dest: number, tag?: number): Now<F, RequestOf<F, void>>
  /** Posts a receive into `buf`. */
  Irecv<T extends ArrayBufferView>(buf: T, source?: number, tag?: number): Now<F, RequestOf<F, T>>
  /** Sends `sendbuf` and receives into `recvbuf` at once. */
  Sendrecv<T extends ArrayBufferView>(
    sendbuf: Codec.RawValue,
    dest: number,
    sendtag: number,
    recvbuf: T,
    source?: number,
    recvtag?: number,
    status?: Status
  ): Later<F, T>
  /** A persistent buffer send. */
  SendInit(buf: Codec.RawValue, dest: number, tag?: number): Now<F, PrequestOf<F, void>>
  /** A persistent receive into `buf`. */
  RecvInit<T extends ArrayBufferView>(buf: T, source?: number, tag?: number): Now<F, PrequestOf<F, T>>

  // ------------------------------------------------------- communicators

  /** A new communicator with the same members and its own context (collective). */
  dup(): Later<F, F["Comm"]>
  /**
   * Ranks passing the same `color` form a new communicator, ordered by `key`
   * (then by rank); color UNDEFINED gives undefined (collective).
   */
  split(color: number, key?: number): Later<F, F["Comm"] | undefined>
  /** A communicator on `group` (members of this one); undefined on ranks outside it (collective). */
  create(group: Group): Later<F, F["Comm"] | undefined>
  /** Releases the communicator; receives pending on it fail, later calls fail with `InvalidRequest`. */
  free(): Now<F, void>

  // -------------------------------------------------- collectives, values

  /** Waits until every rank has called it (dissemination). */
  barrier(): Later<F, void>
  /** Non-blocking barrier. */
  ibarrier(): Now<F, RequestOf<F, void>>
  /** `root`'s `data` on every rank (binomial tree). */
  bcast<A>(data: A, root?: number): Later<F, A>
  /** Non-blocking bcast. */
  ibcast<A>(data: A, root?: number): Now<F, RequestOf<F, A>>
  /** Item i of the root's array (of `size` items) to rank i. */
  scatter<A>(data: ReadonlyArray<A> | undefined, root?: number): Later<F, A>
  /** Non-blocking scatter. */
  iscatter<A>(data: ReadonlyArray<A> | undefined, root?: number): Now<F, RequestOf<F, A>>
  /** Every rank's `data`, in rank order, at `root` (undefined elsewhere). */
  gather<A>(data: A, root?: number): Later<F, Array<A> | undefined>
  /** Non-blocking gather. */
  igather<A>(data: A, root?: number): Now<F, RequestOf<F, Array<A> | undefined>>
  /** Every rank's `data`, in rank order, on every rank. */
  allgather<A>(data: A): Later<F, Array<A>>
  /** Non-blocking allgather. */
  iallgather<A>(data: A): Now<F, RequestOf<F, Array<A>>>
  /** Item i of `data` (an array of `size` items) to rank i; the items received, in rank order. */
  alltoall<A>(data: ReadonlyArray<A>): Later<F, Array<A>>
  /** Non-blocking alltoall. */
  ialltoall<A>(data: ReadonlyArray<A>): Now<F, RequestOf<F, Array<A>>>
  /** `data` reduced over all ranks with `op`, at `root` (undefined elsewhere). */
  reduce<A>(data: A, op?: Op.Op, root?: number): Later<F, A | undefined>
  /** Non-blocking reduce. */
  ireduce<A>(data: A, op?: Op.Op, root?: number): Now<F, RequestOf<F, A | undefined>>
  /** `data` reduced over all ranks with `op`, on every rank. */
  allreduce<A>(data: A, op?: Op.Op): Later<F, A>
  /** Non-blocking allreduce. */
  iallreduce<A>(data: A, op?: Op.Op): Now<F, RequestOf<F, A>>
  /** The reduction of ranks 0..rank (inclusive prefix). */
  scan<A>(data: A, op?: Op.Op): Later<F, A>
  /** Non-blocking scan. */
  iscan<A>(data: A, op?: Op.Op): Now<F, RequestOf<F, A>>
  /** The reduction of ranks 0..rank-1 (exclusive prefix); undefined on rank 0. */
  exscan<A>(data: A, op?: Op.Op): Later<F, A | undefined>
  /** Non-blocking exscan. */
  iexscan<A>(data: A, op?: Op.Op): Now<F, RequestOf<F, A | undefined>>
  /** Each rank passes `size` items; rank i gets item i reduced over all ranks. */
  reduceScatter<A>(data: ReadonlyArray<A>, op?: Op.Op): Later<F, A>
  /** Non-blocking reduceScatter. */
  ireduceScatter<A>(data: ReadonlyArray<A>, op?: Op.Op): Now<F, RequestOf<F, A>>

  // ------------------------------------------------- collectives, buffers

  /** Broadcasts the root's `buf` into every rank's `buf`. */
  Bcast<T extends Codec.TypedArray>(buf: T, root?: number): Later<F, T>
  /** Non-blocking Bcast. */
  Ibcast<T extends Codec.TypedArray>(buf: T, root?: number): Now<F, RequestOf<F, T>>
  /** Block i of the root's `sendbuf` into rank i's `recvbuf`. */
  Scatter<T extends Codec.TypedArray>(sendbuf: T | undefined, recvbuf: T, root?: number): Later<F, T>
  /** Non-blocking Scatter. */
  Iscatter<T extends Codec.TypedArray>(sendbuf: T | undefined, recvbuf: T, root?: number): Now<F, RequestOf<F, T>>
  /** Scatter with `counts` and `displs` (elements) per rank. */
  Scatterv<T extends Codec.TypedArray>(
    sendbuf: T | undefined,
    counts: ReadonlyArray<number> | undefined,
    displs: ReadonlyArray<number> | undefined,
    recvbuf: T,
    root?: number
  ): Later<F, T>
  /** Every rank's `sendbuf` as block i of the root's `recvbuf`. */
  Gather<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T | undefined, root?: number): Later<F, T | undefined>
  /** Non-blocking Gather. */
  Igather<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T | undefined, root?: number): Now<F, RequestOf<F, T | undefined>>
  /** Gather with `counts` and `displs` (elements) per rank. */
  Gatherv<T extends Codec.TypedArray>(
    sendbuf: T,
    recvbuf: T | undefined,
    counts: ReadonlyArray<number> | undefined,
    displs?: ReadonlyArray<number>,
    root?: number
  ): Later<F, T | undefined>
  /** Every rank's `sendbuf` as block i of every rank's `recvbuf`. */
  Allgather<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T): Later<F, T>
  /** Non-blocking Allgather. */
  Iallgather<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T): Now<F, RequestOf<F, T>>
  /** Allgather with `counts` and `displs` (elements) per rank. */
  Allgatherv<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T, counts: ReadonlyArray<number>, displs?: ReadonlyArray<number>): Later<F, T>
  /** Block i of `sendbuf` to rank i; rank i's block into block i of `recvbuf`. */
  Alltoall<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T): Later<F, T>
  /** Non-blocking Alltoall. */
  Ialltoall<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T): Now<F, RequestOf<F, T>>
  /** Alltoall with counts and displacements (elements) per rank, both ways. */
  Alltoallv<T extends Codec.TypedArray>(
    sendbuf: T,
    sendcounts: ReadonlyArray<number>,
    sdispls: ReadonlyArray<number> | undefined,
    recvbuf: T,
    recvcounts: ReadonlyArray<number>,
    rdispls?: ReadonlyArray<number>
  ): Later<F, T>
  /** `sendbuf` reduced element by element into the root's `recvbuf`. */
  Reduce<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T | undefined, op?: Op.Op, root?: number): Later<F, T | undefined>
  /** Non-blocking Reduce. */
  Ireduce<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T | undefined, op?: Op.Op, root?: number): Now<F, RequestOf<F, T | undefined>>
  /** `sendbuf` reduced element by element into every rank's `recvbuf` (which may be `sendbuf`). */
  Allreduce<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T, op?: Op.Op): Later<F, T>
  /** Non-blocking Allreduce. */
  Iallreduce<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T, op?: Op.Op): Now<F, RequestOf<F, T>>
  /** `sendbuf` (size equal blocks) reduced element by element; block i into rank i's `recvbuf`. */
  ReduceScatterBlock<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T, op?: Op.Op): Later<F, T>
}

// --------------------------------------------------------------- the table

/** A face that names the shapes, so the table's kinds can be read off `Ops`. */
interface LaterBox<A> {
  readonly later: A
}
interface NowBox<A> {
  readonly now: A
}
interface KindFace extends Face {
  readonly Later: LaterBox<this["A"]>
  readonly Now: NowBox<this["A"]>
  readonly Request: "request"
  readonly Prequest: "prequest"
  readonly Comm: "comm"
}

/** The operations as `Ops` over the kind-naming face. */
type Shapes = Ops<KindFace>

/** An operation's name. */
export type OpName = keyof Shapes

/** An operation's kind. */
export type Kind = "property" | "commProperty" | "blocking" | "comm" | "request" | "persistent" | "local"

/** The kind an operation's declared return type calls for. */
type KindOf<M> = M extends (...args: any) => infer R ? R extends { readonly now: "request" } ? "request"
  : R extends { readonly now: "prequest" } ? "persistent"
  : R extends { readonly now: unknown } ? "local"
  : R extends { readonly later: "comm" | undefined } ? "comm"
  : R extends { readonly later: unknown } ? "blocking"
  : never
  : M extends "comm" ? "commProperty"
  : "property"

type Args<M> = M extends (...args: infer P) => any ? P : never
type NowValue<M> = M extends (...args: any) => { readonly now: infer V } ? V : never

/** Where an operation sits in the documentation. */
export type Family = "communicator" | "point-to-point" | "point-to-point (buffers)" | "collective" | "collective (buffers)"

interface Common {
  readonly family: Family
  /** The arguments as the documentation shows them. */
  readonly args?: string
}

type SpecByKind<M> = {
  readonly property: { readonly kind: "property"; readonly get: (c: CommCore) => M }
  readonly commProperty: { readonly kind: "commProperty"; readonly get: (c: CommCore) => CommCore }
  readonly blocking: {
    readonly kind: "blocking"
    readonly start: (c: CommCore, ...args: Args<M>) => Req
    /** Index of the `status` argument the completion fills. */
    readonly status?: number
    /** Completes with the status record (a new one when none is passed) instead of the request's value. */
    readonly returnsStatus?: true
  }
  readonly comm: { readonly kind: "comm"; readonly start: (c: CommCore, ...args: Args<M>) => Req }
  readonly request: { readonly kind: "request"; readonly start: (c: CommCore, ...args: Args<M>) => Req }
  readonly persistent: { readonly kind: "persistent"; readonly start: (c: CommCore, ...args: Args<M>) => Preq }
  readonly local: { readonly kind: "local"; readonly call: (c: CommCore, ...args: Args<M>) => NowValue<M> }
}

/** The table entry an operation of declared shape `M` needs. */
export type Spec<M> = Common & SpecByKind<M>[KindOf<M>]

const checkedSend = (c: CommCore, buf: Codec.RawValue, op: string): Codec.RawValue => {
  c.checkSendBuffer(buf, op)
  return buf
}

/**
 * Every communicator operation: its kind and how it maps onto `CommCore`.
 * Both faces are installed from it; docs/api.md's face table lists it.
 */
export const OPS: { readonly [K in OpName]: Spec<Shapes[K]> } = {
  rank: { family: "communicator", kind: "property", get: (c) => c.rank },
  size: { family: "communicator", kind: "property", get: (c) => c.size },
  group: { family: "communicator", kind: "property", get: (c) => c.group },
  COMM_SELF: { family: "communicator", kind: "commProperty", get: (c) => c.self },
  COMM_WORLD: { family: "communicator", kind: "commProperty", get: (c) => c.world },

  send: { family: "point-to-point", args: "data, dest, tag = 0", kind: "blocking", start: (c, data, dest, tag = 0) => c.isend(data, dest, tag, "send") },
  recv: {
    family: "point-to-point",
    args: "source = ANY_SOURCE, tag = ANY_TAG, status?",
    kind: "blocking",
    status: 2,
    start: (c, source = ANY_SOURCE, tag = ANY_TAG) => c.irecv(source, tag, undefined, "recv")
  },
  isend: { family: "point-to-point", args: "data, dest, tag = 0", kind: "request", start: (c, data, dest, tag = 0) => c.isend(data, dest, tag, "isend") },
  irecv: {
    family: "point-to-point",
    args: "source = ANY_SOURCE, tag = ANY_TAG",
    kind: "request",
    start: (c, source = ANY_SOURCE, tag = ANY_TAG) => c.irecv(source, tag, undefined, "irecv")
  },
  sendrecv: {
    family: "point-to-point",
    args: "data, dest, sendtag = 0, source = ANY_SOURCE, recvtag = ANY_TAG, status?",
    kind: "blocking",
    status: 5,
    start: (c, data, dest, sendtag = 0, source = ANY_SOURCE, recvtag = ANY_TAG) => c.sendrecv(data, dest, sendtag, source, recvtag, undefined)
  },
  probe: {
    family: "point-to-point",
    args: "source = ANY_SOURCE, tag = ANY_TAG, status?",
    kind: "blocking",
    status: 2,
    returnsStatus: true,
    start: (c, source = ANY_SOURCE, tag = ANY_TAG) => c.probe(source, tag)
  },
  iprobe: {
    family: "point-to-point",
    args: "source = ANY_SOURCE, tag = ANY_TAG, status?",
    kind: "local",
    call: (c, source = ANY_SOURCE, tag = ANY_TAG, status) => {
      const into = new Req("iprobe")
      const hit = c.iprobe(source, tag, into)
      if (hit) into.fill(status)
      return hit
    }
  },
  sendInit: { family: "point-to-point", args: "data, dest, tag = 0", kind: "persistent", start: (c, data, dest, tag = 0) => c.sendInit(data, dest, tag) },
  recvInit: {
    family: "point-to-point",
    args: "source = ANY_SOURCE, tag = ANY_TAG",
    kind: "persistent",
    start: (c, source = ANY_SOURCE, tag = ANY_TAG) => c.recvInit(source, tag, undefined)
  },

  Send: { family: "point-to-point (buffers)", args: "buf, dest, tag = 0", kind: "blocking", start: (c, buf, dest, tag = 0) => c.isend(checkedSend(c, buf, "Send"), dest, tag, "Send") },
  Recv: {
    family: "point-to-point (buffers)",
    args: "buf, source = ANY_SOURCE, tag = ANY_TAG, status?",
    kind: "blocking",
    status: 3,
    start: (c, buf, source = ANY_SOURCE, tag = ANY_TAG) => c.irecv(source, tag, buf, "Recv")
  },
  Isend: { family: "point-to-point (buffers)", args: "buf, dest, tag = 0", kind: "request", start: (c, buf, dest, tag = 0) => c.isend(checkedSend(c, buf, "Isend"), dest, tag, "Isend") },
  Irecv: {
    family: "point-to-point (buffers)",
    args: "buf, source = ANY_SOURCE, tag = ANY_TAG",
    kind: "request",
    start: (c, buf, source = ANY_SOURCE, tag = ANY_TAG) => c.irecv(source, tag, buf, "Irecv")
  },
  Sendrecv: {
    family: "point-to-point (buffers)",
    args: "sendbuf, dest, sendtag, recvbuf, source = ANY_SOURCE, recvtag = ANY_TAG, status?",
    kind: "blocking",
    status: 6,
    start: (c, sendbuf, dest, sendtag, recvbuf, source = ANY_SOURCE, recvtag = ANY_TAG) =>
      c.sendrecv(checkedSend(c, sendbuf, "Sendrecv"), dest, sendtag, source, recvtag, recvbuf, "Sendrecv")
  },
  SendInit: { family: "point-to-point (buffers)", args: "buf, dest, tag = 0", kind: "persistent", start: (c, buf, dest, tag = 0) => c.sendInit(checkedSend(c, buf, "SendInit"), dest, tag) },
  RecvInit: {
    family: "point-to-point (buffers)",
    args: "buf, source = ANY_SOURCE, tag = ANY_TAG",
    kind: "persistent",
    start: (c, buf, source = ANY_SOURCE, tag = ANY_TAG) => c.recvInit(source, tag, buf)
  },

  dup: { family: "communicator", args: "", kind: "comm", start: (c) => c.dup() },
  split: { family: "communicator", args: "color, key = rank", kind: "comm", start: (c, color, key = c.rank) => c.split(color, key) },
  create: { family: "communicator", args: "group", kind: "comm", start: (c, group) => c.create(group) },
  free: { family: "communicator", args: "", kind: "local", call: (c) => c.free() },

  barrier: { family: "collective", args: "", kind: "blocking", start: (c) => Barrier.barrier(c) },
  ibarrier: { family: "collective", args: "", kind: "request", start: (c) => Barrier.barrier(c, "ibarrier") },
  bcast: { family: "collective", args: "data, root = 0", kind: "blocking", start: (c, data, root = 0) => Bcast.bcast(c, data, root) },
  ibcast: { family: "collective", args: "data, root = 0", kind: "request", start: (c, data, root = 0) => Bcast.bcast(c, data, root, undefined, "ibcast") },
  scatter: { family: "collective", args: "items, root = 0", kind: "blocking", start: (c, data, root = 0) => Gather.scatter(c, data, root) },
  iscatter: { family: "collective", args: "items, root = 0", kind: "request", start: (c, data, root = 0) => Gather.scatter(c, data, root, "iscatter") },
  gather: { family: "collective", args: "data, root = 0", kind: "blocking", start: (c, data, root = 0) => Gather.gather(c, data, root) },
  igather: { family: "collective", args: "data, root = 0", kind: "request", start: (c, data, root = 0) => Gather.gather(c, data, root, "igather") },
  allgather: { family: "collective", args: "data", kind: "blocking", start: (c, data) => Gather.allgather(c, data) },
  iallgather: { family: "collective", args: "data", kind: "request", start: (c, data) => Gather.allgather(c, data, "iallgather") },
  alltoall: { family: "collective", args: "items", kind: "blocking", start: (c, data) => Alltoall.alltoall(c, data) },
  ialltoall: { family: "collective", args: "items", kind: "request", start: (c, data) => Alltoall.alltoall(c, data, "ialltoall") },
  reduce: { family: "collective", args: "data, op = Op.SUM, root = 0", kind: "blocking", start: (c, data, op = Op.SUM, root = 0) => Reduce.reduce(c, data, op, root) },
  ireduce: { family: "collective", args: "data, op = Op.SUM, root = 0", kind: "request", start: (c, data, op = Op.SUM, root = 0) => Reduce.reduce(c, data, op, root, "ireduce") },
  allreduce: { family: "collective", args: "data, op = Op.SUM", kind: "blocking", start: (c, data, op = Op.SUM) => Reduce.allreduce(c, data, op) },
  iallreduce: { family: "collective", args: "data, op = Op.SUM", kind: "request", start: (c, data, op = Op.SUM) => Reduce.allreduce(c, data, op, "iallreduce") },
  scan: { family: "collective", args: "data, op = Op.SUM", kind: "blocking", start: (c, data, op = Op.SUM) => Scan.scan(c, data, op) },
  iscan: { family: "collective", args: "data, op = Op.SUM", kind: "request", start: (c, data, op = Op.SUM) => Scan.scan(c, data, op, "iscan") },
  exscan: { family: "collective", args: "data, op = Op.SUM", kind: "blocking", start: (c, data, op = Op.SUM) => Scan.exscan(c, data, op) },
  iexscan: { family: "collective", args: "data, op = Op.SUM", kind: "request", start: (c, data, op = Op.SUM) => Scan.exscan(c, data, op, "iexscan") },
  reduceScatter: { family: "collective", args: "items, op = Op.SUM", kind: "blocking", start: (c, data, op = Op.SUM) => Reduce.reduceScatter(c, data, op) },
  ireduceScatter: {
    family: "collective",
    args: "items, op = Op.SUM",
    kind: "request",
    start: (c, data, op = Op.SUM) => Reduce.reduceScatter(c, data, op, "ireduceScatter")
  },

  Bcast: { family: "collective (buffers)", args: "buf, root = 0", kind: "blocking", start: (c, buf, root = 0) => Bcast.bcast(c, buf, root, buf, "Bcast") },
  Ibcast: { family: "collective (buffers)", args: "buf, root = 0", kind: "request", start: (c, buf, root = 0) => Bcast.bcast(c, buf, root, buf, "Ibcast") },
  Scatter: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf, root = 0",
    kind: "blocking",
    start: (c, sendbuf, recvbuf, root = 0) => Gather.Scatterv(c, sendbuf, undefined, undefined, recvbuf, root)
  },
  Iscatter: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf, root = 0",
    kind: "request",
    start: (c, sendbuf, recvbuf, root = 0) => Gather.Scatterv(c, sendbuf, undefined, undefined, recvbuf, root, "Iscatter")
  },
  Scatterv: {
    family: "collective (buffers)",
    args: "sendbuf, counts, displs, recvbuf, root = 0",
    kind: "blocking",
    start: (c, sendbuf, counts, displs, recvbuf, root = 0) => Gather.Scatterv(c, sendbuf, counts ?? [], displs, recvbuf, root, "Scatterv")
  },
  Gather: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf, root = 0",
    kind: "blocking",
    start: (c, sendbuf, recvbuf, root = 0) => Gather.Gatherv(c, sendbuf, recvbuf, undefined, undefined, root)
  },
  Igather: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf, root = 0",
    kind: "request",
    start: (c, sendbuf, recvbuf, root = 0) => Gather.Gatherv(c, sendbuf, recvbuf, undefined, undefined, root, "Igather")
  },
  Gatherv: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf, counts, displs?, root = 0",
    kind: "blocking",
    start: (c, sendbuf, recvbuf, counts, displs, root = 0) => Gather.Gatherv(c, sendbuf, recvbuf, counts ?? [], displs, root, "Gatherv")
  },
  Allgather: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf",
    kind: "blocking",
    start: (c, sendbuf, recvbuf) => Gather.Allgatherv(c, sendbuf, recvbuf, undefined, undefined)
  },
  Iallgather: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf",
    kind: "request",
    start: (c, sendbuf, recvbuf) => Gather.Allgatherv(c, sendbuf, recvbuf, undefined, undefined, "Iallgather")
  },
  Allgatherv: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf, counts, displs?",
    kind: "blocking",
    start: (c, sendbuf, recvbuf, counts, displs) => Gather.Allgatherv(c, sendbuf, recvbuf, counts, displs, "Allgatherv")
  },
  Alltoall: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf",
    kind: "blocking",
    start: (c, sendbuf, recvbuf) => Alltoall.Alltoallv(c, sendbuf, undefined, undefined, recvbuf, undefined, undefined)
  },
  Ialltoall: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf",
    kind: "request",
    start: (c, sendbuf, recvbuf) => Alltoall.Alltoallv(c, sendbuf, undefined, undefined, recvbuf, undefined, undefined, "Ialltoall")
  },
  Alltoallv: {
    family: "collective (buffers)",
    args: "sendbuf, sendcounts, sdispls, recvbuf, recvcounts, rdispls?",
    kind: "blocking",
    start: (c, sendbuf, sendcounts, sdispls, recvbuf, recvcounts, rdispls) =>
      Alltoall.Alltoallv(c, sendbuf, sendcounts, sdispls, recvbuf, recvcounts, rdispls, "Alltoallv")
  },
  Reduce: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf, op = Op.SUM, root = 0",
    kind: "blocking",
    start: (c, sendbuf, recvbuf, op = Op.SUM, root = 0) => Reduce.Reduce(c, sendbuf, recvbuf, op, root)
  },
  Ireduce: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf, op = Op.SUM, root = 0",
    kind: "request",
    start: (c, sendbuf, recvbuf, op = Op.SUM, root = 0) => Reduce.Reduce(c, sendbuf, recvbuf, op, root, "Ireduce")
  },
  Allreduce: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf, op = Op.SUM",
    kind: "blocking",
    start: (c, sendbuf, recvbuf, op = Op.SUM) => Reduce.Allreduce(c, sendbuf, recvbuf, op)
  },
  Iallreduce: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf, op = Op.SUM",
    kind: "request",
    start: (c, sendbuf, recvbuf, op = Op.SUM) => Reduce.Allreduce(c, sendbuf, recvbuf, op, "Iallreduce")
  },
  ReduceScatterBlock: {
    family: "collective (buffers)",
    args: "sendbuf, recvbuf, op = Op.SUM",
    kind: "blocking",
    start: (c, sendbuf, recvbuf, op = Op.SUM) => Reduce.ReduceScatterBlock(c, sendbuf, recvbuf, op)
  }
}

/** The operations' names, in table order. */
export const OP_NAMES: ReadonlyArray<OpName> = Object.keys(OPS) as Array<OpName>

// ----------------------------------------------------------- installation

/** How one face wraps the core's work: the only face-specific code. */
export interface FaceRuntime {
  /** Runs `start` and completes with its request's value (or `then` of it), filling `status()`. */
  readonly later: (core: CommCore, start: () => Req, status: () => Status | undefined, then?: (value: unknown, status: Status | undefined) => unknown) => unknown
  /** Runs `f` at once: its value, or its typed error. */
  readonly now: (f: () => unknown) => unknown
  readonly request: (core: CommCore, r: Req) => unknown
  readonly prequest: (core: CommCore, p: Preq) => unknown
  readonly comm: (core: CommCore) => unknown
}

interface Host {
  readonly core: CommCore
}

/** A table entry seen without its per-operation argument types. */
type Loose = Common & {
  readonly kind: Kind
  readonly get?: (c: CommCore) => unknown
  readonly start?: (c: CommCore, ...args: Array<unknown>) => Req & Preq
  readonly call?: (c: CommCore, ...args: Array<unknown>) => unknown
  readonly status?: number
  readonly returnsStatus?: true
}

const method = (face: FaceRuntime, spec: Loose): (this: Host, ...args: Array<unknown>) => unknown => {
  const start = spec.start!
  switch (spec.kind) {
    case "blocking": {
      const at = spec.status
      const own = spec.returnsStatus === true
      return function(this: Host, ...args) {
        const core = this.core
        return face.later(
          core,
          () => start(core, ...args),
          () => (at === undefined ? undefined : (args[at] as Status | undefined) ?? (own ? new Status() : undefined)),
          own ? (_, status) => status : undefined
        )
      }
    }
    case "comm":
      return function(this: Host, ...args) {
        const core = this.core
        return face.later(core, () => start(core, ...args), () => undefined, (c) => (c === undefined ? undefined : face.comm(c as CommCore)))
      }
    case "request":
      return function(this: Host, ...args) {
        const core = this.core
        return face.now(() => face.request(core, start(core, ...args)))
      }
    case "persistent":
      return function(this: Host, ...args) {
        const core = this.core
        return face.now(() => face.prequest(core, start(core, ...args)))
      }
    default:
      throw new Error(`rankflow: no method for an operation of kind ${spec.kind}`)
  }
}

/**
 * Puts every operation of the table on `proto` (a face class's prototype):
 * getters for the properties, methods for the rest, wrapped by `face`.
 */
export const install = (proto: object, face: FaceRuntime): void => {
  for (const name of OP_NAMES) {
    const spec = OPS[name] as Loose
    let d: PropertyDescriptor
    if (spec.kind === "property") {
      const get = spec.get!
      d = { get(this: Host) { return get(this.core) } }
    } else if (spec.kind === "commProperty") {
      const get = spec.get!
      d = { get(this: Host) { return face.comm(get(this.core) as CommCore) } }
    } else if (spec.kind === "local") {
      const call = spec.call!
      d = { value(this: Host, ...args: Array<unknown>) { return face.now(() => call(this.core, ...args)) }, writable: true }
    } else {
      const f = method(face, spec)
      Object.defineProperty(f, "name", { value: name })
      d = { value: f, writable: true }
    }
    Object.defineProperty(proto, name, { ...d, configurable: true, enumerable: false })
  }
}
