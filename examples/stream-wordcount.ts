/**
 * Word count across ranks with rxjs stages: rank 0 reads the lines, the
 * other ranks split them into words (the lines spread over them), `keyBy`
 * sends every occurrence of one word to the same rank, where a stage counts
 * them; the counts merge back on rank 0. Credit between every pair of ranks
 * keeps memory bounded however long the text.
 *
 *     npx rankflow run -n 4 examples/stream-wordcount.ts [repeats]
 */
import { from, mergeMap, type Observable, reduce } from "rxjs"
import { Pipeline, Stage, Streams } from "rankflow/patterns/stream"
import type { Comm } from "rankflow/promise"

// every rank runs this module, so every rank defines the same stages by name
const words = Stage.define("words", mergeMap((line: string) => from(line.toLowerCase().split(/[^a-z']+/).filter((w) => w.length > 0))))
const byWord = Stage.key("byWord", (w: string) => w)
const count = Stage.factory("count", (_: void, ctx) =>
  (words$: Observable<string>) =>
    words$.pipe(
      reduce((m, w: string) => m.set(w, (m.get(w) ?? 0) + 1), new Map<string, number>()),
      mergeMap((m) => from([...m].map(([word, n]) => ({ word, n, rank: ctx.rank }))))
    ))

const TEXT = [
  "It was the best of times, it was the worst of times,",
  "it was the age of wisdom, it was the age of foolishness,",
  "it was the epoch of belief, it was the epoch of incredulity,",
  "it was the season of Light, it was the season of Darkness"
]

export default async (comm: Comm) => {
  const repeats = Number(process.argv[2] ?? 1000)
  const streams = await Streams.start(comm)
  if (comm.rank === 0) {
    const lines = function*() {
      for (let i = 0; i < repeats; i++) yield* TEXT
    }
    const others = comm.size > 1 ? Array.from({ length: comm.size - 1 }, (_, i) => i + 1) : [0]
    const counts = new Map<string, { n: number; rank: number }>()
    let twice = 0
    await new Promise<void>((done, fail) =>
      Pipeline.from(streams, lines())
        .via(words, { on: others })
        .keyBy(byWord, { keyGroups: 64 })
        .via(count, { on: others })
        .toObservable()
        .subscribe({
          next: ({ word, n, rank }) => {
            if (counts.has(word)) twice++
            counts.set(word, { n, rank })
          },
          error: fail,
          complete: done
        })
    )
    const total = [...counts.values()].reduce((a, c) => a + c.n, 0)
    const top = [...counts].sort((a, b) => b[1].n - a[1].n || (a[0] < b[0] ? -1 : 1)).slice(0, 3)
    console.log(`${total} words, ${counts.size} distinct, counted on ${new Set([...counts.values()].map((c) => c.rank)).size} ranks; each word on one rank: ${twice === 0}`)
    console.log(`top: ${top.map(([w, c]) => `${w}=${c.n}`).join(" ")}`)
  }
  await streams.shutdown()
}
