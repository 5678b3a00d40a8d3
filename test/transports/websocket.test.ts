/** The point-to-point conformance suite on the WebSocket transport: a child process per rank, WebSockets on 127.0.0.1 between them, met at a rendezvous. */
import test from "ava"
import { conformance } from "./conformance.ts"

conformance(test, "websocket", [1, 2, 3, 4])
