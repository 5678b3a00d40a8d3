/**
 * π by numerical integration, in the Effect face: π = ∫₀¹ 4/(1 + x²) dx by
 * the midpoint rule on n intervals. Rank 0 reads n (default 10_000_000) and
 * broadcasts it with `bcast`; every rank sums the intervals rank, rank + size,
 * rank + 2·size, ...; `reduce` with Op.SUM brings the sum to rank 0, which
 * prints π, its error against Math.PI (about 1/(12n²) from the rule itself)
 * and the time taken.
 *
 *     npx rankflow run -n 4 examples/05-pi.ts [n]
 */
import { Console, Effect } from "effect"
import { Comm, Op } from "rankflow"

const readN = (arg: string | undefined): number => {
  const n = Number(arg ?? 10_000_000)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`n must be a whole number ≥ 1; got ${arg}`)
  return n
}

export default Effect.gen(function*() {
  const comm = yield* Comm.Comm
  const t0 = performance.now()
  // Only the root reads the input; everyone else learns n from it.
  const n = yield* comm.bcast(comm.rank === 0 ? readN(process.argv[2]) : 0, 0)

  const h = 1 / n
  let sum = 0
  for (let i = comm.rank; i < n; i += comm.size) {
    const x = h * (i + 0.5)
    sum += 4 / (1 + x * x)
  }
  const pi = yield* comm.reduce(h * sum, Op.SUM, 0)

  if (comm.rank === 0 && pi !== undefined) {
    const ms = performance.now() - t0
    yield* Console.log(`π ≈ ${pi} from ${n} intervals on ${comm.size} rank${comm.size === 1 ? "" : "s"}`)
    yield* Console.log(`error ${Math.abs(pi - Math.PI).toExponential(3)} against Math.PI, in ${ms.toFixed(1)} ms`)
  }
  return pi
})
