/**
 * A flood: every rank but 0 posts thousands of non-blocking sends to rank 0
 * at once while rank 0 receives nothing for a while. Rank 0 then reports
 * the most unmatched bytes its engine held and how much its memory grew,
 * and receives everything, checking order and bytes. argv: messages per
 * sender, bytes per message.
 */
import { setTimeout as sleep } from "node:timers/promises"
import { Engine, Request } from "../../promise.ts"
import type { Comm } from "../../promise.ts"

const body = (src: number, i: number, n: number): Uint8Array => {
  const b = new Uint8Array(n)
  for (let k = 0; k < n; k++) b[k] = (src * 31 + i * 7 + k) & 0xff
  return b
}
const memory = () => {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

export default async (comm: Comm) => {
  const count = Number(process.argv[2] ?? 2000)
  const bytes = Number(process.argv[3] ?? 4096)
  if (comm.rank !== 0) {
    const sends = Array.from({ length: count }, (_, i) => comm.Isend(body(comm.rank, i, bytes), 0, 3))
    await Request.waitAll(sends)
    const s = Engine.statsOf(comm)
    return { eagerSends: s.eagerSends, rendezvousSends: s.rendezvousSends }
  }
  globalThis.gc?.()
  const before = memory()
  // Let the whole flood arrive (each message as an eager body or an RTS
  // header): rank 0 serves the transport but posts no receive.
  const expected = (comm.size - 1) * count
  const deadline = Date.now() + 30_000
  while (Engine.statsOf(comm).unexpectedMessages < expected && Date.now() < deadline) await sleep(20)
  const held = Engine.statsOf(comm)
  const grew = memory() - before
  let inOrder = 0
  for (let src = 1; src < comm.size; src++) {
    for (let i = 0; i < count; i++) {
      const got = await comm.recv<Uint8Array>(src, 3)
      const want = body(src, i, bytes)
      if (got.byteLength === bytes && got.every((x, k) => x === want[k])) inOrder++
    }
  }
  const after = Engine.statsOf(comm)
  return {
    maxUnexpectedBytes: held.maxUnexpectedBytes,
    peak: after.peakUnexpectedBytes,
    heldWhileIdle: held.unexpectedBytes,
    messagesWhileIdle: held.unexpectedMessages,
    grew,
    inOrder,
    creditFrames: after.creditFrames,
    left: after.unexpectedBytes
  }
}
