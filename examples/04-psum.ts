/**
 * The seed talk's IPython `psum`: every rank sums its own slice of the data,
 * then ONE `Allreduce` of a one-element Float64Array into a preallocated
 * receive buffer leaves the total on every rank, exactly as
 *
 *     MPI.COMM_WORLD.Allreduce([locsum, MPI.DOUBLE], [rcvBuf, MPI.DOUBLE], op=MPI.SUM)
 *
 * The data is `arange(n)` as float64 (n from the command line, default
 * 1_000_000), split in contiguous slices that need not be equal: the first
 * n % size ranks hold one element more, as `view.scatter` would leave them.
 * Rank 0 prints the total beside the closed form n(n - 1)/2.
 *
 *     npx rankflow run -n 4 examples/04-psum.ts [n]
 */
import type { Comm } from "rankflow/promise"
import { Op } from "rankflow/promise"

/** The talk's function: `locsum = np.sum(a)`, `rcvBuf = np.array(0.0, 'd')`, one Allreduce. */
const psum = async (comm: Comm, a: Float64Array): Promise<Float64Array> => {
  let s = 0
  for (const v of a) s += v
  const locsum = Float64Array.of(s) // a one-element buffer, [locsum, MPI.DOUBLE]
  const rcvBuf = new Float64Array(1) // preallocated, [rcvBuf, MPI.DOUBLE]
  await comm.Allreduce(locsum, rcvBuf, Op.SUM)
  return rcvBuf
}

/** Elements held by rank r when n are split over p ranks. */
const share = (n: number, p: number, r: number): number => Math.floor(n / p) + (r < n % p ? 1 : 0)

export default async (comm: Comm) => {
  const n = Number(process.argv[2] ?? 1_000_000)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`n must be a whole number ≥ 0; got ${process.argv[2]}`)
  const sizes = Array.from({ length: comm.size }, (_, r) => share(n, comm.size, r))
  let lo = 0
  for (let r = 0; r < comm.rank; r++) lo += sizes[r]!
  // This rank's slice of arange(n): lo, lo + 1, ..., lo + sizes[rank] - 1.
  const a = Float64Array.from({ length: sizes[comm.rank]! }, (_, i) => lo + i)

  const total = (await psum(comm, a))[0]!

  if (comm.rank === 0) {
    const exact = (n * (n - 1)) / 2
    const diff = Math.abs(total - exact)
    console.log(`psum of arange(${n}) over ${comm.size} rank${comm.size === 1 ? "" : "s"} (slices of ${sizes.join(", ")} elements): ${total}`)
    console.log(`closed form n(n-1)/2 = ${exact}; difference ${diff} (relative ${exact === 0 ? 0 : diff / exact})`)
  }
  return total
}
