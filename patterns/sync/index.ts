/**
 * Shared state and synchronization across worker threads: Python's
 * `multiprocessing` primitives (`Lock`, `RLock`, `Semaphore`,
 * `BoundedSemaphore`, `Event`, `Barrier`, `Condition`) and shared memory
 * (`Value`, `Array`, `RawValue`, `RawArray`) for the `thread` start method,
 * over `SharedArrayBuffer` and `Atomics`.
 *
 * Waiting never blocks the event loop unless asked: `acquire()`, `wait()`
 * return Promises (`Atomics.waitAsync`), with timeouts in milliseconds and
 * an optional `AbortSignal`; `acquireSync()`, `waitSync()` block the thread,
 * and only they do. A shared object made in one thread reaches another as a
 * task argument or message (through rankflow's codec), or as
 * `x.toShared()` in `workerData`/`postMessage`, rebuilt with
 * `X.fromShared(d)`; either way it is the same memory. It cannot reach
 * another process: `SharedMemoryUnavailable`.
 *
 * @example
 * ```ts
 * import { Worker } from "node:worker_threads"
 * import * as mp from "rankflow/patterns/sync"
 *
 * const counter = mp.Value("i", 0)
 * const workers = [0, 1, 2, 3].map(() =>
 *   new Worker(new URL("./count.ts", import.meta.url), { workerData: counter.toShared() })
 * )
 * // count.ts:
 * //   const counter = mp.SharedValue.fromShared<"i">(workerData)
 * //   for (let i = 0; i < 10_000; i++) await counter.withLock(() => { counter.value += 1 })
 * ```
 * @since 0.2.0
 */
export { Barrier, type BarrierOptions } from "./Barrier.ts"
export { Condition } from "./Condition.ts"
export * from "./Effect.ts"
export { BrokenBarrierError, ReleaseError, type SharedMemoryReason, SharedMemoryUnavailable } from "./Errors.ts"
export { Event } from "./Event.ts"
export {
  CODEC_TYPE,
  ensureNoShared,
  fromShared,
  heap,
  Heap,
  isSharedDescriptor,
  type SharedDescriptor,
  SharedObject
} from "./Heap.ts"
export { Lock, type Lockable, RLock } from "./Lock.ts"
export { BoundedSemaphore, Semaphore } from "./Semaphore.ts"
export {
  Array,
  type ElementOf,
  RawArray,
  RawValue,
  SharedArray,
  SharedValue,
  type SyncOptions,
  type Typecode,
  Value,
  type ViewOf
} from "./Value.ts"
