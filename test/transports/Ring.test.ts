/** The shared-memory ring on its own: records, wrap-around, pieces, and a full ring. */
import test from "ava"
import { Envelope } from "../../core/index.ts"
import { RingReader, ringBytes, RingWriter } from "../../transports/worker/Ring.ts"

const cap = 4096
const make = () => {
  const sab = new SharedArrayBuffer(ringBytes(cap))
  return { w: new RingWriter(sab, 0, cap), r: new RingReader(sab, 0, cap, 1) }
}
const frame = (tag: number, body?: Uint8Array): Envelope.Frame => {
  const f = Envelope.make(Envelope.Kind.EAGER, 0, 1, 2, tag, Envelope.Format.RAW + 1, body?.byteLength ?? 0, body)
  f.seq = tag
  return f
}
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff)

test("frames come out in order with their headers, across many wrap-arounds", (t) => {
  const { w, r } = make()
  const got: Array<{ tag: number; seq: number; ctx: number; body: Array<number> }> = []
  const sink = (f: Envelope.Frame) => got.push({ tag: f.tag, seq: f.seq, ctx: f.ctx, body: f.body ? Array.from(f.body) : [] })
  let sent = 0
  for (let round = 0; round < 200; round++) {
    for (let k = 0; k < 3; k++) {
      const n = (round * 37 + k * 101) % 700
      t.is(w.write(frame(sent, bytes(n, sent)), 0), n)
      sent++
    }
    w.publish()
    r.drain(sink, () => new Uint8Array(0))
  }
  t.is(got.length, sent)
  t.true(got.every((g, i) => g.tag === i && g.seq === i && g.ctx === 2))
  t.true(got.every((g, i) => g.body.length === ((Math.floor(i / 3) * 37 + (i % 3) * 101) % 700)))
  t.true(got.every((g) => g.body.every((b, j) => b === ((j * 7 + g.tag) & 0xff))))
  t.true(w.empty())
})

test("a full ring refuses a record until the reader frees room, and asks to hear about it", (t) => {
  const { w, r } = make()
  let n = 0
  while (w.write(frame(n, bytes(500, n)), 0) >= 0) n++
  t.true(n >= 6 && n <= 8)
  w.publish()
  w.wantRoom()
  const seen: Array<number> = []
  t.true(r.drain((f) => seen.push(f.tag), () => new Uint8Array(0)), "the reader reports the writer's wish")
  t.is(seen.length, n)
  t.true(w.write(frame(n, bytes(500, n)), 0) >= 0)
})

test("a body larger than a record goes in pieces into the target the reader is given", (t) => {
  const { w, r } = make()
  const big = bytes(50_000, 3)
  const f = frame(9, big)
  f.kind = Envelope.Kind.DATA
  f.size = big.byteLength
  let offset = 0
  let target: Uint8Array | undefined
  let delivered: Envelope.Frame | undefined
  let rounds = 0
  while (delivered === undefined) {
    const at = w.write(f, offset)
    if (at > offset) offset = at
    w.publish()
    r.drain((g) => (delivered = { ...g }), (g) => (target = new Uint8Array(g.size)))
    rounds++
    if (rounds > 1000) break
  }
  t.true(rounds > 1, "it took several rounds of writing and reading")
  t.is(delivered?.tag, 9)
  t.is(delivered?.body?.buffer, target?.buffer)
  t.deepEqual(Array.from(delivered!.body!), Array.from(big))
})
