/**
 * How async functions become cancellable tasks (not exported from the
 * package).
 *
 * A Promise-face task runs its async function inside an
 * `AsyncLocalStorage` context that names the task. Every asyncio operation
 * the function awaits (`sleep`, `Queue.get`, `Lock.acquire`, awaiting another
 * task, ...) runs as a fiber registered with that context. Cancelling the
 * task interrupts those fibers, so the `await` rejects with
 * `CancelledError` where the function is waiting, exactly where Python
 * raises it, and the function's `finally` blocks run. If the function is not
 * in an asyncio operation at that moment (it awaits a plain promise, or
 * runs), the next asyncio operation it starts rejects at once. The
 * cancellation is delivered once; the task's `AbortSignal` stays aborted.
 *
 * @internal
 */
import { AsyncLocalStorage } from "node:async_hooks"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import { CancelledError, isCancelledError } from "../Errors.ts"

/** The state of one running Promise-face task. */
export interface TaskContext {
  /** The asyncio operations the task is waiting in. */
  readonly inflight: Set<Fiber.Fiber<unknown, unknown>>
  /** A cancellation not yet delivered (the task was in no operation). */
  pending: CancelledError | undefined
  /** The message of the last cancellation. */
  message: string | undefined
  /** Aborted when the task is cancelled; handed to the task's function. */
  readonly controller: AbortController
  /** The task itself, once made (for `currentTask`). */
  task: unknown
}

const storage = new AsyncLocalStorage<TaskContext>()

/** A fresh task context. */
export const makeContext = (): TaskContext => ({
  inflight: new Set(),
  pending: undefined,
  message: undefined,
  controller: new AbortController(),
  task: undefined
})

/** The context of the Promise-face task this code runs in, if any. */
export const currentContext = (): TaskContext | undefined => storage.getStore()

/** Delivers a cancellation to a running async function. */
export const deliverCancel = (ctx: TaskContext): void => {
  const error = new CancelledError({ message: ctx.message })
  if (!ctx.controller.signal.aborted) ctx.controller.abort(error)
  if (ctx.inflight.size === 0) ctx.pending = error
  else for (const fiber of ctx.inflight) fiber.interruptUnsafe()
}

/**
 * The error a Promise rejects with for a failed exit: the typed error, the
 * defect, or `CancelledError` for an interruption.
 */
export const exitError = <A, E>(exit: Exit.Failure<A, E>, message?: string): unknown =>
  Cause.hasInterruptsOnly(exit.cause) ? new CancelledError({ message }) : Cause.squash(exit.cause)

/**
 * Runs an effect for async/await code: resolves with its value, rejects with
 * its error, and, inside a Promise-face task, is interrupted when the task is
 * cancelled (rejecting with `CancelledError`).
 */
export const runPromise = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
  const ctx = storage.getStore()
  if (ctx?.pending !== undefined) {
    const error = ctx.pending
    ctx.pending = undefined
    return Promise.reject(error)
  }
  return new Promise<A>((resolve, reject) => {
    const fiber = Effect.runFork(effect)
    ctx?.inflight.add(fiber)
    fiber.addObserver((exit) => {
      ctx?.inflight.delete(fiber)
      if (exit._tag === "Success") resolve(exit.value)
      else reject(exitError(exit, ctx?.message))
    })
  })
}

/**
 * The effect of a Promise-face task: calls `fn` in the task's context and
 * completes with its result. A rejection with `CancelledError` ends the
 * fiber interrupted (the task is cancelled); any other rejection is the
 * task's error. Interrupting the fiber delivers the cancellation to `fn` and
 * waits until `fn` has settled, so its `finally` blocks have run.
 */
export const fromAsync = <A>(
  ctx: TaskContext,
  fn: (signal: AbortSignal) => PromiseLike<A> | A
): Effect.Effect<A, unknown> =>
  Effect.callback<A, unknown>((resume) => {
    let settled = false
    let promise: Promise<A>
    try {
      promise = Promise.resolve(storage.run(ctx, fn, ctx.controller.signal))
    } catch (e) {
      promise = Promise.reject(e)
    }
    const done = promise.then(
      (a) => {
        settled = true
        resume(Effect.succeed(a))
      },
      (e) => {
        settled = true
        resume(isCancelledError(e) ? Effect.interrupt : Effect.fail(e))
      }
    )
    return Effect.suspend(() => {
      if (settled) return Effect.void
      deliverCancel(ctx)
      return Effect.promise(() => done)
    })
  })

/**
 * The effect of awaiting a plain promise: its value or its rejection. Being
 * interrupted stops the waiting, not the work behind the promise.
 */
export const fromPromise = <A>(promise: PromiseLike<A>): Effect.Effect<A, unknown> =>
  Effect.callback<A, unknown>((resume) => {
    promise.then(
      (a) => resume(Effect.succeed(a)),
      (e) => resume(isCancelledError(e) ? Effect.interrupt : Effect.fail(e))
    )
  })

/**
 * Runs a synchronous effect for plain code: its value, or throws its error
 * (the typed error itself, not a wrapper).
 */
export const runSync = <A, E>(effect: Effect.Effect<A, E>): A => {
  const exit = Effect.runSyncExit(effect)
  if (exit._tag === "Success") return exit.value
  throw exitError(exit)
}
