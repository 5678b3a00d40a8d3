/**
 * Checks on what is about to leave this process: the arguments of a call
 * bound for a child process pass every registered guard first, so a value
 * that cannot exist over there is refused here, with its own typed error,
 * before anything is sent. The shared-memory primitives
 * (`rankflow/patterns/sync`) register theirs: a `Lock` or a `Value` lives
 * in this process's memory only.
 *
 * A module of its own, with no imports, so registering a guard loads
 * nothing else.
 *
 * @since 0.2.0
 */

const guards: Array<(value: unknown) => void> = []

/**
 * Registers a check run on the arguments of every call (and `Process`
 * target) bound for another process; it throws to refuse them.
 *
 * @example
 * ```ts
 * import { guardProcessArguments } from "rankflow/patterns/pool"
 * guardProcessArguments((args) => {
 *   if (JSON.stringify(args).includes("secret")) throw new TypeError("no secrets to child processes")
 * })
 * ```
 * @category guards
 * @since 0.2.0
 */
export const guardProcessArguments = (guard: (value: unknown) => void): void => {
  if (!guards.includes(guard)) guards.push(guard)
}

/**
 * Runs every registered guard on `value` (throws what a guard throws).
 * Costs nothing while no guard is registered.
 *
 * @category guards
 * @since 0.2.0
 */
export const checkProcessArguments = (value: unknown): void => {
  for (let i = 0; i < guards.length; i++) guards[i]!(value)
}
