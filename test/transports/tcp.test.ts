/** The point-to-point conformance suite on the TCP transport: a child process per rank, TCP sockets on 127.0.0.1 between them. */
import test from "ava"
import { conformance } from "./conformance.ts"

conformance(test, "tcp", [1, 2, 3, 4])
