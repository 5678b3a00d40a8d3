/**
 * The raw floor of this machine, measured in the same run as rankflow:
 * a bare in-process promise ping-pong, a bare MessagePort ping-pong (and
 * windowed stream) between two threads, and a bare SharedArrayBuffer +
 * Atomics spin ping-pong between two threads.
 */
import { MessageChannel, Worker } from "node:worker_threads"

export interface Point {
  readonly size: number
  readonly value: number
}

/** One-way time of a promise hand-off between two async loops in one event loop, in microseconds. */
export const promisePingPong = async (iters: number): Promise<number> => {
  class Chan {
    private q: Array<unknown> = []
    private waiter: ((v: unknown) => void) | undefined
    send(v: unknown): void {
      const w = this.waiter
      if (w !== undefined) {
        this.waiter = undefined
        w(v)
      } else this.q.push(v)
    }
    recv(): Promise<unknown> {
      return this.q.length > 0 ? Promise.resolve(this.q.shift()) : new Promise((r) => (this.waiter = r))
    }
  }
  const there = new Chan()
  const back = new Chan()
  const pong = (async () => {
    for (let i = 0; i < iters; i++) back.send(await there.recv())
  })()
  const t0 = performance.now()
  for (let i = 0; i < iters; i++) {
    there.send(i)
    await back.recv()
  }
  const us = ((performance.now() - t0) * 1000) / iters / 2
  await pong
  return us
}

const PEER = new URL("./peer.ts", import.meta.url)

const pair = async (make: (role: 0 | 1) => { workerData: unknown; transferList?: Array<any> }): Promise<Array<Point>> => {
  const workers = ([0, 1] as const).map((role) => {
    const { workerData, transferList } = make(role)
    return new Worker(PEER, { workerData, transferList })
  })
  const [a] = await Promise.all(
    workers.map((w) =>
      new Promise<Array<Point>>((resolve, reject) => {
        w.once("message", resolve)
        w.once("error", reject)
      })
    )
  )
  await Promise.all(workers.map((w) => w.terminate()))
  return a!
}

/** One-way time over a bare MessagePort between two threads (postMessage copies), per size, in microseconds. */
export const portPingPong = (sizes: ReadonlyArray<number>, iters: ReadonlyArray<number>): Promise<Array<Point>> => {
  const { port1, port2 } = new MessageChannel()
  return pair((role) => {
    const port = role === 0 ? port1 : port2
    return { workerData: { mode: "port", role, port, sizes, iters }, transferList: [port] }
  })
}

/** MB/s of a window of postMessages then an ack, between two threads, per size. */
export const portBandwidth = (sizes: ReadonlyArray<number>, iters: ReadonlyArray<number>, window = 64): Promise<Array<Point>> => {
  const { port1, port2 } = new MessageChannel()
  return pair((role) => {
    const port = role === 0 ? port1 : port2
    return { workerData: { mode: "port-bw", role, port, sizes, iters, window }, transferList: [port] }
  })
}

/** One-way time over a bare SharedArrayBuffer (copy in, Atomics flag, spin, copy out), per size, in microseconds. */
export const sabPingPong = (sizes: ReadonlyArray<number>, iters: ReadonlyArray<number>): Promise<Array<Point>> => {
  const sab = new SharedArrayBuffer(64 + Math.max(8, ...sizes))
  return pair((role) => ({ workerData: { mode: "sab", role, sab, sizes, iters } }))
}
