/**
 * The link between two live ranks survives its connection (the scenarios
 * in `link-breaks.ts`, over Unix sockets): sockets
 * destroyed in the middle of a stream of 100,000 messages (and of large
 * messages travelling in pieces) lose nothing and duplicate nothing. And a
 * peer that is gone for good — killed, or silent — is reported lost, with a
 * typed error naming it, within the detector timeout.
 */
import test from "ava"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { World } from "../../../core/index.ts"
import { alone, SECRET, socketDir, world } from "./harness.ts"
import { linkBreakTests } from "./link-breaks.ts"

linkBreakTests(world, { stream: "socket", streams: "connections" })

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
