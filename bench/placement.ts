/**
 * M:N placement on the worker transport: barrier and Allreduce of 8 bytes
 * at 4 and 8 ranks, one rank per thread against the default placement
 * (several ranks per thread once the world outgrows the cores), with
 * mpi4py's same benchmark under mpirun in the same run when it is there.
 * Rounds interleave the three, and the table gives the median of the
 * rounds: microseconds per call (the max over ranks of each rank's
 * average) and ratios.
 *
 *     node bench/placement.ts [--repeats N] [--scale X]
 */
import { execFileSync, spawnSync } from "node:child_process"
import { availableParallelism } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { runWorld } from "../promise.ts"
import { defaultRanksPerThread } from "../transports/worker/Worker.ts"
import type { CollPoint, CollSpec } from "./programs/coll.ts"

const { values } = parseArgs({ options: { repeats: { type: "string", default: "5" }, scale: { type: "string", default: "1" } } })
const repeats = Number(values.repeats)
const scale = Number(values.scale)
const root = fileURLToPath(new URL("../", import.meta.url))
const collUrl = new URL("./programs/coll.ts", import.meta.url)

const python = ["/usr/bin/python3", "python3"].find((p) => spawnSync(p, ["-c", "import mpi4py"], { stdio: "ignore" }).status === 0)
const havePeer = python !== undefined && spawnSync("mpirun", ["--version"]).status === 0
const mpiEnv = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1", OMPI_MCA_rmaps_base_oversubscribe: "1" }

const specs: Array<[string, CollSpec]> = [
  ["barrier", { bench: "barrier", api: "buffer", sizes: [0], scale }],
  ["Allreduce 8 B", { bench: "allreduce", api: "buffer", sizes: [8], scale }]
]

const rankflow = async (ranks: number, spec: CollSpec, ranksPerThread?: number): Promise<number> => {
  const results = await runWorld(
    { size: ranks, transport: "worker", argv: [JSON.stringify(spec)], timeout: 600_000, ...(ranksPerThread !== undefined ? { transportOptions: { ranksPerThread } } : {}) },
    collUrl
  )
  return (results[0] as ReadonlyArray<CollPoint>)[0]!.value
}
const mpi4py = (ranks: number, spec: CollSpec): number => {
  const out = execFileSync("mpirun", ["-n", String(ranks), python!, join(root, "bench/peers/osu_coll.py"), JSON.stringify(spec)], { encoding: "utf8", env: mpiEnv, timeout: 600_000 })
  return (JSON.parse(out.trim().split("\n").pop()!) as Array<{ value: number }>)[0]!.value
}
const median = (xs: Array<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const cores = availableParallelism()
process.stdout.write(`# worker placement, ${cores} cores, ${repeats} rounds, medians (µs per call)\n\n`)
process.stdout.write(`| call | ranks | one rank per thread | default (${"ranks per thread"}) | mpi4py | one-per-thread / default | default / mpi4py |\n|---|---:|---:|---:|---:|---:|---:|\n`)
for (const ranks of [4, 8]) {
  for (const [label, spec] of specs) {
    const one: Array<number> = []
    const mn: Array<number> = []
    const peer: Array<number> = []
    for (let r = 0; r < repeats; r++) {
      one.push(await rankflow(ranks, spec, 1))
      mn.push(await rankflow(ranks, spec))
      if (havePeer) peer.push(mpi4py(ranks, spec))
    }
    const [a, b, c] = [median(one), median(mn), havePeer ? median(peer) : NaN]
    const f = (x: number) => (Number.isNaN(x) ? "—" : x.toFixed(2))
    process.stdout.write(`| ${label} | ${ranks} | ${f(a)} | ${f(b)} (${defaultRanksPerThread(ranks, cores)}) | ${f(c)} | ${(a / b).toFixed(1)}× | ${Number.isNaN(c) ? "—" : (b / c).toFixed(2) + "×"} |\n`)
  }
}
