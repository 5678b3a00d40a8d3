// The stream layer on in-process worlds, case by case: a world of one rank,
// windows of one item, async sources, independent subscriptions of one
// pipeline, malformed frames, factories that fail, and shutdown under a
// running pipeline (it ends with an error, never a hang).
import test from "ava"
import { interval, lastValueFrom, map, toArray } from "rxjs"
import { Pipeline, Stage, Streams } from "../../patterns/stream/index.ts"
import { runWorld } from "../../promise.ts"

const inc = Stage.define("local.inc", map((x: number) => x + 1))
Stage.factory("local.throws", () => {
  throw new TypeError("no operator today")
})
Stage.factory("local.notAnOperator", () => 42 as any)

const collect = <T>(p: Pipeline<T>) => lastValueFrom(p.toObservable().pipe(toArray()), { defaultValue: [] as Array<T> })

test.serial("a world of one rank runs every stage on itself", async (t) => {
  const [out] = await runWorld({ size: 1, transport: "inproc" }, async (comm) => {
    const s = await Streams.start(comm)
    const r = await collect(Pipeline.from(s, [1, 2, 3]).via(inc).via(inc))
    await s.shutdown()
    return r
  })
  t.deepEqual(out, [3, 4, 5])
})

test.serial("windows of one item: 2000 items through two stages on three ranks, each once", async (t) => {
  const [out] = await runWorld({ size: 3, transport: "inproc" }, async (comm) => {
    const s = await Streams.start(comm)
    let r: Array<number> = []
    if (comm.rank === 0) {
      r = await lastValueFrom(Pipeline.from(s, Array.from({ length: 2000 }, (_, i) => i)).via(inc, { on: [1, 2], credit: 1 }).via(inc, { on: [2, 1], credit: 1 })
        .toObservable({ credit: 1 }).pipe(toArray()))
    }
    await s.shutdown()
    return r
  })
  t.deepEqual([...out!].sort((a, b) => a - b), Array.from({ length: 2000 }, (_, i) => i + 2))
})

test.serial("an async generator source, and two subscriptions of one pipeline that do not mix", async (t) => {
  const [out] = await runWorld({ size: 2, transport: "inproc" }, async (comm) => {
    const s = await Streams.start(comm)
    let r: unknown
    if (comm.rank === 0) {
      const gen = async function*() {
        for (let i = 0; i < 50; i++) {
          if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1))
          yield i
        }
      }
      const asyncOut = await collect(Pipeline.from(s, gen()).via(inc, { credit: 4 }))
      const p = Pipeline.from(s, [10, 20, 30]).via(inc)
      const [a, b] = await Promise.all([collect(p), collect(p)])
      r = { asyncOut, a, b }
    }
    await s.shutdown()
    return r
  })
  t.deepEqual(out, { asyncOut: Array.from({ length: 50 }, (_, i) => i + 1), a: [11, 21, 31], b: [11, 21, 31] })
})

test.serial("malformed frames on the stream communicator are counted and ignored", async (t) => {
  const [out] = await runWorld({ size: 2, transport: "inproc" }, async (comm) => {
    const s = await Streams.start(comm)
    if (comm.rank === 1) {
      for (const junk of ["junk", [], [99, 1], [1, -5], [2, 1_0000_0000_0000]]) await s.comm.send(junk, 0, 1)
    }
    await comm.barrier()
    await new Promise((r) => setTimeout(r, 20))
    let r: unknown
    if (comm.rank === 0) r = { malformed: s.malformed, works: await collect(Pipeline.from(s, [1]).via(inc)) }
    await s.shutdown()
    return r
  })
  t.deepEqual(out, { malformed: 4, works: [2] })
})

test.serial("a factory that throws, or gives no operator, fails the pipeline with StageFailed", async (t) => {
  const [out] = await runWorld({ size: 2, transport: "inproc" }, async (comm) => {
    const s = await Streams.start(comm)
    let r: unknown
    if (comm.rank === 0) {
      const fail = (p: Pipeline<unknown>) => collect(p).then(() => "no error", (e) => `${e._tag} ${e.stage}@${e.rank}: ${e.cause?.name}: ${e.cause?.message}`)
      r = [await fail(Pipeline.from(s, [1]).via("local.throws")), await fail(Pipeline.from(s, [1]).via("local.notAnOperator"))]
    }
    await s.shutdown()
    return r
  })
  t.deepEqual(out, [
    "StageFailed local.throws@1: TypeError: no operator today",
    'StageFailed local.notAnOperator@1: TypeError: the factory of stage "local.notAnOperator" did not return an operator function'
  ])
})

test.serial("shutting down under a running pipeline ends it with InvalidPipeline", async (t) => {
  const [out] = await runWorld({ size: 2, transport: "inproc" }, async (comm) => {
    const s = await Streams.start(comm)
    let ended: Promise<unknown> | undefined
    if (comm.rank === 0) ended = collect(Pipeline.from(s, interval(1)).via(inc)).then(() => "completed", (e) => e._tag)
    await new Promise((r) => setTimeout(r, 30))
    await s.shutdown()
    return ended
  })
  t.is(out, "InvalidPipeline")
})
