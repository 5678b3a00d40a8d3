/**
 * A ring pass: a token goes around every rank `laps` times, each rank adding
 * its number; `sendrecv` would deadlock-proof a shift, but a token ring is a
 * plain chain of recv and send.
 *
 *     npx rankflow run -n 4 examples/02-ring.ts [laps]
 */
import type { Comm } from "rankflow/promise"

export default async (comm: Comm) => {
  const laps = Number(process.argv[2] ?? 3)
  const next = (comm.rank + 1) % comm.size
  const prev = (comm.rank - 1 + comm.size) % comm.size
  let token = { hops: 0, sum: 0, path: [] as Array<number> }
  if (comm.rank === 0) await comm.send(token, next)
  for (let lap = 0; lap < laps; lap++) {
    token = await comm.recv(prev)
    token.hops++
    token.sum += comm.rank
    if (token.path.length < 16) token.path.push(comm.rank)
    const last = comm.rank === 0 && lap === laps - 1
    if (!last) await comm.send(token, next)
  }
  if (comm.rank === 0) {
    console.log(`token went ${laps} times around ${comm.size} ranks: ${token.hops} hops, sum ${token.sum}, path ${token.path.join(" → ")}...`)
  }
  return token.hops
}
