/**
 * Actor references: the address of one incarnation of one actor, as plain
 * data (rank, id, incarnation). A ref is taught to the codec, so it travels
 * inside any message, on every transport, and works from any rank.
 *
 * @since 0.3.0
 */
import { Codec } from "../../core/index.ts"

/**
 * The msgpack extension number of {@link ActorRef} (core's codec leaves
 * 1..0x1d to applications; 0x1f is the shared heap's).
 *
 * **When to use**: Keep your own `Codec.register` types clear of it.
 *
 * @example
 * ```ts
 * import { Codec } from "rankflow"
 * import { CODEC_TYPE } from "rankflow/patterns/actor"
 * class Point {
 *   x = 0
 * }
 * Codec.register(Point, CODEC_TYPE - 1, { encode: (p) => p.x, decode: (x: number) => Object.assign(new Point(), { x }) })
 * ```
 * @category registration
 * @since 0.3.0
 */
export const CODEC_TYPE = 0x1e

/**
 * The address of an actor: the rank it lives on, its id there, and its
 * incarnation (a supervised actor keeps its id and gets a new incarnation
 * each time it restarts, so a ref to an older incarnation is stale).
 *
 * **When to use**: pass it to `system.tell` / `system.ask` (or `ctx.tell` /
 * `ctx.ask` inside a behavior); put it in messages to hand an actor to
 * another rank. `M` is the message type the actor takes (a hint for callers;
 * refs that came over the wire are `ActorRef<unknown>`).
 *
 * @example
 * ```ts
 * import { ActorRef } from "rankflow/patterns/actor"
 * import { Codec } from "rankflow"
 * const ref = new ActorRef(1, 7, 0)
 * const back = Codec.decode(Codec.encode({ reply: ref })) as { reply: ActorRef }
 * back.reply.equals(ref) // true
 * ```
 * @category models
 * @since 0.3.0
 */
export class ActorRef<M = unknown> {
  readonly rank: number
  readonly id: number
  readonly incarnation: number
  /**
   * Per-sender credit of the actor's mailbox for senders on other ranks (a
   * bounded mailbox with overflow "suspend"); 0 when tells are not credited.
   */
  readonly window: number
  /** @internal phantom field for the message type */
  declare readonly _M?: (m: M) => void
  constructor(rank: number, id: number, incarnation: number, window = 0) {
    this.rank = rank
    this.id = id
    this.incarnation = incarnation
    this.window = window
  }

  /** Same rank, id and incarnation? */
  equals(that: ActorRef<any>): boolean {
    return this.rank === that.rank && this.id === that.id && this.incarnation === that.incarnation
  }

  /** `rank:id#incarnation`. */
  toString(): string {
    return `${this.rank}:${this.id}#${this.incarnation}`
  }
}

Codec.register(ActorRef, CODEC_TYPE, {
  encode: (r: ActorRef<any>): [number, number, number, number] => [r.rank, r.id, r.incarnation, r.window],
  decode: (a: [number, number, number, number]) => {
    if (!Array.isArray(a) || a.length !== 4 || !a.every((x) => typeof x === "number" && Number.isSafeInteger(x))) {
      throw new Error("malformed ActorRef on the wire")
    }
    return new ActorRef(a[0], a[1], a[2], a[3])
  }
})
