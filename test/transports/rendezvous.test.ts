/**
 * The rendezvous over real TCP sockets on 127.0.0.1: ranks publish and get
 * the table; a wrong or missing secret, a missing rank, a taken rank, a
 * wrong size, garbage and a silent client each fail with their typed code,
 * and the coordinator keeps serving. The environment bootstrap for every
 * launcher.
 */
import test from "ava"
import fc from "fast-check"
import { connect, createServer } from "node:net"
import { BootstrapError, derivedPort, firstSlurmHost, fromEnvironment } from "../../transports/stream/Bootstrap.ts"
import { connectAgent, type RendezvousError, type RendezvousLogEntry, rendezvous, startCoordinator } from "../../transports/stream/Rendezvous.ts"

const secret = new TextEncoder().encode("rendezvous-test-secret")
const wrong = new TextEncoder().encode("not-the-secret")

const quietLog = (into: Array<RendezvousLogEntry>) => (e: RendezvousLogEntry) => void into.push(e)

/** Writes `bytes` to the coordinator, then resolves once it closes the socket (or after `ms`). */
const throwAt = (port: number, bytes: Uint8Array, ms = 3000): Promise<{ closed: boolean; got: Buffer }> =>
  new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port })
    const chunks: Array<Buffer> = []
    const timer = setTimeout(() => {
      s.destroy()
      resolve({ closed: false, got: Buffer.concat(chunks) })
    }, ms)
    s.on("data", (d) => chunks.push(d))
    s.on("error", () => {})
    s.on("close", () => {
      clearTimeout(timer)
      resolve({ closed: true, got: Buffer.concat(chunks) })
    })
    s.on("connect", () => s.write(bytes))
  })

test("four ranks publish and each gets every address, in rank order, and the world id", async (t) => {
  const c = await startCoordinator({ size: 4, secret, world: "w-test" })
  try {
    const tables = await Promise.all([3, 1, 0, 2].map((rank) =>
      rendezvous({ coordinator: c.address, rank, size: 4, secret, address: (ip) => `tcp://${ip}:${5000 + rank}`, timeout: 10_000 })))
    const want = [0, 1, 2, 3].map((r) => `tcp://127.0.0.1:${5000 + r}`)
    for (const tb of tables) {
      t.deepEqual(tb.addresses, want)
      t.is(tb.world, "w-test")
    }
    t.deepEqual((await c.done).addresses, want)
  } finally {
    c.close()
  }
})

test("a rank that starts before the coordinator listens retries until it does", async (t) => {
  const probe = await startCoordinator({ size: 1, secret })
  const port = probe.port
  probe.close()
  const early = rendezvous({ coordinator: `127.0.0.1:${port}`, rank: 1, size: 2, secret, address: "x1", timeout: 10_000 })
  await new Promise((r) => setTimeout(r, 300))
  const c = await startCoordinator({ size: 2, secret, port })
  try {
    const [a, b] = await Promise.all([early, rendezvous({ coordinator: c.address, rank: 0, size: 2, secret, address: "x0" })])
    t.deepEqual(a.addresses, ["x0", "x1"])
    t.deepEqual(b.addresses, ["x0", "x1"])
  } finally {
    c.close()
  }
})

test("a rank with the wrong secret is refused (ERR_AUTH_FAILED, logged); the others still meet", async (t) => {
  const log: Array<RendezvousLogEntry> = []
  const c = await startCoordinator({ size: 2, secret, log: quietLog(log) })
  try {
    const bad = await t.throwsAsync<RendezvousError>(rendezvous({ coordinator: c.address, rank: 0, size: 2, secret: wrong, address: "evil", timeout: 5000 }))
    t.is(bad?.code, "ERR_REFUSED")
    t.regex(bad!.message, /ERR_AUTH_FAILED/)
    t.true(log.some((e) => e.code === "ERR_AUTH_FAILED" && e.level === "warn"))
    const ok = await Promise.all([0, 1].map((rank) => rendezvous({ coordinator: c.address, rank, size: 2, secret, address: `a${rank}` })))
    t.deepEqual(ok[0]!.addresses, ["a0", "a1"])
  } finally {
    c.close()
  }
})

test("a coordinator with the wrong secret cannot hand out a table: the rank refuses it (ERR_AUTH_FAILED)", async (t) => {
  const c = await startCoordinator({ size: 1, secret: wrong, log: () => {} })
  try {
    // The impostor refuses the rank's proof first; a rank never trusts it either way.
    const e = await t.throwsAsync<RendezvousError>(rendezvous({ coordinator: c.address, rank: 0, size: 1, secret, address: "a", timeout: 5000 }))
    t.true(e?.code === "ERR_REFUSED" || e?.code === "ERR_AUTH_FAILED")
  } finally {
    c.close()
  }
})

test("an impostor coordinator that skips the check and hands out a table without the right proof: the rank refuses the table (ERR_AUTH_FAILED)", async (t) => {
  const frame = (m: unknown): Buffer => {
    const b = Buffer.from(JSON.stringify(m))
    const h = Buffer.alloc(4)
    h.writeUInt32BE(b.length)
    return Buffer.concat([h, b])
  }
  // Speaks the protocol, accepts any proof, and answers with addresses of its choosing.
  const server = createServer((s) => {
    let buf = Buffer.alloc(0)
    let seen = 0
    s.on("error", () => {})
    s.on("data", (d) => {
      buf = Buffer.concat([buf, d])
      if (seen === 0 && buf.length >= 5) {
        buf = buf.subarray(5)
        seen = 1
      }
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        buf = buf.subarray(4 + buf.readUInt32BE(0))
        if (seen++ === 1) s.write(frame({ t: "challenge", nonce: "cd".repeat(32) }))
        else s.write(frame({ t: "table", table: { world: "evil", addresses: ["tcp://203.0.113.9:1"] }, proof: "00".repeat(32) }))
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  try {
    const port = (server.address() as { port: number }).port
    const e = await t.throwsAsync<RendezvousError>(rendezvous({ coordinator: `127.0.0.1:${port}`, rank: 0, size: 1, secret, address: "a", timeout: 5000 }))
    t.is(e?.code, "ERR_AUTH_FAILED")
    t.regex(e!.message, /the coordinator's proof is wrong/)
  } finally {
    server.close()
  }
})

test("ranks that never show up: the coordinator and the waiting ranks fail with ERR_MISSING_RANKS naming them", async (t) => {
  const c = await startCoordinator({ size: 4, secret, timeout: 1500, log: () => {} })
  const waiting = [0, 2].map((rank) => rendezvous({ coordinator: c.address, rank, size: 4, secret, address: `a${rank}`, timeout: 10_000 }))
  const done = await t.throwsAsync<RendezvousError>(c.done)
  t.is(done?.code, "ERR_MISSING_RANKS")
  t.deepEqual(done?.missing, [1, 3])
  t.regex(done!.message, /ranks 1, 3 did not show up/)
  for (const w of waiting) {
    const e = await t.throwsAsync<RendezvousError>(w)
    t.is(e?.code, "ERR_MISSING_RANKS")
    t.deepEqual(e?.missing, [1, 3])
  }
  c.close()
})

test("a taken rank, a rank out of range and a wrong world size are refused with their codes", async (t) => {
  const c = await startCoordinator({ size: 3, secret, log: () => {} })
  try {
    const first = rendezvous({ coordinator: c.address, rank: 1, size: 3, secret, address: "first", timeout: 10_000 })
    await new Promise((r) => setTimeout(r, 200))
    const dup = await t.throwsAsync<RendezvousError>(rendezvous({ coordinator: c.address, rank: 1, size: 3, secret, address: "second", timeout: 5000 }))
    t.regex(dup!.message, /ERR_DUPLICATE_RANK/)
    const out = await t.throwsAsync<RendezvousError>(rendezvous({ coordinator: c.address, rank: 3, size: 3, secret, address: "x", timeout: 5000 }))
    t.regex(out!.message, /ERR_SIZE_MISMATCH|ERR_BAD_RANK/)
    const big = await t.throwsAsync<RendezvousError>(rendezvous({ coordinator: c.address, rank: 3, size: 4, secret, address: "x", timeout: 5000 }))
    t.regex(big!.message, /ERR_SIZE_MISMATCH/)
    const rest = await Promise.all([0, 2].map((rank) => rendezvous({ coordinator: c.address, rank, size: 3, secret, address: `a${rank}` })))
    t.deepEqual(rest[0]!.addresses, ["a0", "first", "a2"])
    t.deepEqual((await first).addresses, ["a0", "first", "a2"])
  } finally {
    c.close()
  }
})

test("garbage, wrong magic or version, oversized and truncated frames and a silent client are closed with typed, logged reasons", async (t) => {
  const log: Array<RendezvousLogEntry> = []
  const c = await startCoordinator({ size: 1, secret, handshakeTimeout: 500, log: quietLog(log) })
  try {
    const pre = Buffer.from("RFRZ\x01", "latin1")
    const frame = (n: number, body = Buffer.alloc(0)) => Buffer.concat([Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]), body])
    const cases: Array<[string, Uint8Array]> = [
      ["ERR_BAD_MAGIC", Buffer.from("GET / HTTP/1.1\r\n\r\n")],
      ["ERR_BAD_VERSION", Buffer.from("RFRZ\x09", "latin1")],
      ["ERR_FRAME_TOO_LARGE", Buffer.concat([pre, frame(0x7fffffff)])],
      ["ERR_MALFORMED", Buffer.concat([pre, frame(3, Buffer.from("{x}"))])],
      ["ERR_MALFORMED", Buffer.concat([pre, frame(2, Buffer.from("[]"))])],
      ["ERR_HANDSHAKE_TIMEOUT", Buffer.concat([pre, frame(100, Buffer.from("{"))])]
    ]
    for (const [code, bytes] of cases) {
      const r = await throwAt(c.port, bytes)
      t.true(r.closed, code)
      t.true(log.some((e) => e.code === code), `${code} was logged: ${log.map((e) => e.code).join(" ")}`)
    }
    t.deepEqual((await Promise.all([rendezvous({ coordinator: c.address, rank: 0, size: 1, secret, address: "still" })]))[0]!.addresses, ["still"])
  } finally {
    c.close()
  }
})

test("fuzz: random and mutated bytes at the coordinator's socket never crash it, and a genuine rank still gets in", async (t) => {
  const c = await startCoordinator({ size: 1, secret, handshakeTimeout: 300, log: () => {} })
  try {
    const valid = Buffer.concat([
      Buffer.from("RFRZ\x01", "latin1"),
      (() => {
        const b = Buffer.from(JSON.stringify({ t: "hello", role: "rank", rank: 0, size: 1, nonce: "ab".repeat(32) }))
        const h = Buffer.alloc(4)
        h.writeUInt32BE(b.length)
        return Buffer.concat([h, b])
      })()
    ])
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.tuple(fc.nat({ max: valid.length - 1 }), fc.nat({ max: 7 })).map(([at, bit]) => {
            const b = Buffer.from(valid)
            b[at]! ^= 1 << bit
            return b as Uint8Array
          }),
          fc.nat({ max: valid.length }).map((n) => valid.subarray(0, n) as Uint8Array)
        ),
        async (bytes) => {
          const r = await throwAt(c.port, bytes, 1500)
          return r.closed
        }
      ),
      { numRuns: 60 }
    )
    const tb = await rendezvous({ coordinator: c.address, rank: 0, size: 1, secret, address: "genuine", timeout: 5000 })
    t.deepEqual(tb.addresses, ["genuine"])
  } finally {
    c.close()
  }
})

test("agents: an authenticated agent is granted ranks and keeps a channel; one asking for too many is refused", async (t) => {
  let next = 2
  const got: Array<unknown> = []
  const c = await startCoordinator({
    size: 4,
    secret,
    log: () => {},
    agent: (want, ch) => {
      if (next + want > 4) return { refuse: `only ${4 - next} ranks are left` }
      const ranks = Array.from({ length: want }, (_, i) => next + i)
      next += want
      ch.onMessage = (m) => got.push(m)
      return { ranks, extra: { program: "app.ts" } }
    }
  })
  try {
    const g = await connectAgent({ coordinator: c.address, secret, want: 2 })
    t.deepEqual(g.ranks, [2, 3])
    t.is(g.size, 4)
    t.is(g.world, c.world)
    t.deepEqual(g.extra, { program: "app.ts" })
    g.channel.send({ t: "hi", n: 1 })
    await new Promise((r) => setTimeout(r, 200))
    t.deepEqual(got, [{ t: "hi", n: 1 }])
    const e = await t.throwsAsync<RendezvousError>(connectAgent({ coordinator: c.address, secret, want: 1 }))
    t.regex(e!.message, /ERR_NO_RANKS_LEFT/)
    const bad = await t.throwsAsync<RendezvousError>(connectAgent({ coordinator: c.address, secret: wrong, want: 1 }))
    t.regex(bad!.message, /ERR_AUTH_FAILED/)
    g.channel.close()
  } finally {
    c.close()
  }
})

test("fromEnvironment: rankflow, Open MPI, MPICH and Slurm variables; the derived coordinator; what is missing is named", (t) => {
  const s = { RANKFLOW_SECRET: "s" }
  const rf = fromEnvironment({ ...s, RANKFLOW_RANK: "2", RANKFLOW_SIZE: "4", RANKFLOW_COORDINATOR: "10.0.0.1:7000" })
  t.like(rf, { rank: 2, size: 4, coordinator: "10.0.0.1:7000", source: "rankflow", hostsCoordinator: false, world: undefined })
  t.deepEqual([...rf.secret], [..."s"].map((c) => c.charCodeAt(0)))
  const ompi = fromEnvironment({ ...s, OMPI_COMM_WORLD_RANK: "0", OMPI_COMM_WORLD_SIZE: "4", OMPI_COMM_WORLD_LOCAL_SIZE: "4", PMIX_NAMESPACE: "42" })
  t.like(ompi, { rank: 0, size: 4, source: "openmpi", hostsCoordinator: true, coordinator: `127.0.0.1:${derivedPort("openmpi:42")}` })
  const mpich = fromEnvironment({ ...s, PMI_RANK: "1", PMI_SIZE: "2", MPI_LOCALNRANKS: "2" }, 777)
  t.like(mpich, { rank: 1, source: "mpich", hostsCoordinator: false, coordinator: `127.0.0.1:${derivedPort("mpich:ppid-777")}` })
  const slurm = fromEnvironment({ ...s, SLURM_PROCID: "3", SLURM_NTASKS: "8", RANKFLOW_COORDINATOR: "node1:9000", RANKFLOW_WORLD: "job" })
  t.like(slurm, { rank: 3, size: 8, source: "slurm", coordinator: "node1:9000", world: "job" })
  t.like(fromEnvironment({ ...s, SLURM_PROCID: "3", SLURM_NTASKS: "8", SLURM_NNODES: "2", SLURM_JOB_ID: "77", SLURM_STEP_ID: "0", SLURM_STEP_NODELIST: "node[07-08]" }), {
    coordinator: `node07:${derivedPort("slurm:77.0")}`,
    hostsCoordinator: false
  })
  t.is(firstSlurmHost("gpu1,node[3-4]"), "gpu1")
  t.is(firstSlurmHost("node[012,015-016]"), "node012")
  t.throws(() => fromEnvironment({ ...s, SLURM_PROCID: "3", SLURM_NTASKS: "8", SLURM_NNODES: "2" }), { instanceOf: BootstrapError, message: /spans machines: set RANKFLOW_COORDINATOR/ })
  t.throws(() => fromEnvironment({ ...s, OMPI_COMM_WORLD_RANK: "1", OMPI_COMM_WORLD_SIZE: "8", OMPI_COMM_WORLD_LOCAL_SIZE: "4" }), { instanceOf: BootstrapError, message: /openmpi job spans machines/ })
  t.throws(() => fromEnvironment({ ...s }), { instanceOf: BootstrapError, message: /no rank and size/ })
  t.throws(() => fromEnvironment({ ...s, RANKFLOW_RANK: "4", RANKFLOW_SIZE: "4", RANKFLOW_COORDINATOR: "h:1" }), { message: /not a rank of a world/ })
  t.throws(() => fromEnvironment({ ...s, RANKFLOW_RANK: "0", RANKFLOW_SIZE: "4", RANKFLOW_COORDINATOR: "nope" }), { message: /must be host:port/ })
  const noSecret = t.throws(() => fromEnvironment({ RANKFLOW_RANK: "0", RANKFLOW_SIZE: "1", RANKFLOW_COORDINATOR: "h:1" }))
  t.regex(noSecret!.message, /ERR_NO_SECRET/)
})
