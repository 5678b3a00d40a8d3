/**
 * Collective benchmarks on any number of ranks, OSU style (osu_barrier,
 * osu_bcast, osu_allreduce, osu_alltoall): warm-up, then timed iterations,
 * for each message size. Rank 0 returns the figures.
 *
 * Every rank times each call on its own and averages over the iterations, in
 * microseconds per call; the figure is the max of those averages over the
 * ranks, so one slow rank is not hidden. As in OSU, a barrier (not timed)
 * follows each call of the bcast, allreduce and alltoall benchmarks, so no
 * call overlaps the next; the barrier benchmark times back-to-back barriers.
 *
 * - barrier: `Barrier` (one size, 0).
 * - bcast: `Bcast` of a Uint8Array of `size` bytes from root 0.
 * - allreduce, api "buffer": `Allreduce` of a Float64Array of `size` bytes
 *   (`size / 8` doubles) under `Op.SUM`; api "object": `allreduce(x)` of one
 *   number (size 8).
 * - alltoall: `Alltoall` of Uint8Arrays, `size` bytes per pair of ranks (so
 *   `size × ranks` bytes each way on each rank).
 *
 * Each run checks its result once, after the timed iterations, and throws
 * on a wrong one. bench/peers/osu_coll.py measures the same for mpi4py.
 */
import type { Comm } from "../../promise.ts"
import { Op } from "../../promise.ts"

export interface CollSpec {
  readonly bench: "barrier" | "bcast" | "allreduce" | "alltoall"
  readonly api: "buffer" | "object"
  readonly sizes: ReadonlyArray<number>
  /** Scale of the iteration counts (1 = OSU's defaults, smaller for a smoke run). */
  readonly scale: number
}

export interface CollPoint {
  readonly size: number
  /** Microseconds per call, the max over ranks of each rank's average. */
  readonly value: number
  readonly iters: number
}

/** OSU's collective defaults: 1000 iterations up to 8 KiB, 100 above; a tenth as warm-up. */
export const collIterations = (size: number, scale: number): [number, number] => {
  const n = size <= 8192 ? 1000 : 100
  const iters = Math.max(5, Math.round(n * scale))
  return [iters, Math.max(2, Math.round(iters / 10))]
}

/** One benchmark's buffers and call, set up once per size. */
interface Case {
  /** Resets what the call writes, so the check after a run means something. */
  readonly reset: () => void
  readonly call: () => Promise<unknown>
  /** Throws unless the last call's result is right. */
  readonly check: () => void
}

const fail = (comm: Comm, spec: CollSpec, size: number, what: string): never => {
  throw new Error(`coll bench: ${spec.bench} (${spec.api}, ${size} B, ${comm.size} ranks): rank ${comm.rank} got ${what}`)
}

const makeCase = (comm: Comm, spec: CollSpec, size: number): Case => {
  const p = comm.size
  const rank = comm.rank
  const sum = (p * (p + 1)) / 2 // of rank + 1 over the ranks
  switch (spec.bench) {
    case "barrier":
      return { reset: () => {}, call: () => comm.barrier(), check: () => {} }
    case "bcast": {
      const buf = new Uint8Array(size)
      return {
        reset: () => buf.fill(rank === 0 ? 0xa5 : 0),
        call: () => comm.Bcast(buf, 0),
        check: () => {
          const i = buf.findIndex((b) => b !== 0xa5)
          if (i >= 0) fail(comm, spec, size, `byte ${i} = ${buf[i]}, not 0xa5`)
        }
      }
    }
    case "allreduce": {
      if (spec.api === "object") {
        let got: unknown
        return {
          reset: () => (got = undefined),
          call: async () => (got = await comm.allreduce(rank + 1)),
          check: () => {
            if (got !== sum) fail(comm, spec, size, `${String(got)}, not ${sum}`)
          }
        }
      }
      const send = new Float64Array(Math.max(1, size >> 3)).fill(rank + 1)
      const recv = new Float64Array(send.length)
      return {
        reset: () => recv.fill(0),
        call: () => comm.Allreduce(send, recv, Op.SUM),
        check: () => {
          const i = recv.findIndex((x) => x !== sum)
          if (i >= 0) fail(comm, spec, size, `element ${i} = ${recv[i]}, not ${sum}`)
        }
      }
    }
    case "alltoall": {
      // Block j of rank r's send buffer holds (31 r + j) mod 256.
      const send = new Uint8Array(size * p)
      for (let j = 0; j < p; j++) send.fill((31 * rank + j) & 255, j * size, (j + 1) * size)
      const recv = new Uint8Array(size * p)
      return {
        reset: () => recv.fill(0),
        call: () => comm.Alltoall(send, recv),
        check: () => {
          for (let i = 0; i < p; i++) {
            const want = (31 * i + rank) & 255
            for (let k = i * size; k < (i + 1) * size; k++) {
              if (recv[k] !== want) fail(comm, spec, size, `byte ${k} (block ${i}) = ${recv[k]}, not ${want}`)
            }
          }
        }
      }
    }
  }
}

/** Microseconds per call on this rank: the average over `iters` timed calls after `warmup` untimed ones. */
const measure = async (comm: Comm, spec: CollSpec, c: Case, iters: number, warmup: number): Promise<number> => {
  c.reset()
  let total = 0
  if (spec.bench === "barrier") {
    let t0 = 0
    for (let i = 0; i < iters + warmup; i++) {
      if (i === warmup) t0 = performance.now()
      await c.call()
    }
    total = performance.now() - t0
  } else {
    for (let i = 0; i < iters + warmup; i++) {
      const t = performance.now()
      await c.call()
      if (i >= warmup) total += performance.now() - t
      await comm.barrier()
    }
  }
  c.check()
  return (total * 1000) / iters
}

/** Runs `spec` on every rank of `comm`; rank 0 returns the points. */
export const coll = async (comm: Comm, spec: CollSpec): Promise<Array<CollPoint> | null> => {
  if (spec.bench !== "allreduce" && spec.api === "object") throw new Error(`coll bench: no object-API ${spec.bench} here`)
  // JavaScript needs a longer warm-up than OSU's (its JIT compilers settle
  // after tens of thousands of calls): run the first size unmeasured, in
  // short runs, for a while. Each rank decides once per run and all take the
  // AND, so they stop together.
  const first = spec.sizes[0]!
  const warm = makeCase(comm, spec, first)
  const [wIters, wWarmup] = collIterations(first, spec.scale / 10)
  const until = performance.now() + Math.min(1000, 2000 * spec.scale)
  for (let go = true; go;) {
    await measure(comm, spec, warm, wIters, wWarmup)
    go = await comm.allreduce(performance.now() < until, Op.LAND)
  }
  // Each figure is the median of three timed runs in the world (the first
  // run after the warm-up is often slower).
  const out: Array<CollPoint> = []
  for (const size of spec.sizes) {
    const c = size === first ? warm : makeCase(comm, spec, size)
    const [iters, warmup] = collIterations(size, spec.scale)
    const runs: Array<number> = []
    for (let k = 0; k < 3; k++) {
      await comm.barrier() // line up before each run
      const mine = await measure(comm, spec, c, iters, warmup)
      runs.push(await comm.allreduce(mine, Op.MAX))
    }
    runs.sort((a, b) => a - b)
    out.push({ size, value: runs[1]!, iters })
  }
  return comm.rank === 0 ? out : null
}

/** Worker and process ranks: the spec comes as JSON in argv[2]. */
export default (comm: Comm) => coll(comm, JSON.parse(process.argv[2]!) as CollSpec)
