/**
 * Cross-rank actor latency on two ranks: rank 0 asks an actor on rank 1
 * `iters` times, one ask in flight (round-trip time in microseconds); then,
 * as the floor of the same world, a `comm.send` / `comm.recv` ping-pong on
 * the world communicator of a message of the same shape as an ask and its
 * answer (an array of five numbers). Rank 0 returns both.
 */
import { ActorSystem, Behavior } from "../../patterns/actor/index.ts"
import type { Comm } from "../../promise.ts"

Behavior.define("bench-echo", () => (msg: number) => msg)

export interface ActorLatency {
  readonly askUs: number
  readonly pingPongUs: number
  readonly iters: number
}

export default async (comm: Comm): Promise<ActorLatency | undefined> => {
  const iters = Number(process.argv[2] ?? "20000")
  // A long warm-up: until V8 has compiled the hot paths, its compiler threads
  // compete with the two spinning ranks for the 2 cores and the figure is
  // mostly the wait of a rank whose peer was descheduled.
  const warm = Math.max(10, iters)
  const system = await ActorSystem.start(comm)
  let askUs = NaN
  let pingPongUs = NaN
  if (comm.rank === 0) {
    const echo = system.spawn("bench-echo", { on: 1 })
    for (let i = 0; i < warm; i++) await system.ask(echo, i)
    const t0 = performance.now()
    for (let i = 0; i < iters; i++) await system.ask(echo, i)
    askUs = ((performance.now() - t0) * 1000) / iters
  }
  await comm.barrier()
  if (comm.rank === 0) {
    for (let i = 0; i < warm; i++) {
      await comm.send([1, 1, 0, i, i], 1, 3)
      await comm.recv(1, 3)
    }
    const t0 = performance.now()
    for (let i = 0; i < iters; i++) {
      await comm.send([1, 1, 0, i, i], 1, 3)
      await comm.recv(1, 3)
    }
    pingPongUs = ((performance.now() - t0) * 1000) / iters
  } else {
    for (let i = 0; i < warm + iters; i++) await comm.send(await comm.recv(0, 3), 0, 3)
  }
  await system.shutdown()
  return comm.rank === 0 ? { askUs, pingPongUs, iters } : undefined
}
