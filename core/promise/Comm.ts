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
import type { CommCore } from "../internal/CommCore.ts"
import { install, type Ops, type PromiseFace } from "../internal/Ops.ts"
import { Prequest, Request, run } from "./Request.ts"

/**
 * A communicator (Promise face): every operation of `Ops`
 * (core/internal/Ops.ts), installed from the one operation table the Effect
 * face is installed from too. `rank`, `size`, `group`, `COMM_SELF` and
 * `COMM_WORLD` are plain properties; everything else is a method.
 *
 * @example
 * ```ts
 * import type { Comm } from "rankflow/promise"
 * export default async (comm: Comm) => {
 *   const r = comm.ibcast(comm.rank === 0 ? "hi" : "", 0)
 *   await comm.barrier()
 *   return await r.wait()
 * }
 * ```
 * @category models
 * @since 0.1.0
 */
export interface Comm extends Ops<PromiseFace> {}

export class Comm {
  /** @internal */
  readonly core: CommCore
  constructor(core: CommCore) {
    this.core = core
  }
}

install(Comm.prototype, {
  later: (core, start, status, then) => {
    const st = status()
    const done = run<unknown>(core, start, st)
    return then === undefined ? done : done.then((v) => then(v, st))
  },
  now: (f) => f(),
  request: (core, r) => new Request(core, r),
  prequest: (core, p) => new Prequest(core, p),
  comm: (core) => new Comm(core)
})
