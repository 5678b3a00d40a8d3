/**
 * Requests in the Promise face: handles for non-blocking and persistent
 * operations. `wait` returns a Promise; `test` and `cancel` return at once.
 *
 * @example
 * ```ts
 * import { Request } from "rankflow/promise"
 * import type { Comm } from "rankflow/promise"
 * declare const comm: Comm
 * const reqs = [comm.irecv(0, 1), comm.irecv(0, 2)]
 * const [a, b] = await Request.waitAll(reqs)
 * ```
 * @since 0.1.0
 */
import type { CommCore, Preq } from "../internal/CommCore.ts"
import { firstDone, type Req, SENT, whenAll, whenAny } from "../internal/Req.ts"
import type { Status } from "../Status.ts"

const resolved: Promise<any> = Promise.resolve(undefined)

const settle = <A>(r: Req, status: Status | undefined): Promise<A> => {
  if (r === SENT) return resolved
  if (r.error !== undefined) return Promise.reject(r.error)
  r.fill(status)
  return Promise.resolve(r.value as A)
}

/** Waits for one engine request: spin per policy, then sleep. @internal */
export const waitReq = <A>(core: CommCore, r: Req, status?: Status): Promise<A> => {
  if (!r.done) core.progress(() => r.done)
  if (r.done) return settle<A>(r, status)
  return new Promise<A>((resolve, reject) =>
    r.onDone(() => {
      if (r.error !== undefined) reject(r.error)
      else {
        r.fill(status)
        resolve(r.value as A)
      }
    })
  )
}

/** Runs `start` and waits for its request; a synchronous throw rejects. @internal */
export const run = <A>(core: CommCore, start: () => Req, status?: Status): Promise<A> => {
  let r: Req
  try {
    r = start()
  } catch (e) {
    return Promise.reject(e)
  }
  return waitReq<A>(core, r, status)
}

const progressUntil = (reqs: ReadonlyArray<Request<any>>, done: () => boolean): void => {
  if (reqs.length > 0) reqs[0]!.core.progress(done)
}

const testNow = (reqs: ReadonlyArray<Request<any>>): void => {
  if (reqs.length > 0 && !reqs.every((r) => r.done)) reqs[0]!.core.engine.progressOnce()
}

/**
 * A non-blocking operation in flight.
 *
 * @category models
 * @since 0.1.0
 */
export class Request<A = unknown> {
  /** @internal */
  readonly core: CommCore
  private readonly r: Req
  constructor(core: CommCore, r: Req) {
    this.core = core
    this.r = r
  }

  /** The engine request of the current round. @internal */
  get req(): Req {
    return this.r
  }

  /** Has the operation completed? (Does not make progress; see `test`.) */
  get done(): boolean {
    return this.req.done
  }

  /**
   * Waits for completion; resolves to the received value (undefined for
   * sends) and fills `status`. Rejects with the operation's typed error.
   */
  wait(status?: Status): Promise<A> {
    return waitReq<A>(this.core, this.req, status)
  }

  /**
   * Makes progress and returns `[done, value]` at once. Throws the
   * operation's typed error if it failed.
   */
  test(status?: Status): [boolean, A | undefined] {
    const r = this.req
    if (!r.done) this.core.engine.progressOnce()
    if (!r.done) return [false, undefined]
    if (r.error !== undefined) throw r.error
    r.fill(status)
    return [true, r.value as A]
  }

  /**
   * Cancels a receive that has not matched yet: it completes with
   * `status.cancelled` set and the value `undefined`. Does nothing to a
   * send, or to a receive that has matched.
   */
  cancel(): void {
    this.req.cancel()
  }

  /**
   * Waits for all; resolves to their values in order. Rejects as soon as one
   * fails, with that failure.
   */
  static waitAll<const T extends ReadonlyArray<Request<any>>>(
    requests: T,
    statuses?: ReadonlyArray<Status>
  ): Promise<{ -readonly [K in keyof T]: T[K] extends Request<infer A> ? A : never }> {
    const reqs = requests.map((r) => r.req)
    progressUntil(requests, () => reqs.every((r) => r.done) || reqs.some((r) => r.error !== undefined))
    const result = (): any => {
      const bad = reqs.find((r) => r.error !== undefined)
      if (bad !== undefined) throw bad.error
      reqs.forEach((r, i) => r.fill(statuses?.[i]))
      return reqs.map((r) => r.value)
    }
    return new Promise((resolve, reject) => {
      whenAll(reqs, () => {
        try {
          resolve(result())
        } catch (e) {
          reject(e)
        }
      })
    })
  }

  /**
   * Waits for any one; resolves to `[index, value]` of the first done (the
   * lowest index among those done). With no requests, resolves to
   * `[-1, undefined]`.
   */
  static waitAny<A>(requests: ReadonlyArray<Request<A>>, status?: Status): Promise<[number, A | undefined]> {
    const reqs = requests.map((r) => r.req)
    if (reqs.length === 0) return Promise.resolve([-1, undefined])
    progressUntil(requests, () => firstDone(reqs) >= 0)
    return new Promise((resolve, reject) => {
      whenAny(reqs, () => {
        const i = firstDone(reqs)
        const r = reqs[i]!
        if (r.error !== undefined) return reject(r.error)
        r.fill(status)
        resolve([i, r.value as A])
      })
    })
  }

  /**
   * Waits until at least one is done; resolves to `[indices, values]` of all
   * that are done by then.
   */
  static waitSome<A>(requests: ReadonlyArray<Request<A>>, statuses?: ReadonlyArray<Status>): Promise<[Array<number>, Array<A>]> {
    return Request.waitAny(requests).then(() => Request.collect(requests, statuses))
  }

  private static collect<A>(requests: ReadonlyArray<Request<A>>, statuses?: ReadonlyArray<Status>): [Array<number>, Array<A>] {
    const idx: Array<number> = []
    const vals: Array<A> = []
    requests.forEach((q, i) => {
      const r = q.req
      if (!r.done) return
      if (r.error !== undefined) throw r.error
      r.fill(statuses?.[idx.length])
      idx.push(i)
      vals.push(r.value as A)
    })
    return [idx, vals]
  }

  /** `[true, values]` if all are done now, else `[false, undefined]`. */
  static testAll<A>(requests: ReadonlyArray<Request<A>>, statuses?: ReadonlyArray<Status>): [boolean, Array<A> | undefined] {
    testNow(requests)
    const reqs = requests.map((r) => r.req)
    const bad = reqs.find((r) => r.error !== undefined)
    if (bad !== undefined) throw bad.error
    if (!reqs.every((r) => r.done)) return [false, undefined]
    reqs.forEach((r, i) => r.fill(statuses?.[i]))
    return [true, reqs.map((r) => r.value as A)]
  }

  /** `[index, true, value]` of a done request, or `[-1, false, undefined]`. */
  static testAny<A>(requests: ReadonlyArray<Request<A>>, status?: Status): [number, boolean, A | undefined] {
    testNow(requests)
    const i = firstDone(requests.map((r) => r.req))
    if (i < 0) return [-1, requests.length === 0, undefined]
    const r = requests[i]!.req
    if (r.error !== undefined) throw r.error
    r.fill(status)
    return [i, true, r.value as A]
  }

  /** `[indices, values]` of the requests done now (possibly none). */
  static testSome<A>(requests: ReadonlyArray<Request<A>>, statuses?: ReadonlyArray<Status>): [Array<number>, Array<A>] {
    testNow(requests)
    return Request.collect(requests, statuses)
  }
}

/**
 * A persistent request: made once with `sendInit`/`recvInit`, then started
 * and waited for many times, and finally freed.
 *
 * @example
 * ```ts
 * import type { Comm } from "rankflow/promise"
 * declare const comm: Comm
 * const p = comm.recvInit(0, 7)
 * for (let i = 0; i < 1000; i++) {
 *   p.start()
 *   await p.wait()
 * }
 * p.free()
 * ```
 * @category models
 * @since 0.1.0
 */
export class Prequest<A = unknown> extends Request<A> {
  /** @internal */
  private readonly p: Preq
  constructor(core: CommCore, p: Preq) {
    super(core, undefined as any)
    this.p = p
  }

  override get req(): Req {
    return this.p.req("wait")
  }

  /** Is a round in flight? */
  get active(): boolean {
    return this.p.active
  }

  /** Starts a round. Throws `InvalidRequest` if one is active or it was freed. */
  start(): void {
    this.p.start()
  }

  /** Releases the request; it cannot be started again. */
  free(): void {
    this.p.free()
  }

  /** Starts every request in the list. */
  static startAll(requests: ReadonlyArray<Prequest<any>>): void {
    for (const r of requests) r.start()
  }
}
