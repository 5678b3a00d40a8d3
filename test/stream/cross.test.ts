// Pipelines across ranks on every transport (test/stream/fixtures/world.ts):
// fan-out, keyed fan-out with one rank per key and order per key, fan-in,
// object data and typed arrays, a remote source, batching, typed errors
// (a stage that throws, items that cannot travel, unknown stages, invalid
// ranks), cancellation that stops a source on another rank, bounded memory
// under a 1000x slow sink, no head-of-line blocking between streams, and
// Effect Stream interop. In-process worlds of 2, 3 and 4 ranks; worker 4;
// one world on each child-process transport.
import test from "ava"
import { runWorld } from "../../promise.ts"

const WORLD = new URL("./fixtures/world.ts", import.meta.url)

const worlds: Array<[string, number]> = [["inproc", 2], ["inproc", 3], ["inproc", 4], ["worker", 4], ["process", 2], ["tcp", 2], ["websocket", 3]]

for (const [transport, size] of worlds) {
  // an in-process world's ranks share the fixture's module (its counters by rank): one such world at a time
  const run = transport === "inproc" ? test.serial : test
  run(`pipelines across ${size} ranks on the ${transport} transport`, async (t) => {
    const program = transport === "inproc" ? (await import(WORLD.href)).default : WORLD
    const results = await runWorld<any>({ size, transport, timeout: 60_000 }, program)
    const o = results[0]
    const last = size - 1
    t.deepEqual(o.objects, { count: 3000, exactlyOnce: true, doubled: true, oneRankPerKey: true, ranksUsed: Math.min(size - 1, 7) })
    t.deepEqual(o.ordered, { count: 3000, inOrder: true })
    t.deepEqual(o.typed, [["Float64Array", 2, 6], ["Int32Array", 3, 4], ["Float64Array", 1000, 1]])
    // the even ones of 0..19999, doubled twice
    t.is(o.many.count, 10_000)
    t.is(o.many.sum, 4 * 2 * ((10_000 * 9_999) / 2))
    t.true(o.many.framesHere < 1000, `${o.many.framesHere} frames for 10,000 items: items travel in batches`)

    t.like(o.boom, { tag: "StageFailed", stage: "boom", rank: last, cause: "RangeError" })
    t.is(o.boom.message, `stage "boom" failed on rank ${last}: boom at 5`)
    t.like(o.unencodableOut, { tag: "StageFailed", stage: "withFunction", rank: last, cause: "Unencodable", path: "the item.f" })
    t.regex(o.unencodableOut.message, /cannot encode the item\.f: it is a function/)
    t.like(o.unencodableIn, { tag: "StageFailed", stage: "source", rank: 0, cause: "Unencodable", path: "the item.f" })
    if (transport === "inproc") t.deepEqual(o.remoteUnknown, [1, 2], "an in-process world shares one module: every rank knows the stage")
    else {
      t.like(o.remoteUnknown, { tag: "UnknownStage", rank: last })
      t.regex(o.remoteUnknown.message, new RegExp(`no stage "onlyOnRankZero" is defined on rank ${last}`))
    }
    t.like(o.unknownStage, { tag: "UnknownStage", rank: 0 })
    t.regex(o.unknownStage.message, /no stage "nope" is defined on rank 0 \(known: .*double/)
    t.like(o.invalidRank, { tag: "InvalidRank" })
    t.regex(o.invalidRank.message, new RegExp(`via\\("double"\\) on rank 0: ${size + 5} is not a rank`))
    t.like(o.badCredit, { tag: "InvalidPipeline" })
    t.like(o.inlineRemote, { tag: "InvalidPipeline" })
    t.regex(o.inlineRemote.message, /a function cannot travel to rank 1/)
    t.deepEqual(o.inlineHere, [4, 6])

    // the push source on the last rank stopped when the subscriber here unsubscribed
    t.is(o.cancel.got, 20)
    t.is(o.cancel.first, o.cancel.second, "nothing produced between 50 ms and 250 ms after the unsubscribe")
    // 150 items taken by a sink 1000x slower than the source: the source ran ahead by at most the windows
    const s = o.slow
    t.is(s.consumed, 150)
    t.true(s.produced <= s.consumed + 3 * s.credit, `produced ${s.produced} for ${s.consumed} consumed (credit ${s.credit})`)
    t.true(s.closed >= 1, "breaking out of the loop closed the source's generator on rank 1")
    t.true(s.peakMid <= s.credit, `the intermediate rank held at most ${s.peakMid} items`)
    t.true(s.peakSource <= s.credit, `the source's rank held at most ${s.peakSource} items`)
    t.is(o.noHol.fast, 5000)
    t.deepEqual(o.early, { five: [0, 1, 2, 3, 4], closed: 1, streams: 1 }, "the source's generator closed; only the probe's own stream is left there")
    t.deepEqual(o.effect, { count: 100, sum: 10100, failed: `boom@${last}`, folded: 12 })
    t.is(o.streamsLeft, 0)
    for (const r of results) t.like(r.stats, { streams: 0, buffered: 0 }, `rank ${r.rank} holds nothing at the end`)
  })
}
