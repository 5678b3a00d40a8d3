/**
 * Point-to-point benchmarks run on two ranks, OSU style: warm-up, then timed
 * iterations, for each message size. Rank 0 returns the figures.
 *
 * - latency: ping-pong, one-way time in microseconds (osu_latency).
 * - bw: a window of non-blocking sends, then an ack; MB/s (osu_bw).
 * - rate: the same with 8-byte messages; messages per second (osu_mbw_mr, one pair).
 * - persistent: ping-pong with persistent requests (SendInit/RecvInit).
 *
 * Data: "typed" (Uint8Array, the buffer API into preallocated arrays),
 * "bytes" (a Uint8Array through the object API: each receive makes a new
 * array), "list" (an array of size/8 numbers, the object API) or "dict" (a
 * small object, the object API; one size).
 */
import type { Comm } from "../../promise.ts"
import { Prequest, Request } from "../../promise.ts"

export interface P2pSpec {
  readonly bench: "latency" | "bw" | "rate" | "persistent"
  readonly data: "typed" | "bytes" | "list" | "dict"
  readonly sizes: ReadonlyArray<number>
  /** Scale of the iteration counts (1 = OSU's defaults, smaller for a smoke run). */
  readonly scale: number
  readonly window?: number
}

export interface P2pPoint {
  readonly size: number
  readonly value: number
  readonly iters: number
}

export const DICT = { a: 1, b: "hello", c: [1, 2, 3] }

const iterations = (size: number, scale: number): [number, number] => {
  const n = size <= 8192 ? 10_000 : size <= 262_144 ? 1_000 : 200
  const iters = Math.max(5, Math.round(n * scale))
  return [iters, Math.max(2, Math.round(iters / 10))]
}

const payload = (data: P2pSpec["data"], size: number): unknown =>
  data === "typed" || data === "bytes" ? new Uint8Array(size).fill(1) : data === "list" ? Array.from({ length: Math.max(1, size >> 3) }, (_, i) => i + 0.5) : DICT

const latency = async (comm: Comm, spec: P2pSpec, size: number): Promise<P2pPoint> => {
  const [iters, warmup] = iterations(size, spec.scale)
  const peer = 1 - comm.rank
  const msg = payload(spec.data, size)
  const typed = spec.data === "typed"
  const buf = new Uint8Array(size)
  let t0 = 0
  if (spec.bench === "persistent") {
    const s = typed ? comm.SendInit(msg as Uint8Array, peer, 1) : comm.sendInit(msg, peer, 1)
    const r: Prequest<unknown> = typed ? comm.RecvInit(buf, peer, 1) : comm.recvInit(peer, 1)
    for (let i = 0; i < iters + warmup; i++) {
      if (i === warmup) t0 = performance.now()
      if (comm.rank === 0) {
        s.start()
        await s.wait()
        r.start()
        await r.wait()
      } else {
        r.start()
        await r.wait()
        s.start()
        await s.wait()
      }
    }
    s.free()
    r.free()
  } else {
    for (let i = 0; i < iters + warmup; i++) {
      if (i === warmup) t0 = performance.now()
      if (comm.rank === 0) {
        if (typed) {
          await comm.Send(msg as Uint8Array, peer, 1)
          await comm.Recv(buf, peer, 1)
        } else {
          await comm.send(msg, peer, 1)
          await comm.recv(peer, 1)
        }
      } else if (typed) {
        await comm.Recv(buf, peer, 1)
        await comm.Send(msg as Uint8Array, peer, 1)
      } else {
        await comm.recv(peer, 1)
        await comm.send(msg, peer, 1)
      }
    }
  }
  return { size, value: ((performance.now() - t0) * 1000) / iters / 2, iters }
}

const windowed = async (comm: Comm, spec: P2pSpec, size: number): Promise<P2pPoint> => {
  const window = spec.window ?? 64
  const [n, w] = iterations(size, spec.scale)
  const iters = Math.max(3, Math.round(n / 20))
  const warmup = Math.max(1, Math.round(w / 20))
  const typed = spec.data === "typed"
  const msg = payload(spec.data, size)
  const buf = new Uint8Array(size)
  const ack = new Uint8Array(4)
  let t0 = 0
  for (let i = 0; i < iters + warmup; i++) {
    if (i === warmup) t0 = performance.now()
    if (comm.rank === 0) {
      const reqs: Array<Request<unknown>> = []
      for (let k = 0; k < window; k++) reqs.push(typed ? comm.Isend(msg as Uint8Array, 1, 2) : comm.isend(msg, 1, 2))
      await Request.waitAll(reqs)
      await comm.Recv(ack, 1, 3)
    } else {
      const reqs: Array<Request<unknown>> = []
      for (let k = 0; k < window; k++) reqs.push(typed ? comm.Irecv(buf, 0, 2) : comm.irecv(0, 2))
      await Request.waitAll(reqs)
      await comm.Send(ack, 0, 3)
    }
  }
  const seconds = (performance.now() - t0) / 1000
  const messages = iters * window
  return { size, value: spec.bench === "rate" ? messages / seconds : (size * messages) / seconds / 1e6, iters }
}

/** Runs `spec` on a two-rank world; rank 0 returns the points. */
export const p2p = async (comm: Comm, spec: P2pSpec): Promise<Array<P2pPoint> | null> => {
  if (comm.size !== 2) throw new Error("the point-to-point benchmarks run on exactly 2 ranks")
  const out: Array<P2pPoint> = []
  // JavaScript needs a longer warm-up than OSU's: its JIT compilers settle
  // after tens of thousands of calls. Run the first size unmeasured for a
  // while (both ranks agree when to stop).
  const run = (size: number) => (spec.bench === "latency" || spec.bench === "persistent" ? latency(comm, spec, size) : windowed(comm, spec, size))
  const until = performance.now() + Math.min(1000, 2000 * spec.scale)
  for (let go = true; go;) {
    await run(spec.sizes[0]!)
    // Each rank decides once and both take the AND, so they stop together.
    const mine = performance.now() < until
    const theirs = await comm.sendrecv(mine, 1 - comm.rank, 8, 1 - comm.rank, 8)
    go = mine && theirs === true
  }
  // Latencies are the median of three timed runs in the world (the first run
  // after the warm-up is often slower); windowed figures are one long run.
  const inner = spec.bench === "latency" || spec.bench === "persistent" ? 3 : 1
  for (const size of spec.sizes) {
    const runs: Array<P2pPoint> = []
    for (let k = 0; k < inner; k++) {
      await comm.sendrecv(null, 1 - comm.rank, 9, 1 - comm.rank, 9) // line up before each run
      runs.push(await run(size))
    }
    runs.sort((a, b) => a.value - b.value)
    out.push(runs[runs.length >> 1]!)
  }
  return comm.rank === 0 ? out : null
}

/**
 * Worker and process ranks: the spec comes as JSON in argv[2]; an array of
 * specs runs them one after another in this world (rank 0 returns the
 * points of each).
 */
export default async (comm: Comm) => {
  const arg = JSON.parse(process.argv[2]!) as P2pSpec | ReadonlyArray<P2pSpec>
  if (!Array.isArray(arg)) return p2p(comm, arg as P2pSpec)
  const out: Array<Array<P2pPoint> | null> = []
  for (const spec of arg as ReadonlyArray<P2pSpec>) out.push(await p2p(comm, spec))
  return comm.rank === 0 ? out : null
}
