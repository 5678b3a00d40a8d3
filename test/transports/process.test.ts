/** The point-to-point conformance suite on the process transport: a child process per rank, Unix sockets between them. */
import test from "ava"
import { conformance } from "./conformance.ts"

conformance(test, "process", [1, 2, 3, 4])
