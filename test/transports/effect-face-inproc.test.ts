/**
 * The point-to-point and collective conformance suites on the Effect face,
 * in-process, for world sizes 1, 2, 3, 4 and 7: every call of the scenarios
 * goes through the Effect face (effect-face.ts).
 */
import test from "ava"
import { collectiveConformance } from "./collective-conformance.ts"
import { conformance, SIZES } from "./conformance.ts"

conformance(test, "inproc", SIZES, { face: "effect", label: " (Effect face, p2p)" })
collectiveConformance(test, "inproc", SIZES, { face: "effect", label: " (Effect face, collectives)" })
