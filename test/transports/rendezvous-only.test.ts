/**
 * The conformance suites with tiny eager windows. The collectives run with
 * `maxUnexpectedBytes: 0`, so every message they send goes by rendezvous:
 * the library's algorithms may not rely on eager buffering. The
 * point-to-point scenarios are user programs that send a few small messages
 * around a ring before they receive (as many MPI programs do); they run with
 * a 16 KiB budget, a window of about one or two of their messages per
 * sender, so eager and rendezvous keep alternating as credit runs out and
 * comes back.
 */
import test from "ava"
import { collectiveConformance } from "./collective-conformance.ts"
import { conformance } from "./conformance.ts"

const mode = process.env.RF_TRY ?? "all"
for (const [transport, sizes] of [["inproc", [2, 3, 7]], ["worker", [2, 4]]] as const) {
  if (mode !== "all" && mode !== transport) continue
  conformance(test, transport, sizes, { engine: { maxUnexpectedBytes: 16384 }, label: " (16 KiB budget)" })
  collectiveConformance(test, transport, sizes, { engine: { maxUnexpectedBytes: 0 }, label: " (no eager window)" })
}
