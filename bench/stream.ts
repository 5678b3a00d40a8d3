/**
 * Stream pipeline benchmarks (`patterns/stream`), repeats interleaved,
 * medians reported:
 *
 *     npx node bench/stream.ts               # 5 repeats
 *     npx node bench/stream.ts --quick       # 1 repeat, fewer items
 *     npx node bench/stream.ts --repeats 7 --work 2000
 *     npx node bench/stream.ts --ranks-per-thread 2   # the 4 ranks on 2 threads
 *
 * - throughput: items/s through 3 stages (map, filter, map to an object),
 *   one per worker thread (ranks 1, 2, 3; rank 0 the source and the sink),
 *   with windows of 256 items (the default) and of 1024,
 *   beside the same 3 operators as one rxjs pipeline on one thread. Twice:
 *   with trivial stages (the cost of moving items between threads), and with
 *   `--work` iterations of arithmetic per item in two of the stages (where
 *   the threads share the work).
 * - memory: a source of 10 M items on rank 1 and a sink taking one item per
 *   millisecond (1000x slower than the source): the peak items held on each
 *   stage's rank (the windows are 256) and the source rank's heap growth.
 */
import { count, from, lastValueFrom } from "rxjs"
import { runWorld } from "../promise.ts"
import { fmt, median, table } from "./lib/stats.ts"
import { spin, type StreamRun } from "./programs/stream.ts"
import { filter, map } from "rxjs"

const argv = process.argv.slice(2)
if (argv.includes("--help") || argv.includes("-h")) {
  console.log("usage: node bench/stream.ts [--quick] [--repeats N] [--work K] [--ranks-per-thread K]")
  process.exit(0)
}
const quick = argv.includes("--quick")
const opt = (name: string, dflt: number) => {
  const i = argv.indexOf(name)
  return i >= 0 ? Number(argv[i + 1]) : dflt
}
const repeats = opt("--repeats", quick ? 1 : 5)
const ranksPerThread = opt("--ranks-per-thread", 1)
const work = opt("--work", 2000)
const items = quick ? 100_000 : 400_000
const heavyItems = quick ? 10_000 : 40_000
const slow = quick ? 200 : 500

const oneThread = async (n: number, w: number): Promise<number> => {
  const pipe = () =>
    lastValueFrom(from({ [Symbol.iterator]: function*() { for (let i = 0; i < n; i++) yield i } }).pipe(
      map((x: number) => spin(x, w) * 2 + 1),
      filter((x: number) => x % 3 !== 0),
      map((x: number) => ({ v: spin(x, w) })),
      count()
    ))
  await pipe()
  const t0 = performance.now()
  await pipe()
  return n / ((performance.now() - t0) / 1000)
}

const world = async (n: number, w: number, credit = 256): Promise<StreamRun> => {
  // By default a thread per rank (the subscriber and three stages); the
  // default placement would put two ranks on each of two threads here.
  const [r] = await runWorld<StreamRun>({ size: 4, transport: "worker", transportOptions: { ranksPerThread }, argv: [String(n), String(w), String(slow), String(credit)], timeout: 300_000 },
    new URL("./programs/stream.ts", import.meta.url))
  return r!
}

const s = { wide: [] as Array<number>, light: [] as Array<number>, lightRx: [] as Array<number>, heavy: [] as Array<number>, heavyRx: [] as Array<number>, peaks: [] as Array<Array<number>>, heap: [] as Array<number> }
for (let rep = 0; rep < repeats; rep++) {
  const l = await world(items, 0)
  s.light.push(l.itemsPerSec)
  s.peaks.push([...l.peaks])
  s.heap.push(l.heapGrowth)
  s.lightRx.push(await oneThread(items, 0))
  s.wide.push((await world(items, 0, 1024)).itemsPerSec)
  s.heavy.push((await world(heavyItems, work)).itemsPerSec)
  s.heavyRx.push(await oneThread(heavyItems, work))
  process.stderr.write(`repeat ${rep + 1}/${repeats}: light ${fmt(s.light.at(-1)! / 1e3)} k/s (rxjs ${fmt(s.lightRx.at(-1)! / 1e3)} k/s), ` +
    `heavy ${fmt(s.heavy.at(-1)! / 1e3)} k/s (rxjs ${fmt(s.heavyRx.at(-1)! / 1e3)} k/s), peaks ${l.peaks.join("/")}\n`)
}
const m = (xs: Array<number>) => median(xs)
const maxPeak = Math.max(...s.peaks.flat())
console.log(table(["benchmark", ranksPerThread === 1 ? "3 stages on 3 worker threads" : `4 ranks, ${ranksPerThread} per thread`, "one-thread rxjs", "ratio"], [
  ["trivial stages, windows of 256 (k items/s)", fmt(m(s.light) / 1e3), fmt(m(s.lightRx) / 1e3), `${fmt(m(s.light) / m(s.lightRx))}x`],
  ["trivial stages, windows of 1024 (k items/s)", fmt(m(s.wide) / 1e3), fmt(m(s.lightRx) / 1e3), `${fmt(m(s.wide) / m(s.lightRx))}x`],
  [`stages with ${work} iterations/item (k items/s)`, fmt(m(s.heavy) / 1e3), fmt(m(s.heavyRx) / 1e3), `${fmt(m(s.heavy) / m(s.heavyRx))}x`]
]))
console.log(`slow sink (1 item/ms, ${slow} items, windows of 256): peak items held on ranks 1/2/3 (max over repeats) ${maxPeak} ` +
  `[${s.peaks.map((p) => p.join("/")).join(", ")}]; source rank heap growth median ${fmt(m(s.heap) / 1024)} KiB`)
console.log(`medians of ${repeats} repeat(s); ${items} trivial items, ${heavyItems} heavy items per repeat; ${(await import("node:os")).availableParallelism()} CPUs`)
