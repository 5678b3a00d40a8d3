/**
 * Collective conformance scenarios: rank programs that exercise every
 * collective (value and buffer forms, blocking and non-blocking), every op,
 * communicators (dup, split, create, COMM_SELF, free) and the typed errors,
 * each with a check run in the test process on the per-rank results. The same
 * scenarios run on every transport (see collective-conformance.ts).
 *
 * Every scenario is one world per size: the rank program loops over every
 * root inside the world and records each result under a key; the check
 * computes the expected value of every key from the rank count and the root,
 * independently of the library (its own reference ops), and compares.
 *
 * A call that fails is recorded as a `Failure` (its `_tag` and message)
 * instead of ending the world, so one wrong result shows up as one named
 * mismatch and the other checks still run.
 *
 * This module is loaded inside ranks (worker threads), so it does not import
 * ava; checks receive the assertion object.
 */
import type { Comm } from "../../promise.ts"
import { ANY_SOURCE, ANY_TAG, Op, Request, Status, UNDEFINED } from "../../promise.ts"
import { batchNames, runBatch } from "./batch.ts"
import { type Assert, type Kit, promiseKit } from "./scenarios.ts"

export interface CollectiveScenario {
  readonly run: (comm: Comm, kit: Kit) => Promise<unknown>
  readonly check: (t: Assert, results: ReadonlyArray<any>, size: number) => void
  /** World time limit in milliseconds (default 60 s). */
  readonly timeout?: number
}

// ------------------------------------------------------------------ helpers

type Out = Record<string, unknown>

/** A call that threw or rejected, as a value. */
export interface Failure {
  readonly failed: string
  readonly message: string
  readonly fields: Record<string, unknown>
}

const failure = (e: any): Failure => ({
  failed: typeof e?._tag === "string" ? e._tag : (e?.constructor?.name ?? typeof e),
  message: String(e?.message ?? e).slice(0, 400),
  fields: { rank: e?.rank, op: e?.op, peer: e?.peer, size: e?.size, reason: typeof e?.reason === "string" ? e.reason : undefined }
})

/** Runs `f` (sync throw or async rejection alike) and stores its value or its failure under `key`. */
const record = async (out: Out, key: string, f: () => unknown): Promise<void> => {
  out[key] = await outcome(f)
}

/** The value of `f()`, or its failure. */
const outcome = async (f: () => unknown): Promise<unknown> => {
  try {
    return await f()
  } catch (e) {
    return failure(e)
  }
}

/** `p`'s value, its failure, or "pending" if it has not settled within `ms`. */
const settledWithin = async (p: () => Promise<unknown>, ms: number): Promise<unknown> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("pending"), ms)))
  try {
    return await Promise.race([outcome(p), late])
  } finally {
    clearTimeout(timer)
  }
}

const isFailure = (v: unknown): v is Failure => typeof v === "object" && v !== null && "failed" in v && "message" in v

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const next = (c: Comm) => (c.rank + 1) % c.size
const prev = (c: Comm) => (c.rank - 1 + c.size) % c.size
const tri = (n: number) => (n * (n - 1)) / 2 // 0 + 1 + … + (n - 1)

const show = (v: unknown): string =>
  JSON.stringify(v, (_k, x) =>
    typeof x === "bigint" ? `${x}n` : ArrayBuffer.isView(x) && !(x instanceof DataView) ? `${x.constructor.name}(${(x as any).length})` : x === undefined ? "undefined" : x
  )?.slice(0, 300) ?? String(v)

const CTORS = {
  Float64Array,
  Float32Array,
  Int32Array,
  Int16Array,
  Uint16Array,
  Uint8Array,
  BigInt64Array,
  BigUint64Array
}
type KindName = keyof typeof CTORS
type Typed = Float64Array | Float32Array | Int32Array | Int16Array | Uint16Array | Uint8Array | BigInt64Array | BigUint64Array

/** A typed array of `kind` holding `values` (converted to bigints for the bigint kinds). */
export const mk = (kind: KindName, values: ReadonlyArray<number>): Typed =>
  kind === "BigInt64Array" || kind === "BigUint64Array"
    ? (CTORS[kind] as any).from(values.map((v) => BigInt(v)))
    : (CTORS[kind] as any).from(values)

const mkFn = (kind: KindName, length: number, at: (i: number) => number): Typed => mk(kind, Array.from({ length }, (_, i) => at(i)))

/** An expected typed array too large for deepEqual: compared element by element. */
class TypedWant {
  readonly kind: string
  readonly length: number
  readonly at: (i: number) => number | bigint
  constructor(kind: string, length: number, at: (i: number) => number | bigint) {
    this.kind = kind
    this.length = length
    this.at = at
  }

  /** "" when `actual` matches, else what differs first. */
  diff(actual: unknown): string {
    if (!ArrayBuffer.isView(actual) || actual instanceof DataView) return `expected ${this.kind}(${this.length}), got ${show(actual)}`
    const a = actual as unknown as ArrayLike<number | bigint>
    if (actual.constructor.name !== this.kind || a.length !== this.length) {
      return `expected ${this.kind}(${this.length}), got ${actual.constructor.name}(${a.length})`
    }
    const big = this.kind.startsWith("Big")
    for (let i = 0; i < this.length; i++) {
      const want = this.at(i)
      const w = big ? BigInt(want) : want
      if (a[i] !== w && !(Number.isNaN(a[i]) && Number.isNaN(w))) return `element ${i}: expected ${w}, got ${a[i]}`
    }
    return ""
  }
}

/** Compares every expected key of one rank. */
const compare = (t: Assert, rank: number, actual: Out, expected: Out): void => {
  for (const [key, want] of Object.entries(expected)) {
    const got = actual?.[key]
    if (want instanceof TypedWant) t.is(want.diff(got), "", `rank ${rank}: ${key}`)
    else t.deepEqual(got, want, `rank ${rank}: ${key}`)
  }
}

/** Checks a recorded failure's tag (and optionally fields). */
const expectFailure = (t: Assert, got: unknown, tag: string, what: string, fields?: Record<string, unknown>): void => {
  if (!isFailure(got)) {
    t.is(show(got), `a ${tag}`, `${what}: expected a ${tag}`)
    return
  }
  t.is(got.failed, tag, `${what}: ${got.message}`)
  if (fields !== undefined) for (const [k, v] of Object.entries(fields)) t.is(got.fields[k], v, `${what}: field ${k} (${got.message})`)
}

// ------------------------------------------------------- reference ops (checks)

const truthy = (x: unknown) => x !== 0 && x !== 0n && x !== false

/** Built-in ops, computed independently of the library, for the checks. */
const refScalar = (op: string, a: any, b: any): any => {
  const bool = typeof a === "boolean"
  const big = typeof a === "bigint"
  const logical = (v: boolean) => (bool ? v : big ? (v ? 1n : 0n) : v ? 1 : 0)
  const bits = (f: (x: bigint, y: bigint) => bigint) => (big ? f(a, b) : Number(f(BigInt(a), BigInt(b))))
  switch (op) {
    case "SUM":
      return a + b
    case "PROD":
      return a * b
    case "MAX":
      return a >= b ? a : b
    case "MIN":
      return a <= b ? a : b
    case "LAND":
      return logical(truthy(a) && truthy(b))
    case "LOR":
      return logical(truthy(a) || truthy(b))
    case "LXOR":
      return logical(truthy(a) !== truthy(b))
    case "BAND":
      return bits((x, y) => x & y)
    case "BOR":
      return bits((x, y) => x | y)
    case "BXOR":
      return bits((x, y) => x ^ y)
  }
  throw new Error(`no reference for ${op}`)
}

const refLoc = (sign: 1 | -1) => (a: any, b: any): any => {
  if (Array.isArray(a[0])) return a.map((x: any, i: number) => refLoc(sign)(x, b[i]))
  if (a[0] === b[0]) return a[1] <= b[1] ? a : b
  return (sign > 0 ? a[0] > b[0] : a[0] < b[0]) ? a : b
}

const refCombine = (op: string) => (a: any, b: any): any => {
  if (op === "MAXLOC") return refLoc(1)(a, b)
  if (op === "MINLOC") return refLoc(-1)(a, b)
  if (Array.isArray(a)) return a.map((x, i) => refCombine(op)(x, b[i]))
  if (ArrayBuffer.isView(a)) {
    const x = a as any, y = b as any
    const out = new x.constructor(x.length)
    for (let i = 0; i < x.length; i++) out[i] = refScalar(op, x[i], y[i])
    return out
  }
  return refScalar(op, a, b)
}

/** Folds `values` in order (rank order) with `f`. */
const fold = (f: (a: any, b: any) => any, values: ReadonlyArray<unknown>): unknown => values.reduce((acc, v) => f(acc, v))

// ----------------------------------------------------------------- user ops

const concatFn = (a: string, b: string): string => a + b
const matmulFn = (a: Array<Array<any>>, b: Array<Array<any>>): Array<Array<any>> => [
  [a[0]![0] * b[0]![0] + a[0]![1] * b[1]![0], a[0]![0] * b[0]![1] + a[0]![1] * b[1]![1]],
  [a[1]![0] * b[0]![0] + a[1]![1] * b[1]![0], a[1]![0] * b[0]![1] + a[1]![1] * b[1]![1]]
]
/** Composition of affine maps x → m·x + c stored as [m, c] pairs in a Float64Array (a applied first). */
const affineFn = (a: Float64Array, b: Float64Array): Float64Array => {
  const out = new Float64Array(a.length)
  for (let j = 0; j < a.length; j += 2) {
    out[j] = a[j]! * b[j]!
    out[j + 1] = a[j + 1]! * b[j]! + b[j + 1]!
  }
  return out
}
const maxAbsFn = (a: number, b: number): number => Math.max(Math.abs(a), Math.abs(b))

const concat = Op.create(concatFn, false, "concat")
const matmul = Op.create(matmulFn, false, "matmul")
const affine = Op.create(affineFn, false, "affine")
const maxAbs = Op.create(maxAbsFn, true, "maxAbs")

// ------------------------------------------------------- data of the scenarios

const bcastData = (root: number) => ({
  root,
  text: `from ${root}`,
  big: 2n ** 100n + BigInt(root),
  nested: [root, [root * 2, { deep: 1 - root }]],
  f32: Float32Array.of(root, 0.5, -1),
  map: new Map<string, unknown>([["k", root], ["b", -(2n ** 70n)]]),
  set: new Set<unknown>([root, "x"]),
  when: new Date(1e12 + root),
  none: null
})
const scatterItems = (root: number, p: number) => range(p).map((i) => ({ to: i, from: root, big: BigInt(i + 1) * 2n ** 70n, u32: Uint32Array.of(i, root) }))
const gatherItem = (rank: number, root: number) => ({ rank, root, sq: rank * rank, text: `r${rank}`, big: 3n ** BigInt(50 + rank), f64: Float64Array.of(rank, rank / 2) })
const allgatherItem = (rank: number, root: number) => [rank, -(2n ** 65n) * BigInt(rank + root + 1), "x".repeat(rank), Int16Array.of(rank, -rank - root)]
const alltoallItem = (from: number, to: number, root: number) => ({ from, to, root, v: BigInt(from * 100 + to) << 66n, ta: Int16Array.of(from - to) })
/** One value of every kind SUM combines: a number, a bigint past 64 bits, typed arrays, nested arrays. */
const mixed = (r: number) => [r + 1, 2n ** 80n * BigInt(r + 1), Float64Array.of(r, (1 - r) * 0.5, 1e12 + r), [r, [r * 3, 1]], Int32Array.of(r, -2 * r)]
/** SUM of mixed(0) … mixed(n - 1), by formula. */
const mixedSum = (n: number) => {
  const s = tri(n)
  return [s + n, 2n ** 80n * BigInt(s + n), Float64Array.of(s, (n - s) * 0.5, n * 1e12 + s), [s, [3 * s, n]], Int32Array.of(s, -2 * s)]
}
const rsItem = (rank: number, j: number) => [rank * j + 1, BigInt(rank + 1) << 70n, Float64Array.of(rank + j)]

/** Small positive element values, so sums over 7 ranks fit every kind (Uint8 too). */
const ev = (a: number, b: number, k: number): number => ((a * 31 + b * 7 + k * 3) % 29) + 1
const BUFFER_KINDS: ReadonlyArray<KindName> = ["Float64Array", "Int32Array", "Uint8Array", "BigInt64Array", "Float32Array"]
const GAP = 9 // what fills the gaps the v forms must leave alone

/** Reverse layout with one gap after each block: rank p-1's block comes first. */
const reversedDispls = (counts: ReadonlyArray<number>): Array<number> => counts.map((_, i) => counts.slice(i + 1).reduce((s, c) => s + c + 1, 0))
const spanOf = (counts: ReadonlyArray<number>, displs: ReadonlyArray<number>): number => Math.max(0, ...counts.map((c, i) => displs[i]! + c + 1))
/** Fills a buffer laid out by counts/displs with `value(block, k)`, GAP elsewhere. */
const layoutValues = (counts: ReadonlyArray<number>, displs: ReadonlyArray<number>, length: number, value: (block: number, k: number) => number): Array<number> => {
  const out = new Array<number>(length).fill(GAP)
  counts.forEach((c, i) => {
    for (let k = 0; k < c; k++) out[displs[i]! + k] = value(i, k)
  })
  return out
}
const prefix = (counts: ReadonlyArray<number>): Array<number> => counts.map((_, i) => counts.slice(0, i).reduce((s, c) => s + c, 0))

/** Large element values (exact in every float kind used). */
const L = (a: number, i: number): number => ((a * 7919 + i * 13) % 1000) - 500
const N64 = 4099 // Float64 elements: 32,792 bytes ≥ RING_BYTES, and not a multiple of 3 or 7
const N32 = 8200 // Int32 / Float32 elements: 32,800 bytes
const X = (a: number, i: number): number => (a * 16843009 + i * 2654435761) | 0
const U = (a: number, i: number): number => (a * 37 + i * 11) & 0xff
const AFFINE_PAIRS = 2100 // 33,600 bytes
const affineData = (a: number): Float64Array => {
  const out = new Float64Array(2 * AFFINE_PAIRS)
  for (let j = 0; j < AFFINE_PAIRS; j++) {
    out[2 * j] = ((a + j) % 3) + 1
    out[2 * j + 1] = (a * 5 + j) % 7
  }
  return out
}

// ------------------------------------------------------------------ op cases

interface OpCase {
  readonly op: string
  readonly kind: string
  readonly data: (seed: number) => unknown
}

const OPS: Record<string, Op.Op> = {
  SUM: Op.SUM,
  PROD: Op.PROD,
  MAX: Op.MAX,
  MIN: Op.MIN,
  LAND: Op.LAND,
  LOR: Op.LOR,
  LXOR: Op.LXOR,
  BAND: Op.BAND,
  BOR: Op.BOR,
  BXOR: Op.BXOR,
  MAXLOC: Op.MAXLOC,
  MINLOC: Op.MINLOC,
  concat,
  matmul,
  maxAbs
}

/** The reference combination of an op case (rank order, lower first). */
const refOf = (op: string): ((a: any, b: any) => any) =>
  op === "concat" ? concatFn : op === "matmul" ? matmulFn : op === "maxAbs" ? maxAbsFn : refCombine(op)

const OP_CASES: ReadonlyArray<OpCase> = [
  { op: "SUM", kind: "number", data: (s) => ((s * 7) % 5) - 2 + 0.5 },
  { op: "SUM", kind: "bigint", data: (s) => 2n ** 70n * BigInt(s + 1) - BigInt(s) },
  { op: "SUM", kind: "Float64Array", data: (s) => Float64Array.of(s, (1 - s) * 0.25, 1e12 + s) },
  { op: "SUM", kind: "Int32Array", data: (s) => Int32Array.of(s, -s, 2 ** 30) },
  { op: "SUM", kind: "array", data: (s) => [s, [s * 2, 0.25], [[1 - s]]] },
  { op: "PROD", kind: "number", data: (s) => (s % 3 === 0 ? 2 : -1.5) },
  { op: "PROD", kind: "bigint", data: (s) => 2n ** 40n + BigInt(s) },
  { op: "PROD", kind: "Float32Array", data: (s) => Float32Array.of((s % 2) + 1, 0.5) },
  { op: "PROD", kind: "array", data: (s) => [s % 2 ? -1 : 2, [3]] },
  { op: "MAX", kind: "number", data: (s) => ((s * 5) % 7) - 3.5 },
  { op: "MAX", kind: "bigint", data: (s) => (s % 2 ? -1n : 1n) * (2n ** 90n + BigInt(s)) },
  { op: "MAX", kind: "Uint16Array", data: (s) => Uint16Array.of((s * 3) % 5, 65535 - s) },
  { op: "MAX", kind: "array", data: (s) => [(s * 3) % 4, [2 - s]] },
  { op: "MIN", kind: "number", data: (s) => ((s * 5) % 7) - 3.5 },
  { op: "MIN", kind: "bigint", data: (s) => (s % 2 ? -1n : 1n) * (2n ** 90n + BigInt(s)) },
  { op: "MIN", kind: "BigInt64Array", data: (s) => BigInt64Array.of(BigInt(s) - 5n, -(2n ** 62n) + BigInt(s)) },
  { op: "MIN", kind: "array", data: (s) => [(s * 3) % 4, [2 - s]] },
  { op: "LAND", kind: "boolean", data: (s) => [true, s !== 1, s % 2 === 0, false] },
  { op: "LAND", kind: "number", data: (s) => [1, s === 2 ? 0 : 5, s % 2, -3] },
  { op: "LAND", kind: "bigint", data: (s) => [BigInt(s + 1), BigInt(s % 3)] },
  { op: "LAND", kind: "Uint8Array", data: (s) => Uint8Array.of(1, s === 0 ? 0 : 7, (s % 2) * 3) },
  { op: "LOR", kind: "boolean", data: (s) => [s === 1, false, s % 2 === 1, true] },
  { op: "LOR", kind: "number", data: (s) => [0, s === 2 ? 3 : 0, s % 2, 0.5] },
  { op: "LOR", kind: "Int32Array", data: (s) => Int32Array.of(0, s === 3 ? -4 : 0) },
  { op: "LXOR", kind: "boolean", data: (s) => [s === 1, false, s % 2 === 1, true, s < 3] },
  { op: "LXOR", kind: "number", data: (s) => [0, s === 2 ? 3 : 0, s % 2, 1] },
  { op: "LXOR", kind: "bigint", data: (s) => [BigInt(s % 2), 5n] },
  { op: "BAND", kind: "number", data: (s) => [0xff ^ s, -1 - s, 2 ** 40 + 0xff + s, 12] },
  { op: "BAND", kind: "bigint", data: (s) => (2n ** 100n - 1n) ^ BigInt(s) },
  { op: "BAND", kind: "Int32Array", data: (s) => Int32Array.of(~s, 0x0f0f0f0f | s) },
  { op: "BAND", kind: "BigInt64Array", data: (s) => BigInt64Array.of(-1n - BigInt(s), 2n ** 62n + BigInt(s)) },
  { op: "BAND", kind: "array", data: (s) => [[0b1111 ^ s]] },
  { op: "BOR", kind: "number", data: (s) => [1 << s % 31, 2 ** 35 * (s + 1), -8] },
  { op: "BOR", kind: "bigint", data: (s) => 1n << BigInt(70 + s) },
  { op: "BOR", kind: "Uint8Array", data: (s) => Uint8Array.of(1 << s % 8, 0) },
  { op: "BXOR", kind: "number", data: (s) => [s * 0x1111, 2 ** 33 + s, -1] },
  { op: "BXOR", kind: "bigint", data: (s) => ((BigInt(s) + 1n) << 65n) | BigInt(s) },
  { op: "BXOR", kind: "Int32Array", data: (s) => Int32Array.of(s, -s) },
  { op: "BXOR", kind: "BigUint64Array", data: (s) => BigUint64Array.of(2n ** 63n + BigInt(s), BigInt(s) * 3n) },
  // Ties go to the lower index; in the second case the lower index belongs to the higher rank.
  { op: "MAXLOC", kind: "pair", data: (s) => [s % 2 ? 5 : 3, s] },
  { op: "MAXLOC", kind: "pairIndex", data: (s) => [(s * 3) % 4, 10 - s] },
  { op: "MAXLOC", kind: "pairs", data: (s) => [[s % 3, s], [s % 2 ? -1 : 0, 2 * s]] },
  { op: "MAXLOC", kind: "bigintPair", data: (s) => [BigInt(s % 3) << 70n, s] },
  { op: "MINLOC", kind: "pair", data: (s) => [s % 2 ? 5 : 3, s] },
  { op: "MINLOC", kind: "pairIndex", data: (s) => [(s * 3) % 4, 10 - s] },
  { op: "MINLOC", kind: "pairs", data: (s) => [[s % 3, s], [s % 2 ? -1 : 0, 2 * s]] },
  { op: "MINLOC", kind: "bigintPair", data: (s) => [BigInt(s % 3) << 70n, s] },
  // Non-commutative user ops: the result must come out in rank order.
  { op: "concat", kind: "string", data: (s) => String.fromCharCode(65 + (s % 26)) + s },
  { op: "matmul", kind: "number", data: (s) => [[1 + (s % 2), 1], [s, 1]] },
  { op: "matmul", kind: "bigint", data: (s) => [[2n ** 40n, BigInt(s)], [1n, 3n]] },
  // A commutative user op.
  { op: "maxAbs", kind: "number", data: (s) => (s % 2 ? -1 : 1) * s * 1.5 }
]

// ------------------------------------------------------------------ scenarios

export const collectiveScenarios: Record<string, CollectiveScenario> = {
  /** The value collectives for every root, over objects, numbers, bigints, typed arrays and nested arrays; barrier semantics. */
  values: {
    async run(comm, kit) {
      const out: Out = {}
      const { rank, size: p } = comm
      for (let root = 0; root < p; root++) {
        const me = rank === root
        await record(out, `bcast.object@${root}`, () => comm.bcast(me ? bcastData(root) : null, root))
        await record(out, `bcast.number@${root}`, () => comm.bcast(me ? root + 0.25 : -1, root))
        await record(out, `bcast.bigint@${root}`, () => comm.bcast(me ? -(2n ** 130n) - BigInt(root) : 0n, root))
        await record(out, `bcast.typed@${root}`, () => comm.bcast(me ? Int16Array.of(root, -root, 300) : null, root))
        await record(out, `bcast.array@${root}`, () => comm.bcast(me ? [root, 1.5, [2, "two"]] : null, root))
        await record(out, `scatter@${root}`, () => comm.scatter(me ? scatterItems(root, p) : undefined, root))
        await record(out, `gather@${root}`, () => comm.gather(gatherItem(rank, root), root))
        await record(out, `allgather@${root}`, () => comm.allgather(allgatherItem(rank, root)))
        await record(out, `alltoall@${root}`, () => comm.alltoall(range(p).map((j) => alltoallItem(rank, j, root))))
        await record(out, `reduce.mixed@${root}`, () => comm.reduce(mixed(rank), Op.SUM, root))
        await record(out, `reduce.bigprod@${root}`, () => comm.reduce(2n ** 64n + BigInt(rank), Op.PROD, root))
        // Barrier: the root enters late; nobody may leave before it has entered.
        if (me) await sleep(25)
        const entered = Date.now()
        await record(out, `barrier@${root}`, () => comm.barrier())
        out[`barrierTimes@${root}`] = { entered, left: Date.now() }
      }
      await record(out, "bcast.default", () => comm.bcast(rank === 0 ? "from zero" : null))
      await record(out, "scatter.default", () => comm.scatter(rank === 0 ? range(p).map((i) => i * i) : undefined))
      await record(out, "gather.default", () => comm.gather(`g${rank}`))
      await record(out, "reduce.default", () => comm.reduce(rank + 1))
      await record(out, "allreduce.mixed", () => comm.allreduce(mixed(rank), Op.SUM))
      await record(out, "allreduce.default", () => comm.allreduce(2n ** 90n + BigInt(rank)))
      await record(out, "allreduce.typed", () => comm.allreduce(Uint16Array.of(rank, 2 * rank, 1)))
      await record(out, "scan.mixed", () => comm.scan(mixed(rank), Op.SUM))
      await record(out, "scan.default", () => comm.scan(rank + 1))
      await record(out, "exscan.mixed", () => comm.exscan(mixed(rank), Op.SUM))
      await record(out, "exscan.default", () => comm.exscan(rank + 1))
      await record(out, "reduceScatter", () => comm.reduceScatter(range(p).map((j) => rsItem(rank, j)), Op.SUM))
      await record(out, "reduceScatter.default", () => comm.reduceScatter(range(p).map((j) => j * 100 + rank)))
      return out
    },
    check(t, results, p) {
      results.forEach((r, rank) => {
        const want: Out = {}
        for (let root = 0; root < p; root++) {
          const me = rank === root
          want[`bcast.object@${root}`] = bcastData(root)
          want[`bcast.number@${root}`] = root + 0.25
          want[`bcast.bigint@${root}`] = -(2n ** 130n) - BigInt(root)
          want[`bcast.typed@${root}`] = Int16Array.of(root, -root, 300)
          want[`bcast.array@${root}`] = [root, 1.5, [2, "two"]]
          want[`scatter@${root}`] = scatterItems(root, p)[rank]
          want[`gather@${root}`] = me ? range(p).map((i) => gatherItem(i, root)) : undefined
          want[`allgather@${root}`] = range(p).map((i) => allgatherItem(i, root))
          want[`alltoall@${root}`] = range(p).map((j) => alltoallItem(j, rank, root))
          want[`reduce.mixed@${root}`] = me ? mixedSum(p) : undefined
          want[`reduce.bigprod@${root}`] = me ? range(p).reduce((acc, i) => acc * (2n ** 64n + BigInt(i)), 1n) : undefined
          want[`barrier@${root}`] = undefined
        }
        want["bcast.default"] = "from zero"
        want["scatter.default"] = rank * rank
        want["gather.default"] = rank === 0 ? range(p).map((i) => `g${i}`) : undefined
        want["reduce.default"] = rank === 0 ? tri(p) + p : undefined
        want["allreduce.mixed"] = mixedSum(p)
        want["allreduce.default"] = 2n ** 90n * BigInt(p) + BigInt(tri(p))
        want["allreduce.typed"] = Uint16Array.of(tri(p), 2 * tri(p), p)
        want["scan.mixed"] = mixedSum(rank + 1)
        want["scan.default"] = tri(rank + 2)
        want["exscan.mixed"] = rank === 0 ? undefined : mixedSum(rank)
        want["exscan.default"] = rank === 0 ? undefined : tri(rank + 1)
        want["reduceScatter"] = [rank * tri(p) + p, BigInt(tri(p) + p) << 70n, Float64Array.of(tri(p) + p * rank)]
        want["reduceScatter.default"] = p * rank * 100 + tri(p)
        compare(t, rank, r, want)
      })
      for (let root = 0; root < p; root++) {
        const times = results.map((r) => r[`barrierTimes@${root}`])
        const lastIn = Math.max(...times.map((x: any) => x.entered))
        const firstOut = Math.min(...times.map((x: any) => x.left))
        t.true(firstOut >= lastIn, `barrier@${root}: a rank left (${firstOut}) before the last entered (${lastIn})`)
      }
    }
  },

  /** The buffer forms for every root and several typed-array kinds, v forms with gaps, Allreduce in place. */
  buffers: {
    async run(comm, kit) {
      const out: Out = {}
      const { rank, size: p } = comm
      const n = 3
      for (let root = 0; root < p; root++) {
        const me = rank === root
        for (const K of BUFFER_KINDS) {
          const at = `${K}@${root}`
          // Bcast
          const bbuf = me ? mkFn(K, 5, (k) => ev(root, 0, k)) : mk(K, [0, 0, 0, 0, 0])
          await record(out, `Bcast.${at}`, async () => {
            const got = await comm.Bcast(bbuf, root)
            return { got, same: got === bbuf }
          })
          // Scatter (equal blocks)
          await record(out, `Scatter.${at}`, () => comm.Scatter(me ? mkFn(K, p * n, (i) => ev(root, Math.floor(i / n), i % n)) : undefined, mk(K, new Array(n).fill(0)), root))
          // Scatterv, displacements by default, counts i + 1
          const counts = range(p).map((i) => i + 1)
          await record(out, `Scatterv.${at}`, () =>
            comm.Scatterv(
              me ? mk(K, counts.flatMap((c, i) => range(c).map((k) => ev(root, i, k)))) : undefined,
              counts,
              undefined,
              mk(K, new Array(rank + 1).fill(0)),
              root
            ))
          // Scatterv, reversed displacements with gaps
          const rd = reversedDispls(counts)
          await record(out, `Scatterv.displs.${at}`, () =>
            comm.Scatterv(
              me ? mk(K, layoutValues(counts, rd, spanOf(counts, rd), (i, k) => ev(root, i, k))) : undefined,
              counts,
              rd,
              mk(K, new Array(rank + 1).fill(0)),
              root
            ))
          // Gather
          await record(out, `Gather.${at}`, () => comm.Gather(mkFn(K, n, (k) => ev(rank, root, k)), me ? mk(K, new Array(p * n).fill(0)) : undefined, root))
          // Gatherv: rank i sends i + 1 elements into a reversed layout with gaps
          await record(out, `Gatherv.${at}`, () =>
            comm.Gatherv(mkFn(K, rank + 1, (k) => ev(rank, root, k)), me ? mk(K, new Array(spanOf(counts, rd)).fill(GAP)) : undefined, counts, rd, root))
          // Allgather
          await record(out, `Allgather.${at}`, () => comm.Allgather(mkFn(K, n, (k) => ev(rank, root, k)), mk(K, new Array(p * n).fill(0))))
          // Allgatherv: counts (i % 3) + 1, displacements by default
          const agc = range(p).map((i) => (i % 3) + 1)
          await record(out, `Allgatherv.${at}`, () =>
            comm.Allgatherv(mkFn(K, agc[rank]!, (k) => ev(rank, root, k)), mk(K, new Array(agc.reduce((a, b) => a + b, 0)).fill(0)), agc))
          // Alltoall
          await record(out, `Alltoall.${at}`, () => comm.Alltoall(mkFn(K, p * n, (i) => ev(rank, Math.floor(i / n) + root, i % n)), mk(K, new Array(p * n).fill(0))))
          // Alltoallv: rank a sends c(a, b) elements to rank b (zero counts included); received into a reversed layout with gaps
          const c = (a: number, b: number) => (a + 2 * b + root) % 3
          const sc = range(p).map((j) => c(rank, j))
          const rc = range(p).map((j) => c(j, rank))
          const rrd = reversedDispls(rc)
          await record(out, `Alltoallv.${at}`, () =>
            comm.Alltoallv(
              mk(K, sc.flatMap((cnt, j) => range(cnt).map((k) => ev(rank, j, k)))),
              sc,
              undefined,
              mk(K, new Array(spanOf(rc, rrd)).fill(GAP)),
              rc,
              rrd
            ))
          // Reduce (SUM, MAX)
          await record(out, `Reduce.sum.${at}`, () => comm.Reduce(mkFn(K, n, (k) => ev(rank, root, k)), me ? mk(K, new Array(n).fill(0)) : undefined, Op.SUM, root))
          await record(out, `Reduce.max.${at}`, () => comm.Reduce(mkFn(K, n, (k) => ev(rank, root + 1, k)), me ? mk(K, new Array(n).fill(0)) : undefined, Op.MAX, root))
          // Allreduce, separate buffers and in place
          await record(out, `Allreduce.sum.${at}`, () => comm.Allreduce(mkFn(K, n, (k) => ev(rank, root, k)), mk(K, new Array(n).fill(0)), Op.SUM))
          const inPlace = mkFn(K, n, (k) => ev(rank, root + 2, k))
          await record(out, `Allreduce.min.inPlace.${at}`, async () => {
            const got = await comm.Allreduce(inPlace, inPlace, Op.MIN)
            return { got, same: got === inPlace }
          })
          // ReduceScatterBlock
          await record(out, `ReduceScatterBlock.${at}`, () =>
            comm.ReduceScatterBlock(mkFn(K, p * n, (i) => ev(rank, Math.floor(i / n) + root, i % n)), mk(K, new Array(n).fill(0)), Op.SUM))
        }
      }
      return out
    },
    check(t, results, p) {
      const n = 3
      results.forEach((r, rank) => {
        const want: Out = {}
        for (let root = 0; root < p; root++) {
          const me = rank === root
          for (const K of BUFFER_KINDS) {
            const at = `${K}@${root}`
            const counts = range(p).map((i) => i + 1)
            const rd = reversedDispls(counts)
            want[`Bcast.${at}`] = { got: mkFn(K, 5, (k) => ev(root, 0, k)), same: true }
            want[`Scatter.${at}`] = mkFn(K, n, (k) => ev(root, rank, k))
            want[`Scatterv.${at}`] = mkFn(K, rank + 1, (k) => ev(root, rank, k))
            want[`Scatterv.displs.${at}`] = mkFn(K, rank + 1, (k) => ev(root, rank, k))
            want[`Gather.${at}`] = me ? mkFn(K, p * n, (i) => ev(Math.floor(i / n), root, i % n)) : undefined
            want[`Gatherv.${at}`] = me ? mk(K, layoutValues(counts, rd, spanOf(counts, rd), (i, k) => ev(i, root, k))) : undefined
            want[`Allgather.${at}`] = mkFn(K, p * n, (i) => ev(Math.floor(i / n), root, i % n))
            const agc = range(p).map((i) => (i % 3) + 1)
            want[`Allgatherv.${at}`] = mk(K, agc.flatMap((cnt, i) => range(cnt).map((k) => ev(i, root, k))))
            want[`Alltoall.${at}`] = mkFn(K, p * n, (i) => ev(Math.floor(i / n), rank + root, i % n))
            const c = (a: number, b: number) => (a + 2 * b + root) % 3
            const rc = range(p).map((j) => c(j, rank))
            const rrd = reversedDispls(rc)
            want[`Alltoallv.${at}`] = mk(K, layoutValues(rc, rrd, spanOf(rc, rrd), (j, k) => ev(j, rank, k)))
            const col = (b: number, f: (xs: Array<number>) => number) => mkFn(K, n, (k) => f(range(p).map((a) => ev(a, b, k))))
            const sum = (xs: Array<number>) => xs.reduce((s, x) => s + x, 0)
            want[`Reduce.sum.${at}`] = me ? col(root, sum) : undefined
            want[`Reduce.max.${at}`] = me ? col(root + 1, (xs) => Math.max(...xs)) : undefined
            want[`Allreduce.sum.${at}`] = col(root, sum)
            want[`Allreduce.min.inPlace.${at}`] = { got: col(root + 2, (xs) => Math.min(...xs)), same: true }
            want[`ReduceScatterBlock.${at}`] = col(rank + root, sum)
          }
        }
        compare(t, rank, r, want)
      })
    }
  },

  /**
   * Large typed arrays (≥ 32 KiB per block, past the 64 KiB eager limit for
   * some): the ring allgather and ring allreduce (uneven segments), in place
   * and not, every built-in op the ring runs; a non-commutative op on a large
   * array (rank order); large Bcast, Gather, Alltoall, Reduce and
   * ReduceScatterBlock for every root.
   */
  large: {
    async run(comm, kit) {
      const out: Out = {}
      const { rank, size: p } = comm
      const f64 = (n: number, at: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => at(i))
      await record(out, "Allgather.f64", () => comm.Allgather(f64(N64, (i) => L(rank, i)), new Float64Array(p * N64)))
      await record(out, "Allgather.i32", () => comm.Allgather(Int32Array.from({ length: N32 }, (_, i) => X(rank, i)), new Int32Array(p * N32)))
      const agc = range(p).map((i) => N64 + 5 * i)
      await record(out, "Allgatherv.f64", () => comm.Allgatherv(f64(agc[rank]!, (i) => L(rank, i)), new Float64Array(agc.reduce((a, b) => a + b, 0)), agc))
      await record(out, "allreduce.f64.sum", () => comm.allreduce(f64(N64, (i) => L(rank, i)), Op.SUM))
      await record(out, "allreduce.f64.max", () => comm.allreduce(f64(N64, (i) => L(rank, i)), Op.MAX))
      await record(out, "allreduce.f32.min", () => comm.allreduce(Float32Array.from({ length: N32 }, (_, i) => L(rank, i)), Op.MIN))
      await record(out, "allreduce.i32.bxor", () => comm.allreduce(Int32Array.from({ length: N32 }, (_, i) => X(rank, i)), Op.BXOR))
      await record(out, "allreduce.i32.band", () => comm.allreduce(Int32Array.from({ length: N32 }, (_, i) => ~(1 << ((rank + i) % 31))), Op.BAND))
      await record(out, "allreduce.i32.bor", () => comm.allreduce(Int32Array.from({ length: N32 }, (_, i) => 1 << ((rank * 3 + i) % 31)), Op.BOR))
      await record(out, "allreduce.i32.lor", () => comm.allreduce(Int32Array.from({ length: N32 }, (_, i) => ((rank + i) % 4 === 0 ? 1 : 0)), Op.LOR))
      await record(out, "allreduce.i16.prod", () => comm.allreduce(Int16Array.from({ length: 2 * N32 }, (_, i) => [1, -1, 2][(rank + i) % 3]!), Op.PROD))
      await record(out, "allreduce.u8.sum", () => comm.allreduce(Uint8Array.from({ length: 33000 }, (_, i) => U(rank, i)), Op.SUM))
      await record(out, "allreduce.big64.sum", () => comm.allreduce(BigInt64Array.from({ length: 4100 }, (_, i) => BigInt(L(rank, i)) * 2n ** 40n), Op.SUM))
      await record(out, "Allreduce.f64.sum", () => comm.Allreduce(f64(N64, (i) => L(rank, i)), new Float64Array(N64), Op.SUM))
      const inPlace = f64(N64, (i) => L(rank + 1, i))
      await record(out, "Allreduce.f64.sum.inPlace", async () => {
        const got = await comm.Allreduce(inPlace, inPlace, Op.SUM)
        return { got, same: got === inPlace }
      })
      const inPlaceI = Int32Array.from({ length: N32 }, (_, i) => X(rank, i))
      await record(out, "Allreduce.i32.max.inPlace", async () => {
        const got = await comm.Allreduce(inPlaceI, inPlaceI, Op.MAX)
        return { got, same: got === inPlaceI }
      })
      await record(out, "allreduce.affine", () => comm.allreduce(affineData(rank), affine))
      await record(out, "allreduce.maxAbs", () =>
        comm.allreduce(f64(N64, (i) => L(rank, i)), Op.create((a: Float64Array, b: Float64Array) => a.map((x, i) => maxAbsFn(x, b[i]!)), true)))
      await record(out, "ReduceScatterBlock.f64", () => comm.ReduceScatterBlock(f64(p * 4100, (i) => L(rank + Math.floor(i / 4100), i % 4100)), new Float64Array(4100), Op.SUM))
      await record(out, "Alltoall.f64", () => comm.Alltoall(f64(p * 4100, (i) => L(rank * p + Math.floor(i / 4100), i % 4100)), new Float64Array(p * 4100)))
      for (let root = 0; root < p; root++) {
        const me = rank === root
        await record(out, `Bcast@${root}`, () => comm.Bcast(me ? f64(20000, (i) => L(root, i)) : new Float64Array(20000), root))
        await record(out, `Gather@${root}`, () => comm.Gather(f64(9000, (i) => L(rank + root, i)), me ? new Float64Array(p * 9000) : undefined, root))
        await record(out, `Reduce@${root}`, () => comm.Reduce(f64(N64, (i) => L(rank + root, i)), me ? new Float64Array(N64) : undefined, Op.SUM, root))
        await record(out, `reduce.affine@${root}`, () => comm.reduce(affineData(rank + root), affine, root))
      }
      await record(out, "bcast.object", () => comm.bcast(rank === p - 1 ? { big: f64(20000, (i) => L(7, i)), tag: "large" } : null, p - 1))
      return out
    },
    check(t, results, p) {
      const colSum = (off: number) => (i: number) => range(p).reduce((s, a) => s + L(a + off, i), 0)
      const affineWant = (off: number) => {
        const all = fold(affineFn, range(p).map((a) => affineData(a + off))) as Float64Array
        return new TypedWant("Float64Array", all.length, (i) => all[i]!)
      }
      const agc = range(p).map((i) => N64 + 5 * i)
      const agStarts = prefix(agc)
      results.forEach((r, rank) => {
        const want: Out = {}
        want["Allgather.f64"] = new TypedWant("Float64Array", p * N64, (i) => L(Math.floor(i / N64), i % N64))
        want["Allgather.i32"] = new TypedWant("Int32Array", p * N32, (i) => X(Math.floor(i / N32), i % N32))
        want["Allgatherv.f64"] = new TypedWant("Float64Array", agc.reduce((a, b) => a + b, 0), (i) => {
          let b = 0
          while (b + 1 < p && agStarts[b + 1]! <= i) b++
          return L(b, i - agStarts[b]!)
        })
        want["allreduce.f64.sum"] = new TypedWant("Float64Array", N64, colSum(0))
        want["allreduce.f64.max"] = new TypedWant("Float64Array", N64, (i) => Math.max(...range(p).map((a) => L(a, i))))
        want["allreduce.f32.min"] = new TypedWant("Float32Array", N32, (i) => Math.min(...range(p).map((a) => L(a, i))))
        want["allreduce.i32.bxor"] = new TypedWant("Int32Array", N32, (i) => range(p).reduce((s, a) => s ^ X(a, i), 0))
        want["allreduce.i32.band"] = new TypedWant("Int32Array", N32, (i) => range(p).reduce((s, a) => s & ~(1 << ((a + i) % 31)), -1))
        want["allreduce.i32.bor"] = new TypedWant("Int32Array", N32, (i) => range(p).reduce((s, a) => s | (1 << ((a * 3 + i) % 31)), 0))
        want["allreduce.i32.lor"] = new TypedWant("Int32Array", N32, (i) => (range(p).some((a) => (a + i) % 4 === 0) ? 1 : 0))
        want["allreduce.i16.prod"] = new TypedWant("Int16Array", 2 * N32, (i) => range(p).reduce((s, a) => s * [1, -1, 2][(a + i) % 3]!, 1))
        want["allreduce.u8.sum"] = new TypedWant("Uint8Array", 33000, (i) => range(p).reduce((s, a) => s + U(a, i), 0) & 0xff)
        want["allreduce.big64.sum"] = new TypedWant("BigInt64Array", 4100, (i) => BigInt(colSum(0)(i)) * 2n ** 40n)
        want["Allreduce.f64.sum"] = new TypedWant("Float64Array", N64, colSum(0))
        compare(t, rank, r, want)
        const ip = r["Allreduce.f64.sum.inPlace"]
        t.is(new TypedWant("Float64Array", N64, colSum(1)).diff(ip?.got), "", `rank ${rank}: Allreduce.f64.sum.inPlace ${show(ip)}`)
        t.true(ip?.same, `rank ${rank}: Allreduce in place returns its buffer`)
        const ipi = r["Allreduce.i32.max.inPlace"]
        t.is(new TypedWant("Int32Array", N32, (i) => Math.max(...range(p).map((a) => X(a, i)))).diff(ipi?.got), "", `rank ${rank}: Allreduce.i32.max.inPlace ${show(ipi)}`)
        t.true(ipi?.same, `rank ${rank}: Allreduce in place returns its buffer`)
        const more: Out = {}
        more["allreduce.affine"] = affineWant(0)
        // One rank combines nothing: its value comes back as it is.
        more["allreduce.maxAbs"] = new TypedWant("Float64Array", N64, (i) => (p === 1 ? L(0, i) : Math.max(...range(p).map((a) => Math.abs(L(a, i))))))
        more["ReduceScatterBlock.f64"] = new TypedWant("Float64Array", 4100, colSum(rank))
        more["Alltoall.f64"] = new TypedWant("Float64Array", p * 4100, (i) => L(Math.floor(i / 4100) * p + rank, i % 4100))
        for (let root = 0; root < p; root++) {
          const me = rank === root
          more[`Bcast@${root}`] = new TypedWant("Float64Array", 20000, (i) => L(root, i))
          more[`Gather@${root}`] = me ? new TypedWant("Float64Array", p * 9000, (i) => L(Math.floor(i / 9000) + root, i % 9000)) : undefined
          more[`Reduce@${root}`] = me ? new TypedWant("Float64Array", N64, colSum(root)) : undefined
          more[`reduce.affine@${root}`] = me ? affineWant(root) : undefined
        }
        compare(t, rank, r, more)
        const obj = r["bcast.object"]
        t.is(obj?.tag, "large", `rank ${rank}: bcast.object ${show(obj)}`)
        t.is(new TypedWant("Float64Array", 20000, (i) => L(7, i)).diff(obj?.big), "", `rank ${rank}: bcast.object.big`)
      })
    }
  },

  /**
   * Allgatherv where rank 0's block is small and the others' are ≥ 32 KiB:
   * every rank must still agree on the algorithm. Guarded in the rank, so a
   * hang shows as "pending" rather than a world timeout.
   */
  allgathervMixed: {
    async run(comm, kit) {
      const p = comm.size
      const counts = range(p).map((i) => (i === 0 ? 10 : N64))
      const send = Float64Array.from({ length: counts[comm.rank]! }, (_, i) => L(comm.rank, i))
      const recv = new Float64Array(counts.reduce((a, b) => a + b, 0))
      return { got: await settledWithin(() => comm.Allgatherv(send, recv, counts), 2000) }
    },
    check(t, results, p) {
      const counts = range(p).map((i) => (i === 0 ? 10 : N64))
      const starts = prefix(counts)
      results.forEach((r, rank) => {
        const want = new TypedWant("Float64Array", counts.reduce((a, b) => a + b, 0), (i) => {
          let b = 0
          while (b + 1 < p && starts[b + 1]! <= i) b++
          return L(b, i - starts[b]!)
        })
        t.is(want.diff(r.got), "", `rank ${rank}: Allgatherv with blocks on both sides of RING_BYTES: ${show(r.got)}`)
      })
    }
  },

  /** Every op on every kind it takes: allreduce, reduce at every root, scan, exscan and reduceScatter. */
  ops: {
    async run(comm, kit) {
      const out: Out = {}
      const { rank, size: p } = comm
      for (const c of OP_CASES) {
        const op = OPS[c.op]!
        const key = `${c.op}.${c.kind}`
        await record(out, `${key}.allreduce`, () => comm.allreduce(c.data(rank), op))
        for (let root = 0; root < p; root++) await record(out, `${key}.reduce@${root}`, () => comm.reduce(c.data(rank), op, root))
        await record(out, `${key}.scan`, () => comm.scan(c.data(rank), op))
        await record(out, `${key}.exscan`, () => comm.exscan(c.data(rank), op))
        await record(out, `${key}.reduceScatter`, () => comm.reduceScatter(range(p).map((j) => c.data(rank + p * j)), op))
      }
      return out
    },
    check(t, results, p) {
      results.forEach((r, rank) => {
        const want: Out = {}
        for (const c of OP_CASES) {
          const f = refOf(c.op)
          const key = `${c.op}.${c.kind}`
          const all = fold(f, range(p).map((a) => c.data(a)))
          want[`${key}.allreduce`] = all
          for (let root = 0; root < p; root++) want[`${key}.reduce@${root}`] = rank === root ? all : undefined
          want[`${key}.scan`] = fold(f, range(rank + 1).map((a) => c.data(a)))
          want[`${key}.exscan`] = rank === 0 ? undefined : fold(f, range(rank).map((a) => c.data(a)))
          want[`${key}.reduceScatter`] = fold(f, range(p).map((a) => c.data(a + p * rank)))
        }
        compare(t, rank, r, want)
      })
    }
  },

  /** The non-blocking forms, started together with point-to-point requests and finished by one Request.waitAll, for every root. */
  nonblocking: {
    async run(comm, kit) {
      const out: Out = {}
      const { rank, size: p } = comm
      for (let root = 0; root < p; root++) {
        const me = rank === root
        const inPlace = Int32Array.of(rank, -rank, root)
        const reqs: Array<Request<any>> = [
          comm.irecv(prev(comm), 7),
          comm.ibarrier(),
          comm.ibcast(me ? { root, big: 2n ** 65n + BigInt(root) } : null, root),
          comm.iscatter(me ? range(p).map((i) => `item ${i} of ${root}`) : undefined, root),
          comm.igather(rank * 10 + root, root),
          comm.iallgather([rank, root]),
          comm.ialltoall(range(p).map((j) => rank * 100 + j + root)),
          comm.ireduce(BigInt(rank + 1) << 70n, Op.SUM, root),
          comm.iallreduce(rank + root, Op.MAX),
          comm.iscan(rank + 1, Op.PROD),
          comm.iexscan(String.fromCharCode(97 + rank), concat),
          comm.ireduceScatter(range(p).map((j) => j * 10 + rank), Op.SUM),
          comm.isend({ from: rank, root }, next(comm), 7),
          comm.Ibcast(me ? Float64Array.of(root, 0.5, -root - 0.5) : new Float64Array(3), root),
          comm.Iscatter(me ? Int32Array.from(range(2 * p), (i) => i * 3 + root) : undefined, new Int32Array(2), root),
          comm.Igather(Float32Array.of(rank, root), me ? new Float32Array(2 * p) : undefined, root),
          comm.Iallgather(Int16Array.of(rank + root), new Int16Array(p)),
          comm.Ialltoall(Uint8Array.from(range(p), (j) => rank * 16 + j), new Uint8Array(p)),
          comm.Ireduce(BigInt64Array.of(BigInt(rank), -2n), me ? new BigInt64Array(2) : undefined, Op.SUM, root),
          comm.Iallreduce(Float64Array.of(rank, root), new Float64Array(2), Op.SUM),
          comm.Iallreduce(inPlace, inPlace, Op.MAX),
          comm.isend(`eight from ${rank}`, prev(comm), 8)
        ]
        // A blocking exchange while all of that is in flight.
        out[`sendrecv@${root}`] = await outcome(() => comm.sendrecv(rank * 2, next(comm), 9, prev(comm), 9))
        // A wildcard receive: of all the traffic in flight, only the tag-8 message may match it.
        reqs.push(comm.irecv(ANY_SOURCE, ANY_TAG))
        const statuses = reqs.map(() => new Status())
        const names = [
          "irecv", "ibarrier", "ibcast", "iscatter", "igather", "iallgather", "ialltoall", "ireduce", "iallreduce", "iscan", "iexscan",
          "ireduceScatter", "isend", "Ibcast", "Iscatter", "Igather", "Iallgather", "Ialltoall", "Ireduce", "Iallreduce", "IallreduceInPlace",
          "isend8", "irecvAny"
        ]
        const values = await outcome(() => kit.waitAll(reqs, statuses))
        if (isFailure(values)) out[`waitAll@${root}`] = values
        else (values as Array<unknown>).forEach((v, i) => (out[`${names[i]}@${root}`] = v))
        out[`irecvAny.status@${root}`] = { source: statuses[22]!.source, tag: statuses[22]!.tag }
        out[`inPlaceSame@${root}`] = isFailure(values) ? values : (values as Array<unknown>)[20] === inPlace
        out[`leftover@${root}`] = comm.iprobe(ANY_SOURCE, ANY_TAG)
        // Nobody starts the next round's point-to-point traffic before every rank has looked.
        await comm.barrier()
      }
      // Request.test() drives a collective to completion too.
      const r = comm.iallreduce(rank + 1)
      let polls = 0
      let got: [boolean, unknown] = [false, undefined]
      while (!(got = r.test())[0] && polls < 100_000) {
        polls++
        await new Promise((res) => setImmediate(res))
      }
      out.tested = got
      return out
    },
    check(t, results, p) {
      results.forEach((r, rank) => {
        const want: Out = {}
        const pr = (rank - 1 + p) % p
        const nx = (rank + 1) % p
        for (let root = 0; root < p; root++) {
          const me = rank === root
          want[`waitAll@${root}`] = undefined
          want[`sendrecv@${root}`] = pr * 2
          want[`irecv@${root}`] = { from: pr, root }
          want[`ibarrier@${root}`] = undefined
          want[`ibcast@${root}`] = { root, big: 2n ** 65n + BigInt(root) }
          want[`iscatter@${root}`] = `item ${rank} of ${root}`
          want[`igather@${root}`] = me ? range(p).map((i) => i * 10 + root) : undefined
          want[`iallgather@${root}`] = range(p).map((i) => [i, root])
          want[`ialltoall@${root}`] = range(p).map((j) => j * 100 + rank + root)
          want[`ireduce@${root}`] = me ? BigInt(tri(p) + p) << 70n : undefined
          want[`iallreduce@${root}`] = p - 1 + root
          want[`iscan@${root}`] = range(rank + 1).reduce((s, i) => s * (i + 1), 1)
          want[`iexscan@${root}`] = rank === 0 ? undefined : range(rank).map((i) => String.fromCharCode(97 + i)).join("")
          want[`ireduceScatter@${root}`] = p * rank * 10 + tri(p)
          want[`isend@${root}`] = undefined
          want[`Ibcast@${root}`] = Float64Array.of(root, 0.5, -root - 0.5)
          want[`Iscatter@${root}`] = Int32Array.of(2 * rank * 3 + root, (2 * rank + 1) * 3 + root)
          want[`Igather@${root}`] = me ? Float32Array.from(range(2 * p), (i) => (i % 2 === 0 ? i / 2 : root)) : undefined
          want[`Iallgather@${root}`] = Int16Array.from(range(p), (i) => i + root)
          want[`Ialltoall@${root}`] = Uint8Array.from(range(p), (j) => j * 16 + rank)
          want[`Ireduce@${root}`] = me ? BigInt64Array.of(BigInt(tri(p)), -2n * BigInt(p)) : undefined
          want[`Iallreduce@${root}`] = Float64Array.of(tri(p), p * root)
          want[`IallreduceInPlace@${root}`] = Int32Array.of(p - 1, 0, root)
          want[`inPlaceSame@${root}`] = true
          want[`isend8@${root}`] = undefined
          want[`irecvAny@${root}`] = `eight from ${nx}`
          want[`irecvAny.status@${root}`] = { source: nx, tag: 8 }
          want[`leftover@${root}`] = false
        }
        want.tested = [true, tri(p) + p]
        compare(t, rank, r, want)
      })
    }
  },

  /**
   * Collectives in flight at once: on two dups (started in opposite orders on
   * odd and even ranks) and the world, several on one communicator, waited
   * for in reverse order; large ring allreduces on two dups at once.
   */
  concurrent: {
    async run(comm, kit) {
      const out: Out = {}
      const { rank, size: p } = comm
      const d1 = await comm.dup()
      const d2 = await comm.dup()
      const even = rank % 2 === 0
      for (let root = 0; root < p; root++) {
        const start1 = () => d1.iallreduce(`a${rank}.`, concat)
        const start2 = () => d2.iallreduce(`b${rank}.`, concat)
        let x1: Request<string>, x2: Request<string>
        if (even) {
          x1 = start1()
          x2 = start2()
        } else {
          x2 = start2()
          x1 = start1()
        }
        const w = comm.ibcast(rank === root ? `world ${root}` : null, root)
        const s1 = comm.iallreduce(rank + 1, Op.SUM)
        const s2 = comm.iallreduce(rank + 1, Op.PROD)
        const s3 = comm.iallgather(`w${rank}`)
        const s4 = d1.igather(`g${rank}`, root)
        const s5 = d2.iscan(rank, Op.SUM)
        const s6 = d1.ibcast(rank === root ? `d1 ${root}` : null, root)
        const pairs: Array<[string, Request<any>]> = [["s6", s6], ["s5", s5], ["s4", s4], ["s3", s3], ["s2", s2], ["s1", s1], ["w", w], ["x2", x2], ["x1", x1]]
        for (const [name, q] of pairs) out[`${name}@${root}`] = await outcome(() => q.wait())
        // A blocking collective on one dup while a non-blocking one is pending on the other.
        const pending = d2.iallgather(rank + root)
        out[`blocking@${root}`] = await outcome(() => d1.allreduce(rank * root))
        out[`pending@${root}`] = await outcome(() => pending.wait())
      }
      // Large ring allreduces on both dups at once, started in opposite orders.
      const b1 = Float64Array.from({ length: N64 }, (_, i) => L(rank, i))
      const b2 = Float64Array.from({ length: N64 }, (_, i) => 1000 * L(rank + 1, i))
      const r1 = () => d1.Iallreduce(b1, new Float64Array(N64), Op.SUM)
      const r2 = () => d2.Iallreduce(b2, new Float64Array(N64), Op.SUM)
      const big = even ? [r1(), r2()] : [r2(), r1()].reverse()
      const bw = comm.Iallgather(Float64Array.from({ length: N64 }, (_, i) => L(rank + 2, i)), new Float64Array(p * N64))
      const got = await outcome(() => kit.waitAll([big[1]!, bw, big[0]!]))
      if (isFailure(got)) out.large = got
      else [out.large2, out.largeWorld, out.large1] = got as Array<unknown>
      return out
    },
    check(t, results, p) {
      const chain = (prefix: string) => range(p).map((i) => `${prefix}${i}.`).join("")
      results.forEach((r, rank) => {
        const want: Out = {}
        for (let root = 0; root < p; root++) {
          want[`x1@${root}`] = chain("a")
          want[`x2@${root}`] = chain("b")
          want[`w@${root}`] = `world ${root}`
          want[`s1@${root}`] = tri(p) + p
          want[`s2@${root}`] = range(p).reduce((s, i) => s * (i + 1), 1)
          want[`s3@${root}`] = range(p).map((i) => `w${i}`)
          want[`s4@${root}`] = rank === root ? range(p).map((i) => `g${i}`) : undefined
          want[`s5@${root}`] = tri(rank + 1)
          want[`s6@${root}`] = `d1 ${root}`
          want[`blocking@${root}`] = tri(p) * root
          want[`pending@${root}`] = range(p).map((i) => i + root)
        }
        want.large = undefined
        want.large1 = new TypedWant("Float64Array", N64, (i) => range(p).reduce((s, a) => s + L(a, i), 0))
        want.large2 = new TypedWant("Float64Array", N64, (i) => range(p).reduce((s, a) => s + 1000 * L(a + 1, i), 0))
        want.largeWorld = new TypedWant("Float64Array", p * N64, (i) => L(Math.floor(i / N64) + 2, i % N64))
        compare(t, rank, r, want)
      })
    }
  },

  /** split (parity, reversed keys, keys with ties, UNDEFINED), create from groups, dup of a split, COMM_SELF, COMM_WORLD, isolation of contexts, free. */
  communicators: {
    async run(comm, kit) {
      const out: Out = {}
      const { rank, size: p } = comm
      out.world = { rank: comm.rank, size: comm.size, groupRank: comm.group.rank, groupSize: comm.group.size }
      const describeComm = async (c: Comm | undefined, extra?: (c: Comm) => Promise<Out>) => {
        if (c === undefined) return "undefined"
        const info: Out = {
          rank: c.rank,
          size: c.size,
          groupRank: c.group.rank,
          worldRanks: c.group.translateRanks(range(c.size), comm.group),
          sum: await outcome(() => c.allreduce(rank)),
          all: await outcome(() => c.allgather(rank)),
          order: await outcome(() => c.scan(`${rank},`, concat)),
          last: await outcome(() => c.bcast(c.rank === c.size - 1 ? `last is ${rank}` : null, c.size - 1))
        }
        return extra === undefined ? info : { ...info, ...(await extra(c)) }
      }
      // split by parity
      const par = await comm.split(rank % 2)
      out.parity = await describeComm(par, async (c) => ({ world: { size: c.COMM_WORLD.size, rank: c.COMM_WORLD.rank } }))
      // a split of the split, and a dup of the split
      out.parityHalves = await describeComm(await par!.split(par!.rank % 2))
      out.parityDup = await describeComm(await par!.dup())
      // reversed order
      const rev = await comm.split(0, -rank)
      out.reversed = await describeComm(rev, async (c) => ({ reduced: await outcome(() => c.reduce(`${rank},`, concat, 0)) }))
      // colors with UNDEFINED, keys with ties (ordered by key, then by rank)
      const color = rank % 3 === 1 ? UNDEFINED : rank % 3
      out.colored = await describeComm(await comm.split(color, -Math.floor(rank / 4)))
      // everyone UNDEFINED
      out.none = (await comm.split(UNDEFINED)) === undefined ? "undefined" : "a communicator"
      // create from groups
      const evens = comm.group.incl(range(p).filter((r) => r % 2 === 0))
      out.evens = await describeComm(await comm.create(evens))
      out.createReversed = await describeComm(await comm.create(comm.group.incl(range(p).reverse())))
      out.createExcl = await describeComm(await comm.create(comm.group.excl([0])))
      out.createFromSplit = await describeComm(await par!.create(par!.group.excl([0])))
      // COMM_SELF
      const self = comm.COMM_SELF
      out.self = {
        rank: self.rank,
        size: self.size,
        barrier: await outcome(() => self.barrier()),
        bcast: await outcome(() => self.bcast(`me ${rank}`)),
        scatter: await outcome(() => self.scatter([`only ${rank}`])),
        gather: await outcome(() => self.gather(rank)),
        allgather: await outcome(() => self.allgather(rank)),
        alltoall: await outcome(() => self.alltoall([rank])),
        reduce: await outcome(() => self.reduce(rank + 1, Op.MAX, 0)),
        allreduce: await outcome(() => self.allreduce(rank + 1)),
        scan: await outcome(() => self.scan(rank + 1)),
        exscan: await outcome(() => self.exscan(rank + 1)),
        reduceScatter: await outcome(() => self.reduceScatter([rank + 1])),
        Allreduce: await outcome(() => self.Allreduce(Int32Array.of(rank, 1), new Int32Array(2))),
        sendrecv: await outcome(() => self.sendrecv(`self ${rank}`, 0, 1, 0, 1))
      }
      // Traffic on a dup never matches a receive on the original, and the other way round.
      const d = await comm.dup()
      const worldAny = comm.irecv(ANY_SOURCE, ANY_TAG)
      // Sends around the ring are non-blocking: MPI promises no eager buffering.
      const secret = d.isend({ secret: rank }, next(comm), 3)
      const onDup = await outcome(() => d.recv(prev(comm), 3))
      await secret.wait()
      const [worldTookIt] = worldAny.test()
      const worldSees = comm.iprobe(ANY_SOURCE, ANY_TAG)
      // No world message may be sent before every rank has looked.
      await comm.barrier()
      const toWorld = comm.isend({ world: rank }, next(comm), 4)
      const worldGot = await outcome(() => worldAny.wait())
      await toWorld.wait()
      const dupAny = d.irecv(ANY_SOURCE, ANY_TAG)
      const onWorld = comm.isend("on the world", next(comm), 5)
      const worldAgain = await outcome(() => comm.recv(prev(comm), 5))
      await onWorld.wait()
      const [dupTookIt] = dupAny.test()
      const dupSees = d.iprobe(ANY_SOURCE, ANY_TAG)
      await comm.barrier()
      const onDupSend = d.isend("on the dup", next(comm), 6)
      const dupGot = await outcome(() => dupAny.wait())
      await onDupSend.wait()
      // Collectives on the dup do not take the world's point-to-point messages either.
      const worldPending = comm.irecv(ANY_SOURCE, ANY_TAG)
      const dupSum = await outcome(() => d.allreduce(rank))
      const [worldPendingDone] = worldPending.test()
      worldPending.cancel()
      out.isolation = { onDup, worldTookIt, worldSees, worldGot, worldAgain, dupTookIt, dupSees, dupGot, dupSum, worldPendingDone }
      // free: a pending receive fails, later calls fail with InvalidRequest.
      const f = await comm.dup()
      await comm.barrier()
      const pendingRecv = f.irecv(ANY_SOURCE, 77)
      f.free()
      const free: Out = {
        pendingRecv: await outcome(() => pendingRecv.wait()),
        send: await outcome(() => f.send(1, next(comm), 1)),
        irecv: await outcome(() => f.irecv(ANY_SOURCE, 1).wait()),
        iprobe: await outcome(() => f.iprobe(ANY_SOURCE, ANY_TAG)),
        dup: await outcome(() => f.dup()),
        split: await outcome(() => f.split(0)),
        freeTwice: await outcome(() => f.free()),
        freeWorld: await outcome(() => comm.free())
      }
      // Collectives on the freed communicator, started non-blocking so a rank that does not fail cannot hold the world.
      const colls: Record<string, () => Request<any>> = {
        ibarrier: () => f.ibarrier(),
        ibcast: () => f.ibcast(rank, 0),
        iallreduce: () => f.iallreduce(rank),
        iallgather: () => f.iallgather(rank),
        igather: () => f.igather(rank, 0),
        iscan: () => f.iscan(rank)
      }
      const started = Object.entries(colls).map(([name, s]) => {
        try {
          return [name, s()] as const
        } catch (e) {
          return [name, failure(e)] as const
        }
      })
      await comm.barrier()
      const settled = await Promise.all(started.map(([, q]) => (isFailure(q) ? q : settledWithin(() => q.wait(), 300))))
      started.forEach(([name], i) => (free[name] = settled[i]))
      out.free = free
      await comm.barrier()
      return out
    },
    check(t, results, p) {
      const members = (pred: (r: number) => boolean, key: (r: number) => number = (r) => r) =>
        range(p).filter(pred).sort((a, b) => key(a) - key(b) || a - b)
      const chain = (ranks: ReadonlyArray<number>, upTo: number) => ranks.slice(0, upTo + 1).map((r) => `${r},`).join("")
      /** What describeComm gives on world rank `rank` of a communicator of `ranks` (world ranks in order). */
      const described = (ranks: ReadonlyArray<number>, rank: number) => {
        const i = ranks.indexOf(rank)
        if (i < 0) return "undefined"
        return {
          rank: i,
          size: ranks.length,
          groupRank: i,
          worldRanks: [...ranks],
          sum: ranks.reduce((s, r) => s + r, 0),
          all: [...ranks],
          order: chain(ranks, i),
          last: `last is ${ranks[ranks.length - 1]}`
        }
      }
      results.forEach((r, rank) => {
        const sub = (ranks: ReadonlyArray<number>, extra?: Out) => {
          const d = described(ranks, rank)
          return d === "undefined" || extra === undefined ? d : { ...d, ...extra }
        }
        const parity = members((x) => x % 2 === rank % 2)
        const halves = parity.filter((_, i) => i % 2 === parity.indexOf(rank) % 2)
        const reversed = range(p).reverse()
        const color = (x: number) => (x % 3 === 1 ? UNDEFINED : x % 3)
        const colored = members((x) => color(x) !== UNDEFINED && color(x) === color(rank), (x) => -Math.floor(x / 4))
        const want: Out = {
          world: { rank, size: p, groupRank: rank, groupSize: p },
          parity: sub(parity, { world: { size: p, rank } }),
          parityHalves: sub(halves),
          parityDup: sub(parity),
          reversed: sub(reversed, { reduced: rank === p - 1 ? chain(reversed, p - 1) : undefined }),
          colored: color(rank) === UNDEFINED ? "undefined" : sub(colored),
          none: "undefined",
          evens: sub(members((x) => x % 2 === 0)),
          createReversed: sub(reversed),
          createExcl: sub(members((x) => x !== 0)),
          createFromSplit: sub(parity.slice(1)),
          self: {
            rank: 0,
            size: 1,
            barrier: undefined,
            bcast: `me ${rank}`,
            scatter: `only ${rank}`,
            gather: [rank],
            allgather: [rank],
            alltoall: [rank],
            reduce: rank + 1,
            allreduce: rank + 1,
            scan: rank + 1,
            exscan: undefined,
            reduceScatter: rank + 1,
            Allreduce: Int32Array.of(rank, 1),
            sendrecv: `self ${rank}`
          },
          isolation: {
            onDup: { secret: (rank - 1 + p) % p },
            worldTookIt: false,
            worldSees: false,
            worldGot: { world: (rank - 1 + p) % p },
            worldAgain: "on the world",
            dupTookIt: false,
            dupSees: false,
            dupGot: "on the dup",
            dupSum: tri(p),
            worldPendingDone: false
          }
        }
        compare(t, rank, r, want)
        const free = r.free ?? {}
        for (const name of ["pendingRecv", "send", "irecv", "iprobe", "dup", "split", "freeWorld", "ibarrier", "ibcast", "iallreduce", "iallgather", "igather", "iscan"]) {
          expectFailure(t, free[name], "InvalidRequest", `rank ${rank}: on a freed communicator, ${name}`)
        }
        t.is(free.freeTwice, undefined, `rank ${rank}: freeing twice is harmless`)
      })
    }
  },

  /** Typed errors: InvalidRank, InvalidArgument, TypeMismatch, OpError, Unencodable; every rank fails the same way locally, and the world goes on. */
  errors: {
    async run(comm, kit) {
      const out: Out = {}
      const { rank, size: p } = comm
      const i32 = (n: number) => new Int32Array(n)
      // InvalidRank: roots out of range.
      for (const bad of [p, -1, 1.5]) {
        const calls: Record<string, () => unknown> = {
          bcast: () => comm.bcast(1, bad),
          scatter: () => comm.scatter(range(p), bad),
          gather: () => comm.gather(1, bad),
          reduce: () => comm.reduce(1, Op.SUM, bad),
          ibcast: () => comm.ibcast(1, bad).wait(),
          igather: () => comm.igather(1, bad).wait(),
          ireduce: () => comm.ireduce(1, Op.SUM, bad).wait(),
          Bcast: () => comm.Bcast(i32(2), bad),
          Scatter: () => comm.Scatter(i32(p), i32(1), bad),
          Scatterv: () => comm.Scatterv(i32(p), range(p).map(() => 1), undefined, i32(1), bad),
          Gather: () => comm.Gather(i32(1), i32(p), bad),
          Gatherv: () => comm.Gatherv(i32(1), i32(p), range(p).map(() => 1), undefined, bad),
          Reduce: () => comm.Reduce(i32(1), i32(1), Op.SUM, bad),
          Ireduce: () => comm.Ireduce(i32(1), i32(1), Op.SUM, bad).wait()
        }
        for (const [name, call] of Object.entries(calls)) await record(out, `invalidRank.${name}@${bad}`, call)
      }
      out.afterInvalidRank = await outcome(() => comm.allreduce(rank))
      // InvalidArgument: not an op, wrong item counts, wrong counts in v forms, wrong buffers.
      const f64 = (n: number) => new Float64Array(n)
      const args: Record<string, () => unknown> = {
        opString: () => comm.allreduce(1, "SUM" as any),
        opObject: () => comm.reduce(1, {} as any, 0),
        alltoallCount: () => comm.alltoall(range(p + 1)),
        alltoallNotArray: () => comm.alltoall("nope" as any),
        reduceScatterCount: () => comm.reduceScatter(range(p + 1)),
        AllgathervCountsLength: () => comm.Allgatherv(f64(1), f64(p + 1), range(p + 1).map(() => 1)),
        AllgathervNegative: () => comm.Allgatherv(f64(1), f64(p), range(p).map((i) => (i === 0 ? -1 : 1))),
        AlltoallvFraction: () => comm.Alltoallv(f64(p), range(p).map(() => 1.5), undefined, f64(p), range(p).map(() => 1)),
        AlltoallvDisplsLength: () => comm.Alltoallv(f64(p), range(p).map(() => 1), range(p + 1), f64(p), range(p).map(() => 1)),
        AlltoallvPastSendbuf: () => comm.Alltoallv(f64(p), range(p).map(() => 2), undefined, f64(2 * p), range(p).map(() => 2)),
        AllgatherNotTyped: () => comm.Allgather([1, 2] as any, f64(p)),
        AllreduceLength: () => comm.Allreduce(f64(3), f64(4)),
        AllreduceKind: () => comm.Allreduce(f64(3), i32(3) as any),
        ReduceScatterBlockRecv: () => comm.ReduceScatterBlock(f64(2 * p), f64(3))
      }
      if (p > 1) {
        // With one rank every length divides evenly.
        args.ReduceScatterBlockUneven = () => comm.ReduceScatterBlock(f64(p + 1), f64(1))
        args.AllgatherUneven = () => comm.Allgather(f64(1), f64(p + 1))
      }
      for (const [name, call] of Object.entries(args)) await record(out, `invalidArgument.${name}`, call)
      // Root-side checks of the v forms, where no peer is involved: on COMM_SELF.
      const self = comm.COMM_SELF
      const backing = Float64Array.from(range(16), (i) => i + 100)
      const view = backing.subarray(0, 4)
      const selfArgs: Record<string, () => unknown> = {
        ScattervCountsLength: () => self.Scatterv(f64(4), [2, 2], undefined, f64(2), 0),
        ScattervPastSendbuf: () => self.Scatterv(f64(4), [8], undefined, f64(8), 0),
        ScattervPastView: () => self.Scatterv(view, [8], undefined, f64(8), 0),
        GathervCountsLength: () => self.Gatherv(f64(1), f64(2), [1, 1]),
        GathervPastView: () => self.Gatherv(Float64Array.of(1, 2, 3), view, [3], [2]),
        AlltoallvPastView: () => self.Alltoallv(backing.subarray(0, 2), [5], undefined, f64(5), [5])
      }
      for (const [name, call] of Object.entries(selfArgs)) await record(out, `invalidArgument.self.${name}`, call)
      out.backingUntouched = Array.from(backing).every((x, i) => x === i + 100)
      out.afterInvalidArgument = await outcome(() => comm.allreduce(rank))
      // TypeMismatch: a buffer collective receiving another typed-array kind.
      await record(out, "typeMismatch.Allgather", () => comm.Allgather(Float64Array.of(rank), i32(p) as any))
      await record(out, "typeMismatch.Alltoall", () => comm.Alltoall(f64(p), i32(p) as any))
      await record(out, "typeMismatch.Allgatherv", () => comm.Allgatherv(Float64Array.of(rank), i32(p) as any, range(p).map(() => 1)))
      for (let root = 0; root < p; root++) {
        await record(out, `typeMismatch.Scatter@${root}`, () => comm.Scatter(rank === root ? f64(p) : undefined, i32(1) as any, root))
        await record(out, `typeMismatch.Gather@${root}`, () => comm.Gather(Float64Array.of(rank), rank === root ? (i32(p) as any) : undefined, root))
      }
      // Bcast into the wrong kind, on pairs (a non-root that fails does not forward, so keep every non-root a leaf).
      const pair = await comm.split(rank >> 1)
      await record(out, "typeMismatch.Bcast", () => (pair!.rank === 0 ? pair!.Bcast(Float64Array.of(1, 2), 0) : pair!.Bcast(i32(2) as any, 0)))
      // A message longer than the buffer: Truncated.
      await record(out, "truncated.Bcast", () => (pair!.rank === 0 ? pair!.Bcast(Float64Array.of(1, 2, 3, 4), 0) : pair!.Bcast(f64(2), 0)))
      out.pairSize = pair!.size
      out.afterTypeMismatch = await outcome(() => comm.allreduce(rank))
      // OpError: on the first 2^k ranks, where every rank combines in the first round and so fails locally.
      let pof2 = 1
      while (pof2 * 2 <= p) pof2 *= 2
      const sub = await comm.split(rank < pof2 ? 0 : UNDEFINED)
      if (sub !== undefined) {
        const s = sub.rank
        const ops: Record<string, () => unknown> = {
          bandFraction: () => sub.allreduce(1.5, Op.BAND),
          numberString: () => sub.allreduce(s % 2 ? "x" : 1, Op.SUM),
          typedLengths: () => sub.allreduce(new Float64Array(s + 1), Op.SUM),
          typedKinds: () => sub.allreduce(s % 2 ? new Int32Array(2) : new Float64Array(2), Op.SUM),
          arrayLengths: () => sub.allreduce(range(s + 1), Op.SUM),
          maxlocNumber: () => sub.allreduce(5, Op.MAXLOC),
          iallreduce: () => sub.iallreduce(2.5, Op.BOR).wait(),
          scan: () => sub.scan(1.5, Op.BAND),
          iscan: () => sub.iscan(s % 2 ? "x" : 1, Op.SUM).wait(),
          exscan: () => sub.exscan(2.5, Op.BXOR),
          iexscan: () => sub.iexscan(new Float64Array(s + 1), Op.SUM).wait()
        }
        for (const [name, call] of Object.entries(ops)) await record(out, `opError.${name}`, call)
        for (let root = 0; root < sub.size; root++) await record(out, `opError.reduce@${root}`, () => sub.reduce(1.5, Op.BAND, root))
        out.subSize = sub.size
        out.subRank = sub.rank
      }
      out.afterOpError = await outcome(() => comm.allreduce(rank))
      // Unencodable: every rank contributes a function.
      await record(out, "unencodable.allgather", () => comm.allgather({ ok: 1, f: () => 1 }))
      out.afterUnencodable = await outcome(() => comm.allreduce(rank))
      out.leftover = comm.iprobe(ANY_SOURCE, ANY_TAG)
      return out
    },
    check(t, results, p) {
      results.forEach((r, rank) => {
        const is = (got: unknown, tag: string, what: string, fields?: Record<string, unknown>) => expectFailure(t, got, tag, `rank ${rank}: ${what}`, fields)
        for (const bad of [p, -1, 1.5]) {
          for (const name of ["bcast", "scatter", "gather", "reduce", "ibcast", "igather", "ireduce", "Bcast", "Scatter", "Scatterv", "Gather", "Gatherv", "Reduce", "Ireduce"]) {
            is(r[`invalidRank.${name}@${bad}`], "InvalidRank", `${name} with root ${bad}`, { peer: bad, size: p, rank })
          }
        }
        const args = [
          "opString", "opObject", "alltoallCount", "alltoallNotArray", "reduceScatterCount", "AllgathervCountsLength", "AllgathervNegative",
          "AlltoallvFraction", "AlltoallvDisplsLength", "AlltoallvPastSendbuf", "AllgatherNotTyped", "AllreduceLength", "AllreduceKind",
          "ReduceScatterBlockRecv"
        ]
        if (p > 1) args.push("ReduceScatterBlockUneven", "AllgatherUneven")
        for (const name of args) is(r[`invalidArgument.${name}`], "InvalidArgument", name, { rank })
        for (const name of ["ScattervCountsLength", "ScattervPastSendbuf", "ScattervPastView", "GathervCountsLength", "GathervPastView", "AlltoallvPastView"]) {
          is(r[`invalidArgument.self.${name}`], "InvalidArgument", `COMM_SELF ${name}`)
        }
        t.true(r.backingUntouched, `rank ${rank}: a v form wrote outside its receive buffer`)
        is(r["typeMismatch.Allgather"], "TypeMismatch", "Allgather into Int32Array")
        is(r["typeMismatch.Alltoall"], "TypeMismatch", "Alltoall into Int32Array")
        is(r["typeMismatch.Allgatherv"], "TypeMismatch", "Allgatherv into Int32Array")
        for (let root = 0; root < p; root++) {
          is(r[`typeMismatch.Scatter@${root}`], "TypeMismatch", `Scatter into Int32Array, root ${root}`)
          if (rank === root) is(r[`typeMismatch.Gather@${root}`], "TypeMismatch", `Gather into Int32Array, root ${root}`)
          else t.is(r[`typeMismatch.Gather@${root}`], undefined, `rank ${rank}: Gather at another root gives undefined`)
        }
        const pairRank = rank % 2
        if (r.pairSize === 1 || pairRank === 0) t.deepEqual(r["typeMismatch.Bcast"], Float64Array.of(1, 2), `rank ${rank}: the pair root keeps its buffer`)
        else is(r["typeMismatch.Bcast"], "TypeMismatch", "Bcast into Int32Array")
        if (r.pairSize === 1 || pairRank === 0) t.deepEqual(r["truncated.Bcast"], Float64Array.of(1, 2, 3, 4), `rank ${rank}: the pair root keeps its buffer`)
        else is(r["truncated.Bcast"], "Truncated", "Bcast of 4 elements into 2")
        t.is(r.pairSize, rank >> 1 === (p - 1) >> 1 && p % 2 === 1 ? 1 : 2)
        let pof2 = 1
        while (pof2 * 2 <= p) pof2 *= 2
        if (rank < pof2) {
          t.is(r.subSize, pof2)
          if (pof2 === 1) {
            // One rank: nothing to combine; the value comes back as it went.
            t.is(r["opError.bandFraction"], 1.5)
            t.is(r["opError.numberString"], 1)
            t.deepEqual(r["opError.typedLengths"], new Float64Array(1))
            t.deepEqual(r["opError.arrayLengths"], [0])
            t.is(r["opError.scan"], 1.5)
            t.is(r["opError.exscan"], undefined)
            t.is(r["opError.reduce@0"], 1.5)
          } else {
            const s = r.subRank
            is(r["opError.bandFraction"], "OpError", "allreduce BAND of 1.5", { op: "BAND", rank: s })
            t.true(/integer/.test(String(r["opError.bandFraction"]?.fields?.reason)), `rank ${rank}: the reason says BAND takes integers`)
            is(r["opError.numberString"], "OpError", "allreduce SUM of a number and a string", { op: "SUM", rank: s })
            is(r["opError.typedLengths"], "OpError", "allreduce SUM of typed arrays of different lengths", { op: "SUM" })
            is(r["opError.typedKinds"], "OpError", "allreduce SUM of typed arrays of different kinds", { op: "SUM" })
            is(r["opError.arrayLengths"], "OpError", "allreduce SUM of arrays of different lengths", { op: "SUM" })
            is(r["opError.maxlocNumber"], "OpError", "allreduce MAXLOC of a number", { op: "MAXLOC" })
            is(r["opError.iallreduce"], "OpError", "iallreduce BOR of 2.5", { op: "BOR" })
            is(r["opError.scan"], "OpError", "scan BAND of 1.5", { op: "BAND" })
            is(r["opError.iscan"], "OpError", "iscan SUM of a number and a string", { op: "SUM" })
            is(r["opError.exscan"], "OpError", "exscan BXOR of 2.5", { op: "BXOR" })
            is(r["opError.iexscan"], "OpError", "iexscan of typed arrays of different lengths", { op: "SUM" })
            for (let root = 0; root < pof2; root++) {
              // In the binomial tree rooted at `root`, ranks at an even distance from it combine (and fail); the others only send.
              const rel = (s - root + pof2) % pof2
              if (rel % 2 === 0) is(r[`opError.reduce@${root}`], "OpError", `reduce BAND of 1.5 at root ${root}`, { op: "BAND" })
              else t.is(r[`opError.reduce@${root}`], undefined, `rank ${rank}: reduce at root ${root}: a leaf only sends`)
            }
          }
        }
        is(r["unencodable.allgather"], "Unencodable", "allgather of a function")
        for (const k of ["afterInvalidRank", "afterInvalidArgument", "afterTypeMismatch", "afterOpError", "afterUnencodable"]) t.is(r[k], tri(p), `rank ${rank}: ${k}`)
        t.false(r.leftover, `rank ${rank}: no message left over`)
      })
    }
  }
}

/** A rank program that runs the scenario named in argv, or the batch `--batch a,b,c` (see batch.ts). */
export default async (comm: Comm): Promise<unknown> => {
  const names = batchNames(process.argv)
  if (names !== undefined) return runBatch(comm, collectiveScenarios, names, promiseKit)
  const name = process.argv[2]!
  const s = collectiveScenarios[name]
  if (s === undefined) throw new Error(`no collective scenario ${name}`)
  return s.run(comm, promiseKit)
}
