/**
 * The engine's request: plain, synchronous completion state shared by both
 * faces. The Promise face turns it into a Promise, the Effect face into an
 * Effect; neither adds state of its own.
 *
 * @internal
 */
import type { Status } from "../Status.ts"

type Listener = (r: Req) => void

export class Req {
  done = false
  value: unknown = undefined
  error: unknown = undefined
  /** Status of a completed receive or probe (source is a communicator rank). */
  source = -2
  tag = -1
  count = 0
  cancelled = false
  private listeners: Listener | Array<Listener> | undefined = undefined
  /** Called by `cancel`; returns true when the request was cancelled. */
  canceller: ((r: Req) => boolean) | undefined = undefined

  readonly op: string
  constructor(op: string) {
    this.op = op
  }

  succeed(value: unknown): void {
    if (this.done) return
    this.value = value
    this.settle()
  }

  fail(error: unknown): void {
    if (this.done) return
    this.error = error
    this.settle()
  }

  private settle(): void {
    this.done = true
    const l = this.listeners
    this.listeners = undefined
    if (l === undefined) return
    if (typeof l === "function") l(this)
    else for (const f of l) f(this)
  }

  /** Calls `f` once, when the request completes (never, if it already has). */
  onDone(f: Listener): void {
    if (this.done) return
    const l = this.listeners
    if (l === undefined) this.listeners = f
    else if (typeof l === "function") this.listeners = [l, f]
    else l.push(f)
  }

  offDone(f: Listener): void {
    const l = this.listeners
    if (l === f) this.listeners = undefined
    else if (Array.isArray(l)) {
      const i = l.indexOf(f)
      if (i >= 0) l.splice(i, 1)
    }
  }

  /** Cancels a receive that has not matched yet. True when it was cancelled. */
  cancel(): boolean {
    return !this.done && this.canceller !== undefined && this.canceller(this)
  }

  /** Copies this request's status into `s`. */
  fill(s: Status | undefined): void {
    if (s === undefined) return
    s.source = this.source
    s.tag = this.tag
    s.count = this.count
    s.cancelled = this.cancelled
  }
}

/**
 * The request of every send that completed at once: shared, since a done
 * send has no state to read. Saves an allocation per eager send.
 */
export const SENT: Req = new Req("send")
SENT.succeed(undefined)

/** A request already completed with `value`. */
export const completed = (op: string, value: unknown): Req => {
  const r = new Req(op)
  r.succeed(value)
  return r
}

/**
 * Calls `f` when every request is done, or as soon as one fails. Returns a
 * function that unregisters. `f` is called synchronously if that holds now.
 */
export const whenAll = (reqs: ReadonlyArray<Req>, f: () => void): (() => void) => {
  let pending = 0
  let fired = false
  const on = (r: Req): void => {
    if (fired) return
    if (r.error !== undefined || --pending === 0) {
      fired = true
      off()
      f()
    }
  }
  const off = (): void => {
    for (const r of reqs) r.offDone(on)
  }
  for (const r of reqs) {
    if (r.done) {
      if (r.error !== undefined) {
        fired = true
        off()
        f()
        return off
      }
    } else {
      pending++
      r.onDone(on)
    }
  }
  if (pending === 0 && !fired) {
    fired = true
    f()
  }
  return off
}

/** Calls `f` when at least one request is done. Returns an unregister function. */
export const whenAny = (reqs: ReadonlyArray<Req>, f: () => void): (() => void) => {
  let fired = false
  const on = (): void => {
    if (fired) return
    fired = true
    off()
    f()
  }
  const off = (): void => {
    for (const r of reqs) r.offDone(on)
  }
  if (reqs.some((r) => r.done) || reqs.length === 0) {
    fired = true
    f()
    return off
  }
  for (const r of reqs) r.onDone(on)
  return off
}

/** Index of the first done request, or -1. */
export const firstDone = (reqs: ReadonlyArray<Req>): number => reqs.findIndex((r) => r.done)
