/**
 * A parallel matrix–vector product y = A·x with the buffer collectives.
 * Rank 0 builds A, the m×n Hilbert matrix (A[i][j] = 1/(i + j + 1)), row
 * after row in one Float64Array, and x = (1, ..., 1). `Scatterv` hands each
 * rank a block of whole rows (counts and displacements in elements; m need
 * not be a multiple of the rank count: the first m % size ranks get one row
 * more), `Bcast` sends x, every rank multiplies its rows, and `Gatherv`
 * collects the pieces of y at rank 0, which compares them with a serial
 * product and prints the largest difference. With x all ones,
 * y[i] = H(i + n) − H(i) (harmonic numbers).
 *
 *     npx rankflow run -n 4 examples/06-matvec.ts [m] [n]      # m default 1000, n default m
 */
import type { Comm } from "rankflow/promise"

const readShape = (args: ReadonlyArray<string>): [number, number] => {
  const m = Number(args[0] ?? 1000)
  const n = Number(args[1] ?? m)
  if (!Number.isSafeInteger(m) || m < 1 || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(`m and n must be whole numbers ≥ 1; got ${args.join(" ")}`)
  }
  return [m, n]
}

/** y[i] = Σ_j a[i][j]·x[j] for the y.length rows of `a` (row-major, x.length columns). */
const multiply = (a: Float64Array, x: Float64Array, y: Float64Array): Float64Array => {
  const n = x.length
  for (let i = 0; i < y.length; i++) {
    let s = 0
    for (let j = 0, k = i * n; j < n; j++, k++) s += a[k]! * x[j]!
    y[i] = s
  }
  return y
}

export default async (comm: Comm) => {
  const root = 0
  const [m, n] = await comm.bcast(comm.rank === root ? readShape(process.argv.slice(2)) : [0, 0], root)

  // Rows per rank, and the same blocks in elements of A.
  const rows = Array.from({ length: comm.size }, (_, r) => Math.floor(m / comm.size) + (r < m % comm.size ? 1 : 0))
  const rowDispls: Array<number> = []
  for (let r = 0, at = 0; r < comm.size; at += rows[r]!, r++) rowDispls.push(at)
  const counts = rows.map((k) => k * n)
  const displs = rowDispls.map((d) => d * n)

  let A: Float64Array | undefined
  const x = new Float64Array(n)
  if (comm.rank === root) {
    A = new Float64Array(m * n)
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) A[i * n + j] = 1 / (i + j + 1)
    x.fill(1)
  }

  const myRows = rows[comm.rank]!
  const a = new Float64Array(myRows * n)
  await comm.Scatterv(A, counts, displs, a, root)
  await comm.Bcast(x, root)
  const yLocal = multiply(a, x, new Float64Array(myRows))
  const y = comm.rank === root ? new Float64Array(m) : undefined
  await comm.Gatherv(yLocal, y, rows, rowDispls, root)

  if (y === undefined) return myRows
  const serial = multiply(A!, x, new Float64Array(m))
  let maxDiff = 0
  for (let i = 0; i < m; i++) maxDiff = Math.max(maxDiff, Math.abs(y[i]! - serial[i]!))
  console.log(`y = A·x, A the ${m}×${n} Hilbert matrix, x all ones, on ${comm.size} rank${comm.size === 1 ? "" : "s"} (rows ${rows.join(", ")})`)
  console.log(`y[0] = ${y[0]}, y[${m - 1}] = ${y[m - 1]}`)
  console.log(`largest |y − serial A·x| = ${maxDiff}`)
  return maxDiff
}
