/**
 * The collective conformance suite: every scenario of collective-scenarios.ts
 * on one transport, for world sizes 1, 2, 3, 4 and 7, one world per
 * (scenario, size) — the scenarios loop over every root inside the world.
 * Each transport's test file calls `collectiveConformance(test, name)`.
 */
import type { TestFn } from "ava"
import type { Engine } from "../../index.ts"
import { runWorld } from "../../promise.ts"
import { collectiveScenarios } from "./collective-scenarios.ts"

export const SIZES = [1, 2, 3, 4, 7]
const programUrl = new URL("./collective-scenarios.ts", import.meta.url)

/** Runs collective scenario `name` on a world of `size` ranks over `transport` (with `engine` options, if given). */
export const runCollectiveScenario = (transport: string, size: number, name: string, engine?: Engine.EngineOptions, transportOptions?: Readonly<Record<string, unknown>>): Promise<Array<any>> => {
  const s = collectiveScenarios[name]!
  const timeout = s.timeout ?? 60_000
  return transport === "inproc"
    ? runWorld({ size, transport, timeout, engine }, (comm) => s.run(comm))
    : runWorld({ size, transport, argv: [name], timeout, engine, transportOptions }, programUrl)
}

/** Registers every collective scenario for every size; `engine` options and a `label` for the test titles may be given. */
export const collectiveConformance = (
  test: TestFn,
  transport: string,
  sizes: ReadonlyArray<number> = SIZES,
  options: { readonly engine?: Engine.EngineOptions; readonly transportOptions?: Readonly<Record<string, unknown>>; readonly label?: string } = {}
): void => {
  for (const [name, s] of Object.entries(collectiveScenarios)) {
    for (const size of sizes) {
      test.serial(`${transport}${options.label ?? ""}: ${name} on ${size} rank${size > 1 ? "s" : ""}`, async (t) => {
        const results = await runCollectiveScenario(transport, size, name, options.engine, options.transportOptions)
        t.is(results.length, size)
        s.check(t, results, size)
      })
    }
  }
}
