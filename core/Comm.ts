/**
 * The communicator, Effect face. Every operation is an `Effect`; the world
 * communicator of the current rank is the {@link Comm} service.
 *
 * Lowercase methods carry any value the codec can; capitalized methods are
 * mpi4py's buffer API (send a typed array's bytes, receive into a
 * preallocated typed array, checked for type and length). Failures are the
 * typed errors of `Errors`, so `Effect.catchTag("Truncated", ...)` works.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Comm } from "rankflow"
 *
 * export default Effect.gen(function*() {
 *   const comm = yield* Comm.Comm
 *   if (comm.rank === 0) yield* comm.send({ hello: "world" }, 1, 7)
 *   if (comm.rank === 1) return yield* comm.recv(0, 7)
 * })
 * ```
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Codec from "./Codec.ts"
import * as Alltoall from "./collectives/Alltoall.ts"
import * as Barrier from "./collectives/Barrier.ts"
import * as Bcast from "./collectives/Bcast.ts"
import * as Gather from "./collectives/Gather.ts"
import * as Reduce from "./collectives/Reduce.ts"
import * as Scan from "./collectives/Scan.ts"
import * as Errors from "./Errors.ts"
import type { Group } from "./Group.ts"
import type { CommCore } from "./internal/CommCore.ts"
import * as Op from "./Op.ts"
import { Req } from "./internal/Req.ts"
import { ANY_SOURCE, ANY_TAG } from "./Matching.ts"
import { attempt, Prequest, Request, run } from "./Request.ts"
import { Status } from "./Status.ts"


/**
 * A communicator (Effect face).
 *
 * @category models
 * @since 0.1.0
 */
export class Communicator {
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

  /** Sends `data` to `dest`; completes when `data` may be reused. */
  send(data: unknown, dest: number, tag = 0): Effect.Effect<void, Errors.CommError> {
    return run(this.core, () => this.core.isend(data, dest, tag, "send"))
  }

  /** Receives a message. Interrupting the fiber cancels the receive. */
  recv<A = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Effect.Effect<A, Errors.CommError> {
    return run<A>(this.core, () => this.core.irecv(source, tag, undefined, "recv"), status)
  }

  /** Starts a send. */
  isend(data: unknown, dest: number, tag = 0): Effect.Effect<Request<void>, Errors.CommError> {
    return attempt(() => new Request<void>(this.core, this.core.isend(data, dest, tag, "isend")))
  }

  /** Posts a receive. */
  irecv<A = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG): Effect.Effect<Request<A>, Errors.CommError> {
    return attempt(() => new Request<A>(this.core, this.core.irecv(source, tag, undefined, "irecv")))
  }

  /** Sends to `dest` and receives from `source` at once. */
  sendrecv<A = unknown>(
    data: unknown,
    dest: number,
    sendtag = 0,
    source: number = ANY_SOURCE,
    recvtag: number = ANY_TAG,
    status?: Status
  ): Effect.Effect<A, Errors.CommError> {
    return run<A>(this.core, () => this.core.sendrecv(data, dest, sendtag, source, recvtag, undefined), status)
  }

  /** Waits until a matching message is there, without receiving it. */
  probe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Effect.Effect<Status, Errors.CommError> {
    return Effect.suspend(() => {
      const st = status ?? new Status()
      return Effect.as(run(this.core, () => this.core.probe(source, tag), st), st)
    })
  }

  /** Is a matching message there now? Fills `status` when it is. */
  iprobe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Effect.Effect<boolean, Errors.CommError> {
    return attempt(() => {
      const into = new Req("iprobe")
      const hit = this.core.iprobe(source, tag, into)
      if (hit) into.fill(status)
      return hit
    })
  }

  /** A persistent send of `data` (read again at each `start`). */
  sendInit(data: unknown, dest: number, tag = 0): Effect.Effect<Prequest<void>, Errors.CommError> {
    return attempt(() => new Prequest<void>(this.core, this.core.sendInit(data, dest, tag)))
  }

  /** A persistent receive. */
  recvInit<A = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG): Effect.Effect<Prequest<A>, Errors.CommError> {
    return attempt(() => new Prequest<A>(this.core, this.core.recvInit(source, tag, undefined)))
  }

  /** Sends a typed array's bytes (mpi4py `Send`). */
  Send(buf: Codec.RawValue, dest: number, tag = 0): Effect.Effect<void, Errors.CommError> {
    return run(this.core, () => {
      this.core.checkSendBuffer(buf, "Send")
      return this.core.isend(buf, dest, tag, "Send")
    })
  }

  /** Receives into `buf` (mpi4py `Recv`), checked for type and length. */
  Recv<T extends ArrayBufferView>(buf: T, source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Effect.Effect<T, Errors.CommError> {
    return run<T>(this.core, () => this.core.irecv(source, tag, buf, "Recv"), status)
  }

  /** Starts a buffer send. */
  Isend(buf: Codec.RawValue, dest: number, tag = 0): Effect.Effect<Request<void>, Errors.CommError> {
    return attempt(() => {
      this.core.checkSendBuffer(buf, "Isend")
      return new Request<void>(this.core, this.core.isend(buf, dest, tag, "Isend"))
    })
  }

  /** Posts a receive into `buf`. */
  Irecv<T extends ArrayBufferView>(buf: T, source: number = ANY_SOURCE, tag: number = ANY_TAG): Effect.Effect<Request<T>, Errors.CommError> {
    return attempt(() => new Request<T>(this.core, this.core.irecv(source, tag, buf, "Irecv")))
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
  ): Effect.Effect<T, Errors.CommError> {
    return run<T>(this.core, () => {
      this.core.checkSendBuffer(sendbuf, "Sendrecv")
      return this.core.sendrecv(sendbuf, dest, sendtag, source, recvtag, recvbuf, "Sendrecv")
    }, status)
  }

  /** A persistent buffer send. */
  SendInit(buf: Codec.RawValue, dest: number, tag = 0): Effect.Effect<Prequest<void>, Errors.CommError> {
    return attempt(() => {
      this.core.checkSendBuffer(buf, "SendInit")
      return new Prequest<void>(this.core, this.core.sendInit(buf, dest, tag))
    })
  }

  /** A persistent receive into `buf`. */
  RecvInit<T extends ArrayBufferView>(buf: T, source: number = ANY_SOURCE, tag: number = ANY_TAG): Effect.Effect<Prequest<T>, Errors.CommError> {
    return attempt(() => new Prequest<T>(this.core, this.core.recvInit(source, tag, buf)))
  }

  private w<A>(start: () => Req): Effect.Effect<A, Errors.CommError> {
    return run<A>(this.core, start)
  }

  private h<A>(start: () => Req): Effect.Effect<Request<A>, Errors.CommError> {
    return attempt(() => new Request<A>(this.core, start()))
  }

  // ------------------------------------------------------ communicators

  /** The members, as a group. */
  get group(): Group {
    return this.core.group
  }

  /** The communicator of this rank alone. */
  get COMM_SELF(): Communicator {
    return new Communicator(this.core.self)
  }

  /** The world communicator. */
  get COMM_WORLD(): Communicator {
    return new Communicator(this.core.world)
  }

  /** A new communicator with the same members and its own context (collective). */
  get dup(): Effect.Effect<Communicator, Errors.CommError> {
    return Effect.map(this.w<CommCore>(() => this.core.dup()), (c) => new Communicator(c))
  }

  /** Ranks of one `color` form a communicator ordered by `key`; UNDEFINED gives undefined (collective). */
  split(color: number, key: number = this.rank): Effect.Effect<Communicator | undefined, Errors.CommError> {
    return Effect.map(this.w<CommCore | undefined>(() => this.core.split(color, key)), (c) => (c === undefined ? undefined : new Communicator(c)))
  }

  /** A communicator on `group`; undefined on ranks outside it (collective). */
  create(group: Group): Effect.Effect<Communicator | undefined, Errors.CommError> {
    return Effect.map(this.w<CommCore | undefined>(() => this.core.create(group)), (c) => (c === undefined ? undefined : new Communicator(c)))
  }

  /** Releases the communicator; receives pending on it fail. */
  get free(): Effect.Effect<void, Errors.CommError> {
    return attempt(() => this.core.free())
  }

  // ------------------------------------------------ collectives (values)

  /** Waits until every rank has called it (dissemination). */
  get barrier(): Effect.Effect<void, Errors.CommError> {
    return this.w(() => Barrier.barrier(this.core))
  }

  /** Non-blocking barrier. */
  get ibarrier(): Effect.Effect<Request<void>, Errors.CommError> {
    return this.h(() => Barrier.barrier(this.core, "ibarrier"))
  }

  /** `root`'s `data` on every rank (binomial tree). */
  bcast<A>(data: A, root = 0): Effect.Effect<A, Errors.CommError> {
    return this.w(() => Bcast.bcast(this.core, data, root))
  }

  /** Non-blocking bcast. */
  ibcast<A>(data: A, root = 0): Effect.Effect<Request<A>, Errors.CommError> {
    return this.h(() => Bcast.bcast(this.core, data, root, undefined, "ibcast"))
  }

  /** Item i of the root's array (of `size` items) to rank i. */
  scatter<A>(data: ReadonlyArray<A> | undefined, root = 0): Effect.Effect<A, Errors.CommError> {
    return this.w(() => Gather.scatter(this.core, data, root))
  }

  /** Non-blocking scatter. */
  iscatter<A>(data: ReadonlyArray<A> | undefined, root = 0): Effect.Effect<Request<A>, Errors.CommError> {
    return this.h(() => Gather.scatter(this.core, data, root, "iscatter"))
  }

  /** Every rank's `data`, in rank order, at `root` (undefined elsewhere). */
  gather<A>(data: A, root = 0): Effect.Effect<Array<A> | undefined, Errors.CommError> {
    return this.w(() => Gather.gather(this.core, data, root))
  }

  /** Non-blocking gather. */
  igather<A>(data: A, root = 0): Effect.Effect<Request<Array<A> | undefined>, Errors.CommError> {
    return this.h(() => Gather.gather(this.core, data, root, "igather"))
  }

  /** Every rank's `data`, in rank order, on every rank. */
  allgather<A>(data: A): Effect.Effect<Array<A>, Errors.CommError> {
    return this.w(() => Gather.allgather(this.core, data))
  }

  /** Non-blocking allgather. */
  iallgather<A>(data: A): Effect.Effect<Request<Array<A>>, Errors.CommError> {
    return this.h(() => Gather.allgather(this.core, data, "iallgather"))
  }

  /** Item i of `data` (an array of `size` items) to rank i; the items received, in rank order. */
  alltoall<A>(data: ReadonlyArray<A>): Effect.Effect<Array<A>, Errors.CommError> {
    return this.w(() => Alltoall.alltoall(this.core, data))
  }

  /** Non-blocking alltoall. */
  ialltoall<A>(data: ReadonlyArray<A>): Effect.Effect<Request<Array<A>>, Errors.CommError> {
    return this.h(() => Alltoall.alltoall(this.core, data, "ialltoall"))
  }

  /** `data` reduced over all ranks with `op`, at `root` (undefined elsewhere). */
  reduce<A>(data: A, op: Op.Op = Op.SUM, root = 0): Effect.Effect<A | undefined, Errors.CommError> {
    return this.w(() => Reduce.reduce(this.core, data, op, root))
  }

  /** Non-blocking reduce. */
  ireduce<A>(data: A, op: Op.Op = Op.SUM, root = 0): Effect.Effect<Request<A | undefined>, Errors.CommError> {
    return this.h(() => Reduce.reduce(this.core, data, op, root, "ireduce"))
  }

  /** `data` reduced over all ranks with `op`, on every rank. */
  allreduce<A>(data: A, op: Op.Op = Op.SUM): Effect.Effect<A, Errors.CommError> {
    return this.w(() => Reduce.allreduce(this.core, data, op))
  }

  /** Non-blocking allreduce. */
  iallreduce<A>(data: A, op: Op.Op = Op.SUM): Effect.Effect<Request<A>, Errors.CommError> {
    return this.h(() => Reduce.allreduce(this.core, data, op, "iallreduce"))
  }

  /** The reduction of ranks 0..rank (inclusive prefix). */
  scan<A>(data: A, op: Op.Op = Op.SUM): Effect.Effect<A, Errors.CommError> {
    return this.w(() => Scan.scan(this.core, data, op))
  }

  /** Non-blocking scan. */
  iscan<A>(data: A, op: Op.Op = Op.SUM): Effect.Effect<Request<A>, Errors.CommError> {
    return this.h(() => Scan.scan(this.core, data, op, "iscan"))
  }

  /** The reduction of ranks 0..rank-1 (exclusive prefix); undefined on rank 0. */
  exscan<A>(data: A, op: Op.Op = Op.SUM): Effect.Effect<A | undefined, Errors.CommError> {
    return this.w(() => Scan.exscan(this.core, data, op))
  }

  /** Non-blocking exscan. */
  iexscan<A>(data: A, op: Op.Op = Op.SUM): Effect.Effect<Request<A | undefined>, Errors.CommError> {
    return this.h(() => Scan.exscan(this.core, data, op, "iexscan"))
  }

  /** Each rank passes `size` items; rank i gets item i reduced over all ranks. */
  reduceScatter<A>(data: ReadonlyArray<A>, op: Op.Op = Op.SUM): Effect.Effect<A, Errors.CommError> {
    return this.w(() => Reduce.reduceScatter(this.core, data, op))
  }

  /** Non-blocking reduceScatter. */
  ireduceScatter<A>(data: ReadonlyArray<A>, op: Op.Op = Op.SUM): Effect.Effect<Request<A>, Errors.CommError> {
    return this.h(() => Reduce.reduceScatter(this.core, data, op, "ireduceScatter"))
  }

  // ----------------------------------------------- collectives (buffers)

  /** Broadcasts the root's `buf` into every rank's `buf`. */
  Bcast<T extends Codec.TypedArray>(buf: T, root = 0): Effect.Effect<T, Errors.CommError> {
    return this.w(() => Bcast.bcast(this.core, buf, root, buf, "Bcast"))
  }

  /** Non-blocking Bcast. */
  Ibcast<T extends Codec.TypedArray>(buf: T, root = 0): Effect.Effect<Request<T>, Errors.CommError> {
    return this.h(() => Bcast.bcast(this.core, buf, root, buf, "Ibcast"))
  }

  /** Block i of the root's `sendbuf` into rank i's `recvbuf`. */
  Scatter<T extends Codec.TypedArray>(sendbuf: T | undefined, recvbuf: T, root = 0): Effect.Effect<T, Errors.CommError> {
    return this.w(() => Gather.Scatterv(this.core, sendbuf, undefined, undefined, recvbuf, root))
  }

  /** Scatter with `counts` and `displs` (elements) per rank. */
  Scatterv<T extends Codec.TypedArray>(sendbuf: T | undefined, counts: ReadonlyArray<number> | undefined, displs: ReadonlyArray<number> | undefined, recvbuf: T, root = 0): Effect.Effect<T, Errors.CommError> {
    return this.w(() => Gather.Scatterv(this.core, sendbuf, counts ?? [], displs, recvbuf, root, "Scatterv"))
  }

  /** Every rank's `sendbuf` as block i of the root's `recvbuf`. */
  Gather<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T | undefined, root = 0): Effect.Effect<T | undefined, Errors.CommError> {
    return this.w(() => Gather.Gatherv(this.core, sendbuf, recvbuf, undefined, undefined, root))
  }

  /** Gather with `counts` and `displs` (elements) per rank. */
  Gatherv<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T | undefined, counts: ReadonlyArray<number> | undefined, displs?: ReadonlyArray<number>, root = 0): Effect.Effect<T | undefined, Errors.CommError> {
    return this.w(() => Gather.Gatherv(this.core, sendbuf, recvbuf, counts ?? [], displs, root, "Gatherv"))
  }

  /** Every rank's `sendbuf` as block i of every rank's `recvbuf`. */
  Allgather<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T): Effect.Effect<T, Errors.CommError> {
    return this.w(() => Gather.Allgatherv(this.core, sendbuf, recvbuf, undefined, undefined))
  }

  /** Allgather with `counts` and `displs` (elements) per rank. */
  Allgatherv<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T, counts: ReadonlyArray<number>, displs?: ReadonlyArray<number>): Effect.Effect<T, Errors.CommError> {
    return this.w(() => Gather.Allgatherv(this.core, sendbuf, recvbuf, counts, displs, "Allgatherv"))
  }

  /** Block i of `sendbuf` to rank i; rank i's block into block i of `recvbuf`. */
  Alltoall<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T): Effect.Effect<T, Errors.CommError> {
    return this.w(() => Alltoall.Alltoallv(this.core, sendbuf, undefined, undefined, recvbuf, undefined, undefined))
  }

  /** Alltoall with counts and displacements (elements) per rank, both ways. */
  Alltoallv<T extends Codec.TypedArray>(
    sendbuf: T,
    sendcounts: ReadonlyArray<number>,
    sdispls: ReadonlyArray<number> | undefined,
    recvbuf: T,
    recvcounts: ReadonlyArray<number>,
    rdispls?: ReadonlyArray<number>
  ): Effect.Effect<T, Errors.CommError> {
    return this.w(() => Alltoall.Alltoallv(this.core, sendbuf, sendcounts, sdispls, recvbuf, recvcounts, rdispls, "Alltoallv"))
  }

  /** `sendbuf` reduced element by element into the root's `recvbuf`. */
  Reduce<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T | undefined, op: Op.Op = Op.SUM, root = 0): Effect.Effect<T | undefined, Errors.CommError> {
    return this.w(() => Reduce.Reduce(this.core, sendbuf, recvbuf, op, root))
  }

  /** `sendbuf` reduced element by element into every rank's `recvbuf` (which may be `sendbuf`). */
  Allreduce<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T, op: Op.Op = Op.SUM): Effect.Effect<T, Errors.CommError> {
    return this.w(() => Reduce.Allreduce(this.core, sendbuf, recvbuf, op))
  }

  /** Non-blocking Allreduce. */
  Iallreduce<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T, op: Op.Op = Op.SUM): Effect.Effect<Request<T>, Errors.CommError> {
    return this.h(() => Reduce.Allreduce(this.core, sendbuf, recvbuf, op, "Iallreduce"))
  }

  /** `sendbuf` (size equal blocks) reduced element by element; block i into rank i's `recvbuf`. */
  ReduceScatterBlock<T extends Codec.TypedArray>(sendbuf: T, recvbuf: T, op: Op.Op = Op.SUM): Effect.Effect<T, Errors.CommError> {
    return this.w(() => Reduce.ReduceScatterBlock(this.core, sendbuf, recvbuf, op))
  }
}

/**
 * The world communicator of the current rank, as a service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Comm } from "rankflow"
 * const whoAmI = Effect.map(Comm.Comm, (comm) => `${comm.rank} of ${comm.size}`)
 * ```
 * @category services
 * @since 0.1.0
 */
export class Comm extends Context.Service<Comm, Communicator>()("rankflow/Comm") {}

/**
 * This rank's number in the world.
 *
 * @category accessors
 * @since 0.1.0
 */
export const rank: Effect.Effect<number, never, Comm> = Comm.useSync((c) => c.rank)

/**
 * The world size.
 *
 * @category accessors
 * @since 0.1.0
 */
export const size: Effect.Effect<number, never, Comm> = Comm.useSync((c) => c.size)

/**
 * `send` on the world communicator.
 *
 * @category accessors
 * @since 0.1.0
 */
export const send = (data: unknown, dest: number, tag = 0): Effect.Effect<void, Errors.CommError, Comm> =>
  Comm.use((c) => c.send(data, dest, tag))

/**
 * `recv` on the world communicator.
 *
 * @category accessors
 * @since 0.1.0
 */
export const recv = <A = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Effect.Effect<A, Errors.CommError, Comm> =>
  Comm.use((c) => c.recv<A>(source, tag, status))

/**
 * `sendrecv` on the world communicator.
 *
 * @category accessors
 * @since 0.1.0
 */
export const sendrecv = <A = unknown>(
  data: unknown,
  dest: number,
  sendtag = 0,
  source: number = ANY_SOURCE,
  recvtag: number = ANY_TAG,
  status?: Status
): Effect.Effect<A, Errors.CommError, Comm> => Comm.use((c) => c.sendrecv<A>(data, dest, sendtag, source, recvtag, status))
