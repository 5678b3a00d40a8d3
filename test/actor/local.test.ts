// Actors on one rank (an in-process world of 1 and a system without a
// communicator): mailbox order, one message at a time, ask answers, typed
// errors, overflow policies, ask cycles, watch, names, supervision and the
// Effect face.
import test from "ava"
import * as Effect from "effect/Effect"
import {
  ActorFailed,
  ActorRef,
  ActorSystem,
  AskCycle,
  AskTimeout,
  Behavior,
  type Context,
  DeadActor,
  type DeadLetter,
  MailboxFull,
  NameTaken,
  Supervisor,
  SupervisorGaveUp,
  Terminated,
  UnknownActor,
  UnknownBehavior
} from "../../patterns/actor/index.ts"
import * as Actor from "../../patterns/actor/effect/index.ts"
import { Comm, runWorld } from "../../promise.ts"
import { Errors } from "../../core/promise/index.ts"

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

Behavior.define("local-counter", (start: number) => {
  let n = start
  return (msg: "inc" | "get") => (msg === "inc" ? void n++ : n)
})

test("tell and ask: messages in order, one at a time (async behaviors too), ctx.reply, typed errors", async (t) => {
  const [out] = await runWorld<any>({ size: 1, transport: "inproc" }, async (comm: Comm) => {
    const letters: Array<DeadLetter> = []
    const system = await ActorSystem.start(comm, { onDeadLetter: (l) => letters.push(l) })
    const seen: Array<number> = []
    let inside = 0
    let maxInside = 0
    const slow = system.spawn(async (msg: number) => {
      inside++
      maxInside = Math.max(maxInside, inside)
      await sleep(1)
      seen.push(msg)
      inside--
      return msg * 10
    })
    for (let i = 0; i < 5; i++) system.tell(slow, i)
    const last = await system.ask<number>(slow, 5)
    const counter = system.spawn("local-counter", { args: 40 })
    system.tell(counter, "inc")
    system.tell(counter, "inc")
    const n = await system.ask<number>(counter, "get")
    const early = system.spawn((msg: string, ctx: Context) => {
      ctx.reply(`early ${msg}`)
      return "ignored"
    })
    const replied = await system.ask(early, "x")
    const boom = system.spawn((msg: string) => {
      if (msg === "boom") throw new RangeError("bad message")
      return "ok"
    })
    const failed = await system.ask(boom, "boom").catch((e) => e)
    const afterFail = await system.ask(boom, "hi").catch((e) => e)
    system.tell(boom, "lost")
    const unknown = await system.ask(new ActorRef(0, 9999, 0), "x").catch((e) => e)
    const badRank = await system.ask(new ActorRef(7, 1, 0), "x").catch((e) => e)
    const mute = system.spawn(() => new Promise(() => {}))
    const timedOut = await system.ask(mute, "x", { timeout: 20 }).catch((e) => e)
    const unknownBehavior = (() => {
      try {
        system.spawn("no-such-behavior")
      } catch (e) {
        return e
      }
    })()
    const noFunctionAcross = (() => {
      try {
        system.spawn(() => 1, { on: 0, mailbox: { capacity: 0 } })
      } catch (e) {
        return e
      }
    })()
    await system.shutdown()
    const afterShutdown = await system.ask(counter, "get").catch((e) => e)
    return {
      seen,
      maxInside,
      last,
      n,
      replied,
      failed,
      afterFail,
      unknown,
      badRank,
      timedOut,
      unknownBehavior,
      noFunctionAcross,
      afterShutdown,
      letters: letters.map((l) => [l.message, l.reason]),
      failures: system.failures
    }
  })
  t.deepEqual(out.seen, [0, 1, 2, 3, 4, 5])
  t.is(out.maxInside, 1)
  t.is(out.last, 50)
  t.is(out.n, 42)
  t.is(out.replied, "early x")
  t.true(out.failed instanceof ActorFailed)
  t.true(out.failed.cause instanceof RangeError)
  t.true(out.afterFail instanceof DeadActor)
  t.is(out.afterFail.reason, "it has stopped")
  t.true(out.unknown instanceof UnknownActor)
  t.is(out.unknown.id, 9999)
  t.true(out.badRank instanceof UnknownActor)
  t.true(out.timedOut instanceof AskTimeout)
  t.is(out.timedOut.timeout, 20)
  t.true(out.unknownBehavior instanceof UnknownBehavior)
  t.true(out.unknownBehavior.known.includes("local-counter"))
  t.true(out.noFunctionAcross instanceof Errors.InvalidArgument)
  t.true(out.afterShutdown instanceof DeadActor)
  t.deepEqual(out.letters, [["lost", "no such actor"]])
  t.is(out.failures, 1)
})

test("mailbox overflow: suspend makes the sender wait, dropNewest counts dead letters, fail throws MailboxFull", async (t) => {
  const system = ActorSystem.local()
  let gate!: () => void
  const opened = new Promise<void>((r) => (gate = r))
  const got: Array<number> = []
  const slow = system.spawn(async (m: number) => {
    if (m === 0) await opened
    got.push(m)
  }, { mailbox: { capacity: 2, overflow: "suspend" } })
  const results = [system.tell(slow, 0)]
  await sleep(1) // 0 is being handled; the mailbox is empty
  results.push(system.tell(slow, 1), system.tell(slow, 2), system.tell(slow, 3), system.tell(slow, 4))
  t.is(results[1], undefined)
  t.is(results[2], undefined)
  t.true(results[3] instanceof Promise)
  let resumed = false
  void (results[3] as Promise<void>).then(() => (resumed = true))
  await sleep(5)
  t.false(resumed)
  gate()
  await Promise.all(results)
  await system.ask(slow, -1)
  t.true(resumed)
  t.deepEqual(got, [0, 1, 2, 3, 4, -1])

  const dropped: Array<unknown> = []
  const s2 = ActorSystem.local({ onDeadLetter: (l) => dropped.push(l.message) })
  const drop = s2.spawn(() => {}, { mailbox: { capacity: 1, overflow: "dropNewest" } })
  s2.tell(drop, "a")
  s2.tell(drop, "b")
  const fail = s2.spawn(() => {}, { mailbox: { capacity: 1, overflow: "fail" } })
  s2.tell(fail, "a")
  const e = t.throws(() => s2.tell(fail, "b"))
  t.true(e instanceof MailboxFull)
  t.is((e as MailboxFull).capacity, 1)
  const askFull = await s2.ask(fail, "c").catch((x) => x)
  t.true(askFull instanceof MailboxFull)
  t.deepEqual(dropped, ["b"])
  t.is(s2.deadLetters, 1)
  t.throws(() => s2.spawn(() => {}, { mailbox: { capacity: -1 } }), { instanceOf: Errors.InvalidArgument })
})

test("ask cycles fail at once with AskCycle naming the chain; a chain without a cycle works", async (t) => {
  const system = ActorSystem.local()
  let b!: ActorRef
  const a = system.spawn(async (msg: string, ctx: Context) => {
    if (msg === "start") return await ctx.ask(b, "ping")
    if (msg === "self") return await ctx.ask(ctx.self, "x")
    return "a got " + msg
  })
  const c = system.spawn((msg: string) => "c got " + msg)
  b = system.spawn(async (msg: string, ctx: Context) => {
    if (msg === "ping") return await ctx.ask(a, "pong").catch((x) => x)
    return await ctx.ask(c, msg)
  })
  const e = await system.ask(a, "start")
  t.true(e instanceof AskCycle)
  t.deepEqual((e as AskCycle).chain, [`0:${a.id}`, `0:${b.id}`, `0:${a.id}`])
  const self = system.spawn(async (_: string, ctx: Context) => await ctx.ask(ctx.self, "x").catch((x) => x))
  const selfCycle = await system.ask(self, "go")
  t.true(selfCycle instanceof AskCycle)
  t.is(await system.ask(b, "hello"), "c got hello")
})

test("watch: Terminated in the watcher's mailbox (normal, failure, noproc) and as a promise outside actors", async (t) => {
  const system = ActorSystem.local()
  const notices: Array<[string, string]> = []
  const target = system.spawn((msg: string, ctx: Context) => {
    if (msg === "stop") ctx.stop()
    if (msg === "fail") throw new Error("crash")
  })
  const crasher = system.spawn((msg: string) => {
    if (msg === "fail") throw new Error("crash")
  })
  const watcher = system.spawn((msg: unknown, ctx: Context) => {
    if (msg instanceof Terminated) notices.push([msg.ref.toString(), msg.reason])
    else if (Array.isArray(msg)) for (const r of msg) ctx.watch(r)
  })
  const outside = system.watch(crasher)
  system.tell(watcher, [target, crasher])
  await sleep(1)
  system.tell(target, "stop")
  system.tell(crasher, "fail")
  const t1 = await outside
  t.is(t1.reason, "failure")
  t.is((t1.error as Error).message, "crash")
  await sleep(1)
  system.tell(watcher, [target]) // already gone
  await sleep(1)
  t.deepEqual(notices, [[target.toString(), "normal"], [crasher.toString(), "failure"], [target.toString(), "noproc"]])
  t.false(system.isAlive(target))
})

test("names: register, whereis, NameTaken, dropped when the actor stops", async (t) => {
  const system = ActorSystem.local()
  const a = system.spawn(() => "a")
  const b = system.spawn(() => "b")
  await system.register("svc", a)
  t.true((await system.whereis("svc"))?.equals(a))
  const taken = await system.register("svc", b).catch((e) => e)
  t.true(taken instanceof NameTaken)
  t.is(taken.holder, a.toString())
  t.is(await system.whereis("nobody"), undefined)
  system.stop(a)
  await sleep(1)
  t.is(await system.whereis("svc"), undefined)
  await system.register("svc", b)
  t.true((await system.whereis("svc"))?.equals(b))
  system.unregister("svc")
  t.is(await system.whereis("svc"), undefined)
})

const flaky = (log: Array<string>, id: string) => () => (msg: string) => {
  log.push(`${id}:${msg}`)
  if (msg === "crash") throw new Error(`${id} crashed`)
  return id
}

test("supervision: oneForOne, oneForAll and restForOne restart the right children with new incarnations", async (t) => {
  const system = ActorSystem.local()
  for (const strategy of ["oneForOne", "oneForAll", "restForOne"] as const) {
    const log: Array<string> = []
    const sup = Supervisor.start(system, {
      strategy,
      intensity: 5,
      period: 1000,
      children: ["a", "b", "c"].map((id) => ({ id, behavior: flaky(log, id) }))
    })
    const before = await Supervisor.children(system, sup)
    t.is(await system.ask(before.b!, "hi"), "b")
    await system.ask(before.b!, "crash").catch(() => {})
    await sleep(5)
    const after = await Supervisor.children(system, sup)
    const restarted = ["a", "b", "c"].filter((id) => after[id]!.incarnation !== before[id]!.incarnation)
    t.deepEqual(restarted, strategy === "oneForOne" ? ["b"] : strategy === "oneForAll" ? ["a", "b", "c"] : ["b", "c"], strategy)
    t.is(after.b!.id, before.b!.id)
    t.is(after.b!.incarnation, 1)
    const stale: any = await system.ask(before.b!, "hi").catch((e) => e)
    t.true(stale instanceof DeadActor)
    t.regex(stale.reason, /stale incarnation \(now 1\)/)
    t.is(await system.ask(after.b!, "hi"), "b")
    const gone = system.watch(after.a!)
    system.stop(sup)
    t.is((await gone).reason, "normal") // the children stop with their supervisor
    t.false(system.isAlive(after.c!))
  }
})

test("supervision: backoff between restarts, intensity exceeded makes the supervisor fail with SupervisorGaveUp, escalating to its parent", async (t) => {
  const system = ActorSystem.local()
  const log: Array<string> = []
  const starts: Array<number> = []
  const sup = Supervisor.start(system, {
    strategy: "oneForOne",
    intensity: 2,
    period: 10_000,
    backoff: { initial: 20, factor: 2, max: 30 },
    children: [{
      id: "w",
      behavior: () => {
        starts.push(performance.now())
        return flaky(log, "w")()
      }
    }]
  })
  const down = system.watch(sup)
  for (let i = 0; i < 3; i++) {
    const { w } = await Supervisor.children(system, sup)
    if (w === undefined) {
      await sleep(5)
      i--
      continue
    }
    await system.ask(w, "crash").catch(() => {})
    await sleep(i === 2 ? 1 : 45)
  }
  const notice = await down
  t.is(notice.reason, "failure")
  t.true(notice.error instanceof SupervisorGaveUp)
  t.is((notice.error as SupervisorGaveUp).intensity, 2)
  t.is(starts.length, 3)
  t.true(starts[1]! - starts[0]! >= 18, `first backoff ${starts[1]! - starts[0]!}`)
  t.true(starts[2]! - starts[1]! >= 28, `second backoff ${starts[2]! - starts[1]!}`)

  // a supervisor under a supervisor: the inner one giving up is a failure the outer restarts
  const innerStarts: Array<number> = []
  const top = Supervisor.start(system, {
    intensity: 3,
    period: 10_000,
    children: [Supervisor.child("inner", {
      intensity: 0,
      children: [{ id: "x", behavior: () => (innerStarts.push(1), flaky(log, "x")()) }]
    })]
  })
  const { inner } = await Supervisor.children(system, top)
  const { x } = await Supervisor.children(system, inner!)
  await system.ask(x!, "crash").catch(() => {})
  await sleep(5)
  const again = await Supervisor.children(system, top)
  t.is(again.inner!.incarnation, 1)
  const { x: x2 } = await Supervisor.children(system, again.inner!)
  t.is(await system.ask(x2!, "hi"), "x")
  t.is(innerStarts.length, 2)
})

test("Effect face: start, spawn, tell, ask, watch, names, typed failures", async (t) => {
  const [out] = await runWorld<any>({ size: 1, transport: "inproc" }, () =>
    Effect.gen(function*() {
      const system = yield* Actor.start()
      const echo = yield* Actor.spawn(system, (m: string) => m.toUpperCase())
      yield* Actor.tell(system, echo, "x")
      const up = yield* Actor.ask<string>(system, echo, "hi")
      yield* Actor.register(system, "echo", echo)
      const found = yield* Actor.whereis(system, "echo")
      const missing = yield* Effect.flip(Actor.ask(system, new ActorRef(0, 777, 0), "x"))
      const bounded = yield* Actor.spawn(system, () => new Promise(() => {}), { mailbox: { capacity: 1, overflow: "fail" } })
      yield* Actor.tell(system, bounded, 1)
      yield* Effect.promise(() => sleep(5)) // 1 is being handled (forever)
      yield* Actor.tell(system, bounded, 2)
      const full = yield* Effect.flip(Actor.tell(system, bounded, 3))
      yield* Actor.stop(system, echo)
      const notice = yield* Actor.watch(system, echo)
      yield* Actor.shutdown(system)
      return { up, found: found?.equals(echo), missing: missing._tag, full: full._tag, reason: notice.reason }
    }))
  t.deepEqual(out, { up: "HI", found: true, missing: "UnknownActor", full: "MailboxFull", reason: "noproc" })
})
