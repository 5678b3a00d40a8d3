/**
 * Loaded by ava before each test file (package.json "ava.require"): turns on
 * Node's module compile cache in the test process, as `rankflow run` does
 * for itself, so that the suite's many processes parse and compile the same
 * modules once, not once each.
 */
import { enableCompileCache } from "node:module"

enableCompileCache()
