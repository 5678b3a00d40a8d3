/**
 * The conformance suite: every scenario of scenarios.ts on one transport, for
 * world sizes 1, 2, 3, 4 and 7. Each transport's test file calls
 * `conformance(test, name)`.
 */
import type { TestFn } from "ava"
import { runWorld } from "../../promise.ts"
import { scenarios } from "./scenarios.ts"

export const SIZES = [1, 2, 3, 4, 7]
const programUrl = new URL("./scenarios.ts", import.meta.url)

/** Runs scenario `name` on a world of `size` ranks over `transport`. */
export const runScenario = (transport: string, size: number, name: string): Promise<Array<any>> =>
  transport === "inproc"
    ? runWorld({ size, transport, timeout: 60_000 }, (comm) => scenarios[name]!.run(comm))
    : runWorld({ size, transport, argv: [name], timeout: 60_000 }, programUrl)

export const conformance = (test: TestFn, transport: string, sizes: ReadonlyArray<number> = SIZES): void => {
  for (const [name, s] of Object.entries(scenarios)) {
    for (const size of sizes) {
      if (size < (s.minSize ?? 1)) continue
      test.serial(`${transport}: ${name} on ${size} rank${size > 1 ? "s" : ""}`, async (t) => {
        const results = await runScenario(transport, size, name)
        t.is(results.length, size)
        s.check(t, results, size)
      })
    }
  }
}
