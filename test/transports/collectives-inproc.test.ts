import test from "ava"
import { collectiveConformance } from "./collective-conformance.ts"

collectiveConformance(test, "inproc")
