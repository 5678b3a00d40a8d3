/**
 * rankflow, Promise face: the same names and arguments as the Effect face,
 * returning Promises, for async/await code.
 *
 * @example
 * ```ts
 * import type { Comm } from "rankflow/promise"
 * export default async (comm: Comm) => {
 *   const next = (comm.rank + 1) % comm.size
 *   const prev = (comm.rank - 1 + comm.size) % comm.size
 *   return await comm.sendrecv(comm.rank, next, 0, prev, 0)
 * }
 * ```
 * @since 0.1.0
 */
export { Comm } from "./Comm.ts"
export { Prequest, Request } from "./Request.ts"
export { Status } from "../Status.ts"
export { ANY_SOURCE, ANY_TAG } from "../Matching.ts"
export { PROC_NULL, TAG_UB } from "../internal/CommCore.ts"
export * as Codec from "../Codec.ts"
export * as Engine from "../Engine.ts"
export * as Errors from "../Errors.ts"
export * as Op from "../Op.ts"
export { Group, IDENT, SIMILAR, UNDEFINED, UNEQUAL } from "../Group.ts"
