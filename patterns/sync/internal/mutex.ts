/**
 * A mutex in one word of shared memory (Drepper's "futexes are tricky",
 * mutex 2): 0 free, 1 locked, 2 locked and maybe waited for. Shared by
 * `Lock`, `RLock` and `Condition`.
 *
 * @internal
 */
import { waitAsync, waitSync } from "./wait.ts"

/** Takes the mutex if it is free. */
export const tryLock = (i32: Int32Array, at: number): boolean => Atomics.compareExchange(i32, at, 0, 1) === 0

/** Takes the mutex, waiting without blocking the thread; `false` on timeout or abort. */
export const lockAsync = async (i32: Int32Array, at: number, until: number, signal?: AbortSignal): Promise<boolean> => {
  let c = Atomics.compareExchange(i32, at, 0, 1)
  if (c === 0) return true
  if (c !== 2) c = Atomics.exchange(i32, at, 2)
  while (c !== 0) {
    const r = await waitAsync(i32, at, 2, until, signal)
    if (r === "timed-out" || r === "aborted") return false
    c = Atomics.exchange(i32, at, 2)
  }
  return true
}

/** Takes the mutex, blocking the thread; `false` on timeout. */
export const lockSync = (i32: Int32Array, at: number, until: number): boolean => {
  let c = Atomics.compareExchange(i32, at, 0, 1)
  if (c === 0) return true
  if (c !== 2) c = Atomics.exchange(i32, at, 2)
  while (c !== 0) {
    if (waitSync(i32, at, 2, until) === "timed-out") return false
    c = Atomics.exchange(i32, at, 2)
  }
  return true
}

/** Frees the mutex, waking one waiter; `false` if it was not locked. */
export const unlock = (i32: Int32Array, at: number): boolean => {
  for (;;) {
    const c = Atomics.load(i32, at)
    if (c === 0) return false
    if (c === 1) {
      if (Atomics.compareExchange(i32, at, 1, 0) === 1) return true
      continue
    }
    Atomics.store(i32, at, 0)
    Atomics.notify(i32, at, 1)
    return true
  }
}
