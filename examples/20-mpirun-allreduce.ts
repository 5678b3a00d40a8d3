/**
 * An allreduce that runs under any launcher: `rankflow run`, or directly
 * under Open MPI's `mpirun`, MPICH's `mpiexec` or Slurm's `srun`, where the
 * ranks find each other over TCP. Every rank contributes the vector
 * [rank, rank², 1] (as a Float64Array) and gets the element-wise sum;
 * rank 0 prints it beside the closed forms.
 *
 *     RANKFLOW_SECRET=$(openssl rand -hex 32) mpirun -n 4 node examples/20-mpirun-allreduce.ts
 *     npx rankflow run -n 4 --transport tcp examples/20-mpirun-allreduce.ts
 */
import type { Comm } from "rankflow/promise"
import { Op } from "rankflow/promise"
import { runFromEnvironment } from "rankflow/transports/tcp"

const program = async (comm: Comm): Promise<Array<number>> => {
  const r = comm.rank
  const n = comm.size
  const sum = new Float64Array(3)
  await comm.Allreduce(Float64Array.of(r, r * r, 1), sum, Op.SUM)
  if (r === 0) {
    const want = [(n * (n - 1)) / 2, ((n - 1) * n * (2 * n - 1)) / 6, n]
    console.log(`allreduce over ${n} ranks: [${[...sum].join(", ")}]; expected [${want.join(", ")}]`)
  }
  return [...sum]
}

export default program

if (import.meta.main) await runFromEnvironment(program)
