/**
 * The communicator, Promise face: mpi4py's names, camelCased, returning
 * Promises.
 *
 * Lowercase methods carry any value the codec can (objects, arrays, numbers,
 * bigints, typed arrays...). Capitalized methods are mpi4py's buffer API:
 * they send a typed array's bytes and receive into a preallocated typed array
 * (`Recv(buf, ...)`), checked for type and length.
 *
 * Calls that start work and hand back a handle (`isend`, `irecv`,
 * `sendInit`, `recvInit`, ...) return it at once and throw a typed error for
 * a bad argument; calls that complete later return a Promise that rejects
 * with one.
 *
 * @example
 * ```ts
 * import type { Comm } from "rankflow/promise"
 * export default async (comm: Comm) => {
 *   if (comm.rank === 0) await comm.send({ hello: "world" }, 1, 7)
 *   if (comm.rank === 1) return await comm.recv(0, 7)
 * }
 * ```
 * @since 0.1.0
 */
import * as Codec from "../Codec.ts"
import * as Alltoall from "../collectives/Alltoall.ts"
import * as Barrier from "../collectives/Barrier.ts"
import * as Bcast from "../collectives/Bcast.ts"
import * as Gather from "../collectives/Gather.ts"
import * as Reduce from "../collectives/Reduce.ts"
import * as Scan from "../collectives/Scan.ts"
import type { Group } from "../Group.ts"
import type { CommCore } from "../internal/CommCore.ts"
import * as Op from "../Op.ts"
import { Req } from "../internal/Req.ts"
import { ANY_SOURCE, ANY_TAG } from "../Matching.ts"
import { Status } from "../Status.ts"
import { Prequest, Request, run, waitReq } from "./Request.ts"


/**
 * A communicator (Promise face).
 *
 * @category models
 * @since 0.1.0
 */
export class Comm {
  /** @internal */
  readonly core: CommCore
  constructor(core: CommCore) {
    this.core = core
  }

  /** This rank's number in the communicator. */
  get rank(): number {
    return this.core.rank
  }

  /** Number of ranks in the communicator. */
  get size(): number {
    return this.core.size
  }

  // ------------------------------------------------------------- objects

  /** Sends `data` to `dest`; resolves when `data` may be reused. */
  send(data: unknown, dest: number, tag = 0): Promise<void> {
    let r: Req
    try {
      r = this.core.isend(data, dest, tag, "send")
    } catch (e) {
      return Promise.reject(e)
    }
    return waitReq(this.core, r)
  }

  /** Receives a message; fills `status` if given. */
  recv<A = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Promise<A> {
    let r: Req
    try {
      r = this.core.irecv(source, tag, undefined, "recv")
    } catch (e) {
      return Promise.reject(e)
    }
    return waitReq<A>(this.core, r, status)
  }

  /** Starts a send. */
  isend(data: unknown, dest: number, tag = 0): Request<void> {
    return new Request(this.core, this.core.isend(data, dest, tag, "isend"))
  }

  /** Posts a receive. */
  irecv<A = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG): Request<A> {
    return new Request(this.core, this.core.irecv(source, tag, undefined, "irecv"))
  }

  /** Sends to `dest` and receives from `source` at once (no deadlock in rings). */
  sendrecv<A = unknown>(
    data: unknown,
    dest: number,
    sendtag = 0,
    source: number = ANY_SOURCE,
    recvtag: number = ANY_TAG,
    status?: Status
  ): Promise<A> {
    return run<A>(this.core, () => this.core.sendrecv(data, dest, sendtag, source, recvtag, undefined), status)
  }

  /** Waits until a matching message is there, without receiving it. */
  probe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status: Status = new Status()): Promise<Status> {
    return run<unknown>(this.core, () => this.core.probe(source, tag), status).then(() => status)
  }

  /** Is a matching message there now? Fills `status` when it is. */
  iprobe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): boolean {
    const into = new Req("iprobe")
    const hit = this.core.iprobe(source, tag, into)
    if (hit) into.fill(status)
    return hit
  }

  /** A persistent send of `data` (read again at each `start`). */
  sendInit(data: unknown, dest: number, tag = 0): Prequest<void> {
    return new Prequest(this.core, this.core.sendInit(data, dest, tag))
  }

  /** A persistent receive. */
  recvInit<A = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG): Prequest<A> {
    return new Prequest(this.core, this.core.recvInit(source, tag, undefined))
  }

  // ------------------------------------------------------------- buffers

  /** Sends a typed array's bytes (mpi4py `Send`). */
  Send(buf: Codec.RawValue, dest: number, tag = 0): Promise<void> {
    return run(this.core, () => {
      this.core.checkSendBuffer(buf, "Send")
      return this.core.isend(buf, dest, tag, "Send")
    })
  }

  /**
   * Receives into `buf` (mpi4py `Recv`): the message must be a typed array of
   * the same kind and no longer than `buf` (else `TypeMismatch` or
   * `Truncated`). Resolves to `buf`; `status.count` has the bytes received.
   */
  Recv<T extends ArrayBufferView>(buf: T, source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Promise<T> {
    return run<T>(this.core, () => this.core.irecv(source, tag, buf, "Recv"), status)
  }

  /** Starts a buffer send. */
  Isend(buf: Codec.RawValue, dest: number, tag = 0): Request<void> {
    this.core.checkSendBuffer(buf, "Isend")
    return new Request(this.core, this.core.isend(buf, dest, tag, "Isend"))
  }

  /** Posts a receive into `buf`. */
  Irecv<T extends ArrayBufferView>(buf: T, source: number = ANY_SOURCE, tag: number = ANY_TAG): Request<T> {
    return new Request(this.core, this.core.irecv(source, tag, buf, "Irecv"))
  }

  /** Sends `sendbuf` and receives into `recvbuf` at once. */
  Sendrecv<T extends ArrayBufferView>(
    sendbuf: Codec.RawValue,
    dest: number,
    sendtag: number,
    recvbuf: T,
    source: number = ANY_SOURCE,
    recvtag: number = ANY_TAG,
    status?: Status
  ): Promise<T> {
    return run<T>(this.core, () => {
      this.core.checkSendBuffer(sendbuf, "Sendrecv")
      return this.core.sendrecv(sendbuf, dest, sendtag, source, recvtag, recvbuf, "Sendrecv")
    }, status)
  }

  /** A persistent buffer send. */
  SendInit(buf: Codec.RawValue, dest: number, tag = 0): Prequest<void> {
    this.core.checkSendBuffer(buf, "SendInit")
    return this.sendInit(buf, dest, tag)
  }

  /** A persistent receive into `buf`. */
  RecvInit<T extends ArrayBufferView>(buf: T, source: number = ANY_SOURCE, tag: number = ANY_TAG): Prequest<T> {
    return new Prequest(this.core, this.core.recvInit(source, tag, buf))
  }

  /** Waits for an engine request of this communicator. @internal */
  waitReq<A>(r: Req, status?: Status): Promise<A> {
    return waitReq<A>(this.core, r, status)
  }

  private w<A>(start: () => Req): Promise<A> {
    return run<A>(this.core, start)
  }

  private h<A>(start: () => Req): Request<A> {
    return new Request<A>(this.core, start())
  }

  // ------------------------------------------------------ communicators

  /** The members, as a group. */
  get group(): Group {
    return this.core.group
  }

  /** The communicator of this rank alone. */
  get COMM_SELF(): Comm {
    return new Comm(this.core.self)
  }

  /** The world communicator. */
  get COMM_WORLD(): Comm {
    return new Comm(this.core.world)
  }

  /** A new communicator with the same members and its own context (collective). */
  dup(): Promise<Comm> {
    return this.w<CommCore>(() => this.core.dup()).then((c) => new Comm(c))
  }

  /**
   * Ranks passing the same `color` form a new communicator, ordered by `key`
   * (then by rank); color UNDEFINED gives undefined (collective).
   */
  split(color: number, key: number = this.rank): Promise<Comm | undefined> {
    return this.w<CommCore | undefined>(() => this.core.split(color, key)).then((c) => (c === undefined ? undefined : new Comm(c)))
  }

  /** A communicator on `group`; undefined on ranks outside it (collective). */
  create(group: Group): Promise<Comm | undefined> {
    return this.w<CommCore | undefined>(() => this.core.create(group)).then((c) => (c === undefined ? undefined : new Comm(c)))
  }

  /** Releases the communicator; receives pending on it fail. */
  free(): void {
    this.core.free()
  }

  // ------------------------------------------------ collectives (values)

  /** Waits until every rank has called it (dissemination). */
  barrier(): Promise<void> {
    return this.w(() => Barrier.barrier(this.core))
  }

  /** Non-blocking barrier. */
  ibarrier(): Request<void> {
    return this.h(() => Barrier.barrier(this.core, "ibarrier"))
  }

  /** `root`'s `data` on every rank (binomial tree). */
  bcast<A>(data: A, root = 0): Promise<A> {
    return this.w(() => Bcast.bcast(this.core, data, root))
  }

  /** Non-blocking bcast. */
  ibcast<A>(data: A, root = 0): Request<A> {
    return this.h(() => Bcast.bcast(this.core, data, root, undefined, "ibcast"))
  }

  /** Item i of the root's array (of `size` items) to rank i. */
  scatter<A>(data: ReadonlyArray<A> | undefined, root = 0): Promise<A> {
    return this.w(() => Gather.scatter(this.core, data, root))
  }

  /** Non-blocking scatter. */
  iscatter<A>(data: ReadonlyArray<A> | undefined, root = 0): Request<A> {
    return this.h(() => Gather.scatter(this.core, data, root, "iscatter"))
  }

  /** Every rank's `data`, in rank order, at `root` (undefined elsewhere). */
  gather<A>(data: A, root = 0): Promise<Array<A> | undefined> {
    return this.w(() => Gather.gather(this.core, data, root))
  }

  /** Non-blocking gather. */
  igather<A>(data: A, root = 0): Request<Array<A> | undefined> {
    return this.h(() => Gather.gather(this.core, data, root, "igather"))
  }

  /** Every rank's `data`, in rank order, on every rank. */
  allgather<A>(data: A): Promise<Array<A>> {
    return this.w(() => Gather.allgather(this.core, data))
  }

  /** Non-blocking allgather. */
  iallgather<A>(data: A): Request<Array<A>> {
    return this.h(() => Gather.allgather(this.core, data, "iallgather"))
  }

  /** Item i of `data` (an array of `size` items) to rank i; the items received, in rank order. */
  alltoall<A>(data: ReadonlyArray<A>): Promise<Array<A>> {
    return this.w(() => Alltoall.alltoall(this.core, data))
  }

  /** Non-blocking alltoall. */
  ialltoall<A>(data: ReadonlyArray<A>): Request<Array<A>> {
    return this.h(() => Alltoall.alltoall(this.core, data, "ialltoall"))
  }

  /** `data` reduced over all ranks with `op`, at `root` (undefined elsewhere). */
  reduce<A>(data: A, op: Op.Op = Op.SUM, root = 0): Promise<A | undefined> {
    return this.w(() => Reduce.reduce(this.core, data, op, root))
  }

  /** Non-blocking reduce. */
  ireduce<A>(data: A, op: Op.Op = Op.SUM, root = 0): Request<A | undefined> {
    return this.h(() => Reduce.reduce(this.core, data, op, root, "ireduce"))
  }

  /** `data` reduced over all ranks with `op`, on every rank. */
  allreduce<A>(data: A, op: Op.Op = Op.SUM): Promise<A> {
    return this.w(() => Reduce.allreduce(this.core, data, op))
  }

  /** Non-blocking allreduce. */
  iallreduce<A>(data: A, op: Op.Op = Op.SUM): Request<A> {
    return this.h(() => Reduce.allreduce(this.core, data, op, "iallreduce"))
  }

  /** The reduction of ranks 0..rank (inclusive prefix). */
  scan<A>(data: A, op: Op.Op = Op.SUM): Promise<A> {
    return this.w(() => Scan.scan(this.core, data, op))
  }

  /** Non-blocking scan. */
  iscan<A>(data: A, op: Op.Op = Op.SUM): Request<A> {
    return this.h(() => Scan.scan(this.core, data, op, "iscan"))
  }

  /** The reduction of ranks 0..rank-1 (exclusive prefix); undefined on rank 0. */
  exscan<A>(data: A, op: Op.Op = Op.SUM): Promise<A | undefined> {
    return this.w(() => Scan.exscan(this.core, data, op))
  }

  /** Non-blocking exscan. */
  iexscan<A>(data: A, op: Op.Op = Op.SUM): Request<A | undefined> {
    return this.h(() => Scan.exscan(this.core, data, op, "iexscan"))
  }

  /** Each rank passes `size` items; rank i gets item i reduced over all ranks. */
  reduceScatter<A>(data: ReadonlyArray<A>, op: Op.Op = Op.SUM): Promise<A> {
    return this.w(() => Reduce.reduceScatter(this.core, data, op))
  }

  /** Non-blocking reduceScatter. */
  ireduceScatter<A>(data: ReadonlyArray<A>, op: Op.Op = Op.SUM): Request<A> {
    return this.h(() => Reduce.reduceScatter(this.core, data, op, "ireduceScatter"))
  }

  // ----------------------------------------------- collectives (buffers)

  /** Broadcasts the root's `buf` into every rank's `buf`. */
  Bcast<T extends Codec.TypedArray>(buf: T, root = 0): Promise<T> {
    return this.w(() => Bcast.bcast(this.core, buf, root, buf, "Bcast"))
  }

  /** Non-blocking Bcast. */
  Ibcast<T extends Codec.TypedArray>(buf: T, root = 0): Request<T> {
    return this.h(() => Bcast.bcast(this.core, buf, root, buf, "Ibcast"))
  }

  /** Block i of the root's `sendbuf` into rank i's `recvbuf`. */
  Scatter<T extends Codec.TypedArray>(sendbuf: T | undefined, recvbuf: T, root = 0): Promise<T> {
    return this.w(() => Gather.Scatterv(this.core, sendbuf, undefined, undefined, recvbuf, root))
  }

  /** Non-blocking Scatter. */
  Iscatter<T extends Codec.TypedArray>(sendbuf: T | undefined, recvbuf: T, root = 0): Request<T> {
    return this.h(() => Gather.Scatterv(this.core, sendbuf, undefined, undefined, recvbuf, root, "Iscatter"))
  }

  /** Scatter with `counts` and `displs` (elements) per rank. */
  Scatterv<T extends Codec.TypedArray>(sendbuf: T | undefined, counts: ReadonlyArray<number> | undefined, displs: ReadonlyArray<number> | undefined, recvbuf: T, root = 0): Promise<T> {
    return this.w(() => Gather.Scatterv(this.core, sendbuf, counts ?? [], displs, recvbuf, root, "Scatterv"))
  }

  /** Every rank's `sendbuf` as block i of the root's `recvbuf`. */
  Gather<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T | undefined, root = 0): Promise<T | undefined> {
    return this.w(() => Gather.Gatherv(this.core, sendbuf, recvbuf, undefined, undefined, root))
  }

  /** Non-blocking Gather. */
  Igather<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T | undefined, root = 0): Request<T | undefined> {
    return this.h(() => Gather.Gatherv(this.core, sendbuf, recvbuf, undefined, undefined, root, "Igather"))
  }

  /** Gather with `counts` and `displs` (elements) per rank. */
  Gatherv<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T | undefined, counts: ReadonlyArray<number> | undefined, displs?: ReadonlyArray<number>, root = 0): Promise<T | undefined> {
    return this.w(() => Gather.Gatherv(this.core, sendbuf, recvbuf, counts ?? [], displs, root, "Gatherv"))
  }

  /** Every rank's `sendbuf` as block i of every rank's `recvbuf`. */
  Allgather<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T): Promise<T> {
    return this.w(() => Gather.Allgatherv(this.core, sendbuf, recvbuf, undefined, undefined))
  }

  /** Non-blocking Allgather. */
  Iallgather<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T): Request<T> {
    return this.h(() => Gather.Allgatherv(this.core, sendbuf, recvbuf, undefined, undefined, "Iallgather"))
  }

  /** Allgather with `counts` and `displs` (elements) per rank. */
  Allgatherv<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T, counts: ReadonlyArray<number>, displs?: ReadonlyArray<number>): Promise<T> {
    return this.w(() => Gather.Allgatherv(this.core, sendbuf, recvbuf, counts, displs, "Allgatherv"))
  }

  /** Block i of `sendbuf` to rank i; rank i's block into block i of `recvbuf`. */
  Alltoall<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T): Promise<T> {
    return this.w(() => Alltoall.Alltoallv(this.core, sendbuf, undefined, undefined, recvbuf, undefined, undefined))
  }

  /** Non-blocking Alltoall. */
  Ialltoall<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T): Request<T> {
    return this.h(() => Alltoall.Alltoallv(this.core, sendbuf, undefined, undefined, recvbuf, undefined, undefined, "Ialltoall"))
  }

  /** Alltoall with counts and displacements (elements) per rank, both ways. */
  Alltoallv<T extends Codec.TypedArray>(
    sendbuf: T,
    sendcounts: ReadonlyArray<number>,
    sdispls: ReadonlyArray<number> | undefined,
    recvbuf: T,
    recvcounts: ReadonlyArray<number>,
    rdispls?: ReadonlyArray<number>
  ): Promise<T> {
    return this.w(() => Alltoall.Alltoallv(this.core, sendbuf, sendcounts, sdispls, recvbuf, recvcounts, rdispls, "Alltoallv"))
  }

  /** `sendbuf` reduced element by element into the root's `recvbuf`. */
  Reduce<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T | undefined, op: Op.Op = Op.SUM, root = 0): Promise<T | undefined> {
    return this.w(() => Reduce.Reduce(this.core, sendbuf, recvbuf, op, root))
  }

  /** Non-blocking Reduce. */
  Ireduce<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T | undefined, op: Op.Op = Op.SUM, root = 0): Request<T | undefined> {
    return this.h(() => Reduce.Reduce(this.core, sendbuf, recvbuf, op, root, "Ireduce"))
  }

  /** `sendbuf` reduced element by element into every rank's `recvbuf` (which may be `sendbuf`). */
  Allreduce<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T, op: Op.Op = Op.SUM): Promise<T> {
    return this.w(() => Reduce.Allreduce(this.core, sendbuf, recvbuf, op))
  }

  /** Non-blocking Allreduce. */
  Iallreduce<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T, op: Op.Op = Op.SUM): Request<T> {
    return this.h(() => Reduce.Allreduce(this.core, sendbuf, recvbuf, op, "Iallreduce"))
  }

  /** `sendbuf` (size equal blocks) reduced element by element; block i into rank i's `recvbuf`. */
  ReduceScatterBlock<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T, op: Op.Op = Op.SUM): Promise<T> {
    return this.w(() => Reduce.ReduceScatterBlock(this.core, sendbuf, recvbuf, op))
  }
}
