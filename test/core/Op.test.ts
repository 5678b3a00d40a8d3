/**
 * The reduction ops applied directly, with no ranks: every built-in op on
 * numbers, bigints (past 64 bits), booleans, typed arrays and nested arrays;
 * MAXLOC/MINLOC and their ties; user ops; the OpError cases and messages.
 */
import test from "ava"
import { Errors, Op } from "../../promise.ts"

const BIG = 2n ** 100n

const opError = (t: any, f: () => unknown, op: string, reason: RegExp) => {
  const e = t.throws(f, { instanceOf: Errors.OpError }) as Errors.OpError | undefined
  t.is(e?._tag, "OpError")
  t.is(e?.op, op)
  t.is(e?.rank, -1, "applied outside a collective: no rank")
  t.regex(e?.reason ?? "", reason)
  t.true(e?.message.startsWith(`Op.${op}: `), e?.message)
  return e
}

test("SUM, PROD, MAX, MIN on numbers and bigints", (t) => {
  t.is(Op.SUM.apply(2, 3.5), 5.5)
  t.is(Op.SUM.apply(-7, 7), 0)
  t.is(Op.PROD.apply(-2, 3.5), -7)
  t.is(Op.MAX.apply(-1, -5), -1)
  t.is(Op.MAX.apply(2.5, 2.25), 2.5)
  t.is(Op.MIN.apply(-1, -5), -5)
  t.is(Op.MIN.apply(Infinity, 1e300), 1e300)
  t.is(Op.SUM.apply(BIG, 1n), BIG + 1n)
  t.is(Op.SUM.apply(-BIG, -BIG), -(2n ** 101n))
  t.is(Op.PROD.apply(BIG, BIG), 2n ** 200n)
  t.is(Op.MAX.apply(BIG, BIG - 1n), BIG)
  t.is(Op.MAX.apply(-BIG, 3n), 3n)
  t.is(Op.MIN.apply(-BIG, 3n), -BIG)
  // A fold in rank order, as a reduction does it.
  t.is([1, 2, 3, 4, 5].reduce((a, b) => Op.PROD.apply(a, b)), 120)
  t.is([2n ** 64n, 2n ** 64n, 2n ** 64n].reduce((a, b) => Op.PROD.apply(a, b)), 2n ** 192n)
})

test("logical ops: booleans give booleans, numbers and bigints give 1 or 0", (t) => {
  t.is(Op.LAND.apply(true, true), true)
  t.is(Op.LAND.apply(true, false), false)
  t.is(Op.LOR.apply(false, false), false)
  t.is(Op.LOR.apply(false, true), true)
  t.is(Op.LXOR.apply(true, true), false)
  t.is(Op.LXOR.apply(true, false), true)
  t.is(Op.LAND.apply(2, -3), 1)
  t.is(Op.LAND.apply(2, 0), 0)
  t.is(Op.LOR.apply(0, 0), 0)
  t.is(Op.LOR.apply(0, 0.5), 1)
  t.is(Op.LXOR.apply(3, 4), 0)
  t.is(Op.LXOR.apply(3, 0), 1)
  t.is(Op.LAND.apply(BIG, 1n), 1n)
  t.is(Op.LAND.apply(BIG, 0n), 0n)
  t.is(Op.LOR.apply(0n, 0n), 0n)
  t.is(Op.LXOR.apply(0n, -BIG), 1n)
  // An odd number of trues.
  t.is([true, false, true, true].reduce((a, b) => Op.LXOR.apply(a, b)), true)
})

test("bitwise ops on numbers (within and past 32 bits, negative) and bigints", (t) => {
  t.is(Op.BAND.apply(12, 10), 8)
  t.is(Op.BOR.apply(12, 10), 14)
  t.is(Op.BXOR.apply(12, 10), 6)
  t.is(Op.BAND.apply(-1, 0xff), 0xff)
  t.is(Op.BOR.apply(-8, 3), -5)
  t.is(Op.BXOR.apply(-1, 0), -1)
  t.is(Op.BAND.apply(2 ** 40 + 3, 2 ** 40 + 5), 2 ** 40 + 1)
  t.is(Op.BOR.apply(2 ** 33, 1), 2 ** 33 + 1)
  t.is(Op.BXOR.apply(2 ** 53 - 1, 1), 2 ** 53 - 2)
  t.is(Op.BAND.apply(-1, 2 ** 40 + 7), 2 ** 40 + 7)
  t.is(Op.BAND.apply(BIG + 3n, BIG + 5n), BIG + 1n)
  t.is(Op.BOR.apply(BIG, 1n), BIG + 1n)
  t.is(Op.BXOR.apply(BIG - 1n, BIG - 1n), 0n)
  t.is(Op.BAND.apply(-1n, BIG), BIG)
})

test("typed arrays: element by element, a new array of the same kind; the operands stay as they were", (t) => {
  const a = Int32Array.of(1, -2, 3)
  const b = Int32Array.of(10, 20, -30)
  const sum = Op.SUM.apply(a, b)
  t.deepEqual(sum, Int32Array.of(11, 18, -27))
  t.not(sum, a)
  t.deepEqual(a, Int32Array.of(1, -2, 3))
  t.deepEqual(b, Int32Array.of(10, 20, -30))
  t.deepEqual(Op.PROD.apply(Float64Array.of(0.5, -2), Float64Array.of(4, 8)), Float64Array.of(2, -16))
  t.deepEqual(Op.MAX.apply(Float32Array.of(1, -1, 0.5), Float32Array.of(-1, 1, 0.25)), Float32Array.of(1, 1, 0.5))
  t.deepEqual(Op.MIN.apply(Uint16Array.of(1, 65535), Uint16Array.of(2, 3)), Uint16Array.of(1, 3))
  // Wrapping as the kind stores it.
  t.deepEqual(Op.SUM.apply(Uint8Array.of(200, 1), Uint8Array.of(100, 1)), Uint8Array.of(44, 2))
  t.deepEqual(Op.SUM.apply(Int32Array.of(2 ** 30), Int32Array.of(2 ** 30)), Int32Array.of(-(2 ** 31)))
  t.deepEqual(Op.SUM.apply(BigInt64Array.of(2n ** 63n - 1n), BigInt64Array.of(1n)), BigInt64Array.of(-(2n ** 63n)))
  t.deepEqual(Op.PROD.apply(BigUint64Array.of(2n ** 32n, 3n), BigUint64Array.of(2n ** 31n, 5n)), BigUint64Array.of(2n ** 63n, 15n))
  t.deepEqual(Op.BAND.apply(Int32Array.of(0b1100, -1), Int32Array.of(0b1010, 7)), Int32Array.of(0b1000, 7))
  t.deepEqual(Op.BOR.apply(Uint8Array.of(1, 2), Uint8Array.of(4, 2)), Uint8Array.of(5, 2))
  t.deepEqual(Op.BXOR.apply(BigInt64Array.of(-1n, 5n), BigInt64Array.of(0n, 5n)), BigInt64Array.of(-1n, 0n))
  t.deepEqual(Op.LAND.apply(Uint8Array.of(1, 7, 0), Uint8Array.of(3, 0, 0)), Uint8Array.of(1, 0, 0))
  t.deepEqual(Op.LOR.apply(Int32Array.of(0, -4, 0), Int32Array.of(0, 0, 9)), Int32Array.of(0, 1, 1))
  t.deepEqual(Op.LXOR.apply(Float64Array.of(0, 0.5, 2), Float64Array.of(0, 0, 3)), Float64Array.of(0, 1, 0))
  t.deepEqual(Op.LAND.apply(BigInt64Array.of(2n, 0n), BigInt64Array.of(-1n, 1n)), BigInt64Array.of(1n, 0n))
})

test("combineTyped writes into a given array (in place when it is the first operand)", (t) => {
  const a = Float64Array.of(1, 2, 3)
  const out = Op.combineTyped(Op.SUM, a, Float64Array.of(10, 20, 30), a)
  t.is(out, a)
  t.deepEqual(a, Float64Array.of(11, 22, 33))
  const into = new Int16Array(2)
  t.is(Op.combineTyped(Op.MAX, Int16Array.of(-5, 9), Int16Array.of(4, -9), into), into)
  t.deepEqual(into, Int16Array.of(4, 9))
  const fresh = Op.combineTyped(Op.BXOR, Uint32Array.of(0xffffffff), Uint32Array.of(1), undefined)
  t.deepEqual(fresh, Uint32Array.of(0xfffffffe))
})

test("plain arrays, nested, element by element over every kind", (t) => {
  t.deepEqual(
    Op.SUM.apply([1, [2, 3n], Int16Array.of(1, 2), [[0.5]]], [10, [20, 30n], Int16Array.of(2, 3), [[0.25]]]),
    [11, [22, 33n], Int16Array.of(3, 5), [[0.75]]]
  )
  t.deepEqual(Op.MAX.apply([1, -BIG, [5]], [2, BIG, [-5]]), [2, BIG, [5]])
  t.deepEqual(Op.LAND.apply([true, true, false], [true, false, false]), [true, false, false])
  t.deepEqual(Op.LXOR.apply([1, 0, 2], [1, 1, 0]), [0, 1, 1])
  t.deepEqual(Op.BOR.apply([[1, 2 ** 35]], [[2, 1]]), [[3, 2 ** 35 + 1]])
  t.deepEqual(Op.PROD.apply([], []), [])
})

test("MAXLOC and MINLOC: [value, index] pairs, ties to the lower index in either order", (t) => {
  t.deepEqual(Op.MAXLOC.apply([3, 1], [5, 0]), [5, 0])
  t.deepEqual(Op.MAXLOC.apply([5, 2], [3, 0]), [5, 2])
  t.deepEqual(Op.MAXLOC.apply([5, 2], [5, 1]), [5, 1])
  t.deepEqual(Op.MAXLOC.apply([5, 1], [5, 2]), [5, 1])
  t.deepEqual(Op.MINLOC.apply([3, 4], [5, 0]), [3, 4])
  t.deepEqual(Op.MINLOC.apply([-1.5, 7], [-1.5, 3]), [-1.5, 3])
  t.deepEqual(Op.MINLOC.apply([-1.5, 3], [-1.5, 7]), [-1.5, 3])
  // bigint values
  t.deepEqual(Op.MAXLOC.apply([BIG, 4], [BIG - 1n, 0]), [BIG, 4])
  t.deepEqual(Op.MINLOC.apply([BIG, 4], [BIG, 2]), [BIG, 2])
  // arrays of pairs, pair by pair
  t.deepEqual(Op.MAXLOC.apply([[1, 0], [9, 0], [4, 3]], [[2, 1], [9, 1], [4, 2]]), [[2, 1], [9, 0], [4, 2]])
  t.deepEqual(Op.MINLOC.apply([[1, 0], [9, 0], [4, 3]], [[2, 1], [9, 1], [4, 2]]), [[1, 0], [9, 0], [4, 2]])
  // A fold over ranks: the largest value, the lowest index among ties.
  const pairs = [[3, 0], [7, 1], [2, 2], [7, 3], [7, 4]]
  t.deepEqual(pairs.reduce((a, b) => Op.MAXLOC.apply(a, b)), [7, 1])
  t.deepEqual([...pairs].reverse().reduce((a, b) => Op.MAXLOC.apply(a, b)), [7, 1])
  t.deepEqual(pairs.reduce((a, b) => Op.MINLOC.apply(a, b)), [2, 2])
})

test("OpError: operands an op cannot combine, with messages naming the op and the operands", (t) => {
  opError(t, () => Op.BAND.apply(1.5, 1), "BAND", /integers; got 1\.5 and 1/)
  opError(t, () => Op.BXOR.apply(3, 2.5), "BXOR", /integers/)
  opError(t, () => Op.BOR.apply(Float64Array.of(1), Float64Array.of(2)), "BOR", /integers/)
  opError(t, () => Op.BAND.apply(Float32Array.of(1), Float32Array.of(2)), "BAND", /integers/)
  const e = opError(t, () => Op.SUM.apply(1, "a"), "SUM", /cannot combine number 1 with string a/)
  t.regex(e?.message ?? "", /^Op\.SUM: cannot combine number 1 with string a/)
  opError(t, () => Op.SUM.apply(1, 1n), "SUM", /cannot combine number 1 with a bigint/)
  opError(t, () => Op.PROD.apply({ a: 1 }, { a: 2 }), "PROD", /cannot combine/)
  opError(t, () => Op.SUM.apply(true, false), "SUM", /does not combine booleans/)
  opError(t, () => Op.BAND.apply(true, true), "BAND", /does not combine booleans/)
  opError(t, () => Op.SUM.apply([1, 2], [1, 2, 3]), "SUM", /arrays of one length; got 2 and 3/)
  opError(t, () => Op.MAX.apply([[1], 2], [[1, 2], 2]), "MAX", /arrays of one length; got 1 and 2/)
  opError(t, () => Op.SUM.apply(Float64Array.of(1, 2), Float64Array.of(1, 2, 3)), "SUM", /typed arrays of one kind and length/)
  opError(t, () => Op.SUM.apply(Float64Array.of(1), Int32Array.of(1)), "SUM", /typed arrays of one kind and length/)
  opError(t, () => Op.SUM.apply(Float64Array.of(1), [1]), "SUM", /cannot combine/)
  opError(t, () => Op.MAXLOC.apply(3, 4), "MAXLOC", /\[value, index\] pairs/)
  opError(t, () => Op.MINLOC.apply([1, 2, 3], [1, 2, 3]), "MINLOC", /\[value, index\] pairs/)
  opError(t, () => Op.MAXLOC.apply([1, 0], [1n, 1]), "MAXLOC", /pairs of numbers \(or bigints\)/)
  opError(t, () => Op.MAXLOC.apply(["a", 0], ["b", 1]), "MAXLOC", /pairs of numbers/)
  opError(t, () => Op.MINLOC.apply([1, "x"], [2, 0]), "MINLOC", /pairs of numbers/)
  // Serializable across threads, as every tagged error.
  const wire = Errors.toWire(new Errors.OpError({ rank: 3, op: "SUM", reason: "r" }))
  const back = Errors.fromWire(wire) as Errors.OpError
  t.true(back instanceof Errors.OpError)
  t.is(back.rank, 3)
  t.is(back.message, "Op.SUM on rank 3: r")
})

test("the built-in ops: names, commutative, recognised by isOp", (t) => {
  const all = { SUM: Op.SUM, PROD: Op.PROD, MAX: Op.MAX, MIN: Op.MIN, LAND: Op.LAND, LOR: Op.LOR, LXOR: Op.LXOR, BAND: Op.BAND, BOR: Op.BOR, BXOR: Op.BXOR, MAXLOC: Op.MAXLOC, MINLOC: Op.MINLOC }
  for (const [name, op] of Object.entries(all)) {
    t.is(op.name, name)
    t.true(op.commute, name)
    t.true(Op.isOp(op), name)
  }
  t.false(Op.isOp({}))
  t.false(Op.isOp("SUM"))
  t.false(Op.isOp(null))
  t.false(Op.isOp((a: number, b: number) => a + b))
})

test("Op.create: a user op, not commutative unless said, named after its function", (t) => {
  const concat = (a: string, b: string) => a + b
  const op = Op.create(concat)
  t.is(op.name, "concat")
  t.false(op.commute)
  t.true(Op.isOp(op))
  t.is(["a", "b", "c"].reduce((x, y) => op.apply(x, y)), "abc")
  const named = Op.create((a: number, b: number) => Math.max(Math.abs(a), Math.abs(b)), true, "maxAbs")
  t.is(named.name, "maxAbs")
  t.true(named.commute)
  t.is(named.apply(-3, 2), 3)
  t.is(Op.create((a: number, b: number) => a - b).name, "user op", "an anonymous function")
  // 2x2 matrix product: associative, not commutative; a comes from the lower ranks.
  const mm = Op.create((a: Array<Array<number>>, b: Array<Array<number>>) => [
    [a[0]![0]! * b[0]![0]! + a[0]![1]! * b[1]![0]!, a[0]![0]! * b[0]![1]! + a[0]![1]! * b[1]![1]!],
    [a[1]![0]! * b[0]![0]! + a[1]![1]! * b[1]![0]!, a[1]![0]! * b[0]![1]! + a[1]![1]! * b[1]![1]!]
  ])
  t.deepEqual(mm.apply([[1, 1], [0, 1]], [[2, 1], [1, 1]]), [[3, 2], [1, 1]])
  t.deepEqual(mm.apply([[2, 1], [1, 1]], [[1, 1], [0, 1]]), [[2, 3], [1, 2]])
})
