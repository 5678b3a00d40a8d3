/**
 * Actor benchmarks (`patterns/actor`), each beside a floor measured in the
 * same run, repeats interleaved, medians reported:
 *
 *     npx node bench/actor.ts               # 5 repeats
 *     npx node bench/actor.ts --quick       # 1 repeat, fewer iterations
 *     npx node bench/actor.ts --repeats 7
 *
 * - local ask: round trips per second of `await system.ask(ref, i)` on one
 *   rank, one in flight, beside a plain promise ping-pong (two async
 *   functions handing a value back and forth through resolvers).
 * - cross-thread ask: round-trip time of an ask to an actor on the other
 *   rank of a 2-rank worker world, beside a `send`/`recv` ping-pong of a
 *   message of the same shape (five numbers) on the same world.
 * - spawn: time to spawn 1 M actors on a fresh system, beside 1 M
 *   `Map.set` of a small object (the floor of keeping a table of them).
 */
import { ActorSystem } from "../patterns/actor/index.ts"
import { runWorld } from "../promise.ts"
import { promisePingPong } from "./floor/floor.ts"
import { fmt, median, table } from "./lib/stats.ts"
import type { ActorLatency } from "./programs/actor.ts"

const argv = process.argv.slice(2)
if (argv.includes("--help") || argv.includes("-h")) {
  console.log("usage: node bench/actor.ts [--quick] [--repeats N]")
  process.exit(0)
}
const quick = argv.includes("--quick")
const ri = argv.indexOf("--repeats")
const repeats = ri >= 0 ? Number(argv[ri + 1]) : quick ? 1 : 5
const asks = quick ? 200_000 : 1_000_000
const spawns = 1_000_000
const crossIters = quick ? 5_000 : 20_000

const localAsk = async (): Promise<number> => {
  const system = ActorSystem.local()
  const ref = system.spawn((m: number) => m + 1)
  for (let i = 0; i < 10_000; i++) await system.ask(ref, i)
  const t0 = performance.now()
  for (let i = 0; i < asks; i++) await system.ask(ref, i)
  return asks / ((performance.now() - t0) / 1000)
}

const spawnMs = (): number => {
  const system = ActorSystem.local()
  const h = (m: number) => m
  const t0 = performance.now()
  for (let i = 0; i < spawns; i++) system.spawn(h)
  return performance.now() - t0
}

const mapMs = (): number => {
  const m = new Map<number, object>()
  const t0 = performance.now()
  for (let i = 0; i < spawns; i++) m.set(i, { id: i, box: undefined, head: 0, alive: true })
  return performance.now() - t0
}

const cross = async (): Promise<ActorLatency> => {
  const [r] = await runWorld<ActorLatency>({ size: 2, transport: "worker", argv: [String(crossIters)], timeout: 120_000 },
    new URL("./programs/actor.ts", import.meta.url))
  return r!
}

const s = { ask: [] as Array<number>, promise: [] as Array<number>, askUs: [] as Array<number>, ppUs: [] as Array<number>, spawn: [] as Array<number>, map: [] as Array<number> }
for (let rep = 0; rep < repeats; rep++) {
  s.ask.push(await localAsk())
  s.promise.push(1e6 / (2 * (await promisePingPong(asks))))
  const c = await cross()
  s.askUs.push(c.askUs)
  s.ppUs.push(c.pingPongUs)
  s.spawn.push(spawnMs())
  s.map.push(mapMs())
  process.stderr.write(`repeat ${rep + 1}/${repeats}: ask ${fmt(s.ask.at(-1)! / 1e6)} M/s, cross ${fmt(c.askUs)} us, spawn ${fmt(s.spawn.at(-1)!)} ms\n`)
}
const m = (xs: Array<number>) => median(xs)
console.log(table(["benchmark", "actors", "floor", "ratio"], [
  ["local ask round trips (M/s)", fmt(m(s.ask) / 1e6), `${fmt(m(s.promise) / 1e6)} (promise ping-pong)`, `${fmt(m(s.ask) / m(s.promise))}x`],
  ["cross-thread ask round trip (us)", fmt(m(s.askUs)), `${fmt(m(s.ppUs))} (same-shape send/recv)`, `${fmt(m(s.askUs) / m(s.ppUs))}x`],
  ["1 M spawns (ms)", fmt(m(s.spawn)), `${fmt(m(s.map))} (1 M Map.set)`, `${fmt(m(s.spawn) / m(s.map))}x`]
]))
console.log(`medians of ${repeats} repeat(s); ${asks} local asks, ${crossIters} cross-thread asks per repeat`)
