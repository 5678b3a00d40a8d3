/**
 * Actors, Effect face: the operations of `rankflow/patterns/actor` as
 * Effects with typed errors. The system, refs, behaviors and supervisors are
 * the same objects as in the Promise face; these wrappers run the same
 * synchronous code once per call.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Actor from "rankflow/patterns/actor/effect"
 * const program = Effect.gen(function*() {
 *   const system = yield* Actor.start()
 *   const echo = yield* Actor.spawn(system, (msg: string) => msg.toUpperCase())
 *   const out = yield* Actor.ask<string>(system, echo, "hi")
 *   yield* Actor.shutdown(system)
 *   return out // "HI"
 * })
 * ```
 * @since 0.3.0
 */
import * as Effect from "effect/Effect"
import { Comm, type Errors } from "../../../core/index.ts"
import { Comm as PromiseComm } from "../../../core/promise/index.ts"
import type { ActorError } from "../Errors.ts"
import type { ActorRef } from "../Ref.ts"
import { ActorSystem, type AskOptions, type Handler, type SpawnOptions, type SystemOptions, type Terminated } from "../System.ts"
import { Supervisor, type SupervisorOptions } from "../Supervisor.ts"

export * from "../index.ts"

/**
 * The errors an actor operation can fail with.
 *
 * **When to use**: Type the error channel of a program using the Effect face.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Actor from "rankflow/patterns/actor/effect"
 * declare const system: Actor.ActorSystem
 * declare const ref: Actor.ActorRef
 * const safe = Actor.ask(system, ref, "x").pipe(Effect.catchTag("AskTimeout", () => Effect.succeed(undefined)))
 * ```
 * @category errors
 * @since 0.3.0
 */
export type Failure = ActorError | Errors.CommError

const asFailure = (e: unknown): Failure => e as Failure

/**
 * Starts this rank's actor system over a duplicate of the world
 * communicator (the `Comm` service; collective).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Actor from "rankflow/patterns/actor/effect"
 * const program = Effect.gen(function*() {
 *   const system = yield* Actor.start()
 *   yield* Actor.shutdown(system)
 * })
 * ```
 * @category life cycle
 * @since 0.3.0
 */
export const start = (options?: SystemOptions): Effect.Effect<ActorSystem, Failure, Comm.Comm> =>
  Effect.gen(function*() {
    const c = yield* Comm.Comm
    return yield* Effect.tryPromise({ try: () => ActorSystem.start(new PromiseComm(c.core), options), catch: asFailure })
  })

/**
 * Stops the system (collective).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Actor from "rankflow/patterns/actor/effect"
 * declare const system: Actor.ActorSystem
 * const done: Effect.Effect<void> = Actor.shutdown(system)
 * ```
 * @category life cycle
 * @since 0.3.0
 */
export const shutdown = (system: ActorSystem): Effect.Effect<void> => Effect.promise(() => system.shutdown())

/**
 * Spawns an actor (see `ActorSystem.spawn`).
 *
 * @example
 * ```ts
 * import * as Actor from "rankflow/patterns/actor/effect"
 * declare const system: Actor.ActorSystem
 * const ref = Actor.spawn(system, "counter", { on: 1, args: 0 })
 * ```
 * @category actors
 * @since 0.3.0
 */
export const spawn = <A = unknown>(
  system: ActorSystem,
  behavior: string | Handler,
  options?: SpawnOptions<A>
): Effect.Effect<ActorRef, Failure> => Effect.try({ try: () => system.spawn(behavior, options), catch: asFailure })

/**
 * Tells `ref` a message; suspends while a bounded "suspend" mailbox (local or
 * on another rank) has no room.
 *
 * @example
 * ```ts
 * import * as Actor from "rankflow/patterns/actor/effect"
 * declare const system: Actor.ActorSystem
 * declare const ref: Actor.ActorRef
 * const sent = Actor.tell(system, ref, { add: 1 })
 * ```
 * @category actors
 * @since 0.3.0
 */
export const tell = (system: ActorSystem, ref: ActorRef<any>, msg: unknown): Effect.Effect<void, Failure> =>
  Effect.suspend(() => {
    let out: void | Promise<void>
    try {
      out = system.tell(ref, msg)
    } catch (e) {
      return Effect.fail(asFailure(e))
    }
    return out === undefined ? Effect.void : Effect.promise(() => out)
  })

/**
 * Asks `ref` and waits for the answer.
 *
 * @example
 * ```ts
 * import * as Actor from "rankflow/patterns/actor/effect"
 * declare const system: Actor.ActorSystem
 * declare const ref: Actor.ActorRef
 * const n = Actor.ask<number>(system, ref, "get", { timeout: 1000 })
 * ```
 * @category actors
 * @since 0.3.0
 */
export const ask = <R = unknown>(system: ActorSystem, ref: ActorRef<any>, msg: unknown, options?: AskOptions): Effect.Effect<R, Failure> =>
  Effect.tryPromise({ try: () => system.ask<R>(ref, msg, options), catch: asFailure })

/**
 * Waits until `ref` stops; succeeds with the `Terminated` notice.
 *
 * @example
 * ```ts
 * import * as Actor from "rankflow/patterns/actor/effect"
 * declare const system: Actor.ActorSystem
 * declare const ref: Actor.ActorRef
 * const notice = Actor.watch(system, ref)
 * ```
 * @category actors
 * @since 0.3.0
 */
export const watch = (system: ActorSystem, ref: ActorRef<any>): Effect.Effect<Terminated, Failure> =>
  Effect.tryPromise({ try: () => system.watch(ref), catch: asFailure })

/**
 * Stops `ref`.
 *
 * @example
 * ```ts
 * import * as Actor from "rankflow/patterns/actor/effect"
 * declare const system: Actor.ActorSystem
 * declare const ref: Actor.ActorRef
 * const stopped = Actor.stop(system, ref)
 * ```
 * @category actors
 * @since 0.3.0
 */
export const stop = (system: ActorSystem, ref: ActorRef<any>): Effect.Effect<void, Failure> =>
  Effect.try({ try: () => system.stop(ref), catch: asFailure })

/**
 * Registers `name` for `ref` (fails with `NameTaken`).
 *
 * @example
 * ```ts
 * import * as Actor from "rankflow/patterns/actor/effect"
 * declare const system: Actor.ActorSystem
 * declare const ref: Actor.ActorRef
 * const registered = Actor.register(system, "db", ref)
 * ```
 * @category names
 * @since 0.3.0
 */
export const register = (system: ActorSystem, name: string, ref: ActorRef<any>): Effect.Effect<void, Failure> =>
  Effect.tryPromise({ try: () => system.register(name, ref), catch: asFailure })

/**
 * The ref registered as `name`, or undefined.
 *
 * @example
 * ```ts
 * import * as Actor from "rankflow/patterns/actor/effect"
 * declare const system: Actor.ActorSystem
 * const db = Actor.whereis(system, "db")
 * ```
 * @category names
 * @since 0.3.0
 */
export const whereis = (system: ActorSystem, name: string): Effect.Effect<ActorRef | undefined, Failure> =>
  Effect.tryPromise({ try: () => system.whereis(name), catch: asFailure })

/**
 * Starts a supervisor (see `Supervisor.start`).
 *
 * @example
 * ```ts
 * import * as Actor from "rankflow/patterns/actor/effect"
 * declare const system: Actor.ActorSystem
 * const sup = Actor.supervise(system, { strategy: "oneForAll", children: [{ id: "a", behavior: "counter" }] })
 * ```
 * @category supervision
 * @since 0.3.0
 */
export const supervise = (system: ActorSystem, options: SupervisorOptions): Effect.Effect<ActorRef, Failure> =>
  Effect.try({ try: () => Supervisor.start(system, options), catch: asFailure })
