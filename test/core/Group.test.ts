/**
 * Groups alone, with no ranks: incl, excl, union, intersection, difference,
 * translateRanks, compare, rank and size, and the errors on bad ranks.
 */
import test from "ava"
import { Group, IDENT, SIMILAR, UNDEFINED, UNEQUAL } from "../../promise.ts"

// World ranks 5, 2, 7, 0 in that order, seen from world rank 7.
const g = new Group([5, 2, 7, 0], 7)

test("rank and size: the caller's place in the group, UNDEFINED outside it", (t) => {
  t.is(g.size, 4)
  t.is(g.rank, 2)
  t.deepEqual(g.members, [5, 2, 7, 0])
  t.is(new Group([5, 2, 7, 0], 5).rank, 0)
  t.is(new Group([5, 2, 7, 0], 3).rank, UNDEFINED)
  const empty = new Group([], 1)
  t.is(empty.size, 0)
  t.is(empty.rank, UNDEFINED)
})

test("incl: the members at the given ranks, in that order", (t) => {
  const sub = g.incl([3, 2, 0])
  t.deepEqual(sub.members, [0, 7, 5])
  t.is(sub.size, 3)
  t.is(sub.rank, 1, "the caller (world 7) is now second")
  t.is(g.incl([1]).rank, UNDEFINED)
  t.is(g.incl([]).size, 0)
  t.deepEqual(g.incl([0, 1, 2, 3]).members, g.members)
})

test("excl: the members except those at the given ranks, in group order", (t) => {
  const sub = g.excl([1, 3])
  t.deepEqual(sub.members, [5, 7])
  t.is(sub.rank, 1)
  t.deepEqual(g.excl([3, 0]).members, [2, 7])
  t.is(g.excl([2]).rank, UNDEFINED)
  t.deepEqual(g.excl([]).members, [5, 2, 7, 0])
  t.is(g.excl([0, 1, 2, 3]).size, 0)
})

test("union, intersection, difference keep the first group's order", (t) => {
  const a = new Group([5, 2, 7], 7)
  const b = new Group([7, 1, 5, 3], 7)
  t.deepEqual(a.union(b).members, [5, 2, 7, 1, 3])
  t.deepEqual(b.union(a).members, [7, 1, 5, 3, 2])
  t.deepEqual(a.intersection(b).members, [5, 7])
  t.deepEqual(b.intersection(a).members, [7, 5])
  t.deepEqual(a.difference(b).members, [2])
  t.deepEqual(b.difference(a).members, [1, 3])
  t.is(a.difference(a).size, 0)
  t.is(a.union(b).rank, 2)
  t.is(a.difference(b).rank, UNDEFINED)
  // mpi4py's static forms give the same.
  t.deepEqual(Group.union(a, b).members, a.union(b).members)
  t.deepEqual(Group.intersection(a, b).members, a.intersection(b).members)
  t.deepEqual(Group.difference(a, b).members, a.difference(b).members)
})

test("translateRanks: ranks here to ranks there, UNDEFINED where absent", (t) => {
  const other = new Group([0, 9, 5], 7)
  t.deepEqual(g.translateRanks([0, 1, 2, 3], other), [2, UNDEFINED, UNDEFINED, 0])
  t.deepEqual(g.translateRanks([], other), [])
  t.deepEqual(g.translateRanks([3, 0], g), [3, 0])
  const reversed = g.incl([3, 2, 1, 0])
  t.deepEqual(g.translateRanks([0, 1, 2, 3], reversed), [3, 2, 1, 0])
  t.deepEqual(Group.translateRanks(g, [2], other), [UNDEFINED])
})

test("compare: IDENT, SIMILAR (same members, other order), UNEQUAL", (t) => {
  t.is(g.compare(new Group([5, 2, 7, 0], 0)), IDENT)
  t.is(g.compare(g.incl([0, 1, 2, 3])), IDENT)
  t.is(g.compare(g.incl([3, 2, 1, 0])), SIMILAR)
  t.is(g.compare(g.excl([0])), UNEQUAL)
  t.is(g.compare(new Group([5, 2, 7, 1], 7)), UNEQUAL, "same size, other members")
  t.is(new Group([], 0).compare(new Group([], 3)), IDENT)
  t.not(IDENT, SIMILAR)
  t.not(SIMILAR, UNEQUAL)
})

test("bad ranks and duplicates are refused", (t) => {
  for (const bad of [4, -1, 1.5, NaN, UNDEFINED]) {
    t.throws(() => g.incl([0, bad]), { instanceOf: RangeError, message: /Group\.incl: .* is not a rank of this group \(size 4\)/ }, `incl ${bad}`)
    t.throws(() => g.excl([bad]), { instanceOf: RangeError, message: /Group\.excl: .* is not a rank of this group/ }, `excl ${bad}`)
    t.throws(() => g.translateRanks([bad], g), { instanceOf: RangeError, message: /Group\.translateRanks/ }, `translateRanks ${bad}`)
  }
  t.throws(() => g.incl([1, 1]), { instanceOf: RangeError, message: /cannot hold a process twice/ })
  t.throws(() => new Group([3, 4, 3], 3), { instanceOf: RangeError, message: /cannot hold a process twice: 3, 4, 3/ })
  t.throws(() => new Group([], 0).incl([0]), { instanceOf: RangeError, message: /size 0/ })
})
