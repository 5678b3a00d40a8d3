/**
 * The seed talk's mpi4py example: rank 0 sends 1000 int32 (tag 77) and then
 * 100 float64 (tag 13) to rank 1, which receives them into preallocated
 * arrays with the buffer API (`Recv`), checked for type and length.
 *
 *     npx rankflow run -n 2 examples/01-typed-buffers.ts
 */
import type { Comm } from "rankflow/promise"
import { Status } from "rankflow/promise"

export default async (comm: Comm) => {
  if (comm.size < 2) throw new Error("run this example with at least 2 ranks (-n 2)")
  if (comm.rank === 0) {
    // passing the data's type explicitly in mpi4py ([data, MPI.INT]) is the array's kind here
    const ints = Int32Array.from({ length: 1000 }, (_, i) => i)
    await comm.Send(ints, 1, 77)
    // "automatic MPI datatype discovery"
    const doubles = Float64Array.from({ length: 100 }, (_, i) => i)
    await comm.Send(doubles, 1, 13)
    console.log("rank 0 sent 1000 int32 (tag 77) and 100 float64 (tag 13) to rank 1")
  } else if (comm.rank === 1) {
    const status = new Status()
    const ints = new Int32Array(1000)
    await comm.Recv(ints, 0, 77, status)
    console.log(`rank 1 got ${status.getCount(Int32Array)} int32 from rank ${status.source}: ${ints[0]}, ${ints[1]} ... ${ints[999]}`)
    const doubles = new Float64Array(100)
    await comm.Recv(doubles, 0, 13, status)
    console.log(`rank 1 got ${status.getCount(Float64Array)} float64 (${status.count} bytes): sum ${doubles.reduce((a, b) => a + b)}`)
    return { ints: ints[999], doubles: doubles[99] }
  }
}
