// A rank dies under a running pipeline (its program throws, on the worker
// transport): the subscriber's pipeline fails with StageFailed naming the
// stage and the rank, the other ranks stop it, and nothing waits forever.
import test from "ava"
import { runWorld } from "../../promise.ts"

const LOST = new URL("./fixtures/lost.ts", import.meta.url)

test("rank 2 of 3 dies under a pipeline: StageFailed names its stage and rank, nothing hangs", async (t) => {
  const outcomes = new Map<number, any>()
  const e: any = await runWorld({ size: 3, transport: "worker", timeout: 30_000, onOutcome: (o) => outcomes.set(o.rank, o) }, LOST).catch((x) => x)
  t.is(e?._tag, "WorldFailed")
  t.deepEqual(e.failures.map((f: any) => f.rank), [2])
  t.true(outcomes.get(1)?.ok, "the source's rank ended normally")
  const o = outcomes.get(0)?.value
  t.truthy(o, JSON.stringify(outcomes.get(0)?.error?.message))
  t.like(o, { tag: "StageFailed", stage: "lost.double", rank: 2 })
  t.regex(o.message, /stage "lost\.double" failed on rank 2: rank 2 is lost/)
  t.true(o.got > 0, `${o.got} items arrived before`)
})
