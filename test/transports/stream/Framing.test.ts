/**
 * The stream protocol's framing fed crafted bytes: frames through every
 * chunking, borrowed views, and each kind of malformed input refused with
 * its code before the parser keeps a byte of it.
 */
import test from "ava"
import { Envelope } from "../../../core/index.ts"
import { FRAME_OVERHEAD, LinkKind, Parser, preamble, writeFrame } from "../../../transports/stream/Framing.ts"
import { concat } from "./harness.ts"

const frame = (kind: number, tag: number, body?: Uint8Array): Uint8Array => {
  const f = Envelope.make(kind, 3, 0, 7, tag, Envelope.Format.RAW + 1, body?.byteLength ?? 0, body)
  f.seq = tag + 1
  f.id = 11
  f.ref = 12
  const out = new Uint8Array(FRAME_OVERHEAD + (body?.byteLength ?? 0))
  writeFrame(out, 0, f, body?.byteLength ?? 0, body)
  return out
}
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)
const le32 = (n: number) => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}

interface Got {
  kind: number
  tag: number
  seq: number
  src: number
  ctx: number
  id: number
  ref: number
  size: number
  body: Array<number>
}
const collect = (got: Array<Got>) => (f: Envelope.Frame, body: Uint8Array) =>
  got.push({ kind: f.kind, tag: f.tag, seq: f.seq, src: f.src, ctx: f.ctx, id: f.id, ref: f.ref, size: f.size, body: Array.from(body) })

const stream = concat(
  preamble(),
  frame(Envelope.Kind.EAGER, 0, bytes(100, 1)),
  frame(Envelope.Kind.RTS, 1),
  frame(Envelope.Kind.EAGER, 2, bytes(3, 2)),
  frame(LinkKind.ACK, 3),
  frame(Envelope.Kind.DATA, 4, bytes(5000, 3)),
  frame(Envelope.Kind.FIN, 5)
)
const expectedBodies = [100, 0, 3, 0, 5000, 0]

test("frames come out whole and in order from every split of the stream into two and three chunks", (t) => {
  const whole: Array<Got> = []
  t.is(new Parser({ maxFrame: 1 << 20, preamble: true, rank: 0 }).push(stream, collect(whole)), undefined)
  t.deepEqual(whole.map((g) => g.tag), [0, 1, 2, 3, 4, 5])
  t.deepEqual(whole.map((g) => g.body.length), expectedBodies)
  t.true(whole.every((g) => g.seq === g.tag + 1 && g.src === 3 && g.ctx === 7 && g.id === 11 && g.ref === 12))
  t.deepEqual(whole[4]!.body, Array.from(bytes(5000, 3)))
  for (let cut = 1; cut < stream.byteLength; cut += 1) {
    const got: Array<Got> = []
    const p = new Parser({ maxFrame: 1 << 20, preamble: true, rank: 0 })
    t.is(p.push(stream.subarray(0, cut), collect(got)), undefined)
    t.is(p.push(stream.subarray(cut), collect(got)), undefined)
    if (JSON.stringify(got) !== JSON.stringify(whole)) return t.fail(`split at ${cut}`)
    t.is(p.pending, 0)
  }
  for (let a = 1; a < stream.byteLength; a += 97) {
    for (let b = a + 1; b < stream.byteLength; b += 89) {
      const got: Array<Got> = []
      const p = new Parser({ maxFrame: 1 << 20, preamble: true, rank: 0 })
      for (const part of [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]) p.push(part, collect(got))
      if (JSON.stringify(got) !== JSON.stringify(whole)) return t.fail(`splits at ${a}, ${b}`)
    }
  }
  // One byte at a time.
  const got: Array<Got> = []
  const p = new Parser({ maxFrame: 1 << 20, preamble: true, rank: 0 })
  for (let i = 0; i < stream.byteLength; i++) p.push(stream.subarray(i, i + 1), collect(got))
  t.deepEqual(got, whole)
})

test("a frame that lies whole in a chunk is handed out as a view of it (borrowed, not copied)", (t) => {
  const chunk = concat(preamble(), frame(Envelope.Kind.EAGER, 9, bytes(64, 5)))
  let body: Uint8Array | undefined
  new Parser({ maxFrame: 4096, preamble: true, rank: 0 }).push(chunk, (_f, b) => (body = b))
  t.is(body?.buffer, chunk.buffer)
  t.is(body?.byteOffset, chunk.byteOffset + 8 + FRAME_OVERHEAD)
})

test("a stream that does not start with the magic fails at its first wrong byte: ERR_BAD_MAGIC", (t) => {
  for (const junk of [Uint8Array.of(0x47), new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"), Uint8Array.of(0x52, 0x4b, 0x00)]) {
    const p = new Parser({ maxFrame: 4096, preamble: true, rank: 2 })
    const e = p.push(junk, () => t.fail("no frame"))
    t.is(e?.code, "ERR_BAD_MAGIC")
    t.is(e?._tag, "StreamError")
    t.is(e?.rank, 2)
    t.is(p.push(preamble(), () => t.fail("no frame after a failure")), e, "a failed parser stays failed")
  }
})

test("another protocol version: ERR_BAD_VERSION", (t) => {
  const b = preamble()
  b[4] = 2
  t.is(new Parser({ maxFrame: 4096, preamble: true, rank: 0 }).push(b, () => {})?.code, "ERR_BAD_VERSION")
})

test("a length above the maximum frame size fails before anything is allocated for it: ERR_FRAME_TOO_LARGE", (t) => {
  for (const len of [4097, 0xffffffff, 1 << 30]) {
    const p = new Parser({ maxFrame: 4096, preamble: true, rank: 0 })
    const e = p.push(concat(preamble(), le32(len)), () => t.fail("no frame"))
    t.is(e?.code, "ERR_FRAME_TOO_LARGE")
    t.true(p.capacity <= 4096)
  }
  // The largest allowed frame still passes, in pieces, and the buffer never grows past it.
  const p = new Parser({ maxFrame: 4096, preamble: false, rank: 0 })
  const big = frame(Envelope.Kind.EAGER, 1, bytes(4096 - Envelope.HEADER_BYTES, 1))
  let n = 0
  for (let i = 0; i < big.byteLength; i += 1000) t.is(p.push(big.subarray(i, i + 1000), () => n++), undefined)
  t.is(n, 1)
  t.true(p.capacity <= 4096)
})

test("a length shorter than a header: ERR_FRAME_TOO_SHORT", (t) => {
  for (const len of [0, 1, 31]) {
    t.is(new Parser({ maxFrame: 4096, preamble: false, rank: 0 }).push(concat(le32(len), new Uint8Array(40)), () => t.fail())?.code, "ERR_FRAME_TOO_SHORT")
  }
})

test("an unknown kind fails as soon as the header is in, whole or split: ERR_UNKNOWN_KIND", (t) => {
  const bad = frame(0x99, 0, bytes(2000, 1))
  t.is(new Parser({ maxFrame: 4096, preamble: false, rank: 0 }).push(bad, () => t.fail())?.code, "ERR_UNKNOWN_KIND")
  const p = new Parser({ maxFrame: 4096, preamble: false, rank: 0 })
  t.is(p.push(bad.subarray(0, 20), () => t.fail()), undefined)
  t.is(p.push(bad.subarray(20, FRAME_OVERHEAD), () => t.fail())?.code, "ERR_UNKNOWN_KIND", "before the body comes")
  const zero = frame(0, 0)
  t.is(new Parser({ maxFrame: 4096, preamble: false, rank: 0 }).push(zero, () => t.fail())?.code, "ERR_UNKNOWN_KIND")
})

test("a stream that ends inside a frame: ERR_TRUNCATED; at a boundary: nothing", (t) => {
  const f = frame(Envelope.Kind.EAGER, 0, bytes(10, 1))
  for (const cut of [2, 4, 20, f.byteLength - 1]) {
    const p = new Parser({ maxFrame: 4096, preamble: false, rank: 0 })
    p.push(f.subarray(0, cut), () => t.fail())
    t.is(p.end()?.code, "ERR_TRUNCATED", `cut at ${cut}`)
  }
  const p = new Parser({ maxFrame: 4096, preamble: false, rank: 0 })
  p.push(f, () => {})
  t.is(p.end(), undefined)
})

test("stop() ends reading in the middle of a chunk", (t) => {
  const p = new Parser({ maxFrame: 4096, preamble: false, rank: 0 })
  const seen: Array<number> = []
  p.push(concat(frame(Envelope.Kind.EAGER, 1), frame(Envelope.Kind.EAGER, 2), frame(Envelope.Kind.EAGER, 3)), (f) => {
    seen.push(f.tag)
    if (f.tag === 2) p.stop()
  })
  t.deepEqual(seen, [1, 2])
})
