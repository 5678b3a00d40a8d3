/**
 * The WebSocket between two live ranks breaks and the link survives it:
 * WebSockets destroyed in the middle of a stream of 100,000 messages (and
 * of large messages travelling in pieces) lose nothing and duplicate
 * nothing; nor do connections that an HTTP reverse proxy between the ranks
 * cuts.
 */
import test from "ava"
import { Request } from "../../promise.ts"
import { linkBreakTests } from "./stream/link-breaks.ts"
import { type Proxy, reverseProxy, run, wsWorld } from "./websocket-harness.ts"

const WINDOW = 500

linkBreakTests(wsWorld, { stream: "WebSocket", streams: "WebSockets" })

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
