/**
 * Streaming map-reduce across ranks: a source on rank 1 yields 1..n, a map
 * stage on every rank but 0 turns each x into (x mod 10, x²), `keyBy` sends
 * each key to one rank, and a reduce stage there emits the running sum of
 * its keys every 10,000 items and the final sums at the end. Rank 0 keeps
 * the latest sum per key, and checks the totals against the closed form.
 *
 *     npx rankflow run -n 4 examples/stream-mapreduce.ts [n]
 */
import { concat, defer, EMPTY, from, map, mergeMap, type Observable } from "rxjs"
import { Pipeline, Stage, Streams } from "rankflow/patterns/stream"
import type { Comm } from "rankflow/promise"

type Pair = readonly [key: number, value: number]

Stage.source("numbers", function*(n: number) {
  for (let x = 1; x <= n; x++) yield x
})
Stage.define("square", map((x: number): Pair => [x % 10, x * x]))
Stage.key("byKey", (p: Pair) => p[0])
// sums per key; every 10,000 items (and at the end) the sums so far
Stage.define("sumByKey", (pairs$: Observable<Pair>) =>
  defer(() => {
    const sums = new Map<number, number>()
    let seen = 0
    const snapshot = () => from([...sums].map(([k, s]): Pair => [k, s]))
    return concat(
      pairs$.pipe(mergeMap(([k, v]) => {
        sums.set(k, (sums.get(k) ?? 0) + v)
        return ++seen % 10_000 === 0 ? snapshot() : EMPTY
      })),
      defer(snapshot)
    )
  }))

export default async (comm: Comm) => {
  const n = Number(process.argv[2] ?? 100_000)
  const streams = await Streams.start(comm)
  if (comm.rank === 0) {
    const workers = comm.size > 1 ? Array.from({ length: comm.size - 1 }, (_, i) => i + 1) : [0]
    const latest = new Map<number, number>()
    let updates = 0
    const t0 = performance.now()
    for await (const [k, s] of Pipeline.source<number>(streams, "numbers", { on: workers[0]!, args: n })
      .via("square", { on: workers })
      .keyBy("byKey", { keyGroups: 10 })
      .via<Pair>("sumByKey", { on: workers })
      .toAsyncIterable()) {
      latest.set(k, s)
      updates++
    }
    const ms = performance.now() - t0
    let expected = 0
    for (let x = 1; x <= n; x++) expected += x * x
    const total = [...latest.values()].reduce((a, b) => a + b, 0)
    console.log(`sum of squares 1..${n} by last digit: ${[...latest].sort((a, b) => a[0] - b[0]).map(([k, s]) => `${k}:${s}`).join(" ")}`)
    console.log(`total ${total}, expected ${expected}, matches: ${total === expected}; ${updates} running updates in ${ms.toFixed(0)} ms`)
  }
  await streams.shutdown()
}
