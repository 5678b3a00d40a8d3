// Actors across ranks, on every transport: remote spawn by name, tell and
// ask, refs inside messages, names, ask cycles, typed errors, watch,
// supervision of a child on another rank and credit backpressure. The
// in-process and worker worlds have 3 ranks; one world of 2 on each
// child-process transport (process, tcp, websocket).
import test from "ava"
import { runWorld } from "../../promise.ts"

const WORLD = new URL("./fixtures/world.ts", import.meta.url)

const worlds: Array<[string, number]> = [["inproc", 3], ["worker", 3], ["process", 2], ["tcp", 2], ["websocket", 2]]

for (const [transport, size] of worlds) {
  test(`actors across ${size} ranks on the ${transport} transport`, async (t) => {
    const program = transport === "inproc" ? (await import(WORLD.href)).default : WORLD
    const results = await runWorld<any>({ size, transport, timeout: 60_000 }, program)
    const last = size - 1
    for (const r of results) {
      t.is(r.count, 10 * r.rank + 5, `rank ${r.rank}`)
      t.is(r.counterRank, (r.rank + 1) % size)
      t.true(r.parallel)
      t.is(r.found.length, size)
      t.true(r.found.every((s: string, i: number) => s.startsWith(`${(i + 1) % size}:`)), r.found.join())
      t.is(r.taken.tag, "NameTaken")
      t.is(r.nobody, undefined)
    }
    const o = results[0]
    t.is(o.relayed, 100)
    // outside -> b (no chain); b asks a (chain [b]); a asks b: b is in the chain
    t.is(o.cycle.tag, "AskCycle")
    t.is(o.cycle.chain.length, 3)
    t.is(o.cycle.chain[0], o.cycle.chain[2])
    t.regex(o.cycle.chain[0], new RegExp(`^${last}:`))
    t.regex(o.cycle.chain[1], /^0:/)
    t.is(o.noCycle, "bottom")
    t.is(o.unknown.tag, "UnknownActor")
    t.deepEqual([o.unknownBehavior.reason, o.unknownBehavior.error], ["failure", "UnknownBehavior"])
    t.regex(o.unknownBehavior.ask.tag, /DeadActor/)
    t.is(o.unencodableTell.tag, "Unencodable")
    t.regex(o.unencodableTell.path, /fn/)
    t.is(o.unencodableAsk.tag, "Unencodable")
    t.deepEqual([o.unencodableAnswer.tag, o.unencodableAnswer.cause], ["ActorFailed", "Unencodable"])
    t.deepEqual([o.crashAsk.tag, o.crashAsk.message.includes(`counter crashed on rank ${last}`)], ["ActorFailed", true])
    t.is(o.lateWatch, "noproc")
    t.is(o.deadAsk.tag, "DeadActor")
    t.deepEqual(o.notices, [["crashing", "failure"], ["watched", "normal"]])
    t.deepEqual(o.restart, { sameId: true, incarnation: 1, rank: last, stale: o.restart.stale, fresh: 7 })
    t.is(o.restart.stale.tag, "DeadActor")
    t.regex(o.restart.stale.message, /stale incarnation/)
    t.true(o.nameMoved)
    t.true(o.backpressure.inOrder)
    t.true(o.backpressure.suspended > 0, `suspended ${o.backpressure.suspended}`)
    t.is(o.backpressure.window, Math.floor(4 / (size - 1)))
    t.true(o.backpressure.maxDepth <= 4, `max depth ${o.backpressure.maxDepth}`)
    // "junk", [], [99, 1], a spawn with an id outside the sender's range, a spawn with bad options
    t.is(o.malformed, 5)
    t.is(o.stillServes, 5)
  })
}
