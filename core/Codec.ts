/**
 * The codec: how values become bytes and back. The only module that imports
 * msgpackr.
 *
 * Values carry as structured clone carries them, plus bigints of any size:
 * primitives, plain objects, arrays, Map, Set, Date, RegExp, Error, every
 * typed array kind (as that kind, not as a Buffer), Node Buffers (as Buffers),
 * ArrayBuffer, SharedArrayBuffer (copied) and DataView. Typed arrays travel as
 * their raw bytes, never element by element. Functions, symbols and instances
 * of classes the codec cannot rebuild are refused with {@link Refused}; a
 * class can be taught to the codec with {@link register}.
 *
 * A typed array sent on its own (the buffer API) skips msgpack entirely: its
 * bytes are the frame body and its kind is in the frame header (see
 * {@link viewKind} and {@link fromRaw}).
 *
 * @since 0.1.0
 */
import { addExtension, C1, Packr } from "msgpackr"
import { Format } from "./Envelope.ts"

/** Any value whose bytes travel raw. */
export type RawValue = ArrayBufferView | ArrayBuffer | SharedArrayBuffer

/** A typed array (any element kind, including Node Buffers). */
export type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array
  | Float16Array

const F16: (new(buffer: ArrayBuffer) => ArrayBufferView) | undefined = (globalThis as any).Float16Array

interface KindInfo {
  readonly name: string
  readonly bytes: number
  readonly make: ((buffer: ArrayBuffer, length: number) => RawValue) | undefined
}

const typed = (name: string, bytes: number, C: any): KindInfo => ({
  name,
  bytes,
  make: C === undefined ? undefined : (buffer) => new C(buffer)
})

/**
 * The kinds of raw values, by index. The index travels in the frame header
 * (as `Format.RAW + index`) and in the codec's extension, so it is part of the
 * wire protocol: append only.
 *
 * @category kinds
 * @since 0.1.0
 */
export const kinds: ReadonlyArray<KindInfo> = [
  typed("Int8Array", 1, Int8Array),
  typed("Uint8Array", 1, Uint8Array),
  typed("Uint8ClampedArray", 1, Uint8ClampedArray),
  typed("Int16Array", 2, Int16Array),
  typed("Uint16Array", 2, Uint16Array),
  typed("Int32Array", 4, Int32Array),
  typed("Uint32Array", 4, Uint32Array),
  typed("Float32Array", 4, Float32Array),
  typed("Float64Array", 8, Float64Array),
  typed("BigInt64Array", 8, BigInt64Array),
  typed("BigUint64Array", 8, BigUint64Array),
  typed("Float16Array", 2, F16),
  { name: "Buffer", bytes: 1, make: (buffer) => Buffer.from(buffer) },
  { name: "DataView", bytes: 1, make: (buffer) => new DataView(buffer) },
  { name: "ArrayBuffer", bytes: 1, make: (buffer) => buffer },
  {
    name: "SharedArrayBuffer",
    bytes: 1,
    make: (buffer) => {
      const s = new SharedArrayBuffer(buffer.byteLength)
      new Uint8Array(s).set(new Uint8Array(buffer))
      return s
    }
  }
]

/** Kind index of Node's Buffer. */
export const KIND_BUFFER = 12
/** Kind index of DataView. */
export const KIND_DATAVIEW = 13
/** Kind index of Uint8Array. */
export const KIND_UINT8 = 1

const kindByCtor = new Map<unknown, number>()
;[
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  F16
].forEach((C, i) => C !== undefined && kindByCtor.set(C, i))
kindByCtor.set(Buffer, KIND_BUFFER)
kindByCtor.set(DataView, KIND_DATAVIEW)
kindByCtor.set(ArrayBuffer, 14)
kindByCtor.set(SharedArrayBuffer, 15)

/**
 * The raw kind of `v`, or -1 when `v` does not travel as raw bytes (an object,
 * a primitive, or a subclass of a typed array, which the codec refuses).
 *
 * @category kinds
 * @since 0.1.0
 */
export const viewKind = (v: unknown): number => {
  if (typeof v !== "object" || v === null) return -1
  const k = kindByCtor.get(v.constructor)
  return k === undefined ? -1 : k
}

/**
 * A Uint8Array over the bytes of a raw value (no copy).
 *
 * @category kinds
 * @since 0.1.0
 */
export const rawBytes = (v: RawValue): Uint8Array =>
  ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(v)

/**
 * Rebuilds a raw value of kind `kind` from `bytes` (copied; `bytes` may be
 * borrowed). Throws a plain `Error` naming what is wrong for a length that is
 * not a whole number of elements or an unknown kind.
 *
 * @category kinds
 * @since 0.1.0
 */
export const fromRaw = (kind: number, bytes: Uint8Array): RawValue => {
  const info = kinds[kind]
  if (info === undefined) throw new Error(`unknown raw kind ${kind}`)
  if (info.make === undefined) throw new Error(`${info.name} is not available in this Node.js version`)
  if (bytes.byteLength % info.bytes !== 0) {
    throw new Error(`${bytes.byteLength} bytes is not a whole number of ${info.name} elements`)
  }
  if (kind === KIND_BUFFER) return Buffer.from(bytes)
  const buffer = new ArrayBuffer(bytes.byteLength)
  new Uint8Array(buffer).set(bytes)
  return info.make(buffer, bytes.byteLength / info.bytes)
}

/**
 * Can a raw message of `kind` land in a receive buffer of `bufKind`? The
 * same kind, any kind into a DataView, and Buffer and Uint8Array into each
 * other.
 *
 * @category kinds
 * @since 0.1.0
 */
export const compatible = (kind: number, bufKind: number): boolean =>
  kind === bufKind ||
  bufKind === KIND_DATAVIEW ||
  ((kind === KIND_BUFFER || kind === KIND_UINT8) && (bufKind === KIND_BUFFER || bufKind === KIND_UINT8))

/**
 * Describes a raw message of `kind` and `bytes` for error messages
 * ("Int32Array(1000)").
 *
 * @category kinds
 * @since 0.1.0
 */
export const describeRaw = (kind: number, bytes: number): string => {
  const info = kinds[kind]
  return info === undefined ? `raw kind ${kind}` : `${info.name}(${bytes / info.bytes})`
}

/**
 * Describes any value's type for error messages.
 *
 * @category kinds
 * @since 0.1.0
 */
export const describeValue = (v: unknown): string => {
  const k = viewKind(v)
  if (k >= 0) return describeRaw(k, rawBytes(v as RawValue).byteLength)
  if (v === null) return "null"
  if (Array.isArray(v)) return `an array of ${v.length}`
  if (typeof v === "object") return `an object (${v.constructor?.name ?? "null prototype"})`
  return `a ${typeof v}`
}

/**
 * Thrown by {@link encode} for a value the codec cannot carry.
 *
 * @category errors
 * @since 0.1.0
 */
export class Refused extends Error {
  readonly what: string
  readonly path: string
  constructor(what: string, path: string) {
    super(`cannot encode ${path}: it is ${what}`)
    this.name = "Refused"
    this.what = what
    this.path = path
  }
}

const registered = new Set<unknown>()

const allowedObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v)
  if (proto === Object.prototype || proto === null) return true
  if (Array.isArray(v) || v instanceof Map || v instanceof Set || v instanceof Date || v instanceof RegExp) return true
  if (v instanceof Error) return true
  if (viewKind(v) >= 0) return true
  for (const C of registered) if (v instanceof (C as any)) return true
  return false
}

const whatIs = (v: unknown): string => {
  if (typeof v === "function") return `a function${v.name ? ` (${v.name})` : ""}`
  if (typeof v === "symbol") return `a symbol (${String(v)})`
  if (typeof v === "object" && v !== null) {
    if (v instanceof Number || v instanceof String || v instanceof Boolean) return "a boxed primitive"
    if (ArrayBuffer.isView(v)) return `an instance of ${v.constructor.name}, a subclass of a typed array`
    if (v instanceof WeakMap || v instanceof WeakSet || v instanceof WeakRef) return `a ${v.constructor.name}`
    if (v instanceof Promise) return "a Promise"
    return `an instance of class ${v.constructor?.name ?? "(anonymous)"}`
  }
  return `a ${typeof v}`
}

/**
 * Finds the first part of `v` the codec would refuse, with its path, or
 * `undefined` if there is none. Used to explain a refusal; the codec itself
 * refuses during encoding, without a separate walk.
 *
 * @category encoding
 * @since 0.1.0
 */
export const findUnencodable = (v: unknown, path = "value"): { what: string; path: string } | undefined => {
  const seen = new Set<object>()
  const walk = (x: unknown, p: string): { what: string; path: string } | undefined => {
    if (typeof x === "function" || typeof x === "symbol") return { what: whatIs(x), path: p }
    if (typeof x !== "object" || x === null) return undefined
    if (seen.has(x)) return undefined
    seen.add(x)
    try {
      if (!allowedObject(x)) return { what: whatIs(x), path: p }
      if (viewKind(x) >= 0 || x instanceof Date || x instanceof RegExp) return undefined
      if (Array.isArray(x)) {
        for (let i = 0; i < x.length; i++) {
          const r = walk(x[i], `${p}[${i}]`)
          if (r) return r
        }
        return undefined
      }
      if (x instanceof Map) {
        let i = 0
        for (const [k, val] of x) {
          const r = walk(k, `${p}.keys[${i}]`) ?? walk(val, `${p}.get(${typeof k === "string" ? JSON.stringify(k) : typeof k === "number" ? k : `<key ${i}>`})`)
          if (r) return r
          i++
        }
        return undefined
      }
      if (x instanceof Set) {
        let i = 0
        for (const val of x) {
          const r = walk(val, `${p}.values[${i++}]`)
          if (r) return r
        }
        return undefined
      }
      if (x instanceof Error) return walk(x.cause, `${p}.cause`)
      for (const k of Object.keys(x)) {
        const r = walk((x as any)[k], /^[A-Za-z_$][\w$]*$/.test(k) ? `${p}.${k}` : `${p}[${JSON.stringify(k)}]`)
        if (r) return r
      }
      return undefined
    } finally {
      seen.delete(x)
    }
  }
  return walk(v, path)
}

const EXT_RAW = 0x52 // "R": a raw value nested in a message
const EXT_REFUSE = 0x21 // never written: refusal hook

// Matches any non-plain object the codec cannot rebuild; its extension throws.
class Unrebuildable {
  static [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === "object" && v !== null && !allowedObject(v)
  }
}
// Matches raw values nested inside a message.
class RawMatch {
  static [Symbol.hasInstance](v: unknown): boolean {
    return viewKind(v) >= 0
  }
}

addExtension({
  Class: RawMatch as any,
  type: EXT_RAW,
  pack(value: RawValue, allocateForWrite: (n: number) => { target: Uint8Array; position: number; targetView: DataView }) {
    const kind = viewKind(value)
    const bytes = rawBytes(value)
    const len = bytes.byteLength + 1
    let w
    if (len < 0x100) {
      w = allocateForWrite(3 + len)
      w.target[w.position++] = 0xc7
      w.target[w.position++] = len
    } else if (len < 0x10000) {
      w = allocateForWrite(4 + len)
      w.target[w.position++] = 0xc8
      w.target[w.position++] = len >> 8
      w.target[w.position++] = len & 0xff
    } else {
      w = allocateForWrite(6 + len)
      w.target[w.position++] = 0xc9
      w.targetView.setUint32(w.position, len)
      w.position += 4
    }
    w.target[w.position++] = EXT_RAW
    w.target[w.position++] = kind
    w.target.set(bytes, w.position)
  },
  unpack(data: Uint8Array) {
    return fromRaw(data[0]!, data.subarray(1))
  }
} as any)

addExtension({
  Class: Unrebuildable as any,
  type: EXT_REFUSE,
  write(v: unknown) {
    throw new Refused(whatIs(v), "value")
  },
  read() {
    throw new Error("refused value on the wire")
  }
} as any)

const options = {
  moreTypes: true,
  useBigIntExtension: true,
  copyBuffers: true,
  encodeUndefinedAsNil: false,
  writeFunction: (f: unknown) => {
    throw new Refused(whatIs(f), "value")
  }
}
// Two packers: msgpack proper (objects as maps, the fastest), and records
// (objects as records, so that a JS Map, written as a msgpack map, decodes as
// a Map again). A message uses records only when it holds a Map.
const plain = new Packr({ ...options, useRecords: false, mapsAsObjects: true } as any)
const records = new Packr({ ...options, mapsAsObjects: false } as any)
// Cycles and shared references: the packers recurse without tracking
// identity; a value they cannot finish (a cycle) is packed again with
// identity tracking, as structured clone does.
const cloning = new Packr({ ...options, structuredClone: true, mapsAsObjects: false } as any)

/**
 * Does `v` need records (does it hold a Map)? Deep or unusual values answer
 * yes: records carry everything, only a little slower.
 */
const needsRecords = (v: unknown, depth: number): boolean => {
  if (typeof v !== "object" || v === null) return false
  if (depth > 24) return true
  const c = (v as object).constructor
  if (c === Object || c === undefined) {
    for (const k in v) if (needsRecords((v as Record<string, unknown>)[k], depth + 1)) return true
    return false
  }
  if (c === Array) {
    const a = v as Array<unknown>
    for (let i = 0; i < a.length; i++) if (needsRecords(a[i], depth + 1)) return true
    return false
  }
  if (kindByCtor.has(c) || c === Date || c === RegExp) return false
  if (c === Set) {
    for (const x of v as Set<unknown>) if (needsRecords(x, depth + 1)) return true
    return false
  }
  return true
}

const pack = (p: Packr, value: unknown): Uint8Array => {
  try {
    return p.pack(value)
  } catch (e) {
    return packSlow(value, e)
  }
}

const packSlow = (value: unknown, first: unknown): Uint8Array => {
  if (first instanceof RangeError && /call stack/i.test(first.message)) {
    try {
      lastFormat = Format.RECORDS
      return cloning.pack(value)
    } catch (e) {
      first = e
    }
  }
  const found = findUnencodable(value)
  if (found) throw new Refused(found.what, found.path)
  if (first instanceof Refused) throw first
  if (first instanceof RangeError && /call stack/i.test(first.message)) {
    throw new Refused("nested too deeply to encode", "value")
  }
  throw new Refused(first instanceof Error ? `not encodable (${first.message})` : "not encodable", "value")
}

const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)
const in64 = new Float64Array(1)
const inBytes = new Uint8Array(in64.buffer)
const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1
let lastFormat: number = Format.MSGPACK

/**
 * The format {@link encodeBody} chose for the bytes it returned last.
 *
 * @category encoding
 * @since 0.1.0
 */
export const bodyFormat = (): number => lastFormat

/**
 * Encodes a message body (not a raw value: see {@link viewKind}) in the
 * fastest format that carries it; {@link bodyFormat} tells which. The bytes
 * are a view of a scratch buffer, valid until the next call. Throws
 * {@link Refused} for what the codec cannot carry.
 *
 * @category encoding
 * @since 0.1.0
 */
export const encodeBody = (value: unknown): Uint8Array => {
  if (typeof value === "number" && littleEndian) {
    f64[0] = value
    lastFormat = Format.NUMBER
    return f64Bytes
  }
  const rec = needsRecords(value, 0)
  lastFormat = rec ? Format.RECORDS : Format.MSGPACK
  return pack(rec ? records : plain, value)
}

/**
 * Decodes a body made by {@link encodeBody} (or raw bytes, for `RAW + k`).
 * `bytes` may be borrowed: the result shares no memory with it. Throws a
 * plain `Error` for malformed bytes.
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeBody = (fmt: number, bytes: Uint8Array): unknown => {
  switch (fmt) {
    case Format.MSGPACK:
      return checked(plain.unpack(bytes))
    case Format.RECORDS:
      return checked(records.unpack(bytes))
    case Format.NUMBER:
      if (bytes.byteLength !== 8 || !littleEndian) {
        if (bytes.byteLength !== 8) throw new Error(`a number body has 8 bytes, not ${bytes.byteLength}`)
        return new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true)
      }
      // Copied through a scratch float: no DataView per number.
      for (let i = 0; i < 8; i++) inBytes[i] = bytes[i]!
      return in64[0]
    default:
      if (fmt >= Format.RAW) return fromRaw(fmt - Format.RAW, bytes)
      throw new Error(`unknown body format ${fmt}`)
  }
}

const checked = (v: unknown): unknown => {
  if (v === C1) throw new Error("malformed message: 0xc1 is never used in msgpack")
  return v
}

/**
 * Encodes any value on its own (self-describing msgpack with records). The
 * bytes are a view of a scratch buffer, valid until the next call: copy them
 * to keep them. Throws {@link Refused} for what the codec cannot carry.
 *
 * @example
 * ```ts
 * import { Codec } from "rankflow"
 * const bytes = Codec.encode({ a: 1, xs: new Float64Array([1.5]) })
 * Codec.decode(bytes) // { a: 1, xs: Float64Array [1.5] }
 * ```
 * @category encoding
 * @since 0.1.0
 */
export const encode = (value: unknown): Uint8Array => pack(records, value)

/**
 * Decodes bytes made by {@link encode}. `bytes` may be borrowed: the result
 * shares no memory with it. Throws a plain `Error` for malformed bytes.
 *
 * @category decoding
 * @since 0.1.0
 */
export const decode = (bytes: Uint8Array): unknown => checked(records.unpack(bytes))

/**
 * Teaches the codec a class: values that are `instanceof Class` are written
 * with `encode` (to any encodable value) and rebuilt with `decode`. `type` is
 * a msgpack extension number from 1 to 0x1f, the same on every rank.
 *
 * @example
 * ```ts
 * import { Codec } from "rankflow"
 * class Point {
 *   x = 0
 *   y = 0
 * }
 * Codec.register(Point, 1, {
 *   encode: (p): [number, number] => [p.x, p.y],
 *   decode: ([x, y]: [number, number]) => Object.assign(new Point(), { x, y })
 * })
 * ```
 * @category registration
 * @since 0.1.0
 */
export const register = <T extends object, E>(
  Class: abstract new(...args: any) => T,
  type: number,
  codec: { readonly encode: (value: T) => E; readonly decode: (encoded: E) => T }
): void => {
  if (!Number.isInteger(type) || type < 1 || type > 0x1f) {
    throw new RangeError(`Codec.register: extension type ${type} is outside 1..31`)
  }
  registered.add(Class)
  addExtension({ Class: Class as any, type, write: codec.encode as any, read: codec.decode as any })
}
