/**
 * The collective conformance suite: every scenario of collective-scenarios.ts
 * on one transport, for world sizes 1, 2, 3, 4 and 7 — the scenarios loop
 * over every root inside the world. In-process each (scenario, size) gets a
 * world of its own; elsewhere the scenarios of one size share one world (see
 * conformance.ts and batch.ts). Each transport's test file calls
 * `collectiveConformance(test, name)`; `face: "effect"` runs the same
 * scenarios through the Effect face (effect-face.ts).
 */
import type { TestFn } from "ava"
import { collectiveScenarios } from "./collective-scenarios.ts"
import { registerSuite, type SuiteOptions } from "./conformance.ts"

export const SIZES = [1, 2, 3, 4, 7]
const programUrl = new URL("./collective-scenarios.ts", import.meta.url)

/** Registers every collective scenario for every size; `engine` and transport options, a `label` for the test titles and the `face` may be given. */
export const collectiveConformance = (test: TestFn, transport: string, sizes: ReadonlyArray<number> = SIZES, options: SuiteOptions = {}): void =>
  registerSuite(test, "collective", collectiveScenarios, programUrl, transport, sizes, options)
