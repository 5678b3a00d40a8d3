/**
 * Supervisors, as in OTP: an actor that starts child actors from specs,
 * watches them, and restarts them when they stop (strategy `oneForOne`,
 * `oneForAll` or `restForOne`), with an exponential backoff, at most
 * `intensity` restarts within `period` ms; beyond that it stops its children
 * and fails with `SupervisorGaveUp` (so a supervisor above it sees a failure
 * and applies its own strategy).
 *
 * A restarted child keeps its id and gets the next incarnation: refs to the
 * old incarnation are stale (`DeadActor`), so clients look children up again
 * (`Supervisor.children`, or a registered `name`, which moves to the new
 * incarnation). A child on a rank that is lost restarts on the supervisor's
 * rank.
 *
 * @since 0.3.0
 */
import { SupervisorGaveUp } from "./Errors.ts"
import type { ActorRef } from "./Ref.ts"
import { type ActorSystem, type Context, type Handler, type MailboxOptions, Terminated } from "./System.ts"

/**
 * When a child is restarted: `"permanent"` always, `"transient"` only after
 * a failure (or its rank's loss), `"temporary"` never.
 *
 * **When to use**: Set it per child: workers `"permanent"`, one-shot jobs `"temporary"`.
 *
 * @example
 * ```ts
 * import type { ChildSpec } from "rankflow/patterns/actor"
 * const job: ChildSpec = { id: "job", behavior: "job", restart: "transient" }
 * ```
 * @category models
 * @since 0.3.0
 */
export type Restart = "permanent" | "transient" | "temporary"

/**
 * A child: how to start it and when to restart it.
 *
 * **When to use**: List the children of a supervisor.
 *
 * @example
 * ```ts
 * import type { ChildSpec } from "rankflow/patterns/actor"
 * const db: ChildSpec = { id: "db", behavior: "db", args: { pool: 4 }, on: 1, name: "db" }
 * ```
 * @category models
 * @since 0.3.0
 */
export interface ChildSpec {
  /** The child's name among its siblings. */
  readonly id: string
  /** A behavior name (any rank) or a function making a fresh handler (this rank). */
  readonly behavior: string | (() => Handler)
  readonly args?: unknown
  readonly on?: number | undefined
  readonly mailbox?: MailboxOptions | undefined
  readonly restart?: Restart | undefined
  /** Register the child under this name (moved to each new incarnation). */
  readonly name?: string | undefined
  /** A message told to the child right after each start. */
  readonly init?: unknown
}

/**
 * Restart strategy: `oneForOne` restarts the child that stopped;
 * `oneForAll` stops the others and restarts all; `restForOne` stops and
 * restarts it and the children started after it.
 *
 * **When to use**: `oneForOne` for independent children; `oneForAll` when they only work together; `restForOne` when later ones depend on earlier ones.
 *
 * @example
 * ```ts
 * import type { SupervisorOptions } from "rankflow/patterns/actor"
 * const options: SupervisorOptions = { strategy: "restForOne", children: [] }
 * ```
 * @category models
 * @since 0.3.0
 */
export type Strategy = "oneForOne" | "oneForAll" | "restForOne"

/**
 * Options of a supervisor.
 *
 * **When to use**: Configure `Supervisor.start` and `Supervisor.child`.
 *
 * @example
 * ```ts
 * import type { SupervisorOptions } from "rankflow/patterns/actor"
 * const options: SupervisorOptions = {
 *   strategy: "oneForAll",
 *   intensity: 5,
 *   period: 10_000,
 *   backoff: { initial: 20, factor: 2, max: 2000 },
 *   children: [{ id: "a", behavior: "a" }, { id: "b", behavior: "b" }]
 * }
 * ```
 * @category models
 * @since 0.3.0
 */
export interface SupervisorOptions {
  readonly strategy?: Strategy | undefined
  /** Restarts allowed within `period` before the supervisor gives up (default 3). */
  readonly intensity?: number | undefined
  /** Window of `intensity`, in ms (default 5000). */
  readonly period?: number | undefined
  /** Backoff before a restart: `initial` ms, times `factor` per restart in the period, at most `max` (default 0 / 2 / 1000). */
  readonly backoff?: { readonly initial?: number; readonly factor?: number; readonly max?: number } | undefined
  readonly children: ReadonlyArray<ChildSpec>
}

const CHILDREN = { $supervisor: "children" } as const
const RESTART = Symbol("restart")

interface Child {
  readonly spec: ChildSpec
  ref: ActorRef | undefined
  incarnation: number
  /** Stopped on purpose by this supervisor: its Terminated is expected. */
  expected: boolean
}

const startChild = (ctx: Context, c: Child, fallbackHere: boolean): void => {
  const s = c.spec
  const behavior = typeof s.behavior === "function" ? s.behavior() : s.behavior
  const on = fallbackHere ? ctx.rank : s.on
  const id = c.ref?.id ?? -1
  const ref = ctx.system.spawnAs(behavior, { on, args: s.args, mailbox: s.mailbox }, id, c.ref === undefined ? 0 : c.incarnation)
  c.ref = ref
  c.expected = false
  ctx.watch(ref)
  if (s.init !== undefined) ctx.system.tell(ref, s.init)
  if (s.name !== undefined) {
    ctx.system.register(s.name, ref).catch(() => {})
  }
}

const makeSupervisor = (opts: SupervisorOptions): Handler => {
  const strategy = opts.strategy ?? "oneForOne"
  const intensity = opts.intensity ?? 3
  const period = opts.period ?? 5000
  const initial = opts.backoff?.initial ?? 0
  const factor = opts.backoff?.factor ?? 2
  const max = opts.backoff?.max ?? 1000
  const children: Array<Child> = opts.children.map((spec) => ({ spec, ref: undefined, incarnation: 0, expected: false }))
  const restarts: Array<number> = []
  let started = false
  let pending = 0

  const stopOthers = (ctx: Context, from: number, except: Child): Array<Child> => {
    const out: Array<Child> = []
    for (let i = from; i < children.length; i++) {
      const c = children[i]!
      if (c === except) {
        out.push(c)
        continue
      }
      if (c.ref !== undefined && !c.expected) {
        c.expected = true
        ctx.system.stop(c.ref)
      }
      out.push(c)
    }
    return out
  }

  return (msg: unknown, ctx: Context) => {
    if (!started) {
      started = true
      // a supervisor that stops takes its children with it
      ctx.onStop(() => {
        for (const c of children) {
          if (c.ref !== undefined && !c.expected) {
            c.expected = true
            ctx.system.stop(c.ref)
          }
        }
      })
      for (const c of children) startChild(ctx, c, false)
    }
    if (msg === CHILDREN || (typeof msg === "object" && msg !== null && (msg as any).$supervisor === "children")) {
      const out: Record<string, ActorRef | undefined> = {}
      for (const c of children) out[c.spec.id] = c.expected ? undefined : c.ref
      return out
    }
    if (typeof msg === "object" && msg !== null && (msg as any)[RESTART] !== undefined) {
      const { list, here } = (msg as any)[RESTART] as { list: Array<Child>; here: Set<Child> }
      pending--
      for (const c of list) {
        c.incarnation++
        startChild(ctx, c, here.has(c))
      }
      return
    }
    if (!(msg instanceof Terminated)) return
    const c = children.find((x) => x.ref !== undefined && x.ref.id === msg.ref.id && x.ref.rank === msg.ref.rank && x.ref.incarnation === msg.ref.incarnation)
    if (c === undefined) return
    if (c.expected) return
    const restart = c.spec.restart ?? "permanent"
    const abnormal = msg.reason === "failure" || msg.reason === "rank-lost"
    if (restart === "temporary" || (restart === "transient" && !abnormal)) {
      c.ref = undefined
      return
    }
    const now = Date.now()
    restarts.push(now)
    while (restarts.length > 0 && restarts[0]! < now - period) restarts.shift()
    if (restarts.length > intensity) {
      for (const x of children) {
        if (x.ref !== undefined && x !== c) {
          x.expected = true
          ctx.system.stop(x.ref)
        }
      }
      throw new SupervisorGaveUp({
        rank: ctx.rank,
        id: ctx.self.id,
        child: c.spec.id,
        intensity,
        period,
        cause: msg.error
      })
    }
    const idx = children.indexOf(c)
    const list = strategy === "oneForOne"
      ? [c]
      : strategy === "oneForAll"
      ? stopOthers(ctx, 0, c)
      : stopOthers(ctx, idx, c)
    const here = new Set<Child>(msg.reason === "rank-lost" ? [c] : [])
    for (const x of list) if (x !== c && x.spec.on !== undefined && msg.reason === "rank-lost" && x.spec.on === msg.ref.rank) here.add(x)
    c.expected = true // its notice is in; later ones of stale incarnations are ignored
    const delay = initial <= 0 ? 0 : Math.min(max, initial * Math.pow(factor, restarts.length - 1))
    pending++
    const self = ctx.self
    const system = ctx.system
    const go = (): void => {
      system.tell(self, { [RESTART]: { list, here } })
    }
    if (delay > 0) setTimeout(go, delay)
    else go()
  }
}

/**
 * Supervisors: start one with {@link Supervisor.start}, list its children
 * with {@link Supervisor.children}.
 *
 * @example
 * ```ts
 * import { ActorSystem, Supervisor } from "rankflow/patterns/actor"
 * const system = ActorSystem.local()
 * const sup = Supervisor.start(system, {
 *   strategy: "oneForOne",
 *   intensity: 5,
 *   period: 1000,
 *   backoff: { initial: 10, max: 200 },
 *   children: [{ id: "worker", behavior: () => (msg: number) => { if (msg < 0) throw new Error("negative"); return msg * 2 } }]
 * })
 * const { worker } = await Supervisor.children(system, sup)
 * await system.ask(worker!, 21) // 42
 * ```
 * @category supervision
 * @since 0.3.0
 */
export const Supervisor = {
  /** Spawns a supervisor on this rank and starts its children (in order). */
  start(system: ActorSystem, options: SupervisorOptions): ActorRef {
    const ref = system.spawn(makeSupervisor(options))
    system.tell(ref, { $supervisor: "init" })
    return ref
  },
  /** The current ref of each child, by spec id (undefined while it restarts). */
  children(system: ActorSystem, supervisor: ActorRef): Promise<Record<string, ActorRef | undefined>> {
    return system.ask(supervisor, CHILDREN)
  },
  /** A supervisor as a child spec of another supervisor (it runs on that supervisor's rank). */
  child(id: string, options: SupervisorOptions, restart: Restart = "permanent"): ChildSpec {
    return { id, behavior: () => makeSupervisor(options), restart, init: { $supervisor: "init" } }
  }
}
