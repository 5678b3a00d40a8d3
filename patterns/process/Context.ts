/**
 * Start methods as contexts (Python's `multiprocessing.get_context`): a
 * context makes pools and processes of one kind.
 *
 * @since 0.2.0
 */
import { Pool, type PoolOptions } from "./Pool.ts"
import { Process, type ProcessOptions, type StartMethod } from "./Process.ts"
import { type Connection, JoinableQueue, Pipe, Queue } from "./Queue.ts"
import type { Runnable } from "../pool/Task.ts"

/**
 * Pools, processes, queues and pipes of one start method.
 *
 * @category models
 * @since 0.2.0
 */
export interface Context {
  readonly startMethod: StartMethod
  /** A pool of this context's workers. */
  Pool(processes?: number | Omit<PoolOptions, "context">, options?: Omit<PoolOptions, "context">): Pool
  /** A process of this context's kind. */
  Process<R extends Runnable>(options: Omit<ProcessOptions<R>, "context">): Process<R>
  /** A queue (the same for every context). */
  Queue<A = unknown>(maxsize?: number): Queue<A>
  /** A joinable queue (the same for every context). */
  JoinableQueue<A = unknown>(maxsize?: number): JoinableQueue<A>
  /** A pipe (the same for every context). */
  Pipe<A = unknown>(duplex?: boolean): [Connection<A>, Connection<A>]
}

/**
 * The context of a start method: `"process"` (child processes of this
 * project's Node) or `"thread"` (worker threads).
 *
 * @example
 * ```ts
 * import { getContext } from "rankflow/patterns/process"
 * await using p = getContext("thread").Pool(4)
 * console.log(await p.map((x: number) => x + 1, [1, 2, 3])) // [2, 3, 4]
 * ```
 * @category context
 * @since 0.2.0
 */
export const getContext = (method: StartMethod): Context => {
  if (method !== "thread" && method !== "process") throw new TypeError(`unknown start method ${String(method)}: use "thread" or "process"`)
  return {
    startMethod: method,
    Pool: (processes, options) => {
      const o = typeof processes === "number" ? { ...options, processes } : processes ?? options ?? {}
      return new Pool({ ...o, context: method })
    },
    Process: (options) => new Process({ ...options, context: method }),
    Queue: (maxsize) => new Queue(maxsize),
    JoinableQueue: (maxsize) => new JoinableQueue(maxsize),
    Pipe: (duplex) => Pipe(duplex)
  }
}
