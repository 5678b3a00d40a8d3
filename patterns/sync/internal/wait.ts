/**
 * Waiting on a word of shared memory without blocking the event loop
 * (`Atomics.waitAsync`), or blocking on purpose (`Atomics.wait`).
 *
 * A pending `Atomics.waitAsync` does not keep Node's event loop alive: a
 * thread whose only work is waiting for a lock would simply end. While any
 * wait is pending, this module holds a timer that does. A wait abandoned
 * through an `AbortSignal` passes on a wake-up it receives later, so a
 * `notify(…, 1)` meant for a live waiter is never lost on it.
 *
 * @internal
 */

/** How a wait ended. */
export type WaitResult = "ok" | "not-equal" | "timed-out" | "aborted"

let pending = 0
let keepAlive: ReturnType<typeof setInterval> | undefined

const hold = (): void => {
  if (pending++ === 0) keepAlive = setInterval(() => {}, 1 << 30)
}

const unhold = (): void => {
  if (--pending === 0) {
    clearInterval(keepAlive)
    keepAlive = undefined
  }
}

/** A deadline (on `performance.now()`) `timeout` milliseconds from now; `Infinity` for none. */
export const deadline = (timeout: number | undefined): number => {
  if (timeout === undefined || timeout === Infinity) return Infinity
  if (typeof timeout !== "number" || Number.isNaN(timeout)) throw new TypeError(`a timeout is a number of milliseconds; got ${timeout}`)
  return performance.now() + Math.max(0, timeout)
}

/** Milliseconds left until `at` (0 when past). */
export const remaining = (at: number): number => (at === Infinity ? Infinity : Math.max(0, at - performance.now()))

/**
 * Waits while `i32[index] === expected`, until woken, the deadline passes or
 * `signal` aborts. Never blocks the thread.
 */
export const waitAsync = (
  i32: Int32Array,
  index: number,
  expected: number,
  at: number,
  signal?: AbortSignal | undefined
): Promise<WaitResult> => {
  if (signal?.aborted) return Promise.resolve("aborted")
  const r = Atomics.waitAsync(i32, index, expected, remaining(at))
  if (!r.async) return Promise.resolve(r.value)
  hold()
  if (signal === undefined) return r.value.finally(unhold)
  return new Promise<WaitResult>((resolve) => {
    let done = false
    const onAbort = () => {
      if (done) return
      done = true
      unhold()
      resolve("aborted")
    }
    signal.addEventListener("abort", onAbort, { once: true })
    r.value.then((v) => {
      if (done) {
        // Abandoned: hand the wake-up to whoever else waits.
        if (v === "ok") Atomics.notify(i32, index, 1)
        return
      }
      done = true
      signal.removeEventListener("abort", onAbort)
      unhold()
      resolve(v)
    })
  })
}

/** Blocks the thread while `i32[index] === expected`, until woken or the deadline passes. */
export const waitSync = (i32: Int32Array, index: number, expected: number, at: number): WaitResult =>
  Atomics.wait(i32, index, expected, remaining(at))
