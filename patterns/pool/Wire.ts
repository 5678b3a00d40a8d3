/**
 * How arguments and results travel between this thread and a worker: by
 * rankflow's codec (`Codec.encodeBody` / `Codec.decodeBody`, which pick the
 * fastest format for each message), with two additions.
 *
 * - **Moving instead of copying.** `move(typedArray)` (or
 *   `move(value, [buffers])`) as an argument or a result hands the buffer's
 *   memory to the other thread (a transfer list): the sender's array is left
 *   detached, and nothing is copied. Between processes a moved value is
 *   copied like any other.
 * - **Handles.** Objects that stand for something living in this process
 *   (a multiprocessing `Queue`, a `Pipe` connection) travel as handles, as
 *   top-level arguments, and are rebuilt on the worker's side as proxies.
 *
 * @since 0.2.0
 */
import { Codec } from "../../core/index.ts"

const MovedTypeId: unique symbol = Symbol.for("rankflow/patterns/Moved")

/**
 * A value to be moved (transferred) rather than copied; see {@link move}.
 *
 * @category models
 * @since 0.2.0
 */
export interface Moved<A> {
  readonly [MovedTypeId]: true
  readonly value: A
  readonly transfer: ReadonlyArray<ArrayBuffer>
}

/**
 * Marks an argument or a result to be moved to the other thread without
 * copying: a typed array, a `DataView` or an `ArrayBuffer` on its own, or any
 * value together with the `ArrayBuffer`s inside it to move. After the call
 * the sender's buffers are detached (length 0). Between processes the value
 * is copied. Types: `move(x)` has the type of `x`.
 *
 * @example
 * ```ts
 * import { move, ThreadPoolExecutor } from "rankflow/patterns/executor"
 * await using ex = new ThreadPoolExecutor({ maxWorkers: 1 })
 * const data = new Float64Array(1 << 20).fill(1)
 * // the array goes to the worker without a copy, and its result comes back the same way
 * const doubled = await ex.submit(async (a: Float64Array) => {
 *   const { move } = await import("rankflow/patterns/executor")
 *   for (let i = 0; i < a.length; i++) a[i]! *= 2
 *   return move(a)
 * }, move(data))
 * data.length // 0: it was moved
 * ```
 * @category constructors
 * @since 0.2.0
 */
export const move = <A>(value: A, transfer?: ReadonlyArray<ArrayBuffer>): A => {
  const list = transfer ?? ownBuffer(value)
  return { [MovedTypeId]: true, value, transfer: list } as Moved<A> as unknown as A
}

const ownBuffer = (v: unknown): ReadonlyArray<ArrayBuffer> => {
  if (v instanceof ArrayBuffer) return [v]
  if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) return [v.buffer]
  throw new TypeError("move(value) without a transfer list takes a typed array, a DataView or an ArrayBuffer; " +
    "for other values pass the buffers to move: move(value, [buffer, ...])")
}

/**
 * Is `u` a value marked by {@link move}?
 *
 * @category guards
 * @since 0.2.0
 */
export const isMoved = (u: unknown): u is Moved<unknown> =>
  typeof u === "object" && u !== null && MovedTypeId in u

/** The value inside a {@link move} marker, or `u` itself. */
export const unmove = (u: unknown): unknown => (isMoved(u) ? u.value : u)

const HandleTypeId: unique symbol = Symbol.for("rankflow/patterns/Handle")

/**
 * An object that travels as a handle: `toHandle()` gives the data the other
 * side needs (`kind` selects the decoder there, {@link registerHandle}).
 *
 * @category models
 * @since 0.2.0
 */
export interface HandleSource {
  readonly [HandleTypeId]: () => HandleData
}

/** The symbol under which a {@link HandleSource} gives its handle. */
export const HandleKey: typeof HandleTypeId = HandleTypeId

/**
 * What a handle carries: the kind of object, its id, and any other data.
 *
 * @category models
 * @since 0.2.0
 */
export type HandleData = { readonly kind: string; readonly id: number } & Readonly<Record<string, unknown>>

const decoders = new Map<string, (data: HandleData) => unknown>()

/**
 * Registers how a handle of `kind` is rebuilt on a worker's side.
 *
 * @category handles
 * @since 0.2.0
 */
export const registerHandle = (kind: string, decode: (data: HandleData) => unknown): void => {
  decoders.set(kind, decode)
}

const SLOT = "~rankflow/slot"
const HANDLE = "~rankflow/handle"

/**
 * Encoded arguments or results: codec bytes, plus the buffers moved beside
 * them (threads only). A few primitives (the arguments of one small call,
 * its result) travel as they are, in a plain array: the carrier's own copy
 * (structured clone, or the frame's codec) is all they need.
 *
 * @category models
 * @since 0.2.0
 */
export interface Packed {
  readonly b: Uint8Array | ReadonlyArray<unknown>
  readonly r?: Array<ArrayBufferView | ArrayBuffer> | undefined
}

/** At most this many values (and arguments in a tuple) travel as they are. */
const PLAIN_MAX = 8

const isPrimitive = (v: unknown): boolean => {
  const t = typeof v
  return t === "number" || t === "string" || t === "boolean" || v === null || t === "undefined"
}

const allPrimitive = (values: Array<unknown>, tuples: boolean): boolean => {
  if (values.length > PLAIN_MAX) return false
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (tuples) {
      if (!Array.isArray(v) || v.length > PLAIN_MAX) return false
      for (let j = 0; j < v.length; j++) if (!isPrimitive(v[j])) return false
    } else if (!isPrimitive(v)) return false
  }
  return true
}

/**
 * Encodes a list of values (argument tuples, results). `transfer`: may
 * buffers be moved (a thread), or must moved values be copied (a process)?
 * Buffers to transfer are pushed on `transferList`. Throws `Codec.Refused`.
 *
 * @category encoding
 * @since 0.2.0
 */
export const pack = (values: Array<unknown>, transfer: boolean, transferList: Array<ArrayBuffer>, tuples: boolean): Packed => {
  if (allPrimitive(values, tuples)) return { b: values }
  let raws: Array<ArrayBufferView | ArrayBuffer> | undefined
  let out = values
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (typeof v !== "object" || v === null) continue
    if (tuples && Array.isArray(v)) {
      for (let j = 0; j < v.length; j++) {
        const a = v[j]
        if (typeof a !== "object" || a === null) continue
        if (isMoved(a) || HandleTypeId in a) {
          if (out === values) out = values.slice()
          if (out[i] === v) out[i] = v.slice()
          ;(out[i] as Array<unknown>)[j] = special(a, transfer, transferList, (raws ??= []))
        }
      }
    } else if (isMoved(v) || HandleTypeId in v) {
      if (out === values) out = values.slice()
      out[i] = special(v, transfer, transferList, (raws ??= []))
    }
  }
  // The codec's fastest body format for this value (plain msgpack unless a
  // Map is inside), tagged in a first byte.
  const body = Codec.encodeBody(out)
  const b = new Uint8Array(body.byteLength + 1)
  b[0] = Codec.bodyFormat()
  b.set(body, 1)
  // Moving a buffer costs more than copying a small one.
  if (transfer && b.byteLength >= 65536) transferList.push(b.buffer as ArrayBuffer)
  return raws === undefined || raws.length === 0 ? { b } : { b, r: raws }
}

const special = (
  a: object,
  transfer: boolean,
  transferList: Array<ArrayBuffer>,
  raws: Array<ArrayBufferView | ArrayBuffer>
): unknown => {
  if (HandleTypeId in a) return { [HANDLE]: (a as HandleSource)[HandleTypeId]() }
  const m = a as Moved<unknown>
  if (!transfer) return m.value
  const set = new Set<ArrayBuffer>(m.transfer)
  for (const buf of set) transferList.push(buf)
  return substitute(m.value, set, raws, new Map())
}

// Replaces every typed array / ArrayBuffer whose memory is moved by a slot.
const substitute = (
  v: unknown,
  moving: Set<ArrayBuffer>,
  raws: Array<ArrayBufferView | ArrayBuffer>,
  seen: Map<object, unknown>
): unknown => {
  if (typeof v !== "object" || v === null) return v
  if (v instanceof ArrayBuffer) {
    if (!moving.has(v)) return v
    raws.push(v)
    return { [SLOT]: raws.length - 1 }
  }
  if (ArrayBuffer.isView(v)) {
    if (!moving.has(v.buffer as ArrayBuffer)) return v
    raws.push(v)
    return { [SLOT]: raws.length - 1 }
  }
  const known = seen.get(v)
  if (known !== undefined) return known
  if (Array.isArray(v)) {
    const out: Array<unknown> = []
    seen.set(v, out)
    for (const x of v) out.push(substitute(x, moving, raws, seen))
    return out
  }
  const proto = Object.getPrototypeOf(v)
  if (proto !== Object.prototype && proto !== null) return v
  const out: Record<string, unknown> = {}
  seen.set(v, out)
  for (const k of Object.keys(v)) out[k] = substitute((v as Record<string, unknown>)[k], moving, raws, seen)
  return out
}

/**
 * Decodes what {@link pack} made: the list of values, moved buffers and
 * handles put back in place.
 *
 * @category decoding
 * @since 0.2.0
 */
export const unpack = (p: Packed, tuples: boolean): Array<unknown> => {
  const b = p.b
  if (!(b instanceof Uint8Array)) return b as Array<unknown>
  const values = Codec.decodeBody(b[0]!, b.subarray(1)) as Array<unknown>
  const raws = p.r
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (typeof v !== "object" || v === null) continue
    if (tuples && Array.isArray(v)) {
      for (let j = 0; j < v.length; j++) {
        const a = v[j]
        if (typeof a === "object" && a !== null) v[j] = restore(a, raws)
      }
    } else values[i] = restore(v, raws)
  }
  return values
}

const restore = (a: object, raws: Packed["r"]): unknown => {
  if (HANDLE in a) {
    const h = (a as Record<string, HandleData>)[HANDLE]!
    const decode = decoders.get(h.kind)
    if (decode === undefined) throw new Error(`no decoder for a handle of kind ${h.kind} in this thread`)
    return decode(h)
  }
  return raws === undefined ? a : putBack(a, raws)
}

const putBack = (v: unknown, raws: NonNullable<Packed["r"]>): unknown => {
  if (typeof v !== "object" || v === null || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return v
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = putBack(v[i], raws)
    return v
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return v
  const slot = (v as Record<string, unknown>)[SLOT]
  if (typeof slot === "number") return raws[slot]
  for (const k of Object.keys(v)) (v as Record<string, unknown>)[k] = putBack((v as Record<string, unknown>)[k], raws)
  return v
}
