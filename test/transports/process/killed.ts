/**
 * Allreduce after allreduce; in the middle of the 50th, rank 2's process is
 * killed with SIGKILL (it kills itself, right after starting its part). The
 * others must fail with PeerLost naming it, not wait.
 */
import type { Comm } from "../../../promise.ts"

export default async (comm: Comm) => {
  let sum = 0
  for (let i = 0; i < 200; i++) {
    const req = comm.iallreduce(comm.rank + i)
    if (comm.rank === 2 && i === 50) {
      process.stderr.write(`killing rank 2 at ${Date.now()}\n`)
      process.kill(process.pid, "SIGKILL")
    }
    sum += (await req.wait()) as number
  }
  return sum
}
