/**
 * Actors over rankflow ranks, Promise face: an actor system per rank,
 * actors with bounded or unbounded mailboxes, `tell` and `ask`, refs that
 * travel in messages on every transport, named actors, `watch` with
 * `Terminated` notices (also when a rank dies), credit-based backpressure
 * for tells across ranks, typed errors (`AskCycle`, `DeadActor`, ...) and
 * OTP-style supervisors. The Effect face is `rankflow/patterns/actor/effect`.
 *
 * @example
 * ```ts
 * import { ActorSystem } from "rankflow/patterns/actor"
 * const system = ActorSystem.local()
 * let n = 0
 * const counter = system.spawn((msg: "inc" | "get") => (msg === "inc" ? void n++ : n))
 * system.tell(counter, "inc")
 * await system.ask(counter, "get") // 1
 * ```
 * @since 0.3.0
 */
export {
  type ActorError,
  ActorFailed,
  AskCycle,
  AskTimeout,
  DeadActor,
  MailboxFull,
  NameTaken,
  SupervisorGaveUp,
  UnknownActor,
  UnknownBehavior
} from "./Errors.ts"
export { ActorRef, CODEC_TYPE } from "./Ref.ts"
export {
  ActorSystem,
  type AskOptions,
  Behavior,
  Context,
  type DeadLetter,
  type Factory,
  type Handler,
  type MailboxOptions,
  type Overflow,
  type SpawnOptions,
  type SystemOptions,
  Terminated,
  type TerminationReason
} from "./System.ts"
export { type ChildSpec, type Restart, type Strategy, Supervisor, type SupervisorOptions } from "./Supervisor.ts"
