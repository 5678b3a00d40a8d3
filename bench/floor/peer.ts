/**
 * The raw floor, thread side: two threads ping-pong with nothing of
 * rankflow in between, either over a bare MessagePort (postMessage copies a
 * Uint8Array) or over a bare SharedArrayBuffer (copy in, flip a flag with
 * Atomics, spin on it, copy out).
 */
import { parentPort, workerData } from "node:worker_threads"
import type { MessagePort } from "node:worker_threads"

interface Job {
  readonly mode: "port" | "port-bw" | "sab"
  readonly role: 0 | 1
  readonly port?: MessagePort
  readonly sab?: SharedArrayBuffer
  readonly sizes: ReadonlyArray<number>
  readonly iters: ReadonlyArray<number>
  readonly window?: number
}

const given = workerData as Job
// Warm the JIT up on the first size (unmeasured), as the rankflow programs do.
const job: Job = { ...given, sizes: [given.sizes[0]!, ...given.sizes], iters: [given.iters[0]! * 4, ...given.iters] }
const results: Array<{ size: number; value: number }> = []

const onceMessage = (port: MessagePort): Promise<unknown> => new Promise((resolve) => port.once("message", resolve))

if (job.mode === "port" || job.mode === "port-bw") {
  const port = job.port!
  for (let s = 0; s < job.sizes.length; s++) {
    const size = job.sizes[s]!
    const iters = job.iters[s]!
    const msg = new Uint8Array(size)
    const warmup = Math.max(2, iters >> 3)
    let t0 = 0
    if (job.mode === "port") {
      for (let i = 0; i < iters + warmup; i++) {
        if (i === warmup) t0 = performance.now()
        if (job.role === 0) {
          port.postMessage(msg)
          await onceMessage(port)
        } else {
          await onceMessage(port)
          port.postMessage(msg)
        }
      }
      if (job.role === 0) results.push({ size, value: ((performance.now() - t0) * 1000) / iters / 2 })
    } else {
      const window = job.window ?? 64
      for (let i = 0; i < iters + warmup; i++) {
        if (i === warmup) t0 = performance.now()
        if (job.role === 0) {
          for (let k = 0; k < window; k++) port.postMessage(msg)
          await onceMessage(port)
        } else {
          for (let k = 0; k < window; k++) await onceMessage(port)
          port.postMessage(0)
        }
      }
      if (job.role === 0) results.push({ size, value: (size * window * iters) / ((performance.now() - t0) / 1000) / 1e6 })
    }
  }
  port.close()
} else {
  const sab = job.sab!
  const flag = new Int32Array(sab, 0, 16)
  const data = new Uint8Array(sab, 64)
  let seq = 0
  for (let s = 0; s < job.sizes.length; s++) {
    const size = job.sizes[s]!
    const iters = job.iters[s]!
    const mine = new Uint8Array(size).fill(job.role + 1)
    const into = new Uint8Array(size)
    const warmup = Math.max(2, iters >> 3)
    let t0 = 0
    for (let i = 0; i < iters + warmup; i++) {
      if (i === warmup) t0 = performance.now()
      if (job.role === 0) {
        data.set(mine)
        Atomics.store(flag, 0, ++seq)
        while (Atomics.load(flag, 1) !== seq);
        into.set(data.subarray(0, size))
      } else {
        ++seq
        while (Atomics.load(flag, 0) !== seq);
        into.set(data.subarray(0, size))
        data.set(mine)
        Atomics.store(flag, 1, seq)
      }
    }
    if (job.role === 0) results.push({ size, value: ((performance.now() - t0) * 1000) / iters / 2 })
  }
}
parentPort!.postMessage(results.slice(1))
