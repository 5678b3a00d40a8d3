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
import * as Errors from "./Errors.ts"
import type { CommCore } from "./internal/CommCore.ts"
import { Req } from "./internal/Req.ts"
import { ANY_SOURCE, ANY_TAG } from "./Matching.ts"
import { attempt, Prequest, Request, run } from "./Request.ts"
import { Status } from "./Status.ts"

const checkSendBuffer = (core: CommCore, buf: unknown, op: string): void => {
  if (Codec.viewKind(buf) < 0) {
    throw new Errors.InvalidArgument({
      rank: core.rank,
      op,
      reason: `the buffer API sends typed arrays, Buffers, DataViews and ArrayBuffers; got ${Codec.describeValue(buf)} (use the lowercase method for objects)`
    })
  }
}

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
      checkSendBuffer(this.core, buf, "Send")
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
      checkSendBuffer(this.core, buf, "Isend")
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
      checkSendBuffer(this.core, sendbuf, "Sendrecv")
      return this.core.sendrecv(sendbuf, dest, sendtag, source, recvtag, recvbuf, "Sendrecv")
    }, status)
  }

  /** A persistent buffer send. */
  SendInit(buf: Codec.RawValue, dest: number, tag = 0): Effect.Effect<Prequest<void>, Errors.CommError> {
    return attempt(() => {
      checkSendBuffer(this.core, buf, "SendInit")
      return new Prequest<void>(this.core, this.core.sendInit(buf, dest, tag))
    })
  }

  /** A persistent receive into `buf`. */
  RecvInit<T extends ArrayBufferView>(buf: T, source: number = ANY_SOURCE, tag: number = ANY_TAG): Effect.Effect<Prequest<T>, Errors.CommError> {
    return attempt(() => new Prequest<T>(this.core, this.core.recvInit(source, tag, buf)))
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
