/**
 * TCP ranks in this process over real sockets on 127.0.0.1: sockets
 * destroyed from outside the protocol in the middle of a 100,000-message
 * stream lose and duplicate nothing; a rank with the wrong secret is
 * refused at the handshake; with mutual TLS a peer with no certificate, or
 * one from another CA, is refused and the world still works.
 */
import test from "ava"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { connect as netConnect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { connect as tlsConnect } from "node:tls"
import { World } from "../../core/index.ts"
import { Comm as PromiseComm } from "../../core/promise/Comm.ts"
import { Op } from "../../promise.ts"
import { type RendezvousLogEntry, rendezvous, startCoordinator, type TlsOptions } from "../../transports/stream/Rendezvous.ts"
import { type LogEntry, StreamTransport } from "../../transports/stream/Transport.ts"
import { TcpConnector } from "../../transports/tcp/Endpoint.ts"
import { startRank, type TcpRank } from "../../transports/tcp/Rank.ts"

const SECRET = new TextEncoder().encode("tcp-links-secret")

interface Ranks {
  readonly ranks: Array<TcpRank>
  readonly comms: Array<PromiseComm>
  readonly logs: Array<LogEntry>
  readonly close: () => void
}

/** A world of `size` TCP ranks in this process (the coordinator here too). */
const tcpWorld = async (size: number, tls?: TlsOptions, extra: Record<string, number> = {}): Promise<Ranks> => {
  const logs: Array<LogEntry> = []
  const c = await startCoordinator({ size, secret: SECRET, tls, timeout: 20_000 })
  const ranks = await Promise.all(
    Array.from({ length: size }, (_, rank) =>
      startRank(
        { rank, size, coordinator: c.address, hostsCoordinator: false, world: undefined, secret: SECRET, source: "rankflow" },
        { listenHost: "127.0.0.1", tls, log: (e) => void logs.push(e), ...extra }
      ))
  )
  c.close()
  return {
    ranks,
    comms: ranks.map((r) => new PromiseComm(r.engine.worldComm())),
    logs,
    close: () => {
      for (const r of ranks) r.close()
    }
  }
}

test.serial("100,000 messages from rank 1 to rank 0 arrive once each and in order while their TCP sockets are destroyed from outside three times", async (t) => {
  const w = await tcpWorld(2)
  try {
    const N = 100_000
    const breaks = new Set([20_000, 50_000, 80_000])
    let destroyed = 0
    const sender = (async () => {
      const c = w.comms[1]!
      for (let i = 0; i < N; i += 1000) {
        if (breaks.has(i)) {
          while (w.ranks[1]!.transport.linkState(0) !== "up") await new Promise((r) => setTimeout(r, 5))
          // From outside the protocol: what was written and not yet read is lost with the socket.
          for (const r of w.ranks) for (const s of r.connector.sockets()) (s.destroy(), destroyed++)
        }
        const reqs = []
        for (let j = i; j < i + 1000; j++) reqs.push(c.isend(j, 0, 7))
        await Promise.all(reqs.map((r) => r.wait()))
        // Let the socket carry this batch while the next is made.
        await new Promise((r) => setImmediate(r))
      }
    })()
    const c0 = w.comms[0]!
    let bad = 0
    for (let i = 0; i < N; i++) {
      const v = await c0.recv(1, 7)
      if (v !== i) bad++
    }
    await sender
    t.is(bad, 0, "every message arrived in order, none twice, none lost")
    t.true(destroyed >= 3, `destroyed ${destroyed} sockets`)
    t.true(w.ranks[1]!.transport.connectionsTo(0) >= 4, `rank 1 connected to rank 0 ${w.ranks[1]!.transport.connectionsTo(0)} times`)
    const resumed = w.logs.flatMap((e) => (e.rank === 1 ? [Number(/resuming after frame (\d+)/.exec(e.message)?.[1] ?? NaN)] : [])).filter((n) => !Number.isNaN(n))
    t.is(resumed.length, 3, `rank 1 resumed three times: ${JSON.stringify(w.logs.map((e) => e.message))}`)
    t.true(resumed.every((n) => n < N), `each resumption had frames still to deliver (${resumed.join(", ")})`)
    t.log(`resumed after frames ${resumed.join(", ")}`)
    t.false(await c0.iprobe(1, 7), "nothing more than the 100,000 arrived")
    t.deepEqual(await Promise.all(w.comms.map((c) => c.allreduce(1))), [2, 2], "the world still works")
  } finally {
    w.close()
  }
})

test.serial("a rank with the wrong secret gets through no handshake: ERR_AUTH_FAILED on both sides, logged", async (t) => {
  const size = 2
  const c = await startCoordinator({ size, secret: SECRET, timeout: 20_000 })
  const logs0: Array<LogEntry> = []
  const logs1: Array<LogEntry> = []
  // Rank 1 knows the rendezvous's secret but dials with another one.
  const impostorConnector = new TcpConnector({ host: "127.0.0.1" })
  await impostorConnector.bind()
  const [r0, table] = await Promise.all([
    startRank({ rank: 0, size, coordinator: c.address, hostsCoordinator: false, world: undefined, secret: SECRET, source: "rankflow" }, { listenHost: "127.0.0.1", log: (e) => void logs0.push(e) }),
    rendezvous({ coordinator: c.address, rank: 1, size, secret: SECRET, address: (ip) => impostorConnector.address(ip) })
  ])
  c.close()
  impostorConnector.setPeers(table.addresses)
  const impostor = new StreamTransport({
    rank: 1,
    size,
    world: table.world,
    secret: new TextEncoder().encode("a-wrong-secret"),
    connector: impostorConnector,
    reconnectAttempts: 1,
    log: (e) => void logs1.push(e)
  })
  World.makeEngine(impostor)
  try {
    await impostor.start()
    for (let i = 0; i < 100 && !logs0.some((e) => e.code === "ERR_AUTH_FAILED"); i++) await new Promise((r) => setTimeout(r, 50))
    t.true(logs0.some((e) => e.code === "ERR_AUTH_FAILED" && e.level === "warn"), JSON.stringify(logs0))
    t.true(logs1.some((e) => /ERR_AUTH_FAILED|ERR_REFUSED/.test(e.message)), JSON.stringify(logs1))
    t.not(r0.transport.linkState(1), "up")
  } finally {
    impostor.close()
    r0.close()
  }
})

test.serial("garbage, a wrong magic and a silent client at a rank's TCP port are closed with typed, logged reasons; the world keeps working", async (t) => {
  const w = await tcpWorld(2, undefined, { handshakeTimeout: 500 })
  try {
    const port = w.ranks[0]!.connector.port()
    /** Resolves true when the rank closes the connection, false if it is still open after 3 s. */
    const send = (bytes: Uint8Array): Promise<boolean> =>
      new Promise((resolve) => {
        const s = netConnect({ host: "127.0.0.1", port }, () => s.write(bytes))
        s.resume()
        s.on("error", () => {})
        s.on("close", () => resolve(true))
        setTimeout(() => (s.destroy(), resolve(false)), 3000)
      })
    t.true(await send(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), "HTTP is closed")
    t.true(await send(Uint8Array.of(0x52, 0x4b, 0x46, 0x4c, 9, 0, 0, 0)), "a wrong version is closed")
    t.true(await send(Uint8Array.of(0x52, 0x4b, 0x46, 0x4c, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f)), "an oversized frame is closed")
    t.true(await send(Uint8Array.of(0x52, 0x4b)), "a silent client is closed")
    const codes = new Set(w.logs.map((e) => e.code))
    for (const code of ["ERR_BAD_MAGIC", "ERR_BAD_VERSION", "ERR_FRAME_TOO_LARGE", "ERR_HANDSHAKE_TIMEOUT"]) t.true(codes.has(code as never), `${code} in ${[...codes].join(" ")}`)
    t.deepEqual(await Promise.all(w.comms.map((c) => c.allreduce(c.rank + 1))), [3, 3], "the world still works")
  } finally {
    w.close()
  }
})

// ------------------------------------------------------------------- TLS

const openssl = (args: ReadonlyArray<string>, cwd: string): void => void execFileSync("openssl", args, { cwd, stdio: "ignore" })

/** A CA, a certificate it signs, and a rogue certificate signed by another CA, made with openssl in a temp dir. */
const makeCerts = (): { dir: string; good: TlsOptions; rogue: TlsOptions; noCert: TlsOptions } => {
  const dir = mkdtempSync(join(tmpdir(), "rankflow-tls-"))
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
  for (const ca of ["ca", "rogue-ca"]) openssl(["req", "-x509", ...ec, "-keyout", `${ca}.key`, "-out", `${ca}.pem`, "-days", "1", "-subj", `/CN=${ca}`], dir)
  for (const [name, ca] of [["rank", "ca"], ["rogue", "rogue-ca"]]) {
    openssl(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`], dir)
    openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "1"], dir)
  }
  const f = (n: string) => readFileSync(join(dir, n))
  return {
    dir,
    good: { cert: f("rank.pem"), key: f("rank.key"), ca: f("ca.pem") },
    rogue: { cert: f("rogue.pem"), key: f("rogue.key"), ca: f("ca.pem") },
    noCert: { ca: f("ca.pem") }
  }
}

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

;(hasOpenssl ? test.serial : test.serial.skip)(`mutual TLS: a world with certificates works; a peer with no certificate, another CA's, or plain TCP is refused${hasOpenssl ? "" : " (skipped: openssl not found)"}`, async (t) => {
  const certs = makeCerts()
  t.teardown(() => rmSync(certs.dir, { recursive: true, force: true }))
  const w = await tcpWorld(3, certs.good)
  try {
    const sums = await Promise.all(w.comms.map((c) => c.allreduce(Float64Array.of(c.rank, 1), Op.SUM)))
    for (const s of sums) t.deepEqual([...(s as Float64Array)], [3, 3])
    const port = w.ranks[0]!.connector.port()
    const attempt = (opts: TlsOptions | undefined): Promise<string> =>
      new Promise((resolve) => {
        const s = opts === undefined
          ? netConnect({ host: "127.0.0.1", port }, () => s.write("RKFL\x01\x00\x00\x00 plain bytes"))
          : tlsConnect({ host: "127.0.0.1", port, ...opts, rejectUnauthorized: false }, () => s.write("RKFL\x01\x00\x00\x00"))
        let got = 0
        s.on("data", (d: Buffer) => (got += d.length))
        s.on("error", (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`))
        s.on("close", () => resolve(`closed after ${got} bytes`))
        setTimeout(() => (s.destroy(), resolve("still open")), 5000)
      })
    for (const [what, opts] of [["no certificate", certs.noCert], ["another CA's certificate", certs.rogue], ["plain TCP", undefined]] as const) {
      const before = w.logs.filter((e) => e.code === "ERR_AUTH_FAILED").length
      const r = await attempt(opts)
      t.not(r, "still open", what)
      t.notRegex(r, /closed after [1-9]/, `${what}: got no protocol bytes (${r})`)
      for (let i = 0; i < 50 && w.logs.filter((e) => e.code === "ERR_AUTH_FAILED").length === before; i++) await new Promise((res) => setTimeout(res, 20))
      t.true(w.logs.filter((e) => e.code === "ERR_AUTH_FAILED").length > before, `${what} was logged as refused`)
    }
    t.deepEqual(await Promise.all(w.comms.map((c) => c.allreduce(2))), [6, 6, 6], "the world still works")
  } finally {
    w.close()
  }
  // The rendezvous refuses the rogue certificate too.
  const log: Array<RendezvousLogEntry> = []
  const c = await startCoordinator({ size: 1, secret: SECRET, tls: certs.good, log: (e) => void log.push(e) })
  try {
    await t.throwsAsync(rendezvous({ coordinator: c.address, rank: 0, size: 1, secret: SECRET, address: "x", tls: certs.rogue, timeout: 1500 }))
    t.true(log.some((e) => e.code === "ERR_AUTH_FAILED"))
    const ok = await rendezvous({ coordinator: c.address, rank: 0, size: 1, secret: SECRET, address: "x", tls: certs.good, timeout: 5000 })
    t.deepEqual(ok.addresses, ["x"])
  } finally {
    c.close()
  }
})
