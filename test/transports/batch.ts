/**
 * Several conformance scenarios in one world. Launching a world of threads or
 * processes costs far more than most scenarios take, so on every transport
 * but in-process the suites run all (batchable) scenarios of one world size
 * in a single world, one after the other, and each ava test checks its own
 * scenario's part of the outcome.
 *
 * Between scenarios every rank meets at a barrier, then drains whatever the
 * scenario left unmatched on the communicator: a leftover message is reported
 * as that scenario's failure (a complete scenario leaves nothing behind), so
 * it cannot leak into the next one.
 *
 * This module is loaded inside ranks, so it does not import ava.
 */
import type { Comm } from "../../promise.ts"
import { ANY_SOURCE, ANY_TAG, Status } from "../../promise.ts"
import type { Kit } from "./scenarios.ts"

/** One rank's outcome of one scenario in a batch. */
export type Outcome =
  | { readonly ok: true; readonly value: unknown; readonly leftover: Array<{ source: number; tag: number }> }
  | { readonly ok: false; readonly error: string }

/** The argument that asks a scenario program for a batch: `--batch name1,name2,...`. */
export const BATCH = "--batch"

/** Runs the named scenarios in turn on `comm` (with the request combinators `kit`); one rank's outcome of each, by name. */
export const runBatch = async (
  comm: Comm,
  table: Readonly<Record<string, { readonly run: (comm: Comm, kit: Kit) => Promise<unknown> }>>,
  names: ReadonlyArray<string>,
  kit: Kit
): Promise<Record<string, Outcome>> => {
  const out: Record<string, Outcome> = {}
  for (const name of names) {
    const s = table[name]
    if (s === undefined) throw new Error(`no scenario ${name}`)
    await comm.barrier()
    try {
      const value = await s.run(comm, kit)
      await comm.barrier()
      const leftover: Array<{ source: number; tag: number }> = []
      const st = new Status()
      while (comm.iprobe(ANY_SOURCE, ANY_TAG, st)) {
        leftover.push({ source: st.source, tag: st.tag })
        await comm.recv(st.source, st.tag)
      }
      out[name] = { ok: true, value, leftover }
    } catch (e: any) {
      out[name] = { ok: false, error: String(e?.stack ?? e).slice(0, 2000) }
    }
  }
  return out
}

/** Reads `--batch a,b,c` from a rank's argv at `at` (2: right after the script), or undefined when it names one scenario. */
export const batchNames = (argv: ReadonlyArray<string>, at = 2): Array<string> | undefined =>
  argv[at] === BATCH ? (argv[at + 1] ?? "").split(",").filter((n) => n.length > 0) : undefined

/**
 * The per-rank results of scenario `name` from a batch's per-rank outcomes,
 * or a description of what went wrong (a rank's error, leftover messages).
 */
export const resultsOf = (batch: ReadonlyArray<Record<string, Outcome>>, name: string): { results: Array<unknown> } | { problem: string } => {
  const results: Array<unknown> = []
  const problems: Array<string> = []
  batch.forEach((r, rank) => {
    const o = r[name]
    if (o === undefined) problems.push(`rank ${rank}: no outcome`)
    else if (!o.ok) problems.push(`rank ${rank}: ${o.error}`)
    else {
      if (o.leftover.length > 0) problems.push(`rank ${rank}: left unmatched ${JSON.stringify(o.leftover)}`)
      results.push(o.value)
    }
  })
  return problems.length > 0 ? { problem: problems.join("\n") } : { results }
}
