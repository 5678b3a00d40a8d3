import { multiprocessingSuite } from "./multiprocessing-suite.ts"

multiprocessingSuite("thread")
