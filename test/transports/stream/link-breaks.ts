/**
 * The link between two live ranks survives its connection, whatever carries
 * it: streams destroyed in the middle of a stream of 100,000 messages (and
 * of large messages travelling in pieces) lose nothing and duplicate
 * nothing. Registered by each byte-stream transport's link tests.
 */
import test from "ava"
import type { Engine } from "../../../core/index.ts"
import { Request } from "../../../promise.ts"
import type { LogEntry, StreamOptions, StreamTransport } from "../../../transports/stream/Transport.ts"
import { run } from "./harness.ts"

/** What the scenarios need of a test world. */
export interface BreakableWorld {
  readonly transports: ReadonlyArray<StreamTransport>
  readonly engines: ReadonlyArray<Engine.Engine>
  readonly connectors: ReadonlyArray<{ breakAll(): number }>
  readonly logs: ReadonlyArray<LogEntry>
  readonly close: () => void
}

const N = 100_000
const WINDOW = 500

/**
 * Registers the scenarios over worlds made by `make`; `names` says what a
 * stream is called in the titles (`stream`: one, `streams`: several).
 */
export const linkBreakTests = (
  make: (size: number, options: StreamOptions) => Promise<BreakableWorld>,
  names: { readonly stream: string; readonly streams: string }
): void => {
  test.serial(`a ${names.stream} destroyed (on either side, three times) in a stream of 100,000 messages: every message arrives once, in order`, async (t) => {
    // A small queue, so that the sender feels backpressure and the breaks hit a busy link.
    const w = await make(2, { maxQueued: 256 * 1024, highWaterMark: 64 * 1024 })
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
      t.true(breaks.every((n) => n >= 1), `${names.streams} destroyed: ${breaks}`)
      t.true(w.transports[1]!.connectionsTo(0) >= 4, `rank 1 connected ${w.transports[1]!.connectionsTo(0)} times`)
      t.false(w.logs.some((l) => l.level === "warn"), w.logs.map((l) => l.message).join("\n"))
    } finally {
      w.close()
    }
  })

  test.serial(`large messages that travel in pieces survive broken ${names.streams}, byte for byte`, async (t) => {
    const w = await make(2, { maxFrame: 64 * 1024, eagerLimit: 16 * 1024 })
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

  test.serial(`windows of 32 KiB messages, each its own bytes, arrive byte for byte while ${names.streams} break (the queue's chunks are reused once acknowledged)`, async (t) => {
    const w = await make(2, { highWaterMark: 256 * 1024 })
    try {
      const SIZE = 32 * 1024
      const breaks: Array<number> = []
      const ROUNDS = 400
      const PER = 4
      const fill = (m: number) => {
        const b = new Uint8Array(SIZE)
        for (let i = 0; i < SIZE; i++) b[i] = (i * 31 + m * 7) & 0xff
        return b
      }
      const results = await run(w, async (comm) => {
        await comm.barrier()
        let ok = 0
        for (let r = 0; r < ROUNDS; r++) {
          if (comm.rank === 0) {
            // A few eager sends a turn, never waiting for the receiver, so acknowledgements
            // come in (and chunks are freed and reused) while frames are still in flight.
            const reqs = []
            for (let k = 0; k < PER; k++) reqs.push(comm.Isend(fill(r * PER + k), 1, 4))
            if (r === 100 || r === 250) breaks.push(w.connectors[r === 100 ? 0 : 1]!.breakAll())
            await Request.waitAll(reqs)
            await new Promise((resolve) => setImmediate(resolve))
          } else {
            const bufs = Array.from({ length: PER }, () => new Uint8Array(SIZE))
            await Request.waitAll(bufs.map((b) => comm.Irecv(b, 0, 4)))
            bufs.forEach((b, k) => {
              const want = fill(r * PER + k)
              if (b.every((x, i) => x === want[i])) ok++
            })
          }
        }
        await comm.barrier()
        return ok
      })
      t.deepEqual(results.map((r) => r.ok), [true, true], String(results.map((r) => r.error)))
      t.is(results[1]!.value, ROUNDS * PER)
      t.true(w.transports[1]!.connectionsTo(0) >= 2, `rank 1 connected ${w.transports[1]!.connectionsTo(0)} times; streams destroyed: ${breaks}`)
    } finally {
      w.close()
    }
  })
}
