/**
 * The contract between core and a transport (MPI's BTL).
 *
 * A transport connects the ranks of one world. It delivers each frame from
 * rank A to rank B exactly once and in send order, says when its outgoing
 * buffer is full (backpressure), and reports a peer's loss as an error on that
 * peer, never a hang. It knows nothing of tags, requests or communicators:
 * those live in the engine (`Engine.ts`), which is the transport's only user.
 *
 * The hot path is synchronous: `send` and the sink's callbacks are plain
 * calls over plain data. Effect appears only at the edge, where a transport is
 * built and torn down (the {@link Transport} service).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type { Frame } from "./Envelope.ts"
import type { PeerLost, TransportError } from "./Errors.ts"

/**
 * What the engine gives a transport to deliver into.
 *
 * @category models
 * @since 0.1.0
 */
export interface Sink {
  /**
   * A frame from a peer. `f` and `f.body` are borrowed: they are valid only
   * until this call returns.
   */
  readonly frame: (f: Frame) => void
  /**
   * Where to put the body of a frame that arrives in pieces (a large DATA
   * frame): a buffer of at least `f.size` bytes. The frame is then delivered
   * through `frame` with that buffer as its body.
   */
  readonly target: (f: Frame) => Uint8Array
  /** The outgoing buffer to `dst` has room again after `send` returned false. */
  readonly writable: (dst: number) => void
  /** `peer` is gone: every request that depends on it must fail. */
  readonly peerLost: (peer: number, error: PeerLost | TransportError) => void
}

/**
 * A transport, as the engine sees it.
 *
 * @category models
 * @since 0.1.0
 */
export interface TransportShape {
  /** The transport's name ("inproc", "worker", ...). */
  readonly name: string
  /** This rank's world rank. */
  readonly rank: number
  /** The world size. */
  readonly size: number
  /** Bytes a message may have and still be sent eagerly (without rendezvous). */
  readonly eagerLimit: number
  /**
   * Queues `f` for `f.dst` (never this rank itself: the engine delivers to
   * itself). `f.body` is borrowed for the duration of the call; a transport
   * that keeps the frame copies it. Returns false when the outgoing buffer is
   * past its high-water mark: the frame is queued all the same, and the sink's
   * `writable(dst)` says when to go on.
   */
  readonly send: (f: Frame) => boolean
  /** Starts delivery into `sink`. Called once, before any `send`. */
  readonly attach: (sink: Sink) => void
  /**
   * Delivers whatever has arrived, then keeps polling until `until()` is true
   * or `budgetMicros` have passed. Transports that deliver from the event
   * loop only (in-process) return at once.
   */
  readonly poll: (until: () => boolean, budgetMicros: number) => void
  /** Stops delivery and releases the transport's resources. */
  readonly close: () => void
}

/**
 * The transport of the current rank, as an Effect service.
 *
 * @example
 * ```ts
 * import { Transport } from "rankflow"
 * const name = Transport.Transport.useSync((t) => t.name)
 * ```
 * @category services
 * @since 0.1.0
 */
export class Transport extends Context.Service<Transport, TransportShape>()("rankflow/Transport") {}
