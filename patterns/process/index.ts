/**
 * `multiprocessing` for rankflow: `Pool`, `Process`, `Queue`, `Pipe` and
 * start methods as contexts, on child processes (this project's Node) or
 * worker threads.
 *
 * @example
 * ```ts
 * import { getContext, Pool } from "rankflow/patterns/process"
 * export function f(x: number) { return x * x }
 * if (import.meta.main) {
 *   await using p = new Pool(5)
 *   console.log(await p.map(f, [1, 2, 3])) // [1, 4, 9]
 *   await using t = getContext("thread").Pool(2)
 *   for await (const y of t.imapUnordered(f, [4, 5])) console.log(y)
 * }
 * ```
 * @since 0.2.0
 */
export { AsyncResult, type AsyncCallbacks, Pool, type PoolOptions } from "./Pool.ts"
export {
  activeChildren,
  cpuCount,
  getStartMethod,
  Process,
  type ProcessOptions,
  setStartMethod,
  type StartMethod
} from "./Process.ts"
export { Connection, JoinableQueue, Pipe, Queue, type QueueLike } from "./Queue.ts"
export { type Context, getContext } from "./Context.ts"
export { task, type Task } from "../pool/Task.ts"
export { move } from "../pool/Wire.ts"
export { taskSignal } from "../pool/Runner.ts"
export {
  CancelledError,
  CapturedVariables,
  Closed,
  Empty,
  Full,
  ShutdownError,
  TimeoutError,
  Unshippable,
  WorkerExited
} from "../pool/Errors.ts"
