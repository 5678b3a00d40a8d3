/**
 * rankflow, Effect face: every operation is an Effect, the world
 * communicator is the `Comm.Comm` service, and errors are tagged values.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Comm } from "rankflow"
 * export default Effect.gen(function*() {
 *   const comm = yield* Comm.Comm
 *   const next = (comm.rank + 1) % comm.size
 *   const prev = (comm.rank - 1 + comm.size) % comm.size
 *   return yield* comm.sendrecv(comm.rank, next, 0, prev, 0)
 * })
 * ```
 * @since 0.1.0
 */
export * as Codec from "./Codec.ts"
export * as Comm from "./Comm.ts"
export * as Engine from "./Engine.ts"
export * as Envelope from "./Envelope.ts"
export * as Errors from "./Errors.ts"
export * as Op from "./Op.ts"
export * as Matching from "./Matching.ts"
export * as Request from "./Request.ts"
export * as Transport from "./Transport.ts"
export * as World from "./World.ts"
export { Status } from "./Status.ts"
export { Group, IDENT, SIMILAR, UNDEFINED, UNEQUAL } from "./Group.ts"
export { ANY_SOURCE, ANY_TAG } from "./Matching.ts"
export { PROC_NULL, TAG_UB } from "./internal/CommCore.ts"
