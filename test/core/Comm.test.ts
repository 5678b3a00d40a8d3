/** The Effect face on both transports, and runWorld as an Effect. */
import test from "ava"
import { Effect } from "effect"
import { runWorld } from "../../index.ts"
import program from "./effect-program.ts"

const url = new URL("./effect-program.ts", import.meta.url)

for (const transport of ["inproc", "worker"]) {
  for (const size of [1, 2, 3, 4]) {
    test.serial(`Effect face on ${transport}, ${size} rank(s)`, async (t) => {
      const results = await Effect.runPromise(runWorld({ size, transport, timeout: 30_000 }, transport === "inproc" ? program : url)) as Array<any>
      t.is(results.length, size)
      results.forEach((r, rank) => {
        const prev = (rank - 1 + size) % size
        t.deepEqual(r.got, { from: prev })
        t.is(r.source, prev)
        t.is(r.a, 20)
        t.is(r.b, 10)
        t.is(r.truncated, "Truncated 64>16")
        t.is(r.afterInterrupt, `five from ${prev}`)
        t.is(r.probedCount, 12)
        t.is(r.sum, (49 * 50) / 2)
      })
    })
  }
}

test("runWorld fails with WorldFailed naming the rank, in the error channel", async (t) => {
  const exit = await Effect.runPromise(
    Effect.flip(runWorld({ size: 3, transport: "inproc" }, async (comm) => {
      if (comm.rank === 1) throw new Error("rank one gives up")
      return comm.recv(1)
    }))
  )
  t.is(exit._tag, "WorldFailed")
  if (exit._tag === "WorldFailed") {
    t.is(exit.rank, 1)
    t.regex(exit.message, /rank 1 failed: Error: rank one gives up/)
    t.is(exit.failures.length, 3)
  }
})
