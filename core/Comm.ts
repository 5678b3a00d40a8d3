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
import type * as Errors from "./Errors.ts"
import type { CommCore } from "./internal/CommCore.ts"
import { type EffectFace, install, type Ops } from "./internal/Ops.ts"
import { ANY_SOURCE, ANY_TAG } from "./Matching.ts"
import { attempt, Prequest, Request, run } from "./Request.ts"
import type { Status } from "./Status.ts"

/**
 * A communicator (Effect face): every operation of `Ops` (core/internal/Ops.ts)
 * returning an `Effect`, installed from the one operation table the Promise
 * face is installed from too. `rank`, `size`, `group`, `COMM_SELF` and
 * `COMM_WORLD` are plain properties; everything else is a method.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Comm } from "rankflow"
 * const program = Effect.gen(function*() {
 *   const comm = yield* Comm.Comm
 *   const r = yield* comm.ibcast(comm.rank === 0 ? "hi" : "", 0)
 *   yield* comm.barrier()
 *   return yield* r.wait()
 * })
 * ```
 * @category models
 * @since 0.1.0
 */
export interface Communicator extends Ops<EffectFace> {}

export class Communicator {
  /** @internal */
  readonly core: CommCore
  constructor(core: CommCore) {
    this.core = core
  }
}

install(Communicator.prototype, {
  later: (core, start, status, then) =>
    Effect.suspend(() => {
      const st = status()
      const done = run(core, start, st)
      return then === undefined ? done : Effect.map(done, (v) => then(v, st))
    }),
  now: attempt,
  request: (core, r) => new Request(core, r),
  prequest: (core, p) => new Prequest(core, p),
  comm: (core) => new Communicator(core)
})

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
