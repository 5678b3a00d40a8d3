/**
 * Tagged, serializable errors with the facts attached.
 *
 * Every error carries the rank that raised it and, where there is one, the
 * peer and tag of the operation. They are `Data.TaggedError`s: yield them in
 * `Effect.gen`, recover with `Effect.catchTag`, or `instanceof` them in the
 * Promise face, where the same classes reject the promises. `toWire` and
 * `fromWire` carry any of them (and plain `Error`s) across threads and
 * processes.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

const peerName = (peer: number): string =>
  peer === -1 ? "any source" : peer === -2 ? "PROC_NULL" : `rank ${peer}`

/**
 * A rank argument outside the communicator.
 *
 * @example
 * ```ts
 * import { Errors } from "rankflow"
 * const e = new Errors.InvalidRank({ rank: 0, op: "send", peer: 9, size: 4 })
 * e.message // "send on rank 0: 9 is not a rank of this communicator (size 4) ..."
 * ```
 * @category errors
 * @since 0.1.0
 */
export class InvalidRank extends Data.TaggedError("InvalidRank")<{
  readonly rank: number
  readonly op: string
  readonly peer: number
  readonly size: number
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly op: string; readonly peer: number; readonly size: number }) {
    super({
      ...f,
      message: `${f.op} on rank ${f.rank}: ${f.peer} is not a rank of this communicator (size ${f.size}); ` +
        `use 0..${f.size - 1} or PROC_NULL${f.op.includes("recv") || f.op.includes("probe") ? " or ANY_SOURCE" : ""}`
    })
  }
}

/**
 * A tag outside 0..TAG_UB (or ANY_TAG for receives).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidTag extends Data.TaggedError("InvalidTag")<{
  readonly rank: number
  readonly op: string
  readonly tag: number
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly op: string; readonly tag: number }) {
    super({
      ...f,
      message: `${f.op} on rank ${f.rank}: tag ${f.tag} is invalid; tags are integers from 0 to 2147483647` +
        (f.op.includes("recv") || f.op.includes("probe") ? " or ANY_TAG" : "")
    })
  }
}

/**
 * An argument of the wrong kind (not a rank or tag): a buffer that is not a
 * typed array, an unknown option, a request used the wrong way.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidArgument extends Data.TaggedError("InvalidArgument")<{
  readonly rank: number
  readonly op: string
  readonly reason: string
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly op: string; readonly reason: string }) {
    super({ ...f, message: `${f.op} on rank ${f.rank}: ${f.reason}` })
  }
}

/**
 * A received message larger than the buffer it was received into. The
 * message is consumed (as in MPI), and the buffer holds nothing of it.
 *
 * @category errors
 * @since 0.1.0
 */
export class Truncated extends Data.TaggedError("Truncated")<{
  readonly rank: number
  readonly peer: number
  readonly tag: number
  /** Bytes the message has. */
  readonly length: number
  /** Bytes the buffer holds. */
  readonly capacity: number
  /** The buffer, described ("Int32Array(500)"). */
  readonly buffer: string
  readonly message: string
}> {
  constructor(
    f: {
      readonly rank: number
      readonly peer: number
      readonly tag: number
      readonly length: number
      readonly capacity: number
      readonly buffer: string
    }
  ) {
    super({
      ...f,
      message: `recv on rank ${f.rank}: the message from ${peerName(f.peer)} (tag ${f.tag}) is ${f.length} bytes ` +
        `but the receive buffer ${f.buffer} holds ${f.capacity} bytes (truncated)`
    })
  }
}

/**
 * A message whose type does not fit the receive: a buffer receive of a
 * `Float64Array` that got an `Int32Array`, or an object.
 *
 * @category errors
 * @since 0.1.0
 */
export class TypeMismatch extends Data.TaggedError("TypeMismatch")<{
  readonly rank: number
  readonly peer: number
  readonly tag: number
  readonly expected: string
  readonly actual: string
  readonly message: string
}> {
  constructor(
    f: {
      readonly rank: number
      readonly peer: number
      readonly tag: number
      readonly expected: string
      readonly actual: string
    }
  ) {
    super({
      ...f,
      message: `recv on rank ${f.rank}: the message from ${peerName(f.peer)} (tag ${f.tag}) is ${f.actual}, ` +
        `but the receive buffer is ${f.expected}`
    })
  }
}

/**
 * A value the codec cannot carry (a function, a symbol, a class instance it
 * cannot rebuild), refused at the sender.
 *
 * @category errors
 * @since 0.1.0
 */
export class Unencodable extends Data.TaggedError("Unencodable")<{
  readonly rank: number
  readonly op: string
  readonly peer: number
  readonly tag: number
  /** What the value was ("a function", "an instance of class Foo"). */
  readonly what: string
  /** Where in the value it was ("value.items[3].cb"). */
  readonly path: string
  readonly message: string
}> {
  constructor(
    f: {
      readonly rank: number
      readonly op: string
      readonly peer: number
      readonly tag: number
      readonly what: string
      readonly path: string
    }
  ) {
    super({
      ...f,
      message: `${f.op} on rank ${f.rank} to ${peerName(f.peer)} (tag ${f.tag}): cannot encode ${f.path}: ` +
        `it is ${f.what}. Messages carry data as structured clone does (objects, arrays, Map, Set, Date, ` +
        `bigint, typed arrays, ArrayBuffer, DataView, Error, RegExp); register a class with Codec.register to send it`
    })
  }
}

/**
 * A message body that could not be decoded (malformed bytes from a peer).
 *
 * @category errors
 * @since 0.1.0
 */
export class Undecodable extends Data.TaggedError("Undecodable")<{
  readonly rank: number
  readonly peer: number
  readonly tag: number
  readonly reason: string
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly peer: number; readonly tag: number; readonly reason: string }) {
    super({
      ...f,
      message: `recv on rank ${f.rank}: the message from ${peerName(f.peer)} (tag ${f.tag}) cannot be decoded: ${f.reason}`
    })
  }
}

/**
 * Why a peer is gone.
 *
 * - `failed`: its program threw, or its thread or process died.
 * - `finished`: its program returned, so it can never send or receive again.
 * - `disconnected`: the transport lost it and could not get it back.
 *
 * @category errors
 * @since 0.1.0
 */
export type PeerLostReason = "failed" | "finished" | "disconnected"

/**
 * An operation that depends on a peer that is gone.
 *
 * @category errors
 * @since 0.1.0
 */
export class PeerLost extends Data.TaggedError("PeerLost")<{
  readonly rank: number
  readonly op: string
  readonly peer: number
  readonly tag: number
  readonly reason: PeerLostReason
  /** The peer's own error, when it failed. */
  readonly cause?: unknown
  readonly message: string
}> {
  constructor(
    f: {
      readonly rank: number
      readonly op: string
      readonly peer: number
      readonly tag: number
      readonly reason: PeerLostReason
      readonly cause?: unknown
    }
  ) {
    const why = f.reason === "failed"
      ? `it failed${f.cause instanceof Error ? `: ${f.cause.message}` : ""}`
      : f.reason === "finished"
      ? "its program has finished"
      : "the transport lost it"
    super({
      ...f,
      message: `${f.op} on rank ${f.rank} ${f.op.includes("send") ? "to" : "from"} ${peerName(f.peer)} ` +
        `(tag ${f.tag === -1 ? "ANY_TAG" : f.tag}) cannot complete: ${why}`
    })
  }
}

/**
 * An operation of a rank whose engine was closed: pending when it closed
 * (a posted receive, a probe, a rendezvous send waiting for the receiver, a
 * rendezvous receive waiting for the data, a send waiting for room), or
 * started after. The world closes a rank's engine when it ends, so this is
 * what a request left unfinished by the rank's program fails with.
 *
 * @example
 * ```ts
 * import { Errors } from "rankflow"
 * const e = new Errors.EngineClosed({ rank: 0, op: "recv", peer: 1, tag: 5 })
 * e.message // "recv on rank 0 from rank 1 (tag 5) cannot complete: the rank's engine was closed"
 * ```
 * @category errors
 * @since 0.3.0
 */
export class EngineClosed extends Data.TaggedError("EngineClosed")<{
  readonly rank: number
  readonly op: string
  readonly peer: number
  readonly tag: number
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly op: string; readonly peer: number; readonly tag: number }) {
    super({
      ...f,
      message: `${f.op} on rank ${f.rank} ${f.op.includes("send") ? "to" : "from"} ${peerName(f.peer)} ` +
        `(tag ${f.tag === -1 ? "ANY_TAG" : f.tag}) cannot complete: the rank's engine was closed`
    })
  }
}

/**
 * A request used the wrong way: a persistent request started while active or
 * after `free`, a wait on a freed request.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidRequest extends Data.TaggedError("InvalidRequest")<{
  readonly rank: number
  readonly op: string
  readonly reason: string
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly op: string; readonly reason: string }) {
    super({ ...f, message: `${f.op} on rank ${f.rank}: ${f.reason}` })
  }
}

/**
 * A reduction op that cannot combine its operands (`BAND` on fractions, a
 * number with a string, arrays of different lengths or kinds).
 *
 * @category errors
 * @since 0.1.0
 */
export class OpError extends Data.TaggedError("OpError")<{
  readonly rank: number
  readonly op: string
  readonly reason: string
  readonly message: string
}> {
  constructor(f: { readonly rank?: number; readonly op: string; readonly reason: string }) {
    const rank = f.rank ?? -1
    super({ rank, op: f.op, reason: f.reason, message: `Op.${f.op}${rank >= 0 ? ` on rank ${rank}` : ""}: ${f.reason}` })
  }
}

/**
 * A transport-level failure: a frame that could not be moved, a malformed
 * frame, a connection that broke.
 *
 * @category errors
 * @since 0.1.0
 */
export class TransportError extends Data.TaggedError("TransportError")<{
  readonly transport: string
  readonly rank: number
  readonly peer: number
  readonly reason: string
  readonly cause?: unknown
  readonly message: string
}> {
  constructor(
    f: {
      readonly transport: string
      readonly rank: number
      readonly peer: number
      readonly reason: string
      readonly cause?: unknown
    }
  ) {
    super({
      ...f,
      message: `${f.transport} transport on rank ${f.rank}` + (f.peer >= 0 ? ` (peer ${f.peer})` : "") + `: ${f.reason}`
    })
  }
}

/**
 * One rank's failure inside a world.
 *
 * @category models
 * @since 0.1.0
 */
export interface RankFailure {
  readonly rank: number
  readonly error: unknown
}

const describe = (error: unknown): string =>
  error instanceof Error ? (error.stack && !("_tag" in error) ? error.stack : `${error.name}: ${error.message}`) : String(error)

/**
 * A world in which at least one rank failed. `rank` and `cause` name the first
 * failure that was not a consequence of another (a `PeerLost`); `failures`
 * lists them all, in the order they happened.
 *
 * @category errors
 * @since 0.1.0
 */
export class WorldFailed extends Data.TaggedError("WorldFailed")<{
  readonly rank: number
  readonly cause: unknown
  readonly failures: ReadonlyArray<RankFailure>
  readonly message: string
}> {
  constructor(f: { readonly failures: ReadonlyArray<RankFailure> }) {
    const root = f.failures.find((x) => !(x.error instanceof PeerLost)) ?? f.failures[0]!
    const others = f.failures.filter((x) => x !== root)
    super({
      ...f,
      rank: root.rank,
      cause: root.error,
      message: `rank ${root.rank} failed: ${describe(root.error)}` +
        (others.length > 0
          ? `\n(then ${others.map((x) => `rank ${x.rank}: ${x.error instanceof Error ? x.error.message : String(x.error)}`).join("; ")})`
          : "")
    })
  }
}

/**
 * A world that did not finish within its time limit.
 *
 * @category errors
 * @since 0.1.0
 */
export class WorldTimeout extends Data.TaggedError("WorldTimeout")<{
  readonly timeoutMs: number
  /** Ranks whose programs had not finished. */
  readonly running: ReadonlyArray<number>
  readonly message: string
}> {
  constructor(f: { readonly timeoutMs: number; readonly running: ReadonlyArray<number> }) {
    super({
      ...f,
      message: `the world did not finish within ${f.timeoutMs} ms; ranks still running: ${f.running.join(", ")}`
    })
  }
}

/**
 * Any error a communicator operation can fail with.
 *
 * @category models
 * @since 0.1.0
 */
export type CommError =
  | InvalidRank
  | InvalidTag
  | InvalidArgument
  | Truncated
  | TypeMismatch
  | Unencodable
  | Undecodable
  | PeerLost
  | EngineClosed
  | InvalidRequest
  | OpError
  | TransportError

const registry: Record<string, new(f: any) => Error> = {
  InvalidRank,
  InvalidTag,
  InvalidArgument,
  Truncated,
  TypeMismatch,
  Unencodable,
  Undecodable,
  PeerLost,
  EngineClosed,
  InvalidRequest,
  OpError,
  TransportError,
  WorldFailed,
  WorldTimeout
}

/**
 * Is `u` one of rankflow's tagged errors?
 *
 * @category guards
 * @since 0.1.0
 */
export const isRankflowError = (u: unknown): u is CommError | WorldFailed | WorldTimeout =>
  u instanceof Error && "_tag" in u && typeof u._tag === "string" && u._tag in registry

/**
 * Turns an error (rankflow's or any other) into plain data that survives the
 * codec and structured clone.
 *
 * @category serialization
 * @since 0.1.0
 */
export const toWire = (error: unknown): unknown => {
  if (isRankflowError(error)) {
    const out: Record<string, unknown> = { _tag: error._tag }
    for (const [k, v] of Object.entries(error)) {
      if (k !== "message" && k !== "cause") out[k] = k === "failures" ? wireDeep(v) : v
    }
    // An Error's own `cause` is not enumerable.
    if ((error as { cause?: unknown }).cause !== undefined) out.cause = toWire((error as { cause?: unknown }).cause)
    return out
  }
  if (error instanceof Error) {
    const out: Record<string, unknown> = { _error: error.name, message: error.message, stack: error.stack }
    if (error.cause !== undefined) out.cause = toWire(error.cause)
    return out
  }
  try {
    return structuredClone(error)
  } catch {
    return { _error: "Error", message: String(error) }
  }
}

const wireDeep = (v: unknown): unknown =>
  Array.isArray(v) ? v.map((x) => ("error" in x ? { rank: x.rank, error: toWire(x.error) } : x)) : toWire(v)

const builtins: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError
}

/**
 * Rebuilds an error made plain by {@link toWire}.
 *
 * @category serialization
 * @since 0.1.0
 */
export const fromWire = (u: unknown): unknown => {
  if (typeof u !== "object" || u === null) return u
  const o = u as Record<string, any>
  if (typeof o._tag === "string" && o._tag in registry) {
    const fields: Record<string, unknown> = { ...o }
    delete fields._tag
    if ("cause" in fields) fields.cause = fromWire(fields.cause)
    if (Array.isArray(fields.failures)) {
      fields.failures = fields.failures.map((x: any) => ({ rank: x.rank, error: fromWire(x.error) }))
    }
    return new registry[o._tag]!(fields)
  }
  if (typeof o._error === "string") {
    const Ctor = builtins[o._error] ?? Error
    const e = new Ctor(String(o.message ?? ""), o.cause !== undefined ? { cause: fromWire(o.cause) } : undefined)
    if (!(o._error in builtins)) e.name = o._error
    if (typeof o.stack === "string") e.stack = o.stack
    return e
  }
  return u
}
