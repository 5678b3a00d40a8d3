/**
 * rankflow's asyncio shapes, Effect face: Python's `asyncio` mapped onto
 * Effect fibers and interruption. A task is a fiber; cancelling it
 * interrupts the fiber and runs its finalizers. The Promise face, for
 * async functions, is `rankflow/patterns/asyncio/promise`, with the same
 * names.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as asyncio from "rankflow/patterns/asyncio"
 *
 * // a task that sleeps, then completes with "Done!"
 * const program = Effect.gen(function*() {
 *  *   const task = yield* asyncio.createTask(asyncio.sleep(2000, "Done!"))
 *   return yield* task.join // "Done!"
 * })
 * ```
 * @since 0.2.0
 */
export {
  CancelledError,
  InvalidStateError,
  isCancelledError,
  QueueEmpty,
  QueueFull,
  ReleaseError,
  TaskGroupError,
  TimeoutError
} from "./Errors.ts"
export { Future } from "./Future.ts"
export { BoundedSemaphore, Event, Lock, Semaphore } from "./Locks.ts"
export { Queue } from "./Queue.ts"
export {
  type Awaitable,
  createTask,
  type Failure,
  gather,
  type Services,
  shield,
  sleep,
  type Success,
  Task,
  waitFor
} from "./Task.ts"
export { TaskGroup, taskGroup } from "./TaskGroup.ts"
