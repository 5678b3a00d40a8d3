/**
 * What a rank's worker thread runs first. A worker thread does not inherit
 * its process's module compile cache, so it turns the launcher's on (unless
 * `NODE_DISABLE_COMPILE_CACHE` is set) before it loads the thread side
 * (`Entry.ts`) and the program: the first thread compiles the modules, the
 * others — of this world and the next — load V8's code from the cache.
 *
 * `workerData.compileCache`: the directory (see `World.compileCacheBase`).
 *
 * @since 0.3.0
 */
import { extname } from "node:path"
import { enableCompileCache } from "node:module"
import { workerData } from "node:worker_threads"

enableCompileCache((workerData as { compileCache?: string }).compileCache)
await import(`./Entry${extname(import.meta.url)}`)
