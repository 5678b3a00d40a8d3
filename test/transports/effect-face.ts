/**
 * The conformance scenarios on the Effect face: `bridge` gives a scenario
 * (written against the Promise face's shapes) an object whose every call
 * goes through the Effect face's method of the same name — blocking calls
 * through `Effect.runPromiseExit`, calls that complete at once through
 * `Effect.runSyncExit` — and whose requests wait, test, cancel, start and
 * free through the Effect face's `Request`/`Prequest`. `effectKit` is the
 * Effect face's `Request.waitAll` and friends. Which call is which comes
 * from the op table, so a new operation is bridged without a line here.
 *
 * The default export is a rank program (an Effect that needs `Comm.Comm`)
 * for the thread and process transports: argv is `["p2p" | "collective",
 * scenarioName]`, or `["p2p" | "collective", "--batch", "a,b,c"]` to run
 * those scenarios in one world (see batch.ts).
 */
import { Cause, Effect, Exit } from "effect"
import { OP_NAMES, OPS } from "../../core/internal/Ops.ts"
import { Comm as EffectComm, Request as ERequest } from "../../index.ts"
import type { Comm, Status } from "../../promise.ts"
import { Prequest, Request } from "../../promise.ts"
import { batchNames, runBatch } from "./batch.ts"
import { type CollectiveScenario, collectiveScenarios } from "./collective-scenarios.ts"
import { type Kit, type Scenario, scenarios } from "./scenarios.ts"

/** Runs an Effect to a Promise that rejects with its typed error (not a wrapper). */
const later = <A>(e: Effect.Effect<A, unknown>): Promise<A> =>
  Effect.runPromiseExit(e).then((exit) => {
    if (Exit.isSuccess(exit)) return exit.value
    throw Cause.squash(exit.cause)
  })

/** Runs a synchronous Effect: its value, or its typed error thrown. */
const now = <A>(e: Effect.Effect<A, unknown>): A => {
  const exit = Effect.runSyncExit(e)
  if (Exit.isSuccess(exit)) return exit.value
  throw Cause.squash(exit.cause)
}

/** A Promise-shaped request over an Effect face request. */
class BridgedRequest<A> extends Request<A> {
  readonly inner: ERequest.Request<A>
  constructor(inner: ERequest.Request<A>) {
    super(inner.core, inner.req)
    this.inner = inner
  }
  override wait(status?: Status): Promise<A> {
    return later(this.inner.wait(status))
  }
  override test(status?: Status): [boolean, A | undefined] {
    return now(this.inner.test(status))
  }
  override cancel(): void {
    now(this.inner.cancel())
  }
}

/** A Promise-shaped persistent request over an Effect face one. */
class BridgedPrequest<A> extends Prequest<A> {
  readonly inner: ERequest.Prequest<A>
  constructor(inner: ERequest.Prequest<A>) {
    super(inner.core, undefined as never)
    this.inner = inner
  }
  override get req() {
    return this.inner.req
  }
  override get active(): boolean {
    return this.inner.active
  }
  override wait(status?: Status): Promise<A> {
    return later(this.inner.wait(status))
  }
  override test(status?: Status): [boolean, A | undefined] {
    return now(this.inner.test(status))
  }
  override cancel(): void {
    now(this.inner.cancel())
  }
  override start(): void {
    now(this.inner.start())
  }
  override free(): void {
    now(this.inner.free())
  }
}

const inner = (r: Request<any>): ERequest.Request<any> => {
  if (r instanceof BridgedRequest || r instanceof BridgedPrequest) return r.inner
  throw new Error("effect-face: a request that did not come from the Effect face")
}
const innerP = (r: Prequest<any>): ERequest.Prequest<any> => {
  if (r instanceof BridgedPrequest) return r.inner
  throw new Error("effect-face: a persistent request that did not come from the Effect face")
}

/** The Effect face's request combinators, Promise-shaped. */
export const effectKit: Kit = {
  waitAll: ((reqs: ReadonlyArray<Request<any>>, statuses?: ReadonlyArray<Status>) => later(ERequest.waitAll(reqs.map(inner), statuses))) as Kit["waitAll"],
  waitAny: (reqs, status) => later(ERequest.waitAny(reqs.map(inner), status)),
  waitSome: (reqs, statuses) => later(ERequest.waitSome(reqs.map(inner), statuses)),
  testAll: (reqs, statuses) => now(ERequest.testAll(reqs.map(inner), statuses)),
  testAny: (reqs, status) => now(ERequest.testAny(reqs.map(inner), status)),
  startAll: (reqs) => now(ERequest.startAll(reqs.map(innerP)))
}

type Methods = Record<string, (...args: Array<unknown>) => Effect.Effect<unknown, unknown>>

/** The Effect face communicator `e`, Promise-shaped: every call goes through `e`. */
export const bridge = (e: EffectComm.Communicator): Comm => {
  const m = e as unknown as Methods
  const out: Record<string, unknown> = {}
  Object.defineProperty(out, "core", { value: e.core })
  for (const name of OP_NAMES) {
    const kind = OPS[name].kind
    const call = (args: Array<unknown>): Effect.Effect<unknown, unknown> => m[name]!.apply(e, args)
    let d: PropertyDescriptor
    switch (kind) {
      case "property":
        d = { get: () => (e as unknown as Record<string, unknown>)[name] }
        break
      case "commProperty":
        d = { get: () => bridge((e as unknown as Record<string, EffectComm.Communicator>)[name]!) }
        break
      case "blocking":
        d = { value: (...args: Array<unknown>) => later(call(args)) }
        break
      case "comm":
        d = { value: (...args: Array<unknown>) => later(call(args)).then((c) => (c === undefined ? undefined : bridge(c as EffectComm.Communicator))) }
        break
      case "request":
        d = { value: (...args: Array<unknown>) => new BridgedRequest(now(call(args)) as ERequest.Request<unknown>) }
        break
      case "persistent":
        d = { value: (...args: Array<unknown>) => new BridgedPrequest(now(call(args)) as ERequest.Prequest<unknown>) }
        break
      case "local":
        d = { value: (...args: Array<unknown>) => now(call(args)) }
        break
    }
    Object.defineProperty(out, name, d)
  }
  return out as unknown as Comm
}

/** A rank program (Effect face) that runs `run` on the bridged world communicator. */
export const effectProgram = (run: (comm: Comm, kit: Kit) => Promise<unknown>): Effect.Effect<unknown, never, EffectComm.Comm> =>
  Effect.gen(function*() {
    const comm = yield* EffectComm.Comm
    return yield* Effect.promise(() => run(bridge(comm), effectKit))
  })

/** A suite's scenarios, by name, in order. */
export const suites: Readonly<Record<"p2p" | "collective", Readonly<Record<string, Scenario | CollectiveScenario>>>> = { p2p: scenarios, collective: collectiveScenarios }

/**
 * The worker (or process) transport's rank program: argv is `[suite,
 * scenario]`, or `[suite, "--batch", "a,b,c"]` to run those scenarios of the
 * suite in one world (see batch.ts).
 */
export default Effect.suspend(() => {
  const [suite, name] = process.argv.slice(2) as ["p2p" | "collective", string]
  const table = suites[suite]
  if (table === undefined) return Effect.die(new Error(`no suite ${suite}`))
  const names = batchNames(process.argv, 3)
  if (names !== undefined) return effectProgram((comm, kit) => runBatch(comm, table, names, kit))
  const s = table[name]
  if (s === undefined) return Effect.die(new Error(`no ${suite} scenario ${name}`))
  return effectProgram(s.run)
})
