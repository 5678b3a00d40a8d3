/**
 * What a thread pool's worker runs first: a worker thread does not inherit
 * its process's module compile cache, so it turns the pool's process's on
 * (`workerData.compileCache`; see `World.compileCacheBase`; unless
 * `NODE_DISABLE_COMPILE_CACHE` is set) before it loads the worker side
 * (`ThreadEntry.ts`), so that the pool's second and later workers — and
 * every replacement — load V8's code instead of compiling it again.
 *
 * @since 0.3.0
 */
import { enableCompileCache } from "node:module"
import { extname } from "node:path"
import { workerData } from "node:worker_threads"

enableCompileCache((workerData as { compileCache?: string }).compileCache)
await import(`./ThreadEntry${extname(import.meta.url)}`)
