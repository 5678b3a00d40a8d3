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
import * as Errors from "../Errors.ts"
import type { CommCore } from "../internal/CommCore.ts"
import { Req } from "../internal/Req.ts"
import { ANY_SOURCE, ANY_TAG } from "../Matching.ts"
import { Status } from "../Status.ts"
import { Prequest, Request, run, waitReq } from "./Request.ts"

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
      checkSendBuffer(this.core, buf, "Send")
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
    checkSendBuffer(this.core, buf, "Isend")
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
      checkSendBuffer(this.core, sendbuf, "Sendrecv")
      return this.core.sendrecv(sendbuf, dest, sendtag, source, recvtag, recvbuf, "Sendrecv")
    }, status)
  }

  /** A persistent buffer send. */
  SendInit(buf: Codec.RawValue, dest: number, tag = 0): Prequest<void> {
    checkSendBuffer(this.core, buf, "SendInit")
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
}
