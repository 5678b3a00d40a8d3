/**
 * Stream pipeline throughput and memory on a world of 4 ranks (rank 0 the
 * source and the sink, one stage on each of ranks 1, 2, 3), for
 * bench/stream.ts. argv: items, work (loop iterations per item per stage),
 * slow (items a 1 ms-per-item sink takes in the memory run), credit (the
 * windows of the throughput run).
 *
 * Rank 0 returns the items/s of the pipeline, and, from the memory run, the
 * peak items held by the source's rank and each stage's rank and the
 * source rank's heap growth while the slow sink ran.
 */
import { lastValueFrom, map, filter, count, firstValueFrom } from "rxjs"
import { Pipeline, Stage, Streams } from "../../patterns/stream/index.ts"
import type { Comm } from "../../promise.ts"

/** `work` iterations of arithmetic: stands for a stage's own CPU time. */
export const spin = (x: number, work: number): number => {
  let h = x
  for (let i = 0; i < work; i++) h = (h * 1103515245 + 12345) % 2147483647
  return work > 0 && h === -1 ? -1 : x
}

let WORK = 0
export const stageA = Stage.define("bench.a", map((x: number) => spin(x, WORK) * 2 + 1))
export const stageB = Stage.define("bench.b", filter((x: number) => x % 3 !== 0))
export const stageC = Stage.define("bench.c", map((x: number) => ({ v: spin(x, WORK) })))

const systems = new Map<number, Streams>()
Stage.source("bench.naturals", function*(n: number) {
  for (let i = 0; i < n; i++) yield i
})
Stage.source("bench.stats", (_: void, ctx) => {
  const s = systems.get(ctx.rank)!
  return [{ peak: s.stats().peakBuffered, heap: process.memoryUsage().heapUsed }]
})
Stage.source("bench.reset", (_: void, ctx) => {
  systems.get(ctx.rank)!.resetPeak()
  return [{ heap: process.memoryUsage().heapUsed }]
})

export interface StreamRun {
  readonly itemsPerSec: number
  readonly peaks: ReadonlyArray<number>
  readonly heapGrowth: number
  readonly slowMs: number
}

export default async (comm: Comm): Promise<StreamRun | undefined> => {
  const n = Number(process.argv[2] ?? "200000")
  WORK = Number(process.argv[3] ?? "0")
  const slow = Number(process.argv[4] ?? "500")
  const credit = Number(process.argv[5] ?? "256")
  const streams = await Streams.start(comm)
  systems.set(comm.rank, streams)
  let out: StreamRun | undefined
  if (comm.rank === 0) {
    const run = (k: number) =>
      lastValueFrom(Pipeline.from(streams, { [Symbol.iterator]: function*() { for (let i = 0; i < k; i++) yield i } })
        .via(stageA, { on: 1, credit }).via(stageB, { on: 2, credit }).via(stageC, { on: 3, credit }).toObservable({ credit }).pipe(count()))
    await run(Math.max(1000, n >> 4)) // warm up
    const t0 = performance.now()
    const got = await run(n)
    const itemsPerSec = got / ((performance.now() - t0) / 1000) * (n / got)
    // memory: a source of 10 M items on rank 1, stages on 1, 2, 3, a sink taking 1 item per ms
    const at = (name: string, r: number) => firstValueFrom(Pipeline.source<any>(streams, name, { on: r }).toObservable())
    const before = await Promise.all([1, 2, 3].map((r) => at("bench.reset", r)))
    const t1 = performance.now()
    let taken = 0
    for await (const _ of Pipeline.source<number>(streams, "bench.naturals", { on: 1, args: 10_000_000 })
      .via(stageA, { on: 1, credit: 256 }).via(stageB, { on: 2, credit: 256 }).via(stageC, { on: 3, credit: 256 }).toAsyncIterable({ credit: 256 })) {
      await new Promise((r) => setTimeout(r, 1))
      if (++taken === slow) break
    }
    const slowMs = performance.now() - t1
    const afterStats = await Promise.all([1, 2, 3].map((r) => at("bench.stats", r)))
    out = { itemsPerSec, peaks: afterStats.map((s) => s.peak), heapGrowth: afterStats[0].heap - before[0].heap, slowMs }
  }
  await streams.shutdown()
  return out
}
