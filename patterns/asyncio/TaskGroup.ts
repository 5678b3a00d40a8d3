/**
 * Structured concurrency (Python's `asyncio.TaskGroup`), Effect face: tasks
 * that cannot outlive a block. The block ends when every task has; the
 * first task that fails cancels the others and the block's body; every
 * failure is reported in one `TaskGroupError` (Python's `ExceptionGroup`).
 * Built on effect's `FiberSet`.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import type { CancelledError, InvalidStateError, TaskGroupError } from "./Errors.ts"
import { GroupCore } from "./internal/group.ts"
import { type Task, taskBody } from "./Task.ts"

/**
 * The handle a {@link taskGroup} body gets, to start tasks in the group.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { sleep, taskGroup } from "rankflow/patterns/asyncio"
 * const program = taskGroup((tg) => Effect.gen(function*() {
 *   const a = yield* tg.createTask(sleep(10, "a"))
 *   const b = yield* tg.createTask(sleep(20, "b"))
 *   return [a, b] as const
 * })) // both tasks are done when it succeeds: a.result() === "a"
 * ```
 * @category models
 * @since 0.2.0
 */
export class TaskGroup {
  readonly #core: GroupCore

  /** Made by {@link taskGroup}. */
  constructor(core: GroupCore) {
    this.#core = core
  }

  /**
   * Starts `effect` as a task of the group. Fails with `InvalidStateError`
   * once the group is shutting down (a task failed) or finished.
   */
  createTask<A, E, R>(
    effect: Effect.Effect<A, E, R>,
    options?: { readonly name?: string | undefined }
  ): Effect.Effect<Task<A, Exclude<E, CancelledError>>, InvalidStateError, R> {
    return Effect.suspend(() => {
      try {
        this.#core.check()
      } catch (e) {
        return Effect.fail(e as InvalidStateError)
      }
      return Effect.map(
        Effect.forkDetach(taskBody(effect), { startImmediately: false }),
        (fiber) => this.#core.track(fiber, options?.name)
      )
    })
  }

  /** The tasks started in the group so far. */
  tasks(): ReadonlyArray<Task<unknown, unknown>> {
    return this.#core.tasks
  }
}

/**
 * Runs `body` with a {@link TaskGroup} (Python's `async with TaskGroup() as
 * tg:`). Succeeds with the body's value once the body and every task have
 * finished. The first task to fail cancels the body and the other tasks;
 * a body that fails cancels the tasks; either way the group fails, after
 * every task has ended, with `TaskGroupError` listing the failures
 * (cancellations are not failures). Interrupting the group cancels it all.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { sleep, taskGroup } from "rankflow/patterns/asyncio"
 * const program = taskGroup((tg) => Effect.gen(function*() {
 *   yield* tg.createTask(sleep(60_000)) // cancelled when the other fails
 *   yield* tg.createTask(Effect.fail("boom"))
 * })) // fails with TaskGroupError { errors: ["boom"] }
 * ```
 * @category combinators
 * @since 0.2.0
 */
export const taskGroup = <A, E, R>(
  body: (tg: TaskGroup) => Effect.Effect<A, E, R>
): Effect.Effect<A, TaskGroupError, R> =>
  Effect.scoped(Effect.flatMap(FiberSet.make<unknown, unknown>(), (set) => {
    const core = new GroupCore(set)
    return core.run(Effect.suspend(() => body(new TaskGroup(core))))
  }))
