/**
 * Property tests of the stream protocol with fast-check: random and mutated
 * bytes thrown at the parser in random chunkings, and random and mutated
 * handshakes thrown at a listening rank's real socket. Nothing may throw,
 * the parser may never hold more than the maximum frame size, every failure
 * is a typed error with a known code, nothing reaches the engine, and a
 * genuine rank that connects afterwards is heard.
 */
import test from "ava"
import fc from "fast-check"
import { Envelope, World } from "../../../core/index.ts"
import { FRAME_OVERHEAD, LinkKind, Parser, preamble, writeFrame } from "../../../transports/stream/Framing.ts"
import * as Handshake from "../../../transports/stream/Handshake.ts"
import { Codes } from "../../../transports/stream/StreamError.ts"
import { alone, raw, sleep, world } from "./harness.ts"

const MAX = 2048
const kinds = [...Object.values(Envelope.Kind), ...Object.values(LinkKind)]

const arbFrame = fc.record({
  kind: fc.constantFrom(...kinds),
  fmt: fc.integer({ min: 0, max: 255 }),
  ctx: fc.integer({ min: -2, max: 1000 }),
  tag: fc.integer({ min: 0, max: 0x7fffffff }),
  seq: fc.nat(),
  id: fc.nat(),
  ref: fc.nat(),
  src: fc.integer({ min: 0, max: 63 }),
  body: fc.uint8Array({ maxLength: MAX - Envelope.HEADER_BYTES })
})
type Arb = typeof arbFrame extends fc.Arbitrary<infer T> ? T : never

const encode = (frames: ReadonlyArray<Arb>): Uint8Array => {
  const out = new Uint8Array(8 + frames.reduce((n, f) => n + FRAME_OVERHEAD + f.body.byteLength, 0))
  out.set(preamble(), 0)
  let at = 8
  for (const a of frames) {
    const f: Envelope.Frame = { ...a, dst: 0, size: a.body.byteLength, body: a.body }
    at = writeFrame(out, at, f, a.body.byteLength, a.body)
  }
  return out
}

/** Cuts `bytes` at the given points (sorted, deduplicated, in range). */
const chunks = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let from = 0
  for (const p of points) {
    out.push(bytes.subarray(from, p))
    from = p
  }
  out.push(bytes.subarray(from))
  return out
}

type Mutation =
  | { readonly op: "flip"; readonly at: number; readonly bit: number }
  | { readonly op: "truncate"; readonly at: number }
  | { readonly op: "insert"; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: "delete"; readonly at: number; readonly n: number }
  | { readonly op: "set32"; readonly at: number; readonly value: number }

const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant("set32" as const), at: fc.nat(), value: fc.oneof(fc.constant(0xffffffff), fc.constant(MAX + 1), fc.nat()) })
)

const mutate = (bytes: Uint8Array, ms: ReadonlyArray<Mutation>): Uint8Array => {
  let b = bytes.slice()
  for (const m of ms) {
    const at = b.byteLength === 0 ? 0 : m.at % b.byteLength
    switch (m.op) {
      case "flip":
        if (b.byteLength > 0) b[at] = b[at]! ^ (1 << m.bit)
        break
      case "truncate":
        b = b.slice(0, at)
        break
      case "insert": {
        const o = new Uint8Array(b.byteLength + m.bytes.byteLength)
        o.set(b.subarray(0, at), 0)
        o.set(m.bytes, at)
        o.set(b.subarray(at), at + m.bytes.byteLength)
        b = o
        break
      }
      case "delete": {
        const end = Math.min(b.byteLength, at + m.n)
        const o = new Uint8Array(b.byteLength - (end - at))
        o.set(b.subarray(0, at), 0)
        o.set(b.subarray(end), at)
        b = o
        break
      }
      case "set32":
        if (at + 4 <= b.byteLength) new DataView(b.buffer, b.byteOffset).setUint32(at, m.value, true)
        break
    }
  }
  return b
}

const codes = new Set(Object.keys(Codes))

/** Parses `parts`; checks the invariants; returns the frames seen and the error. */
const parse = (parts: ReadonlyArray<Uint8Array>, maxFrame = MAX) => {
  const p = new Parser({ maxFrame, preamble: true, rank: 0 })
  const seen: Array<{ kind: number; tag: number; body: Array<number> }> = []
  let error: string | undefined
  for (const part of parts) {
    const e = p.push(part, (f, body) => {
      seen.push({ kind: f.kind, tag: f.tag, body: Array.from(body) })
    })
    if (p.capacity > maxFrame) throw new Error(`the parser holds ${p.capacity} bytes, more than ${maxFrame}`)
    if (e !== undefined) {
      if (!codes.has(e.code) || e._tag !== "StreamError") throw new Error(`an untyped error: ${e}`)
      error = e.code
    }
  }
  const end = p.end()
  if (end !== undefined && !codes.has(end.code)) throw new Error(`an untyped end error: ${end}`)
  return { seen, error }
}

test("valid streams of random frames parse back exactly, in any chunking", (t) => {
  fc.assert(
    fc.property(fc.array(arbFrame, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 16 }), (frames, cuts) => {
      const { seen, error } = parse(chunks(encode(frames), cuts))
      return error === undefined &&
        JSON.stringify(seen) === JSON.stringify(frames.map((f) => ({ kind: f.kind, tag: f.tag, body: Array.from(f.body) })))
    }),
    { numRuns: 300 }
  )
  t.pass()
})

test("random bytes, in any chunking: no throw, a typed error or frames, never more than the maximum frame size held", (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 8192 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 16 }), (junk, withPreamble, cuts) => {
      const bytes = withPreamble ? new Uint8Array([...preamble(), ...junk]) : junk
      parse(chunks(bytes, cuts))
    }),
    { numRuns: 500 }
  )
  t.pass()
})

test("mutated streams (bit flips, truncations, insertions, deletions, forged lengths): no throw, typed errors, bounded memory", (t) => {
  fc.assert(
    fc.property(
      fc.array(arbFrame, { minLength: 1, maxLength: 8 }),
      fc.array(arbMutation, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (frames, ms, cuts) => {
        parse(chunks(mutate(encode(frames), ms), cuts))
      }
    ),
    { numRuns: 500 }
  )
  t.pass()
})

const WORLD = new TextEncoder().encode("test-world")

/** What a client might send: a whole handshake with a wrong secret (it cannot know the acceptor's nonce), then frames. */
const arbClientBytes = fc.record({
  dialer: fc.oneof({ arbitrary: fc.constant(1), weight: 4 }, { arbitrary: fc.integer({ min: -1, max: 4 }), weight: 1 }),
  wants: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: -1, max: 2 }), weight: 1 }),
  world: fc.oneof({ arbitrary: fc.constant(WORLD), weight: 4 }, { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 1 }),
  nonce: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  secret: fc.uint8Array({ maxLength: 40 }),
  proof: fc.option(fc.uint8Array({ maxLength: 40 })),
  after: fc.array(arbFrame, { maxLength: 3 }),
  junk: fc.option(fc.uint8Array({ maxLength: 600 }), { freq: 4 }),
  mutations: fc.array(arbMutation, { maxLength: 3 }),
  cuts: fc.array(fc.nat(), { maxLength: 5 })
}).map((c) => {
  const hello = Handshake.hello(c.dialer >>> 0, c.wants >>> 0, c.nonce, Handshake.random(16), c.world)
  const t: Handshake.Transcript = {
    world: c.world,
    dialer: c.dialer >>> 0,
    acceptor: 0,
    dialerNonce: c.nonce,
    acceptorNonce: new Uint8Array(32),
    dialerIncarnation: new Uint8Array(16),
    acceptorIncarnation: new Uint8Array(16)
  }
  const auth = Handshake.answer(LinkKind.AUTH, c.dialer >>> 0, 0, c.proof ?? Handshake.proof(c.secret.byteLength > 0 ? c.secret : Uint8Array.of(1), "dialer", t))
  const rest = encode(c.after).subarray(8)
  const bytes = c.junk ?? new Uint8Array([...preamble(), ...hello, ...auth, ...rest])
  return { parts: chunks(mutate(bytes, c.mutations), c.cuts) }
})

test.serial("random and mutated handshakes at a listening rank's socket: each refused or timed out, nothing reaches the engine; then a genuine rank connects and is heard", async (t) => {
  const r0 = await alone(2, { handshakeTimeout: 250 })
  let delivered = 0
  const frame = r0.engine.frame.bind(r0.engine)
  r0.engine.frame = (f) => {
    delivered++
    frame(f)
  }
  try {
    const samples = fc.sample(arbClientBytes, { numRuns: 80, seed: 20261123 })
    // Four clients at a time.
    for (let i = 0; i < samples.length; i += 4) {
      await Promise.all(
        samples.slice(i, i + 4).map(async ({ parts }) => {
          const c = raw(r0.dir, 0)
          await c.opened
          for (const p of parts) {
            if (c.socket.destroyed) break
            c.socket.write(p)
            await sleep(1)
          }
          const closed = await Promise.race([c.closed.then(() => true), sleep(2000).then(() => false)])
          if (!closed) t.fail(`a bad client was not closed within 2 s: ${parts.map((p) => Buffer.from(p).toString("hex")).join(" | ")}`)
          c.socket.destroy()
        })
      )
    }
    t.is(delivered, 0, "no frame of a bad client reached the engine")
    t.is(r0.transport.linkState(1), "connecting")
    const warned = new Set(r0.logs.filter((l) => l.level === "warn").map((l) => l.code))
    t.log(`codes logged: ${[...warned].sort().join(", ")}`)
    t.true([...warned].every((c) => c !== undefined && codes.has(c)))
    t.true(warned.has("ERR_AUTH_FAILED") && warned.has("ERR_BAD_MAGIC"))

    // A genuine rank 1, after all that.
    const w1 = await world(2, {}, undefined, [1], r0.dir)
    try {
      const [a, b] = await Promise.all([
        World.runRank(r0.engine, async (comm) => comm.sendrecv({ from: 0 }, 1, 0, 1, 0)),
        World.runRank(w1.engines[0]!, async (comm) => comm.sendrecv({ from: 1 }, 0, 0, 0, 0))
      ])
      t.deepEqual(a!.value, { from: 1 })
      t.deepEqual(b!.value, { from: 0 })
      t.is(r0.transport.linkState(1), "up")
    } finally {
      w1.close()
    }
  } finally {
    r0.close()
  }
})
