import test from "ava"
import { conformance } from "./conformance.ts"

conformance(test, "worker")
