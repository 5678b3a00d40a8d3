/**
 * The kill -9 program (rank 2 kills itself in the middle of the 50th
 * allreduce) run directly from the environment, with no launcher to tell the
 * others: they must find out from their TCP links alone.
 */
import { runFromEnvironment } from "../../../transports/tcp/index.ts"
import killed from "../process/killed.ts"

await runFromEnvironment(killed)
