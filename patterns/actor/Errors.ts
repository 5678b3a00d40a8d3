/**
 * The errors of the actor layer. Each is a `Data.TaggedError` with the facts
 * attached (rank, actor id, incarnation, name...): recover with
 * `Effect.catchTag` in the Effect face, or `instanceof` / `_tag` in the
 * Promise face, where the same classes reject the promises and are thrown by
 * the synchronous calls (`tell`, `spawn`).
 *
 * They cross ranks: an ask answered with an error on another rank rejects
 * with the same class here ({@link toWire} / {@link fromWire}).
 *
 * @since 0.3.0
 */
import * as Data from "effect/Data"
import { Errors } from "../../core/index.ts"

const who = (rank: number, id: number, incarnation: number): string => `actor ${rank}:${id}#${incarnation}`

/**
 * No actor with this id ever lived on its rank (a made-up or garbled ref, or
 * a ref from another world).
 *
 * @example
 * ```ts
 * import { UnknownActor } from "rankflow/patterns/actor"
 * const e = new UnknownActor({ rank: 0, id: 99, incarnation: 0, op: "ask" })
 * e._tag // "UnknownActor"
 * ```
 * @category errors
 * @since 0.3.0
 */
export class UnknownActor extends Data.TaggedError("UnknownActor")<{
  readonly rank: number
  readonly id: number
  readonly incarnation: number
  readonly op: string
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly id: number; readonly incarnation: number; readonly op: string }) {
    super({ ...f, message: `${f.op}: no ${who(f.rank, f.id, f.incarnation)} ever lived on rank ${f.rank}` })
  }
}

/**
 * The actor has stopped (normally, by failure, or with its rank), or the ref
 * names an older incarnation of a restarted actor.
 *
 * @example
 * ```ts
 * import { DeadActor } from "rankflow/patterns/actor"
 * const e = new DeadActor({ rank: 1, id: 4, incarnation: 0, op: "ask", reason: "stale incarnation (now 2)" })
 * e.message // "ask: actor 1:4#0 is dead: stale incarnation (now 2)"
 * ```
 * @category errors
 * @since 0.3.0
 */
export class DeadActor extends Data.TaggedError("DeadActor")<{
  readonly rank: number
  readonly id: number
  readonly incarnation: number
  readonly op: string
  readonly reason: string
  readonly message: string
}> {
  constructor(
    f: { readonly rank: number; readonly id: number; readonly incarnation: number; readonly op: string; readonly reason: string }
  ) {
    super({ ...f, message: `${f.op}: ${who(f.rank, f.id, f.incarnation)} is dead: ${f.reason}` })
  }
}

/**
 * The actor's behavior threw (or its promise rejected) while handling the
 * message an ask sent; the actor has failed. `cause` is the thrown value.
 *
 * @example
 * ```ts
 * import { ActorFailed } from "rankflow/patterns/actor"
 * const e = new ActorFailed({ rank: 0, id: 1, incarnation: 0, cause: new Error("boom") })
 * e.message // "actor 0:1#0 failed handling the message: boom"
 * ```
 * @category errors
 * @since 0.3.0
 */
export class ActorFailed extends Data.TaggedError("ActorFailed")<{
  readonly rank: number
  readonly id: number
  readonly incarnation: number
  readonly cause: unknown
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly id: number; readonly incarnation: number; readonly cause: unknown }) {
    const why = f.cause instanceof Error ? f.cause.message : String(f.cause)
    super({ ...f, message: `${who(f.rank, f.id, f.incarnation)} failed handling the message: ${why}` })
  }
}

/**
 * A bounded mailbox with overflow `"fail"` is full: the tell or ask was
 * refused.
 *
 * @example
 * ```ts
 * import { MailboxFull } from "rankflow/patterns/actor"
 * const e = new MailboxFull({ rank: 0, id: 2, incarnation: 0, capacity: 8 })
 * e._tag // "MailboxFull"
 * ```
 * @category errors
 * @since 0.3.0
 */
export class MailboxFull extends Data.TaggedError("MailboxFull")<{
  readonly rank: number
  readonly id: number
  readonly incarnation: number
  readonly capacity: number
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly id: number; readonly incarnation: number; readonly capacity: number }) {
    super({ ...f, message: `the mailbox of ${who(f.rank, f.id, f.incarnation)} is full (capacity ${f.capacity})` })
  }
}

/**
 * An ask would wait on itself: the target is already waiting (directly or
 * through other asks) for the asker. `chain` lists the actors in the wait,
 * as `"rank:id"`, the target last.
 *
 * @example
 * ```ts
 * import { AskCycle } from "rankflow/patterns/actor"
 * const e = new AskCycle({ rank: 0, chain: ["0:1", "1:1", "0:1"] })
 * e.message // "ask cycle: 0:1 -> 1:1 -> 0:1 would never complete"
 * ```
 * @category errors
 * @since 0.3.0
 */
export class AskCycle extends Data.TaggedError("AskCycle")<{
  readonly rank: number
  readonly chain: ReadonlyArray<string>
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly chain: ReadonlyArray<string> }) {
    super({ ...f, message: `ask cycle: ${f.chain.join(" -> ")} would never complete` })
  }
}

/**
 * An ask got no answer within its `timeout`.
 *
 * @example
 * ```ts
 * import { AskTimeout } from "rankflow/patterns/actor"
 * const e = new AskTimeout({ rank: 1, id: 3, incarnation: 0, timeout: 50 })
 * e._tag // "AskTimeout"
 * ```
 * @category errors
 * @since 0.3.0
 */
export class AskTimeout extends Data.TaggedError("AskTimeout")<{
  readonly rank: number
  readonly id: number
  readonly incarnation: number
  readonly timeout: number
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly id: number; readonly incarnation: number; readonly timeout: number }) {
    super({ ...f, message: `ask of ${who(f.rank, f.id, f.incarnation)} got no answer within ${f.timeout} ms` })
  }
}

/**
 * A name is already registered to another actor.
 *
 * @example
 * ```ts
 * import { NameTaken } from "rankflow/patterns/actor"
 * const e = new NameTaken({ name: "db", home: 1, holder: "0:3#0" })
 * e.message // 'the name "db" (home rank 1) is already registered to actor 0:3#0'
 * ```
 * @category errors
 * @since 0.3.0
 */
export class NameTaken extends Data.TaggedError("NameTaken")<{
  readonly name: string
  readonly home: number
  readonly holder: string
  readonly message: string
}> {
  constructor(f: { readonly name: string; readonly home: number; readonly holder: string }) {
    super({ ...f, message: `the name "${f.name}" (home rank ${f.home}) is already registered to actor ${f.holder}` })
  }
}

/**
 * A spawn named a behavior that is not defined (with `Behavior.define`) on
 * the rank that was to run it.
 *
 * @example
 * ```ts
 * import { UnknownBehavior } from "rankflow/patterns/actor"
 * const e = new UnknownBehavior({ rank: 2, name: "countr", known: ["counter"] })
 * e._tag // "UnknownBehavior"
 * ```
 * @category errors
 * @since 0.3.0
 */
export class UnknownBehavior extends Data.TaggedError("UnknownBehavior")<{
  readonly rank: number
  readonly name: string
  readonly known: ReadonlyArray<string>
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly name: string; readonly known: ReadonlyArray<string> }) {
    super({
      ...f,
      message: `no behavior "${f.name}" is defined on rank ${f.rank} (known: ${f.known.join(", ") || "none"}); ` +
        `define it with Behavior.define in the module every rank runs`
    })
  }
}

/**
 * A supervisor gave up: its children failed more than `intensity` times
 * within `period` ms. It stops with this error (and so fails in turn, for its
 * own supervisor).
 *
 * @example
 * ```ts
 * import { SupervisorGaveUp } from "rankflow/patterns/actor"
 * const e = new SupervisorGaveUp({ rank: 0, id: 1, child: "worker", intensity: 3, period: 5000, cause: "boom" })
 * e._tag // "SupervisorGaveUp"
 * ```
 * @category errors
 * @since 0.3.0
 */
export class SupervisorGaveUp extends Data.TaggedError("SupervisorGaveUp")<{
  readonly rank: number
  readonly id: number
  readonly child: string
  readonly intensity: number
  readonly period: number
  readonly cause: unknown
  readonly message: string
}> {
  constructor(
    f: {
      readonly rank: number
      readonly id: number
      readonly child: string
      readonly intensity: number
      readonly period: number
      readonly cause: unknown
    }
  ) {
    super({
      ...f,
      message: `supervisor ${f.rank}:${f.id} gave up: child "${f.child}" failed more than ${f.intensity} times in ${f.period} ms`
    })
  }
}

/**
 * Any error of the actor layer.
 *
 * **When to use**: Type the error channel, or narrow a rejection by `_tag`.
 *
 * @example
 * ```ts
 * import type { ActorError } from "rankflow/patterns/actor"
 * const retryable = (e: ActorError) => e._tag === "AskTimeout" || e._tag === "MailboxFull"
 * ```
 * @category errors
 * @since 0.3.0
 */
export type ActorError =
  | UnknownActor
  | DeadActor
  | ActorFailed
  | MailboxFull
  | AskCycle
  | AskTimeout
  | NameTaken
  | UnknownBehavior
  | SupervisorGaveUp

const classes: Record<string, new(f: any) => Error> = {
  UnknownActor,
  DeadActor,
  ActorFailed,
  MailboxFull,
  AskCycle,
  AskTimeout,
  NameTaken,
  UnknownBehavior,
  SupervisorGaveUp
}

/**
 * An error as plain data that the codec carries (actor errors by tag and
 * fields, core errors through core's `Errors.toWire`).
 *
 * @internal
 * @category errors
 * @since 0.3.0
 */
export const toWire = (e: unknown): unknown => {
  if (typeof e === "object" && e !== null && typeof (e as any)._tag === "string" && (e as any)._tag in classes) {
    const { message: _m, stack: _s, _tag: _t, ...fields } = e as any
    // an Error's own `cause` is not enumerable
    const cause = (e as any).cause
    return { $actorError: (e as any)._tag, fields: cause === undefined ? fields : { ...fields, cause: toWire(cause) } }
  }
  return Errors.toWire(e)
}

/**
 * Rebuilds an error made by {@link toWire}.
 *
 * @internal
 * @category errors
 * @since 0.3.0
 */
export const fromWire = (u: unknown): unknown => {
  if (typeof u === "object" && u !== null && typeof (u as any).$actorError === "string") {
    const C = classes[(u as any).$actorError]
    if (C !== undefined) {
      const fields = (u as any).fields ?? {}
      return new C("cause" in fields ? { ...fields, cause: fromWire(fields.cause) } : fields)
    }
  }
  return Errors.fromWire(u)
}
