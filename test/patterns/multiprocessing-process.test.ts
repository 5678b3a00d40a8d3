import { multiprocessingSuite } from "./multiprocessing-suite.ts"

multiprocessingSuite("process")
