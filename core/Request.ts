/**
 * Requests in the Effect face. `wait`, `test` and `cancel` are Effects, and
 * the module functions `waitAll`, `waitAny`, `waitSome`, `testAll`,
 * `testAny`, `testSome` and `startAll` act on lists of them. Interrupting a
 * fiber that waits on a receive cancels that receive: the message it would
 * have taken stays for the next receive.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Comm, Request } from "rankflow"
 * const program = Effect.gen(function*() {
 *   const comm = yield* Comm.Comm
 *   const a = yield* comm.irecv(0, 1)
 *   const b = yield* comm.irecv(0, 2)
 *   return yield* Request.waitAll([a, b])
 * })
 * ```
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Errors from "./Errors.ts"
import type { CommCore, Preq } from "./internal/CommCore.ts"
import { firstDone, type Req, whenAll, whenAny } from "./internal/Req.ts"
import type { Status } from "./Status.ts"

/**
 * Waits until `ready()`: spins per the engine's policy, then sleeps on the
 * requests' completion. Resumes through a microtask so that user code never
 * runs inside the engine. Interruption unregisters and runs `cancel`.
 *
 * @internal
 */
export const awaitReady = <A>(
  core: CommCore,
  reqs: ReadonlyArray<Req>,
  ready: () => boolean,
  arm: (reqs: ReadonlyArray<Req>, f: () => void) => () => void,
  result: () => Effect.Effect<A, Errors.CommError>
): Effect.Effect<A, Errors.CommError> =>
  Effect.callback<A, Errors.CommError>((resume) => {
    if (!ready()) core.progress(ready)
    if (ready()) return resume(result())
    const off = arm(reqs, () => queueMicrotask(() => resume(result())))
    return Effect.sync(() => {
      off()
      for (const r of reqs) if (!r.done) r.cancel()
    })
  })

const outcome = <A>(r: Req, status: Status | undefined): Effect.Effect<A, Errors.CommError> => {
  if (r.error !== undefined) return Effect.fail(r.error as Errors.CommError)
  r.fill(status)
  return Effect.succeed(r.value as A)
}

/** Waits for one engine request. @internal */
export const waitReq = <A>(core: CommCore, r: Req, status?: Status): Effect.Effect<A, Errors.CommError> =>
  awaitReady(core, [r], () => r.done, whenAny, () => outcome<A>(r, status))

/**
 * Runs a synchronous step that may throw a typed error, as an Effect: typed
 * errors fail it, anything else is a defect.
 *
 * @internal
 */
export const attempt = <A>(f: () => A): Effect.Effect<A, Errors.CommError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (e) {
      return Errors.isRankflowError(e) ? Effect.fail(e as Errors.CommError) : Effect.die(e)
    }
  })

/** Starts an engine request and waits for it. @internal */
export const run = <A>(core: CommCore, start: () => Req, status?: Status): Effect.Effect<A, Errors.CommError> =>
  Effect.flatMap(attempt(start), (r) => waitReq<A>(core, r, status))

/**
 * A non-blocking operation in flight (Effect face).
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

  /** Has it completed? (Does not make progress; see `test`.) */
  get done(): boolean {
    return this.req.done
  }

  /** Waits for completion: the received value, or undefined for a send. */
  wait(status?: Status): Effect.Effect<A, Errors.CommError> {
    return Effect.suspend(() => waitReq<A>(this.core, this.req, status))
  }

  /** Makes progress and returns `[done, value]` at once. */
  test(status?: Status): Effect.Effect<[boolean, A | undefined], Errors.CommError> {
    return Effect.suspend(() => {
      const r = this.req
      if (!r.done) this.core.engine.progressOnce()
      if (!r.done) return Effect.succeed([false, undefined] as [boolean, A | undefined])
      return Effect.map(outcome<A>(r, status), (v) => [true, v] as [boolean, A | undefined])
    })
  }

  /** Cancels a receive that has not matched yet. */
  cancel(): Effect.Effect<void> {
    return Effect.sync(() => {
      this.req.cancel()
    })
  }
}

/**
 * A persistent request (Effect face): start it, wait for it, start it again.
 *
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

  /** Starts a round. Fails with `InvalidRequest` if one is active or it was freed. */
  start(): Effect.Effect<void, Errors.InvalidRequest> {
    return attempt(() => this.p.start()) as Effect.Effect<void, Errors.InvalidRequest>
  }

  /** Releases it. */
  free(): Effect.Effect<void, Errors.InvalidRequest> {
    return attempt(() => this.p.free()) as Effect.Effect<void, Errors.InvalidRequest>
  }
}

const coreOf = (requests: ReadonlyArray<Request<any>>): CommCore | undefined => requests[0]?.core

/**
 * Waits for all; succeeds with their values in order, or fails with the first
 * failure as soon as it happens.
 *
 * @category combinators
 * @since 0.1.0
 */
export const waitAll = <const T extends ReadonlyArray<Request<any>>>(
  requests: T,
  statuses?: ReadonlyArray<Status>
): Effect.Effect<{ -readonly [K in keyof T]: T[K] extends Request<infer A> ? A : never }, Errors.CommError> =>
  Effect.suspend(() => {
    const core = coreOf(requests)
    if (core === undefined) return Effect.succeed([] as any)
    const reqs = requests.map((r) => r.req)
    return awaitReady(core, reqs, () => reqs.every((r) => r.done) || reqs.some((r) => r.error !== undefined), whenAll, () => {
      const bad = reqs.find((r) => r.error !== undefined)
      if (bad !== undefined) return Effect.fail(bad.error as Errors.CommError)
      reqs.forEach((r, i) => r.fill(statuses?.[i]))
      return Effect.succeed(reqs.map((r) => r.value) as any)
    })
  })

/**
 * Waits for any one: `[index, value]` of the first done. With no requests,
 * `[-1, undefined]`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const waitAny = <A>(requests: ReadonlyArray<Request<A>>, status?: Status): Effect.Effect<[number, A | undefined], Errors.CommError> =>
  Effect.suspend(() => {
    const core = coreOf(requests)
    if (core === undefined) return Effect.succeed([-1, undefined] as [number, A | undefined])
    const reqs = requests.map((r) => r.req)
    return awaitReady(core, reqs, () => firstDone(reqs) >= 0, whenAny, () => {
      const i = firstDone(reqs)
      return Effect.map(outcome<A>(reqs[i]!, status), (v) => [i, v] as [number, A | undefined])
    })
  })

const collect = <A>(
  requests: ReadonlyArray<Request<A>>,
  statuses?: ReadonlyArray<Status>
): Effect.Effect<[Array<number>, Array<A>], Errors.CommError> => {
  const idx: Array<number> = []
  const vals: Array<A> = []
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!.req
    if (!r.done) continue
    if (r.error !== undefined) return Effect.fail(r.error as Errors.CommError)
    r.fill(statuses?.[idx.length])
    idx.push(i)
    vals.push(r.value as A)
  }
  return Effect.succeed([idx, vals])
}

/**
 * Waits until at least one is done: `[indices, values]` of all done by then.
 *
 * @category combinators
 * @since 0.1.0
 */
export const waitSome = <A>(
  requests: ReadonlyArray<Request<A>>,
  statuses?: ReadonlyArray<Status>
): Effect.Effect<[Array<number>, Array<A>], Errors.CommError> =>
  Effect.flatMap(waitAny(requests), () => collect(requests, statuses))

const testNow = (requests: ReadonlyArray<Request<any>>): void => {
  if (requests.length > 0 && !requests.every((r) => r.done)) requests[0]!.core.engine.progressOnce()
}

/**
 * `[true, values]` if all are done now, else `[false, undefined]`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const testAll = <A>(
  requests: ReadonlyArray<Request<A>>,
  statuses?: ReadonlyArray<Status>
): Effect.Effect<[boolean, Array<A> | undefined], Errors.CommError> =>
  Effect.suspend(() => {
    testNow(requests)
    const reqs = requests.map((r) => r.req)
    const bad = reqs.find((r) => r.error !== undefined)
    if (bad !== undefined) return Effect.fail(bad.error as Errors.CommError)
    if (!reqs.every((r) => r.done)) return Effect.succeed([false, undefined] as [boolean, Array<A> | undefined])
    reqs.forEach((r, i) => r.fill(statuses?.[i]))
    return Effect.succeed([true, reqs.map((r) => r.value as A)] as [boolean, Array<A> | undefined])
  })

/**
 * `[index, true, value]` of a done request, or `[-1, false, undefined]`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const testAny = <A>(
  requests: ReadonlyArray<Request<A>>,
  status?: Status
): Effect.Effect<[number, boolean, A | undefined], Errors.CommError> =>
  Effect.suspend(() => {
    testNow(requests)
    const i = firstDone(requests.map((r) => r.req))
    if (i < 0) return Effect.succeed([-1, requests.length === 0, undefined] as [number, boolean, A | undefined])
    return Effect.map(outcome<A>(requests[i]!.req, status), (v) => [i, true, v] as [number, boolean, A | undefined])
  })

/**
 * `[indices, values]` of the requests done now (possibly none).
 *
 * @category combinators
 * @since 0.1.0
 */
export const testSome = <A>(
  requests: ReadonlyArray<Request<A>>,
  statuses?: ReadonlyArray<Status>
): Effect.Effect<[Array<number>, Array<A>], Errors.CommError> =>
  Effect.suspend(() => {
    testNow(requests)
    return collect(requests, statuses)
  })

/**
 * Starts every persistent request in the list.
 *
 * @category combinators
 * @since 0.1.0
 */
export const startAll = (requests: ReadonlyArray<Prequest<any>>): Effect.Effect<void, Errors.InvalidRequest> =>
  Effect.forEach(requests, (r) => r.start(), { discard: true })
