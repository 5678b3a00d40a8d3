import { ThreadPoolExecutor } from "rankflow/patterns/executor"
import { executorSuite } from "./executor-suite.ts"

executorSuite("thread", (o) => new ThreadPoolExecutor(o))
