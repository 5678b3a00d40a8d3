/** A script that is not one program function: it asks for its communicator with world() and closes it at the end. */
import { world } from "../../../transports/tcp/index.ts"

const w = await world()
const sum = await w.comm.allreduce(w.rank + 1)
const gathered = await w.comm.gather(`${w.source}:${w.rank}`, 0)
if (w.rank === 0) console.log(`world() rank 0 of ${w.size}: sum ${sum}, gathered ${JSON.stringify(gathered)}`)
await w.close()
