/**
 * The collective conformance suite: every scenario of collective-scenarios.ts
 * on one transport, for world sizes 1, 2, 3, 4 and 7, one world per
 * (scenario, size) — the scenarios loop over every root inside the world.
 * Each transport's test file calls `collectiveConformance(test, name)`;
 * `face: "effect"` runs the same scenarios through the Effect face
 * (effect-face.ts).
 */
import type { TestFn } from "ava"
import type { Engine } from "../../index.ts"
import { runWorld } from "../../promise.ts"
import { collectiveScenarios } from "./collective-scenarios.ts"
import type { Face } from "./conformance.ts"
import { effectProgram } from "./effect-face.ts"
import { promiseKit } from "./scenarios.ts"

export const SIZES = [1, 2, 3, 4, 7]
const programUrl = new URL("./collective-scenarios.ts", import.meta.url)
const effectUrl = new URL("./effect-face.ts", import.meta.url)

/** Runs collective scenario `name` on a world of `size` ranks over `transport` (with `engine` options, if given), on `face`. */
export const runCollectiveScenario = (
  transport: string,
  size: number,
  name: string,
  engine?: Engine.EngineOptions,
  transportOptions?: Readonly<Record<string, unknown>>,
  face: Face = "promise"
): Promise<Array<any>> => {
  const s = collectiveScenarios[name]!
  const timeout = s.timeout ?? 60_000
  if (transport === "inproc") {
    return face === "effect"
      ? runWorld({ size, transport, timeout, engine }, effectProgram(s.run))
      : runWorld({ size, transport, timeout, engine }, (comm) => s.run(comm, promiseKit))
  }
  return face === "effect"
    ? runWorld({ size, transport, argv: ["collective", name], timeout, engine, transportOptions }, effectUrl)
    : runWorld({ size, transport, argv: [name], timeout, engine, transportOptions }, programUrl)
}

/** Registers every collective scenario for every size; `engine` options and a `label` for the test titles may be given. */
export const collectiveConformance = (
  test: TestFn,
  transport: string,
  sizes: ReadonlyArray<number> = SIZES,
  options: { readonly engine?: Engine.EngineOptions; readonly transportOptions?: Readonly<Record<string, unknown>>; readonly label?: string; readonly face?: Face } = {}
): void => {
  for (const [name, s] of Object.entries(collectiveScenarios)) {
    for (const size of sizes) {
      test.serial(`${transport}${options.label ?? ""}: ${name} on ${size} rank${size > 1 ? "s" : ""}`, async (t) => {
        const results = await runCollectiveScenario(transport, size, name, options.engine, options.transportOptions, options.face)
        t.is(results.length, size)
        s.check(t, results, size)
      })
    }
  }
}
