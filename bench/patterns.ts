/**
 * The pool benchmarks: rankflow's ThreadPoolExecutor beside piscina and
 * tinypool, each on 2 worker threads, in the same run.
 *
 * - **Throughput**: `tasks` calls of `x => x * x` (a module's export, as
 *   piscina and tinypool load their task), all submitted at once, until the
 *   last result is back; calls per second. rankflow three ways: `map` (tiny
 *   calls ride many to a message, its batching), `map` with `chunksize:
 *   1000` (as a Python user passes for tiny calls), and plain `submit` of
 *   every call (`Promise.all` of the futures), the shape piscina's and
 *   tinypool's `run` have.
 * - **Latency**: one call at a time, `await` each before the next; µs per
 *   round trip.
 *
 * Each system gets a fresh pool per repeat, warmed up (threads started, the
 * task loaded, the JIT warm) before it is timed. Used by `bench/run.ts`
 * (its `pools` section); on its own:
 *
 *     node bench/patterns.ts [--quick] [--repeats 5]
 */
import { Piscina } from "piscina"
import { Tinypool } from "tinypool"
import { task, ThreadPoolExecutor } from "../patterns/executor/index.ts"

/** What one repeat measures. */
export interface PoolSpec {
  /** Calls in the throughput benchmark. */
  readonly tasks: number
  /** Round trips in the latency benchmark. */
  readonly trips: number
  /** Worker threads of every pool. */
  readonly threads: number
}

/** One figure: calls/s (`throughput`) or µs per round trip (`latency`). */
export interface PoolPoint {
  readonly system: string
  readonly bench: "throughput" | "latency"
  readonly value: number
}

const SQUARE = new URL("./patterns/square.mjs", import.meta.url)

/** The systems, in the order they run in every repeat. */
export const poolSystems = ["rankflow map", "rankflow map chunksize 1000", "rankflow submit", "piscina", "tinypool"] as const

interface Subject {
  /** One call. */
  readonly run: (x: number) => Promise<number>
  /** `n` calls at once, until every result is back (the sum of the results, so none is skipped). */
  readonly many: (n: number) => Promise<number>
  readonly close: () => Promise<void>
}

const allOf = async (run: (x: number) => Promise<number>, n: number): Promise<number> => {
  const ps: Array<Promise<number>> = new Array(n)
  for (let i = 0; i < n; i++) ps[i] = run(i & 1023)
  const rs = await Promise.all(ps)
  let s = 0
  for (let i = 0; i < n; i++) s += rs[i]!
  return s
}

const inputs = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i & 1023)

const rankflow = (threads: number, mode: "map" | "submit", chunksize?: number): Subject => {
  const ex = new ThreadPoolExecutor({ maxWorkers: threads })
  const square = task<(x: number) => number>(SQUARE, "square")
  const run = (x: number): Promise<number> => ex.submit(square, x).result()
  return {
    run,
    many: mode === "submit" ? (n) => allOf(run, n) : async (n) => {
      const rs = await ex.map(square, inputs(n), { chunksize })
      let s = 0
      for (let i = 0; i < n; i++) s += rs[i]!
      return s
    },
    close: () => ex.shutdown()
  }
}

const piscina = (threads: number): Subject => {
  const pool = new Piscina({ filename: SQUARE.href, minThreads: threads, maxThreads: threads })
  const run = (x: number): Promise<number> => pool.run(x)
  return { run, many: (n) => allOf(run, n), close: () => pool.destroy() }
}

const tinypool = (threads: number): Subject => {
  const pool = new Tinypool({ filename: SQUARE.href, minThreads: threads, maxThreads: threads })
  const run = (x: number): Promise<number> => pool.run(x)
  return { run, many: (n) => allOf(run, n), close: () => pool.destroy() }
}

const make = (system: (typeof poolSystems)[number], threads: number): Subject =>
  system === "rankflow map"
    ? rankflow(threads, "map")
    : system === "rankflow map chunksize 1000"
    ? rankflow(threads, "map", 1000)
    : system === "rankflow submit"
    ? rankflow(threads, "submit")
    : system === "piscina"
    ? piscina(threads)
    : tinypool(threads)

const expected = (n: number): number => {
  let s = 0
  for (let i = 0; i < n; i++) s += (i & 1023) * (i & 1023)
  return s
}

/**
 * One repeat: every system's throughput and latency, one pool at a time
 * (so they never share the two cores).
 */
export const poolRepeat = async (spec: PoolSpec): Promise<Array<PoolPoint>> => {
  const out: Array<PoolPoint> = []
  const want = expected(spec.tasks)
  for (const system of poolSystems) {
    const s = make(system, spec.threads)
    try {
      // Warm-up: threads started and the task loaded on each, a first batch through the JIT.
      await s.many(Math.min(spec.tasks, 10_000))
      for (let i = 0; i < 200; i++) await s.run(i)
      const t0 = performance.now()
      const sum = await s.many(spec.tasks)
      const t1 = performance.now()
      if (sum !== want) throw new Error(`${system}: wrong results (sum ${sum}, expected ${want})`)
      out.push({ system, bench: "throughput", value: spec.tasks / ((t1 - t0) / 1000) })
      let check = 0
      const t2 = performance.now()
      for (let i = 0; i < spec.trips; i++) check += await s.run(i & 7)
      const t3 = performance.now()
      if (check < 0) throw new Error("unreachable")
      out.push({ system, bench: "latency", value: ((t3 - t2) * 1000) / spec.trips })
    } finally {
      await s.close()
    }
  }
  return out
}

// On its own: print the medians.
if (import.meta.main) {
  const argv = process.argv.slice(2)
  const quick = argv.includes("--quick")
  const i = argv.indexOf("--repeats")
  const repeats = i >= 0 ? Number(argv[i + 1]) : quick ? 1 : 5
  const spec: PoolSpec = quick ? { tasks: 10_000, trips: 500, threads: 2 } : { tasks: 100_000, trips: 5_000, threads: 2 }
  const all: Array<PoolPoint> = []
  for (let r = 0; r < repeats; r++) all.push(...(await poolRepeat(spec)))
  const median = (xs: Array<number>) => xs.sort((a, b) => a - b)[xs.length >> 1]!
  for (const system of poolSystems) {
    const tp = median(all.filter((p) => p.system === system && p.bench === "throughput").map((p) => p.value))
    const lat = median(all.filter((p) => p.system === system && p.bench === "latency").map((p) => p.value))
    console.log(`${system.padEnd(28)} ${tp.toFixed(0).padStart(10)} calls/s ${lat.toFixed(1).padStart(8)} µs round trip`)
  }
}
