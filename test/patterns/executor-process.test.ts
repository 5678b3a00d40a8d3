import { ProcessPoolExecutor } from "rankflow/patterns/executor"
import { executorSuite } from "./executor-suite.ts"

executorSuite("process", (o) => new ProcessPoolExecutor(o))
