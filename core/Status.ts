/**
 * Status: what a completed receive (or probe) learned about its message.
 *
 * As in mpi4py, a `Status` is a mutable object you pass in and the operation
 * fills: `source` and `tag` of the message, `count` (its size in bytes as it
 * travelled), and `cancelled` for a receive that was cancelled before it
 * matched.
 *
 * @example
 * ```ts
 * import { Status } from "rankflow/promise"
 * import type { Comm } from "rankflow/promise"
 * declare const comm: Comm
 * const st = new Status()
 * const msg = await comm.recv(undefined, undefined, st)
 * console.log(st.source, st.tag, st.count)
 * ```
 * @since 0.1.0
 */

/**
 * @category models
 * @since 0.1.0
 */
export class Status {
  /** Rank (in the communicator) the message came from. */
  source = -1
  /** The message's tag. */
  tag = -1
  /** The message's size in bytes, as it travelled. */
  count = 0
  /** True when the receive was cancelled before it matched. */
  cancelled = false

  /**
   * Number of elements of a typed array kind the message holds (mpi4py's
   * `Get_count(datatype)`); without an argument, the byte count.
   */
  getCount(kind?: { readonly BYTES_PER_ELEMENT: number }): number {
    return kind === undefined ? this.count : Math.floor(this.count / kind.BYTES_PER_ELEMENT)
  }
}
