/**
 * The conformance suite: every scenario of scenarios.ts on one transport, for
 * world sizes 1, 2, 3, 4 and 7. Each transport's test file calls
 * `conformance(test, name)`; `face: "effect"` runs the same scenarios
 * through the Effect face (effect-face.ts).
 *
 * In-process, each (scenario, size) gets a world of its own. On the other
 * transports, where a world costs threads or processes to launch, the
 * scenarios of one size share one world and run one after the other (see
 * batch.ts); a scenario marked `alone` still gets its own.
 */
import type { TestFn } from "ava"
import type { Engine } from "../../index.ts"
import { runWorld } from "../../promise.ts"
import { BATCH, resultsOf, type Outcome } from "./batch.ts"
import { effectProgram } from "./effect-face.ts"
import { type Assert, type Kit, promiseKit, scenarios } from "./scenarios.ts"

export const SIZES = [1, 2, 3, 4, 7]
const programUrl = new URL("./scenarios.ts", import.meta.url)
const effectUrl = new URL("./effect-face.ts", import.meta.url)

/** Which face a suite runs on. */
export type Face = "promise" | "effect"

export interface SuiteOptions {
  readonly engine?: Engine.EngineOptions
  readonly transportOptions?: Readonly<Record<string, unknown>>
  /** Added to the test titles. */
  readonly label?: string
  /** The face every call of the scenarios goes through (default: the Promise face). */
  readonly face?: Face
}

interface SuiteScenario {
  readonly run: (comm: any, kit: Kit) => Promise<unknown>
  readonly check: (t: Assert, results: ReadonlyArray<any>, size: number) => void
  readonly minSize?: number
  readonly alone?: boolean
  readonly timeout?: number
}

/**
 * Registers every scenario of `table` (the suite `suite`) for every size on
 * `transport`, run by the rank program `program` (which takes a scenario
 * name or `--batch`) on the Promise face, or by effect-face.ts's.
 */
export const registerSuite = (
  test: TestFn,
  suite: "p2p" | "collective",
  table: Readonly<Record<string, SuiteScenario>>,
  program: URL,
  transport: string,
  sizes: ReadonlyArray<number>,
  options: SuiteOptions
): void => {
  const { engine, transportOptions } = options
  const effect = options.face === "effect"
  const url = effect ? effectUrl : program
  const args = (rest: Array<string>): Array<string> => (effect ? [suite, ...rest] : rest)
  const single = (size: number, name: string): Promise<Array<any>> => {
    const s = table[name]!
    const timeout = s.timeout ?? 60_000
    if (transport !== "inproc") return runWorld({ size, transport, argv: args([name]), timeout, engine, transportOptions }, url)
    return effect
      ? runWorld({ size, transport, timeout, engine }, effectProgram(s.run))
      : runWorld({ size, transport, timeout, engine }, (comm) => s.run(comm, promiseKit))
  }
  const batches = new Map<number, Promise<Array<Record<string, Outcome>>>>()
  const batched = (size: number): Promise<Array<Record<string, Outcome>>> => {
    let b = batches.get(size)
    if (b === undefined) {
      const names = Object.entries(table).filter(([, s]) => !s.alone && size >= (s.minSize ?? 1)).map(([n]) => n)
      const timeout = Math.min(110_000, names.reduce((a, n) => a + (table[n]!.timeout ?? 60_000), 0))
      b = runWorld<Record<string, Outcome>>({ size, transport, argv: args([BATCH, names.join(",")]), timeout, engine, transportOptions }, url)
      batches.set(size, b)
    }
    return b
  }
  for (const [name, s] of Object.entries(table)) {
    for (const size of sizes) {
      if (size < (s.minSize ?? 1)) continue
      test.serial(`${transport}${options.label ?? ""}: ${name} on ${size} rank${size > 1 ? "s" : ""}`, async (t) => {
        let results: Array<any>
        if (transport === "inproc" || s.alone) results = await single(size, name)
        else {
          const r = resultsOf(await batched(size), name)
          if ("problem" in r) return t.fail(r.problem)
          results = r.results
        }
        t.is(results.length, size)
        s.check(t, results, size)
      })
    }
  }
}

/** Registers every scenario for every size; `engine` and transport options, a `label` for the test titles and the `face` may be given. */
export const conformance = (test: TestFn, transport: string, sizes: ReadonlyArray<number> = SIZES, options: SuiteOptions = {}): void =>
  registerSuite(test, "p2p", scenarios, programUrl, transport, sizes, options)
