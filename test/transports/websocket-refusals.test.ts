/**
 * What a WebSocket rank refuses, over real sockets on 127.0.0.1: a wrong or
 * missing secret, a TLS peer without the world's certificate, bytes that are
 * not HTTP, a plain HTTP request, an upgrade to another path, garbage inside
 * a WebSocket. Each closes that one connection with a typed, logged reason,
 * and the world goes on working.
 */
import test from "ava"
import { spawnSync } from "node:child_process"
import { request } from "node:http"
import { connect } from "node:net"
import { fileURLToPath } from "node:url"
import { WebSocket } from "ws"
import { Envelope } from "../../core/index.ts"
import { LinkKind, preamble } from "../../transports/stream/Framing.ts"
import * as Handshake from "../../transports/stream/Handshake.ts"
import { Codes } from "../../transports/stream/StreamError.ts"
import { concat } from "./stream/harness.ts"
import { makeCerts, rawWs, run, SECRET, until, wsWorld } from "./websocket-harness.ts"

const MARK = 0x5eed
const WORLD = new TextEncoder().encode("ws-test-world")

/**
 * Runs one program on every rank: a ping-pong and an allreduce, then
 * `attack` (once, while both ranks wait for it), then the same again. The
 * values show the world worked before and after.
 */
const around = async (w: Awaited<ReturnType<typeof wsWorld>>, attack: () => Promise<void>): Promise<Array<unknown>> => {
  let attacked: Promise<void> | undefined
  const out = await run(w, async (comm) => {
    const peer = 1 - comm.rank
    const exchange = async () => [await comm.sendrecv(`from ${comm.rank}`, peer, 4, peer, 4), await comm.allreduce(comm.rank + 1)]
    const before = await exchange()
    await comm.barrier()
    await (attacked ??= attack())
    return [...before, ...(await exchange())]
  })
  return out.map((o) => (o.ok ? o.value : String(o.error)))
}
const WORKED = [["from 1", 3, "from 1", 3], ["from 0", 3, "from 0", 3]]

test.serial("a wrong secret is refused (ERR_AUTH_FAILED), and the dialer gives up on that peer at once", async (t) => {
  const w = await wsWorld(2, { connectTimeout: 20_000 }, () => ({}), [SECRET, new TextEncoder().encode("a guess")])
  try {
    await until(() => w.transports[1]!.linkState(0) === "lost", 10_000, "rank 1 giving up on rank 0")
    t.true(w.logs.some((l) => l.rank === 0 && l.level === "warn" && l.code === "ERR_AUTH_FAILED"), w.logs.map((l) => l.message).join("\n"))
    t.true(w.logs.some((l) => l.rank === 1 && l.level === "warn" && /ERR_AUTH_FAILED/.test(l.message)), "rank 1 is told why")
    t.is(w.transports[0]!.linkState(1), "connecting", "rank 0 never let it in")
    t.is(w.transports[0]!.connectionsTo(1), 0)
    t.false(w.logs.some((l) => l.message.includes(new TextDecoder().decode(SECRET))), "the secret is never logged")
  } finally {
    w.close()
  }
})

test.serial("a client without the secret (an empty proof) is refused, and nothing it sends reaches the engine", async (t) => {
  const w = await wsWorld(2)
  try {
    const values = await around(w, async () => {
      // Count what of the impostor's reaches rank 0's engine (its data frame carries a mark).
      let frames = 0
      const engine = w.engines[0]!
      const sink = engine.frame.bind(engine)
      engine.frame = (f) => {
        if (f.tag === MARK) frames++
        sink(f)
      }
      // Claims rank 1 again, with an empty proof.
      const c = rawWs(w.urls[0]!)
      await c.opened
      c.ws.send(concat(preamble(), Handshake.hello(1, 0, Handshake.random(Handshake.NONCE_BYTES), Handshake.random(Handshake.INCARNATION_BYTES), WORLD)))
      await until(() => c.frames.length >= 1, 5000, "a CHALLENGE")
      t.is(c.frames[0]!.kind, LinkKind.CHALLENGE)
      c.ws.send(Handshake.answer(LinkKind.AUTH, 1, 0, new Uint8Array(0)))
      // A data frame right behind the AUTH: it must be dropped with the connection.
      c.ws.send(Handshake.control(Envelope.Kind.EAGER, { src: 1, seq: 1, tag: MARK }))
      await c.closed
      engine.frame = sink
      t.is(frames, 0, "nothing reached the engine")
      t.is(c.frames.at(-1)?.kind, LinkKind.REFUSE)
      t.is(c.frames.at(-1)?.tag, Codes.ERR_AUTH_FAILED)
      t.true(w.logs.some((l) => l.rank === 0 && l.code === "ERR_AUTH_FAILED"))
    })
    t.deepEqual(values, WORKED)
    t.is(w.transports[1]!.connectionsTo(0), 1, "the genuine link was never disturbed")
  } finally {
    w.close()
  }
})

test("a rank started with no secret in its environment fails at once with ERR_NO_SECRET", (t) => {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("RANKFLOW_")) env[k] = v
  const r = spawnSync(process.execPath, [fileURLToPath(new URL("../../transports/websocket/Entry.ts", import.meta.url))], {
    env: { ...env, RANKFLOW_RANK: "0", RANKFLOW_SIZE: "2", RANKFLOW_COORDINATOR: "127.0.0.1:9", RANKFLOW_WEBSOCKET_CONFIG: "{}" },
    encoding: "utf8",
    timeout: 30_000
  })
  t.not(r.status, 0)
  t.regex(r.stderr, /ERR_NO_SECRET/)
})

test.serial("wss: ranks with the world's certificates talk; a client with no certificate, or one from another CA, is refused (ERR_TLS)", async (t) => {
  const certs = makeCerts()
  const w = await wsWorld(2, {}, () => ({ tls: { cert: certs.cert, key: certs.key, ca: certs.ca } }))
  try {
    t.true(w.urls.every((u) => u.startsWith("wss://127.0.0.1:")), w.urls.join(" "))
    const values = await around(w, async () => {
      const attempt = (opts: Record<string, unknown>) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(w.urls[0]!, { perMessageDeflate: false, checkServerIdentity: (() => undefined) as never, ...opts })
          ws.once("open", () => {
            ws.terminate()
            resolve("open")
          })
          ws.once("error", (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`))
        })
      const { readFileSync } = await import("node:fs")
      const pemOf = (p: string) => readFileSync(p, "utf8")
      const tlsRefusals = () => w.logs.filter((l) => l.rank === 0 && l.level === "warn" && l.code === "ERR_TLS").length
      // No client certificate at all (it trusts the server).
      const none = await attempt({ ca: pemOf(certs.ca) })
      t.not(none, "open")
      await until(() => tlsRefusals() >= 1, 5000, "ERR_TLS logged for a client without a certificate")
      // A certificate from another CA.
      const other = await attempt({ ca: pemOf(certs.ca), cert: pemOf(certs.otherCert), key: pemOf(certs.otherKey) })
      t.not(other, "open")
      await until(() => tlsRefusals() >= 2, 5000, "ERR_TLS logged for a certificate from another CA")
      // A client that trusts another CA refuses the rank's server certificate in turn.
      const distrust = await attempt({ ca: pemOf(certs.otherCa), cert: pemOf(certs.cert), key: pemOf(certs.key) })
      t.not(distrust, "open")
      // A plain ws:// client at a wss:// rank gets nowhere either.
      const plain = await new Promise<string>((resolve) => {
        const ws = new WebSocket(w.urls[0]!.replace("wss://", "ws://"), { handshakeTimeout: 3000 })
        ws.once("open", () => (ws.terminate(), resolve("open")))
        ws.once("error", (e) => resolve(`error ${e.message}`))
      })
      t.not(plain, "open")
      t.log(`refused: no certificate: ${none}; other CA: ${other}; server distrusted: ${distrust}; plain ws: ${plain}`)
      const said = w.logs.filter((l) => l.level === "warn" && l.code === "ERR_TLS").map((l) => l.message)
      t.regex(said[0]!, /presented no certificate/)
      t.regex(said[1]!, /its certificate is not the world's/)
    })
    t.deepEqual(values, WORKED)
    t.is(w.transports[1]!.connectionsTo(0), 1)
  } finally {
    w.close()
    certs.rm()
  }
})

test.serial("garbage bytes, a plain HTTP request, a broken upgrade, another path, bad WebSocket frames, an oversized message, garbage in a WebSocket: each closed with its logged code; the world keeps working", async (t) => {
  const w = await wsWorld(2, { maxFrame: 64 * 1024, eagerLimit: 16 * 1024 })
  try {
    const values = await around(w, async () => {
      const url = new URL(w.urls[0]!)
      const port = Number(url.port)
      const codes = () => w.logs.filter((l) => l.rank === 0 && l.level === "warn").map((l) => l.code)
      /** Writes bytes on a raw TCP connection; resolves with what came back once the rank closes it. */
      const rawTcp = (bytes: Uint8Array | string) =>
        new Promise<string>((resolve) => {
          const s = connect(port, "127.0.0.1")
          let got = ""
          s.on("data", (d) => (got += d.toString("latin1")))
          s.on("error", () => {})
          s.on("close", () => resolve(got))
          s.write(bytes)
        })
      // Bytes that are not HTTP.
      const garbage = await rawTcp(Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 1) & 0xff))
      t.regex(garbage, /^HTTP\/1\.1 400/)
      t.true(codes().includes("ERR_BAD_REQUEST"), codes().join())
      // A plain HTTP request.
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path: "/rankflow", method: "GET" }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on("error", reject)
        req.end()
      })
      t.is(status, 426)
      t.true(codes().includes("ERR_NOT_WEBSOCKET"), codes().join())
      // An upgrade without its key.
      const n = codes().length
      const broken = await rawTcp("GET /rankflow HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
      t.regex(broken, /^HTTP\/1\.1 400/)
      t.is(codes()[n], "ERR_BAD_REQUEST")
      // An upgrade to another path.
      const elsewhere = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/not-rankflow`)
        ws.on("error", () => {})
        ws.once("unexpected-response", (_req, res) => {
          resolve(res.statusCode ?? 0)
          ws.terminate()
        })
        ws.once("open", () => (ws.terminate(), resolve(101)))
      })
      t.is(elsewhere, 404)
      t.is(codes().filter((c) => c === "ERR_NOT_WEBSOCKET").length, 2)
      // A genuine upgrade, then bytes that are not WebSocket frames (an unmasked frame of a reserved opcode).
      const upgraded = await rawTcp(concat(
        new TextEncoder().encode(
          "GET /rankflow HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ),
        Uint8Array.of(0x83, 0x05, 1, 2, 3, 4, 5)
      ))
      t.regex(upgraded, /^HTTP\/1\.1 101 /)
      await until(() => codes().includes("ERR_MALFORMED"), 5000, "ERR_MALFORMED logged for bad WebSocket frames")
      // A message larger than the largest frame allows (maxFrame + 64 KiB).
      const big = rawWs(w.urls[0]!)
      await big.opened
      big.ws.send(new Uint8Array(256 * 1024))
      await big.closed
      await until(() => codes().includes("ERR_FRAME_TOO_LARGE"), 5000, "ERR_FRAME_TOO_LARGE logged for an oversized message")
      // A WebSocket at the right path that speaks garbage.
      const c = rawWs(w.urls[0]!)
      await c.opened
      c.ws.send(new TextEncoder().encode("hello, is this HTTP?"))
      await c.closed
      t.true(codes().includes("ERR_BAD_MAGIC"), codes().join())
    })
    t.deepEqual(values, WORKED)
    t.is(w.transports[1]!.connectionsTo(0), 1, "the genuine link was never disturbed")
    t.true(w.logs.every((l) => l.peer === -1 || l.level !== "warn"), "no warning names a genuine peer")
  } finally {
    w.close()
  }
})

test.serial("a client that never finishes its HTTP request, or its TLS handshake, is closed at the handshake timeout (ERR_HANDSHAKE_TIMEOUT)", async (t) => {
  const certs = makeCerts()
  try {
    for (const tls of [false, true]) {
      // The HTTP(S) listener's limit is short; the stream protocol's stays at its default.
      const w = await wsWorld(2, {}, () => ({ handshakeTimeout: 300, ...(tls ? { tls: { cert: certs.cert, key: certs.key, ca: certs.ca } } : {}) }))
      try {
        const values = await around(w, async () => {
          const port = Number(new URL(w.urls[0]!).port)
          const t0 = performance.now()
          const answer = await new Promise<string>((resolve) => {
            const s = connect(port, "127.0.0.1")
            let got = ""
            s.on("data", (d) => (got += d.toString("latin1")))
            s.on("error", () => {})
            s.on("close", () => resolve(got))
            // Half a request (plain), or nothing at all (TLS: no ClientHello).
            if (!tls) s.write("GET /rankflow HTTP/1.1\r\nHost: 127.0.0.1\r\n")
          })
          const ms = performance.now() - t0
          if (!tls) t.regex(answer, /^HTTP\/1\.1 408/)
          t.true(ms < 5000, `closed after ${Math.round(ms)} ms (the handshake timeout is 300 ms)`)
          const said = w.logs.filter((l) => l.rank === 0 && l.level === "warn")
          t.true(said.length >= 1 && said.every((l) => l.code === "ERR_HANDSHAKE_TIMEOUT"), said.map((l) => l.message).join("\n"))
        })
        t.deepEqual(values, WORKED)
      } finally {
        w.close()
      }
    }
  } finally {
    certs.rm()
  }
})
