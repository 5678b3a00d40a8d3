/**
 * The handshake against a listening rank, over a real Unix socket, with a
 * client that writes crafted bytes: each kind of bad input closes that
 * connection with its code (logged, and told to a client that speaks the
 * protocol), and a client that knows the secret gets in and is heard.
 */
import test from "ava"
import { writeFileSync } from "node:fs"
import { Codec, Envelope, World } from "../../../core/index.ts"
import { Comm as PromiseComm } from "../../../core/promise/Comm.ts"
import { FRAME_OVERHEAD, LinkKind, preamble, writeFrame } from "../../../transports/stream/Framing.ts"
import * as Handshake from "../../../transports/stream/Handshake.ts"
import { Codes } from "../../../transports/stream/StreamError.ts"
import { alone, concat, raw, type Raw, SECRET, socketDir, until, world } from "./harness.ts"

const WORLD = new TextEncoder().encode("test-world")

/** Plays rank 1's side of the handshake with `secret`; resolves with the client after its AUTH went out. */
const dialAs = async (dir: string, secret: Uint8Array, opts: { world?: Uint8Array; rank?: number; wants?: number } = {}): Promise<Raw> => {
  const c = raw(dir, 0)
  await c.opened
  const nonce = Handshake.random(Handshake.NONCE_BYTES)
  const inc = Handshake.random(Handshake.INCARNATION_BYTES)
  const w = opts.world ?? WORLD
  c.socket.write(concat(preamble(), Handshake.hello(opts.rank ?? 1, opts.wants ?? 0, nonce, inc, w)))
  await until(() => c.frames.length >= 1 || c.socket.destroyed, 5000, "an answer to HELLO")
  const ch = c.frames[0]
  if (ch?.kind !== LinkKind.CHALLENGE) return c
  const parts = Handshake.readChallenge(ch.body)!
  const t: Handshake.Transcript = {
    world: w,
    dialer: opts.rank ?? 1,
    acceptor: 0,
    dialerNonce: nonce,
    acceptorNonce: parts.nonce,
    dialerIncarnation: inc,
    acceptorIncarnation: parts.incarnation
  }
  c.socket.write(Handshake.answer(LinkKind.AUTH, opts.rank ?? 1, 0, Handshake.proof(secret, "dialer", t)))
  ;(c as { transcript?: Handshake.Transcript }).transcript = t
  return c
}

const refusedWith = async (t: import("ava").ExecutionContext, c: Raw, code: keyof typeof Codes) => {
  await c.closed
  const last = c.frames.at(-1)
  t.is(last?.kind, LinkKind.REFUSE, "the client is told why")
  t.is(last?.tag, Codes[code])
}

test("garbage, another protocol, or another version: the connection is closed and logged with its code", async (t) => {
  const r0 = await alone()
  try {
    for (const [bytes, code] of [
      [new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "ERR_BAD_MAGIC"],
      [Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0), "ERR_BAD_MAGIC"],
      [(() => {
        const b = preamble()
        b[4] = 9
        return b
      })(), "ERR_BAD_VERSION"]
    ] as const) {
      const c = raw(r0.dir, 0)
      c.socket.write(bytes)
      await c.closed
      t.true(r0.logs.some((l) => l.level === "warn" && l.code === code), `${code} logged`)
    }
    t.is(r0.transport.linkState(1), "connecting", "rank 0's link to rank 1 is untouched")
  } finally {
    r0.close()
  }
})

test("a frame too large for a handshake, or a length shorter than a header: closed with its code", async (t) => {
  const r0 = await alone()
  try {
    const big = raw(r0.dir, 0)
    const len = new Uint8Array(4)
    new DataView(len.buffer).setUint32(0, Handshake.HANDSHAKE_MAX_FRAME + 1, true)
    big.socket.write(concat(preamble(), len))
    await big.closed
    t.true(r0.logs.some((l) => l.code === "ERR_FRAME_TOO_LARGE"))
    const short = raw(r0.dir, 0)
    short.socket.write(concat(preamble(), Uint8Array.of(8, 0, 0, 0)))
    await short.closed
    t.true(r0.logs.some((l) => l.code === "ERR_FRAME_TOO_SHORT"))
    const unknown = raw(r0.dir, 0)
    unknown.socket.write(concat(preamble(), Handshake.control(0x7f, {})))
    await unknown.closed
    t.true(r0.logs.some((l) => l.code === "ERR_UNKNOWN_KIND"))
    const early = raw(r0.dir, 0)
    early.socket.write(concat(preamble(), Handshake.control(LinkKind.AUTH, { src: 1 }, new Uint8Array(32))))
    await refusedWith(t, early, "ERR_MALFORMED")
  } finally {
    r0.close()
  }
})

test("another world, a rank that cannot dial this one, or a HELLO for another rank: refused with its code", async (t) => {
  const r0 = await alone(3)
  try {
    await refusedWith(t, await dialAs(r0.dir, SECRET, { world: new TextEncoder().encode("other-world") }), "ERR_WRONG_WORLD")
    await refusedWith(t, await dialAs(r0.dir, SECRET, { rank: 7 }), "ERR_BAD_RANK")
    await refusedWith(t, await dialAs(r0.dir, SECRET, { rank: 0 }), "ERR_BAD_RANK")
    await refusedWith(t, await dialAs(r0.dir, SECRET, { wants: 2 }), "ERR_BAD_RANK")
    for (const code of ["ERR_WRONG_WORLD", "ERR_BAD_RANK"]) t.true(r0.logs.some((l) => l.level === "warn" && l.code === code))
  } finally {
    r0.close()
  }
})

test("a wrong secret, or none: refused (ERR_AUTH_FAILED), and nothing the client sends reaches the engine", async (t) => {
  const r0 = await alone()
  try {
    let frames = 0
    const sink = r0.engine.frame.bind(r0.engine)
    r0.engine.frame = (f) => {
      frames++
      sink(f)
    }
    for (const secret of [new TextEncoder().encode("a guess"), new Uint8Array(0), SECRET.subarray(0, SECRET.byteLength - 1)]) {
      const c = await dialAs(r0.dir, secret)
      // A data frame right behind the AUTH: it must be dropped with the connection.
      const f = Envelope.make(Envelope.Kind.EAGER, 1, 0, 0, 5, Envelope.Format.NUMBER, 8, new Uint8Array(8))
      f.seq = 1
      const out = new Uint8Array(FRAME_OVERHEAD + 8)
      writeFrame(out, 0, f, 8, f.body)
      c.socket.write(out)
      await refusedWith(t, c, "ERR_AUTH_FAILED")
    }
    t.is(frames, 0)
    t.is(r0.logs.filter((l) => l.code === "ERR_AUTH_FAILED").length, 3)
    t.false(r0.logs.some((l) => l.message.includes(new TextDecoder().decode(SECRET))), "the secret is never logged")
  } finally {
    r0.close()
  }
})

test("a client that never finishes its handshake is closed at the handshake timeout", async (t) => {
  const r0 = await alone(2, { handshakeTimeout: 300 })
  try {
    const silent = raw(r0.dir, 0)
    const t0 = performance.now()
    await silent.closed
    const ms = performance.now() - t0
    t.true(ms >= 250 && ms < 3000, `closed after ${ms} ms`)
    const halfway = await dialAs(r0.dir, SECRET).then(async (c) => c)
    t.truthy(halfway) // the AUTH went out, so this one gets in; a HELLO alone does not:
    const stuck = raw(r0.dir, 0)
    stuck.socket.write(concat(preamble(), Handshake.hello(1, 0, Handshake.random(32), Handshake.random(16), WORLD)))
    await stuck.closed
    t.true(r0.logs.some((l) => l.code === "ERR_HANDSHAKE_TIMEOUT"))
    halfway.socket.destroy()
  } finally {
    r0.close()
  }
})

test("too many connections in their handshake at once: the extra ones are closed at once (ERR_TOO_MANY_PENDING)", async (t) => {
  const r0 = await alone(2, { maxPendingHandshakes: 4 })
  try {
    const clients = Array.from({ length: 8 }, () => raw(r0.dir, 0))
    await until(() => r0.logs.filter((l) => l.code === "ERR_TOO_MANY_PENDING").length >= 4, 5000, "four refusals")
    for (const c of clients) c.socket.destroy()
    t.pass()
  } finally {
    r0.close()
  }
})

test("a client that knows the secret gets in: its proof checks out, the acceptor proves itself back, and its frames reach the engine", async (t) => {
  const r0 = await alone()
  try {
    const c = await dialAs(r0.dir, SECRET)
    await until(() => c.frames.length >= 2, 5000, "ACCEPT")
    const accept = c.frames[1]!
    t.is(accept.kind, LinkKind.ACCEPT)
    t.is(accept.seq, 0, "nothing received yet")
    const tr = (c as { transcript?: Handshake.Transcript }).transcript!
    t.true(Handshake.verify(Handshake.proof(SECRET, "acceptor", tr), accept.body))
    t.false(Handshake.verify(Handshake.proof(SECRET, "dialer", tr), accept.body), "a proof is bound to its role")
    // Rank 1 sends 7.5 to rank 0 with tag 5, as the engine would.
    const body = Codec.encodeBody(7.5).slice()
    const f = Envelope.make(Envelope.Kind.EAGER, 1, 0, 0, 5, Codec.bodyFormat(), body.byteLength, body)
    f.seq = 1
    const out = new Uint8Array(FRAME_OVERHEAD + body.byteLength)
    writeFrame(out, 0, f, body.byteLength, body)
    c.socket.write(out)
    const comm = new PromiseComm(r0.engine.worldComm())
    t.is(await comm.recv(1, 5), 7.5)
    await until(() => c.frames.some((g) => g.kind === LinkKind.ACK && g.seq === 1), 5000, "an ACK of frame 1")
    c.socket.destroy()
  } finally {
    r0.close()
  }
})

test("ranks with different secrets never connect: the dialer is refused and loses its peer at once, the acceptor at its connect timeout", async (t) => {
  const w = await world(2, { connectTimeout: 1500 }, [SECRET, new TextEncoder().encode("another secret")])
  try {
    const t0 = performance.now()
    const ended: Array<number> = []
    const [r0, r1] = await Promise.all(
      w.engines.map((e, rank) => World.runRank(e, (comm) => comm.recv(1 - comm.rank)).finally(() => (ended[rank] = performance.now() - t0)))
    )
    t.false(r0!.ok)
    t.false(r1!.ok)
    const e1 = r1!.error as any
    t.is(e1?._tag, "PeerLost")
    t.is(e1?.cause?._tag, "TransportError")
    t.regex(e1?.cause?.reason, /^ERR_REFUSED: rank 0 refused the connection: ERR_AUTH_FAILED/)
    t.true(ended[1]! < 1000, `the dialer gave up after ${ended[1]} ms`)
    const e0 = r0!.error as any
    t.regex(e0?.cause?.reason, /^ERR_UNREACHABLE: rank 1 did not connect within 1500 ms/)
    t.true(w.logs.some((l) => l.rank === 0 && l.code === "ERR_AUTH_FAILED"))
  } finally {
    w.close()
  }
})

test("the secret comes from RANKFLOW_SECRET or RANKFLOW_SECRET_FILE, and a missing one is an error that shows no secret", (t) => {
  t.deepEqual(Handshake.loadSecret({ RANKFLOW_SECRET: "abc" }), new TextEncoder().encode("abc"))
  const { dir, rm } = socketDir()
  try {
    writeFileSync(`${dir}/secret`, "from a file\n")
    t.deepEqual(Handshake.loadSecret({ RANKFLOW_SECRET_FILE: `${dir}/secret` }), new TextEncoder().encode("from a file"))
    t.deepEqual(Handshake.loadSecret({ RANKFLOW_SECRET: "env wins", RANKFLOW_SECRET_FILE: `${dir}/secret` }), new TextEncoder().encode("env wins"))
    writeFileSync(`${dir}/empty`, "\n")
    t.is((t.throws(() => Handshake.loadSecret({ RANKFLOW_SECRET_FILE: `${dir}/empty` })) as any)?.code, "ERR_NO_SECRET")
    t.is((t.throws(() => Handshake.loadSecret({ RANKFLOW_SECRET_FILE: `${dir}/missing` })) as any)?.code, "ERR_NO_SECRET")
    const e = t.throws(() => Handshake.loadSecret({})) as any
    t.is(e?.code, "ERR_NO_SECRET")
    t.regex(e!.message, /RANKFLOW_SECRET/)
  } finally {
    rm()
  }
  t.regex(Handshake.newSecret(), /^[0-9a-f]{64}$/)
  t.not(Handshake.newSecret(), Handshake.newSecret())
})
