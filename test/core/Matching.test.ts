/**
 * The matching engine on crafted posted receives and arrivals, without any
 * transport.
 */
import test from "ava"
import { ANY_SOURCE, ANY_TAG, Matcher } from "../../core/Matching.ts"

interface P {
  ctx: number
  src: number
  tag: number
  stamp: number
  name: string
}
interface A {
  ctx: number
  src: number
  tag: number
  stamp: number
  n: number
}
const recv = (src: number, tag: number, name: string, ctx = 0): P => ({ ctx, src, tag, stamp: 0, name })
const msg = (src: number, tag: number, n: number, ctx = 0): A => ({ ctx, src, tag, stamp: 0, n })

/** Delivers an arrival: to a posted receive if one matches, else to the unexpected queue. */
const arrive = (m: Matcher<P, A>, a: A): string | undefined => {
  const r = m.takePosted(a.ctx, a.src, a.tag)
  if (r === undefined) m.addUnexpected(a)
  return r?.name
}

test("a specific receive takes the earliest message of its source and tag", (t) => {
  const m = new Matcher<P, A>()
  arrive(m, msg(1, 5, 0))
  arrive(m, msg(1, 6, 1))
  arrive(m, msg(1, 5, 2))
  t.is(m.post(recv(1, 6, "r"))?.n, 1)
  t.is(m.post(recv(1, 5, "r"))?.n, 0)
  t.is(m.post(recv(1, 5, "r"))?.n, 2)
  t.is(m.post(recv(1, 5, "r")), undefined, "now posted")
  t.is(m.unexpectedCount, 0)
})

test("ANY_SOURCE takes the earliest arrival across sources; ANY_TAG the earliest of a source", (t) => {
  const m = new Matcher<P, A>()
  arrive(m, msg(2, 1, 0))
  arrive(m, msg(1, 1, 1))
  arrive(m, msg(1, 2, 2))
  arrive(m, msg(2, 2, 3))
  t.is(m.post(recv(ANY_SOURCE, 2, "r"))?.n, 2)
  t.is(m.post(recv(1, ANY_TAG, "r"))?.n, 1)
  t.is(m.post(recv(ANY_SOURCE, ANY_TAG, "r"))?.n, 0)
  t.is(m.post(recv(ANY_SOURCE, ANY_TAG, "r"))?.n, 3)
})

test("an arrival goes to the earliest posted receive, specific or wildcard", (t) => {
  const m = new Matcher<P, A>()
  m.post(recv(ANY_SOURCE, 7, "wild"))
  m.post(recv(3, 7, "specific"))
  m.post(recv(3, ANY_TAG, "anytag"))
  t.is(arrive(m, msg(3, 7, 0)), "wild")
  t.is(arrive(m, msg(3, 7, 1)), "specific")
  t.is(arrive(m, msg(3, 9, 2)), "anytag")
  t.is(arrive(m, msg(3, 9, 3)), undefined)
  t.is(m.unexpectedCount, 1)
})

test("contexts never match each other", (t) => {
  const m = new Matcher<P, A>()
  m.post(recv(ANY_SOURCE, ANY_TAG, "ctx0", 0))
  t.is(arrive(m, msg(1, 1, 0, 2)), undefined)
  t.is(m.post(recv(1, 1, "ctx2", 2))?.n, 0)
  t.is(arrive(m, msg(1, 1, 1, 0)), "ctx0")
})

test("peek leaves the message; cancel removes only a posted receive", (t) => {
  const m = new Matcher<P, A>()
  arrive(m, msg(0, 4, 0))
  t.is(m.peek(0, ANY_SOURCE, 4)?.n, 0)
  t.is(m.peek(0, 0, 5), undefined)
  t.is(m.unexpectedCount, 1)
  const r = recv(1, 1, "x")
  m.post(r)
  t.true(m.cancel(r))
  t.false(m.cancel(r))
  t.is(arrive(m, msg(1, 1, 1)), undefined)
})

test("removePosted returns the receives that match, in posting order", (t) => {
  const m = new Matcher<P, A>()
  m.post(recv(2, 1, "a"))
  m.post(recv(ANY_SOURCE, 1, "b"))
  m.post(recv(2, 2, "c"))
  m.post(recv(3, 2, "d"))
  t.deepEqual(m.removePosted((r) => r.src === 2 || r.src === ANY_SOURCE).map((r) => r.name), ["a", "b", "c"])
  t.is(arrive(m, msg(3, 2, 0)), "d")
})

test("10,000 interleaved messages keep per-tag order", (t) => {
  const m = new Matcher<P, A>()
  for (let i = 0; i < 10_000; i++) arrive(m, msg(1, i % 3 === 0 ? 2 : 1, i))
  let last = -1
  let ok = true
  for (let i = 0; i < 10_000; i += 3) {
    const a = m.post(recv(1, 2, "r"))!
    ok &&= a.n > last
    last = a.n
  }
  last = -1
  for (let i = 0; i < 6_666; i++) {
    const a = m.post(recv(1, ANY_TAG, "r"))!
    ok &&= a.n > last && a.tag === 1
    last = a.n
  }
  t.true(ok)
  t.is(m.unexpectedCount, 0)
})
