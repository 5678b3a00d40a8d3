/** The codec: round trips, typed arrays as their own kind, and refusals. */
import test from "ava"
import * as Codec from "../../core/Codec.ts"
import { Format } from "../../core/Envelope.ts"

const roundTrip = (v: unknown) => Codec.decode(Codec.encode(v))

test("structured-clone values round-trip", (t) => {
  const v = {
    n: 1.5,
    s: "héllo",
    b: true,
    nil: null,
    u: undefined,
    big: 2n ** 100n,
    neg: -(2n ** 70n),
    arr: [1, [2, { x: 3 }]],
    map: new Map<unknown, unknown>([[1, "a"], ["k", { y: 2 }]]),
    set: new Set([1, "two"]),
    date: new Date(1234),
    re: /a+b/gi,
    err: new RangeError("bad"),
    nullProto: Object.assign(Object.create(null), { z: 1 })
  }
  const out = roundTrip(v) as typeof v
  t.deepEqual({ ...out, err: undefined, nullProto: undefined }, { ...v, err: undefined, nullProto: undefined })
  t.true(out.map instanceof Map)
  t.true(out.set instanceof Set)
  t.true(out.err instanceof RangeError)
  t.is(out.err.message, "bad")
  t.is(out.nullProto.z, 1)
})

test("typed arrays keep their kind; Buffers stay Buffers; views copy only their bytes", (t) => {
  const base = new Float64Array([1, 2, 3, 4])
  const v = {
    f64: base.subarray(1, 3),
    u8: new Uint8Array([1, 2]),
    buf: Buffer.from("abc"),
    i64: BigInt64Array.of(-1n),
    dv: new DataView(new Uint8Array([9, 8, 7]).buffer, 1),
    ab: new Uint8Array([5]).buffer
  }
  const out = roundTrip(v) as any
  t.is(out.f64.constructor, Float64Array)
  t.deepEqual(Array.from(out.f64), [2, 3])
  t.is(out.f64.byteOffset, 0)
  t.is(out.u8.constructor, Uint8Array)
  t.false(Buffer.isBuffer(out.u8))
  t.true(Buffer.isBuffer(out.buf))
  t.is(out.buf.toString(), "abc")
  t.deepEqual(Array.from(out.i64), [-1n])
  t.true(out.dv instanceof DataView)
  t.deepEqual(Array.from(new Uint8Array(out.dv.buffer)), [8, 7])
  t.true(out.ab instanceof ArrayBuffer)
})

test("raw kinds: fromRaw rebuilds each kind and checks the length", (t) => {
  const f = new Float32Array([1.5, -2])
  const k = Codec.viewKind(f)
  const back = Codec.fromRaw(k, Codec.rawBytes(f)) as Float32Array
  t.deepEqual(Array.from(back), [1.5, -2])
  t.not(back.buffer, f.buffer)
  t.throws(() => Codec.fromRaw(k, new Uint8Array(3)), { message: /whole number of Float32Array/ })
  t.throws(() => Codec.fromRaw(99, new Uint8Array(3)), { message: /unknown raw kind/ })
  t.is(Codec.viewKind({}), -1)
  class MyArray extends Uint8Array {}
  t.is(Codec.viewKind(new MyArray(2)), -1)
})

test("cycles and shared references survive (as structured clone)", (t) => {
  const a: any = { name: "a" }
  a.self = a
  a.list = [a, { back: a }]
  const out = roundTrip(a) as any
  t.is(out.self, out)
  t.is(out.list[0], out)
  t.is(out.list[1].back, out)
})

test("functions, symbols, class instances and promises are refused with their path", (t) => {
  class Point {
    x = 1
  }
  const cases: Array<[unknown, RegExp, string]> = [
    [{ a: { b: () => 1 } }, /function/, "value.a.b"],
    [[1, 2, Symbol("s")], /symbol/, "value[2]"],
    [{ p: new Point() }, /class Point/, "value.p"],
    [new Map([["k", new Point()]]), /class Point/, 'value.get("k")'],
    [new Set([Promise.resolve(1)]), /Promise/, "value.values[0]"],
    [{ w: new WeakMap() }, /WeakMap/, "value.w"],
    [function named() {}, /function \(named\)/, "value"]
  ]
  for (const [v, what, path] of cases) {
    const e = t.throws(() => Codec.encode(v), { instanceOf: Codec.Refused })!
    t.regex(e.what, what)
    t.is(e.path, path)
  }
  // The packer keeps working after a refusal.
  t.deepEqual(roundTrip({ ok: [1, 2] }), { ok: [1, 2] })
})

test("a registered class is rebuilt", (t) => {
  class Vec {
    readonly x: number
    readonly y: number
    constructor(x: number, y: number) {
      this.x = x
      this.y = y
    }
    norm() {
      return Math.hypot(this.x, this.y)
    }
  }
  Codec.register(Vec, 3, { encode: (v): [number, number] => [v.x, v.y], decode: ([x, y]: [number, number]) => new Vec(x, y) })
  const out = roundTrip({ v: new Vec(3, 4) }) as { v: Vec }
  t.true(out.v instanceof Vec)
  t.is(out.v.norm(), 5)
  t.throws(() => Codec.register(Vec, 99, { encode: (v) => v.x, decode: (x: number) => new Vec(x, 0) }), { instanceOf: RangeError })
})

test("malformed bytes fail to decode with an error, not a crash", (t) => {
  t.throws(() => Codec.decode(new Uint8Array([0xc1])))
  t.throws(() => Codec.decode(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff])))
})

test("message bodies take the fastest format that carries them", (t) => {
  const body = (v: unknown): [number, unknown] => {
    const bytes = Codec.encodeBody(v)
    const fmt = Codec.bodyFormat()
    return [fmt, Codec.decodeBody(fmt, bytes.slice())]
  }
  t.deepEqual(body(1.25), [Format.NUMBER, 1.25])
  t.deepEqual(body(-0), [Format.NUMBER, -0])
  t.deepEqual(body({ a: [1, { b: "x" }] }), [Format.MSGPACK, { a: [1, { b: "x" }] }])
  const [fmt, m] = body({ deep: [new Map([[1, { k: 2 }]])] }) as [number, any]
  t.is(fmt, Format.RECORDS)
  t.true(m.deep[0] instanceof Map)
  t.deepEqual(m.deep[0].get(1), { k: 2 })
  const [sfmt, set] = body(new Set([new Map([["a", 1]])])) as [number, Set<Map<string, number>>]
  t.is(sfmt, Format.RECORDS)
  t.true([...set][0] instanceof Map)
  const cyc: any = { n: 1 }
  cyc.me = cyc
  const [cfmt, c] = body(cyc) as [number, any]
  t.is(cfmt, Format.RECORDS)
  t.is(c.me, c)
  t.throws(() => Codec.decodeBody(Format.NUMBER, new Uint8Array(3)), { message: /8 bytes/ })
  t.throws(() => Codec.decodeBody(9, new Uint8Array(3)), { message: /unknown body format/ })
})
