/**
 * The engine of both faces' `TaskGroup`: a `FiberSet` of tasks, the first
 * failure among them, and the end of the group (wait for all, or cancel the
 * rest once one fails, then report every failure).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import { InvalidStateError, TaskGroupError } from "../Errors.ts"
import { Task } from "../Task.ts"
import type { TaskContext } from "./runtime.ts"

/** The tasks of one group and how it ends. */
export class GroupCore {
  readonly set: FiberSet.FiberSet<unknown, unknown>
  readonly tasks: Array<Task<unknown, unknown>> = []
  /** No task may join once the group is shutting down or finished. */
  closed: string | undefined = undefined

  /** Fails with a task's error as soon as one fails (cancellations aside). */
  readonly firstFailure: Effect.Effect<never, unknown>

  constructor(set: FiberSet.FiberSet<unknown, unknown>) {
    this.set = set
    this.firstFailure = Effect.andThen(FiberSet.join(set), Effect.never)
  }

  /** Refuses a new task once the group is closing. */
  check(): void {
    if (this.closed !== undefined) throw new InvalidStateError({ op: "TaskGroup.createTask", reason: `the group is ${this.closed}` })
  }

  /** Adds a running fiber as a task of the group. */
  track<A, E>(fiber: Fiber.Fiber<A, E>, name: string | undefined, context?: TaskContext): Task<A, E> {
    const task = new Task(fiber, { name, context })
    FiberSet.addUnsafe(this.set, fiber)
    this.tasks.push(task as Task<unknown, unknown>)
    return task
  }

  /**
   * Runs the group's body beside its tasks, then ends the group. A task that
   * fails cancels the body and the other tasks; a body that fails cancels the
   * tasks. Fails with `TaskGroupError` listing every failure.
   */
  run<A, E, R>(body: Effect.Effect<A, E, R>): Effect.Effect<A, TaskGroupError, R> {
    const self = this
    return Effect.gen(function*() {
      const errors: Array<unknown> = []
      const exit = yield* Effect.exit(Effect.raceFirst(
        Effect.onExit(body, (exit) =>
          Effect.sync(() => {
            if (exit._tag === "Failure" && !Cause.hasInterruptsOnly(exit.cause)) errors.push(Cause.squash(exit.cause))
          })),
        self.firstFailure
      ))
      yield* self.finish(errors, exit._tag === "Failure")
      return yield* exit
    }) as Effect.Effect<A, TaskGroupError, R>
  }

  /**
   * Ends the group: waits for every task (tasks may still add tasks), or,
   * once one fails or if `abort`, cancels those still running and waits for
   * them. Fails with `TaskGroupError` if `errors` (the body's) or any task's
   * failure is there.
   */
  finish(errors: Array<unknown>, abort: boolean): Effect.Effect<void, TaskGroupError> {
    const self = this
    return Effect.gen(function*() {
      if (!abort) {
        const waited = yield* Effect.exit(Effect.raceFirst(self.firstFailure, FiberSet.awaitEmpty(self.set)))
        abort = waited._tag === "Failure"
      }
      if (abort) {
        self.closed = "shutting down"
        yield* FiberSet.clear(self.set)
        yield* FiberSet.awaitEmpty(self.set)
      }
      self.closed = "finished"
      for (const task of self.tasks) {
        const exit = task.fiber.pollUnsafe()
        if (exit?._tag === "Failure" && !Cause.hasInterruptsOnly(exit.cause)) errors.push(Cause.squash(exit.cause))
      }
      if (errors.length > 0) return yield* Effect.fail(new TaskGroupError({ errors }))
    })
  }
}
