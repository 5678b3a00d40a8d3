/**
 * `concurrent.futures` for rankflow: futures, executors on worker threads,
 * child processes and communicators, and the module functions `wait` and
 * `asCompleted`.
 *
 * @example
 * ```ts
 * import { asCompleted, ThreadPoolExecutor } from "rankflow/patterns/executor"
 * await using ex = new ThreadPoolExecutor({ maxWorkers: 4 })
 * const futures = [1, 2, 3].map((n) => ex.submit((n: number) => n * n, n))
 * for await (const f of asCompleted(futures)) console.log(await f.result())
 * ```
 * @since 0.2.0
 */
export { ALL_COMPLETED, asCompleted, type Completed, FIRST_COMPLETED, FIRST_EXCEPTION, Future, type FutureState, type ReturnWhen, wait } from "./Future.ts"
export { type CallOptions, Executor, type ExecutorOptions, ProcessPoolExecutor, ThreadPoolExecutor } from "./Executor.ts"
export { CommExecutor, type CommExecutorOptions } from "./CommExecutor.ts"
export { task, type Task, type Runnable } from "../pool/Task.ts"
export { move } from "../pool/Wire.ts"
export { MalformedFrame } from "../pool/Frames.ts"
export { taskSignal } from "../pool/Runner.ts"
export type { MapOptions, MapResult } from "../pool/Mapping.ts"
export type { PoolMetrics, HistogramSummary } from "../pool/Metrics.ts"
export {
  CancelledError,
  CapturedVariables,
  type PoolError,
  QueueFull,
  ShutdownError,
  TaskFailed,
  TaskTimeout,
  TimeoutError,
  Unshippable,
  WorkerExited,
  type WorkerExitReason
} from "../pool/Errors.ts"
