/** The collective conformance suite on the process transport: a child process per rank, Unix sockets between them. */
import test from "ava"
import { collectiveConformance } from "./collective-conformance.ts"

collectiveConformance(test, "process", [1, 2, 3, 4])
