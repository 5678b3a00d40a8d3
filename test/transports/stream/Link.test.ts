/**
 * The link between two live ranks survives its connection: sockets
 * destroyed in the middle of a stream of 100,000 messages (and of large
 * messages travelling in pieces) lose nothing and duplicate nothing. And a
 * peer that is gone for good — killed, or silent — is reported lost, with a
 * typed error naming it, within the detector timeout.
 */
import test from "ava"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { World } from "../../../core/index.ts"
import { Request } from "../../../promise.ts"
import { alone, run, SECRET, socketDir, world } from "./harness.ts"

const N = 100_000
const WINDOW = 500

test.serial("a socket destroyed (on either side, three times) in a stream of 100,000 messages: every message arrives once, in order", async (t) => {
  // A small queue, so that the sender feels backpressure and the breaks hit a busy link.
  const w = await world(2, { maxQueued: 256 * 1024, highWaterMark: 64 * 1024 })
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
    t.true(breaks.every((n) => n >= 1), `streams destroyed: ${breaks}`)
    t.true(w.transports[1]!.connectionsTo(0) >= 4, `rank 1 connected ${w.transports[1]!.connectionsTo(0)} times`)
    t.false(w.logs.some((l) => l.level === "warn"), w.logs.map((l) => l.message).join("\n"))
  } finally {
    w.close()
  }
})

test.serial("large messages that travel in pieces survive broken connections, byte for byte", async (t) => {
  const w = await world(2, { maxFrame: 64 * 1024, eagerLimit: 16 * 1024 })
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

const peerScript = fileURLToPath(new URL("./fixtures/peer.ts", import.meta.url))

for (const orientation of ["the lower rank waits for a dead dialer", "the higher rank redials a dead acceptor"] as const) {
  test.serial(`kill -9 of a peer's process: ${orientation}; its receive fails with PeerLost naming it within the detector timeout`, async (t) => {
    const detectorTimeout = 1500
    const mine = orientation.startsWith("the lower") ? 0 : 1
    const dir = socketDir()
    // This process plays rank `mine`; the child plays the other.
    const w = await world(2, { detectorTimeout, heartbeatInterval: 200 }, undefined, [mine], dir.dir)
    const child = spawn(process.execPath, [peerScript], {
      env: { ...process.env, PEER_RANK: String(1 - mine), PEER_DIR: dir.dir, RANKFLOW_SECRET: new TextDecoder().decode(SECRET) },
      stdio: ["ignore", "ignore", "inherit"]
    })
    try {
      const engine = w.engines[0]!
      const outcome = World.runRank(engine, async (comm) => {
        t.is(await comm.recv(1 - mine, 0), "ready")
        const t0 = performance.now()
        child.kill("SIGKILL")
        try {
          await comm.recv(1 - mine, 5)
          return { failed: false, ms: 0, error: undefined as any }
        } catch (error) {
          return { failed: true, ms: performance.now() - t0, error: error as any }
        }
      })
      const got = await outcome
      t.true(got.ok)
      const v = got.value as { failed: boolean; ms: number; error: any }
      t.true(v.failed)
      t.is(v.error._tag, "PeerLost")
      t.is(v.error.peer, 1 - mine)
      t.is(v.error.cause?._tag, "TransportError")
      t.is(v.error.cause?.peer, 1 - mine)
      t.regex(v.error.cause?.reason, /^ERR_UNREACHABLE: rank \d could not be reached again/)
      t.true(v.ms < detectorTimeout + 1000, `lost after ${v.ms.toFixed(0)} ms (detector timeout ${detectorTimeout} ms)`)
      t.log(`${orientation}: lost after ${v.ms.toFixed(0)} ms`)
    } finally {
      child.kill("SIGKILL")
      w.close()
      dir.rm()
    }
  })
}

test.serial("a peer that stops answering (SIGSTOP) is closed as silent and then lost", async (t) => {
  const detectorTimeout = 1000
  const r = await alone(2, { detectorTimeout, heartbeatInterval: 100 })
  const child = spawn(process.execPath, [peerScript], {
    env: { ...process.env, PEER_RANK: "1", PEER_DIR: r.dir, RANKFLOW_SECRET: new TextDecoder().decode(SECRET), PEER_DETECTOR: "60000" },
    stdio: ["ignore", "ignore", "inherit"]
  })
  try {
    const got = await World.runRank(r.engine, async (comm) => {
      t.is(await comm.recv(1, 0), "ready")
      child.kill("SIGSTOP")
      const t0 = performance.now()
      try {
        await comm.recv(1, 5)
        return { ms: 0, error: undefined as any }
      } catch (error) {
        return { ms: performance.now() - t0, error: error as any }
      }
    })
    const v = got.value as { ms: number; error: any }
    t.is(v.error?._tag, "PeerLost")
    t.true(r.logs.some((l) => l.code === "ERR_HEARTBEAT_TIMEOUT" || l.message.includes("ERR_HEARTBEAT_TIMEOUT")), r.logs.map((l) => l.message).join("\n"))
    t.regex(v.error.cause?.reason, /^ERR_UNREACHABLE/)
    t.true(v.ms >= detectorTimeout && v.ms < 2 * detectorTimeout + 1500, `lost after ${v.ms.toFixed(0)} ms`)
  } finally {
    child.kill("SIGKILL")
    r.close()
  }
})
