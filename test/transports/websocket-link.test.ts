/**
 * The WebSocket between two live ranks breaks and the link survives it:
 * WebSockets destroyed in the middle of a stream of 100,000 messages (and
 * of large messages travelling in pieces) lose nothing and duplicate
 * nothing; nor do connections that an HTTP reverse proxy between the ranks
 * cuts.
 */
import test from "ava"
import { Request } from "../../promise.ts"
import { type Proxy, reverseProxy, run, wsWorld } from "./websocket-harness.ts"

const N = 100_000
const WINDOW = 500

test.serial("a WebSocket destroyed (on either side, three times) in a stream of 100,000 messages: every message arrives once, in order", async (t) => {
  // A small queue, so that the sender feels backpressure and the breaks hit a busy link.
  const w = await wsWorld(2, { maxQueued: 256 * 1024, highWaterMark: 64 * 1024 })
  try {
    const breaks: Array<number> = []
    const results = await run(w, async (comm) => {
      await comm.barrier()
      if (comm.rank === 0) {
        for (let i = 0; i < N; i += WINDOW) {
          const reqs = []
          for (let k = i; k < i + WINDOW; k++) reqs.push(comm.isend(k, 1, 1))
          if (i === 20_000 || i === 70_000) breaks.push(w.connectors[0]!.breakAll())
          await Request.waitAll(reqs)
        }
        await comm.send("end", 1, 2)
        return "sent"
      }
      let next = 0
      let wrong = 0
      while (next < N) {
        const reqs = Array.from({ length: WINDOW }, () => comm.irecv<number>(0, 1))
        const got = await Request.waitAll(reqs)
        for (const v of got) if (v !== next++) wrong++
        if (next === 45_000) breaks.push(w.connectors[1]!.breakAll())
      }
      await comm.recv(0, 2)
      return { received: next, wrong, extra: comm.iprobe(0, 1) }
    })
    t.deepEqual(results.map((r) => r.ok), [true, true], String(results.map((r) => r.error)))
    t.deepEqual(results[1]!.value, { received: N, wrong: 0, extra: false })
    t.true(breaks.every((n) => n >= 1), `WebSockets destroyed: ${breaks}`)
    t.true(w.transports[1]!.connectionsTo(0) >= 4, `rank 1 connected ${w.transports[1]!.connectionsTo(0)} times`)
    t.false(w.logs.some((l) => l.level === "warn"), w.logs.map((l) => l.message).join("\n"))
  } finally {
    w.close()
  }
})

test.serial("large messages that travel in pieces survive broken WebSockets, byte for byte", async (t) => {
  const w = await wsWorld(2, { maxFrame: 64 * 1024, eagerLimit: 16 * 1024 })
  try {
    const fill = (n: number, seed: number) => Float64Array.from({ length: n }, (_, i) => i * 0.5 + seed)
    const results = await run(w, async (comm) => {
      let ok = 0
      for (let m = 0; m < 24; m++) {
        const n = [300_000, 20_000, 131_072][m % 3]!
        if (comm.rank === 0) {
          const req = comm.Isend(fill(n, m), 1, 3)
          if (m % 4 === 1) setTimeout(() => w.connectors[m % 8 === 1 ? 0 : 1]!.breakAll(), 1)
          await req.wait()
        } else {
          const got = await comm.Recv(new Float64Array(n), 0, 3)
          if (got.every((x, i) => x === i * 0.5 + m)) ok++
        }
      }
      return ok
    })
    t.deepEqual(results.map((r) => r.ok), [true, true], String(results.map((r) => r.error)))
    t.is(results[1]!.value, 24)
    t.true(w.transports[1]!.connectionsTo(0) >= 2)
  } finally {
    w.close()
  }
})

test.serial("through an HTTP reverse proxy that routes by path, and cuts every connection twice, 3 ranks stream 30,000 messages each: all arrive once, in order", async (t) => {
  let proxy: Proxy | undefined
  const M = 30_000
  const w = await wsWorld(3, { maxQueued: 256 * 1024, highWaterMark: 64 * 1024 }, () => ({}), undefined, async (urls) => {
    proxy = await reverseProxy((rank) => Number(new URL(urls[rank]!).port))
    return urls.map((_, rank) => `ws://127.0.0.1:${proxy!.port}/r${rank}/rankflow`)
  })
  try {
    const cuts: Array<number> = []
    const results = await run(w, async (comm) => {
      await comm.barrier()
      // Every rank sends M numbers to the next and receives M from the previous.
      const next = (comm.rank + 1) % comm.size
      const prev = (comm.rank + comm.size - 1) % comm.size
      let expect = 0
      let wrong = 0
      for (let i = 0; i < M; i += WINDOW) {
        const recvs = Array.from({ length: WINDOW }, () => comm.irecv<number>(prev, 1))
        const sends = []
        for (let k = i; k < i + WINDOW; k++) sends.push(comm.isend(k, next, 1))
        if (comm.rank === 0 && (i === 6_000 || i === 18_000)) cuts.push(proxy!.cut())
        await Request.waitAll(sends)
        for (const v of await Request.waitAll(recvs)) if (v !== expect++) wrong++
      }
      await comm.barrier()
      return { received: expect, wrong, extra: comm.iprobe(prev, 1) }
    })
    t.deepEqual(results.map((r) => r.ok), [true, true, true], String(results.map((r) => r.error)))
    for (const r of results) t.deepEqual(r.value, { received: M, wrong: 0, extra: false })
    t.true(cuts.every((n) => n >= 2), `connections cut: ${cuts}`)
    t.true(proxy!.passed() >= 9, `upgrades through the proxy: ${proxy!.passed()} (3 links, each made at least 3 times)`)
    t.false(w.logs.some((l) => l.level === "warn"), w.logs.map((l) => l.message).join("\n"))
  } finally {
    w.close()
    proxy?.close()
  }
})
