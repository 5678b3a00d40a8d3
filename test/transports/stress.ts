/**
 * A stress program for the worker transport's flow control: large messages
 * in both directions at once, windows of non-blocking sends, and ping-pongs,
 * every byte checked. Run with small rings and with or without spinning, it
 * exercises every path where a rank goes to sleep while frames wait for room.
 */
import type { Comm } from "../../promise.ts"
import { Request } from "../../promise.ts"

const fill = (n: number, seed: number) => {
  const a = new Uint32Array(n >> 2)
  for (let i = 0; i < a.length; i++) a[i] = (i * 2654435761 + seed) >>> 0
  return a
}
const same = (a: Uint32Array, b: Uint32Array) => a.length === b.length && a.every((x, i) => x === b[i])

export default async (comm: Comm) => {
  const rounds = Number(process.argv[2] ?? 20)
  const peer = (comm.rank + 1) % comm.size
  const from = (comm.rank - 1 + comm.size) % comm.size
  let ok = 0
  for (let r = 0; r < rounds; r++) {
    const size = [300_000, 1 << 20, 70_000, 5_000][r % 4]!
    // Both directions at once.
    const got = await comm.Sendrecv(fill(size, comm.rank * 1000 + r), peer, 1, new Uint32Array(size >> 2), from, 1)
    if (same(got, fill(size, from * 1000 + r))) ok++
    // A window of large and small sends, received with wildcards on tags.
    const sends = Array.from({ length: 8 }, (_, k) => comm.Isend(fill(k % 2 ? 200_000 : 64, r * 10 + k), peer, 10 + k))
    const recvs = Array.from({ length: 8 }, (_, k) => comm.irecv<Uint32Array>(from, 10 + k))
    const all = await Request.waitAll([...sends, ...recvs])
    if (all.slice(8).every((v, k) => same(v as Uint32Array, fill(k % 2 ? 200_000 : 64, r * 10 + k)))) ok++
  }
  // Ping-pong of large messages: each round trip is a chance for a rendezvous
  // answer to arrive just as a rank stops spinning.
  const big = fill(1 << 20, comm.rank)
  const into = new Uint32Array(big.length)
  for (let r = 0; r < rounds * 10; r++) {
    if (comm.rank === 0) {
      await comm.Send(big, peer, 2)
      await comm.Recv(into, from, 2)
    } else {
      await comm.Recv(into, from, 2)
      await comm.Send(big, peer, 2)
    }
  }
  if (same(into, fill(1 << 20, from))) ok++
  return ok
}
