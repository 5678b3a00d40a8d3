/**
 * The point-to-point and collective conformance suites on the Effect face
 * over worker threads, for 2 and 4 ranks (effect-face-inproc.test.ts runs
 * them on every size, a world per scenario). Here a whole suite runs in one
 * world per size (`runBatch`, a barrier between scenarios), so the threads
 * start four times rather than forty-four; each scenario is still its own
 * test, checked on its own results.
 */
import test from "ava"
import { runWorld } from "../../promise.ts"
import { suites } from "./effect-face.ts"

const effectUrl = new URL("./effect-face.ts", import.meta.url)

for (const suite of ["p2p", "collective"] as const) {
  for (const size of [2, 4]) {
    let world: Promise<Array<Record<string, unknown>>> | undefined
    const results = () => (world ??= runWorld({ size, transport: "worker", argv: ["batch", suite], timeout: 120_000 }, effectUrl))
    for (const [name, s] of Object.entries(suites[suite])) {
      if (size < ("minSize" in s ? s.minSize ?? 1 : 1)) continue
      test.serial(`worker (Effect face, ${suite}, one world): ${name} on ${size} ranks`, async (t) => {
        const perRank = await results()
        t.is(perRank.length, size)
        s.check(t, perRank.map((r) => r[name]), size)
      })
    }
  }
}
