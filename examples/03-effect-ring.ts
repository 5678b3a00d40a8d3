/**
 * The ring shift in the Effect face: every rank passes its number to the
 * next with `sendrecv`, inside Effect.gen, and recovers from a typed error.
 *
 *     npx rankflow run -n 4 examples/03-effect-ring.ts
 */
import { Console, Effect } from "effect"
import { Comm } from "rankflow"

export default Effect.gen(function*() {
  const comm = yield* Comm.Comm
  const next = (comm.rank + 1) % comm.size
  const prev = (comm.rank - 1 + comm.size) % comm.size
  const got = yield* comm.sendrecv<number>(comm.rank, next, 0, prev, 0)
  yield* Console.log(`rank ${comm.rank} got ${got} from rank ${prev}`)
  // A typed error, recovered by its tag: rank `size` does not exist.
  const refused = yield* comm.send("hello", comm.size).pipe(
    Effect.catchTag("InvalidRank", (e) => Effect.succeed(e.message))
  )
  if (comm.rank === 0) yield* Console.log(`as expected: ${refused}`)
  return got
})
