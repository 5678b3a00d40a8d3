/**
 * The conformance suite: every scenario of scenarios.ts on one transport, for
 * world sizes 1, 2, 3, 4 and 7. Each transport's test file calls
 * `conformance(test, name)`; `face: "effect"` runs the same scenarios through
 * the Effect face (effect-face.ts).
 */
import type { TestFn } from "ava"
import type { Engine } from "../../index.ts"
import { runWorld } from "../../promise.ts"
import { effectProgram } from "./effect-face.ts"
import { promiseKit, scenarios } from "./scenarios.ts"

export const SIZES = [1, 2, 3, 4, 7]
const programUrl = new URL("./scenarios.ts", import.meta.url)
const effectUrl = new URL("./effect-face.ts", import.meta.url)

/** Which face a suite runs on. */
export type Face = "promise" | "effect"

/** Runs scenario `name` on a world of `size` ranks over `transport` (with `engine` options, if given), on `face`. */
export const runScenario = (
  transport: string,
  size: number,
  name: string,
  engine?: Engine.EngineOptions,
  transportOptions?: Readonly<Record<string, unknown>>,
  face: Face = "promise"
): Promise<Array<any>> => {
  const s = scenarios[name]!
  if (transport === "inproc") {
    return face === "effect"
      ? runWorld({ size, transport, timeout: 60_000, engine }, effectProgram(s.run))
      : runWorld({ size, transport, timeout: 60_000, engine }, (comm) => s.run(comm, promiseKit))
  }
  return face === "effect"
    ? runWorld({ size, transport, argv: ["p2p", name], timeout: 60_000, engine, transportOptions }, effectUrl)
    : runWorld({ size, transport, argv: [name], timeout: 60_000, engine, transportOptions }, programUrl)
}

/** Registers every scenario for every size; `engine` options and a `label` for the test titles may be given. */
export const conformance = (
  test: TestFn,
  transport: string,
  sizes: ReadonlyArray<number> = SIZES,
  options: { readonly engine?: Engine.EngineOptions; readonly transportOptions?: Readonly<Record<string, unknown>>; readonly label?: string; readonly face?: Face } = {}
): void => {
  for (const [name, s] of Object.entries(scenarios)) {
    for (const size of sizes) {
      if (size < (s.minSize ?? 1)) continue
      test.serial(`${transport}${options.label ?? ""}: ${name} on ${size} rank${size > 1 ? "s" : ""}`, async (t) => {
        const results = await runScenario(transport, size, name, options.engine, options.transportOptions, options.face)
        t.is(results.length, size)
        s.check(t, results, size)
      })
    }
  }
}
