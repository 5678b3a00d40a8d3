/**
 * The point-to-point and collective conformance suites on the Effect face
 * over worker threads, for 2 and 4 ranks (effect-face-inproc.test.ts runs
 * them on every size); as on the Promise face, the scenarios of one size
 * share one world (see batch.ts) and each is still its own test.
 */
import test from "ava"
import { collectiveConformance } from "./collective-conformance.ts"
import { conformance } from "./conformance.ts"

conformance(test, "worker", [2, 4], { face: "effect", label: " (Effect face, p2p)" })
collectiveConformance(test, "worker", [2, 4], { face: "effect", label: " (Effect face, collectives)" })
