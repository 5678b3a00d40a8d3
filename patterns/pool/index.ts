/**
 * The engine under rankflow's executors and multiprocessing pools: tasks
 * and how they travel, the worker pool with its batching and failure
 * handling, channels, metrics and progress bars. Most programs use
 * `rankflow/patterns/executor` or `rankflow/patterns/process` instead.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "rankflow/patterns/pool"
 * const pool = new WorkerPool({ kind: "thread", maxWorkers: 2 })
 * console.log(pool.metrics().workers) // 0: workers start as work arrives
 * ```
 * @since 0.2.0
 */
export * from "./Errors.ts"
export { Channel, ChannelProxy, type ChannelLike } from "./Channel.ts"
export { Histogram, type HistogramSummary, type PoolMetrics } from "./Metrics.ts"
export { type MapOptions, type MapResult, startMap, starTuples, zipTuples } from "./Mapping.ts"
export { type ProgressOption, startProgress } from "./Progress.ts"
export { taskSignal } from "./Runner.ts"
export { definitionOf, isTask, task, type Task, type Runnable, type ArgsOf, type ResultOf } from "./Task.ts"
export { isMoved, move } from "./Wire.ts"
export { DEFAULT_MAX_FRAME_BYTES, Deframer, type DeframerOptions, frame, MalformedFrame } from "./Frames.ts"
export { Job, WorkerPool, type WorkerPoolOptions } from "./WorkerPool.ts"
export { checkProcessArguments, guardProcessArguments } from "./Guards.ts"
export { type ExitInfo, type Link, startProcess, startThread } from "./Link.ts"
