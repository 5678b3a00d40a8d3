/**
 * Reduction operations for `reduce`, `allreduce`, `scan`, `exscan` and
 * `reduceScatter`.
 *
 * The built-in ops apply to numbers, bigints, booleans (the logical ops),
 * typed arrays of one kind and length (element by element) and plain arrays
 * of those (element by element). `MAXLOC` and `MINLOC` reduce
 * `[value, index]` pairs (or arrays of pairs): the larger (smaller) value
 * wins and ties go to the lower index. A value an op cannot combine (`BAND`
 * on fractions, `SUM` of a number and a string, arrays of different lengths)
 * is an `OpError` naming the op and the types.
 *
 * `Op.create(fn, commute)` makes a user op: `fn(a, b)` receives whole values,
 * `a` from the lower ranks; a non-commutative op still gives the result in
 * rank order.
 *
 * @example
 * ```ts
 * import { Op } from "rankflow/promise"
 * import type { Comm } from "rankflow/promise"
 * declare const comm: Comm
 * const total = await comm.allreduce(comm.rank, Op.SUM)
 * const [best, who] = await comm.allreduce([Math.random(), comm.rank], Op.MAXLOC)
 * const concat = Op.create((a: string, b: string) => a + b, false)
 * const word = await comm.allreduce(String(comm.rank), concat) // "0123"
 * ```
 * @since 0.1.0
 */
import * as Codec from "./Codec.ts"
import * as Errors from "./Errors.ts"

/**
 * A reduction operation.
 *
 * @category models
 * @since 0.1.0
 */
export interface Op {
  readonly name: string
  /** May operands be combined in any order? */
  readonly commute: boolean
  /** Combines two values; `a` comes from the lower ranks. Throws `OpError`. */
  readonly apply: (a: any, b: any) => any
  /** For built-in ops: combine two numbers (element-wise helper). */
  readonly num?: (a: number, b: number) => number
  /** For built-in ops: combine two bigints. */
  readonly big?: (a: bigint, b: bigint) => bigint
  /** For logical ops: combine two booleans. */
  readonly bool?: (a: boolean, b: boolean) => boolean
  /** True for ops on integers only (the bitwise ops). */
  readonly integral?: boolean
  /** MAXLOC / MINLOC: compares `[value, index]` pairs. */
  readonly loc?: 1 | -1
}

const describe = (v: unknown): string =>
  typeof v === "object" && v !== null ? Codec.describeValue(v) : typeof v === "bigint" ? "a bigint" : `${typeof v} ${String(v)}`.slice(0, 40)

const mismatch = (op: string, a: unknown, b: unknown, why?: string): never => {
  throw new Errors.OpError({ op, reason: why ?? `cannot combine ${describe(a)} with ${describe(b)}` })
}

const isTyped = (v: unknown): v is Codec.TypedArray => ArrayBuffer.isView(v) && !(v instanceof DataView)

/** Combines two values with a built-in op (not MAXLOC/MINLOC). */
const combine = (op: Op, a: unknown, b: unknown): unknown => {
  const ta = typeof a
  if (ta === "number" && typeof b === "number") {
    if (op.integral && (!Number.isInteger(a) || !Number.isInteger(b))) mismatch(op.name, a, b, `${op.name} combines integers; got ${a} and ${b}`)
    return op.num!(a as number, b)
  }
  if (ta === "bigint" && typeof b === "bigint") {
    if (op.big === undefined) mismatch(op.name, a, b)
    return op.big!(a as bigint, b)
  }
  if (ta === "boolean" && typeof b === "boolean") {
    if (op.bool === undefined) mismatch(op.name, a, b, `${op.name} does not combine booleans (the logical ops do)`)
    return op.bool!(a as boolean, b)
  }
  if (isTyped(a) && isTyped(b)) return combineTyped(op, a, b, undefined)
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) mismatch(op.name, a, b, `${op.name} combines arrays of one length; got ${a.length} and ${b.length}`)
    const out = new Array(a.length)
    for (let i = 0; i < a.length; i++) out[i] = combine(op, a[i], b[i])
    return out
  }
  if (ta === "string" && typeof b === "string" && (op.name === "MAX" || op.name === "MIN")) {
    return op.name === "MAX" ? (a as string) >= b ? a : b : (a as string) <= b ? a : b
  }
  return mismatch(op.name, a, b)
}

/**
 * Combines two typed arrays element by element into `into` (a new array
 * when undefined). `into` may be `a` (in place).
 *
 * @category applying
 * @since 0.1.0
 */
export const combineTyped = <T extends Codec.TypedArray>(op: Op, a: T, b: T, into: T | undefined): T => {
  if (a.constructor !== b.constructor || a.length !== b.length) {
    mismatch(op.name, a, b, `${op.name} combines typed arrays of one kind and length; got ${describe(a)} and ${describe(b)}`)
  }
  const out = into ?? (new (a.constructor as any)(a.length) as T)
  const n = a.length
  if (typeof a[0 as keyof T] === "bigint" || a instanceof BigInt64Array || a instanceof BigUint64Array) {
    if (op.big === undefined) mismatch(op.name, a, b)
    const f = op.big!
    const x = a as unknown as BigInt64Array, y = b as unknown as BigInt64Array, o = out as unknown as BigInt64Array
    for (let i = 0; i < n; i++) o[i] = f(x[i]!, y[i]!)
    return out
  }
  if (op.integral && (a instanceof Float32Array || a instanceof Float64Array || (typeof Float16Array !== "undefined" && a instanceof Float16Array))) {
    mismatch(op.name, a, b, `${op.name} combines integers; got ${describe(a)}`)
  }
  const f = op.num
  if (f === undefined) mismatch(op.name, a, b)
  const x = a as unknown as Float64Array, y = b as unknown as Float64Array, o = out as unknown as Float64Array
  // The common ops get loops of their own (no call per element).
  switch (op.name) {
    case "SUM":
      for (let i = 0; i < n; i++) o[i] = x[i]! + y[i]!
      break
    case "PROD":
      for (let i = 0; i < n; i++) o[i] = x[i]! * y[i]!
      break
    case "MAX":
      for (let i = 0; i < n; i++) o[i] = x[i]! >= y[i]! ? x[i]! : y[i]!
      break
    case "MIN":
      for (let i = 0; i < n; i++) o[i] = x[i]! <= y[i]! ? x[i]! : y[i]!
      break
    default:
      for (let i = 0; i < n; i++) o[i] = f!(x[i]!, y[i]!)
  }
  return out
}

const loc = (name: string, sign: 1 | -1) => (a: unknown, b: unknown): unknown => {
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length && Array.isArray(a[0])) {
    return a.map((x, i) => loc(name, sign)(x, b[i]))
  }
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== 2 || b.length !== 2) {
    return mismatch(name, a, b, `${name} reduces [value, index] pairs; got ${describe(a)} and ${describe(b)}`)
  }
  const [va, ia] = a as [number | bigint, number]
  const [vb, ib] = b as [number | bigint, number]
  if (typeof va !== typeof vb || (typeof va !== "number" && typeof va !== "bigint") || typeof ia !== "number" || typeof ib !== "number") {
    return mismatch(name, a, b, `${name} reduces [value, index] pairs of numbers (or bigints); got ${describe(a)} and ${describe(b)}`)
  }
  if (va === vb) return ia <= ib ? a : b
  return (sign > 0 ? va > vb : va < vb) ? a : b
}

const builtin = (name: string, fields: Omit<Op, "name" | "commute" | "apply">): Op => {
  const op: Op = {
    name,
    commute: true,
    ...fields,
    apply: fields.loc !== undefined ? loc(name, fields.loc) : (a, b) => combine(op, a, b)
  }
  return op
}

const bit = (f: (a: bigint, b: bigint) => bigint, g: (a: number, b: number) => number) => (a: number, b: number): number =>
  (a | 0) === a && (b | 0) === b ? g(a, b) : Number(f(BigInt(a), BigInt(b)))

/** Sum. @category ops @since 0.1.0 */
export const SUM: Op = builtin("SUM", { num: (a, b) => a + b, big: (a, b) => a + b })
/** Product. @category ops @since 0.1.0 */
export const PROD: Op = builtin("PROD", { num: (a, b) => a * b, big: (a, b) => a * b })
/** Maximum. @category ops @since 0.1.0 */
export const MAX: Op = builtin("MAX", { num: (a, b) => (a >= b ? a : b), big: (a, b) => (a >= b ? a : b), bool: (a, b) => a || b })
/** Minimum. @category ops @since 0.1.0 */
export const MIN: Op = builtin("MIN", { num: (a, b) => (a <= b ? a : b), big: (a, b) => (a <= b ? a : b), bool: (a, b) => a && b })
/** Logical and (booleans give booleans, numbers 1 or 0). @category ops @since 0.1.0 */
export const LAND: Op = builtin("LAND", { num: (a, b) => (a && b ? 1 : 0), big: (a, b) => (a && b ? 1n : 0n), bool: (a, b) => a && b })
/** Logical or. @category ops @since 0.1.0 */
export const LOR: Op = builtin("LOR", { num: (a, b) => (a || b ? 1 : 0), big: (a, b) => (a || b ? 1n : 0n), bool: (a, b) => a || b })
/** Logical exclusive or. @category ops @since 0.1.0 */
export const LXOR: Op = builtin("LXOR", {
  num: (a, b) => (!a !== !b ? 1 : 0),
  big: (a, b) => (!a !== !b ? 1n : 0n),
  bool: (a, b) => a !== b
})
/** Bitwise and (integers). @category ops @since 0.1.0 */
export const BAND: Op = builtin("BAND", { integral: true, num: bit((a, b) => a & b, (a, b) => a & b), big: (a, b) => a & b })
/** Bitwise or (integers). @category ops @since 0.1.0 */
export const BOR: Op = builtin("BOR", { integral: true, num: bit((a, b) => a | b, (a, b) => a | b), big: (a, b) => a | b })
/** Bitwise exclusive or (integers). @category ops @since 0.1.0 */
export const BXOR: Op = builtin("BXOR", { integral: true, num: bit((a, b) => a ^ b, (a, b) => a ^ b), big: (a, b) => a ^ b })
/** Maximum of `[value, index]` pairs; ties go to the lower index. @category ops @since 0.1.0 */
export const MAXLOC: Op = builtin("MAXLOC", { loc: 1 })
/** Minimum of `[value, index]` pairs; ties go to the lower index. @category ops @since 0.1.0 */
export const MINLOC: Op = builtin("MINLOC", { loc: -1 })

/**
 * Makes an op from `fn(a, b)` (`a` from the lower ranks). Declare
 * `commute: true` only if the order never matters: the collectives may then
 * combine in any order.
 *
 * @example
 * ```ts
 * import { Op } from "rankflow"
 * const maxAbs = Op.create((a: number, b: number) => Math.max(Math.abs(a), Math.abs(b)), true)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const create = <A>(fn: (a: A, b: A) => A, commute = false, name = fn.name || "user op"): Op => ({
  name,
  commute,
  apply: fn as (a: any, b: any) => any
})

/**
 * Is `u` an op?
 *
 * @category guards
 * @since 0.1.0
 */
export const isOp = (u: unknown): u is Op =>
  typeof u === "object" && u !== null && typeof (u as Op).apply === "function" && typeof (u as Op).name === "string"
