/**
 * Conformance scenarios: rank programs that exercise point-to-point
 * semantics, each with a check run in the test process on the per-rank
 * results. The same scenarios run on every transport (see conformance.ts).
 *
 * This module is loaded inside ranks (worker threads, processes), so it does
 * not import ava; checks receive the assertion object.
 */
import type { Comm } from "../../promise.ts"
import { ANY_SOURCE, ANY_TAG, Prequest, PROC_NULL, Request, Status } from "../../promise.ts"
import { batchNames, runBatch } from "./batch.ts"

/** The part of ava's ExecutionContext the checks use. */
export interface Assert {
  is(actual: unknown, expected: unknown, message?: string): void
  deepEqual(actual: unknown, expected: unknown, message?: string): void
  true(actual: unknown, message?: string): void
  false(actual: unknown, message?: string): void
}

/**
 * The request combinators a scenario uses, passed in beside the
 * communicator so one scenario runs on either face: `promiseKit` here, the
 * Effect face's in effect-face.ts.
 */
export interface Kit {
  readonly waitAll: typeof Request.waitAll
  readonly waitAny: typeof Request.waitAny
  readonly waitSome: typeof Request.waitSome
  readonly testAll: typeof Request.testAll
  readonly testAny: typeof Request.testAny
  readonly startAll: typeof Prequest.startAll
}

/** The Promise face's combinators. */
export const promiseKit: Kit = {
  waitAll: Request.waitAll,
  waitAny: Request.waitAny,
  waitSome: Request.waitSome,
  testAll: Request.testAll,
  testAny: Request.testAny,
  startAll: Prequest.startAll
}

export interface Scenario {
  readonly run: (comm: Comm, kit: Kit) => Promise<unknown>
  readonly check: (t: Assert, results: ReadonlyArray<any>, size: number) => void
  /** Smallest world it needs. */
  readonly minSize?: number
  /** Needs a world of its own (it ends a rank early, say), so it is never batched. */
  readonly alone?: boolean
}

const statusOf = (s: Status) => ({ source: s.source, tag: s.tag, count: s.count, cancelled: s.cancelled })
const next = (c: Comm) => (c.rank + 1) % c.size
const prev = (c: Comm) => (c.rank - 1 + c.size) % c.size
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ---------------------------------------------------------------- typed data

const F16: any = (globalThis as any).Float16Array

/** Deterministic arrays of every kind, with edge values. */
export const typedSamples = (seed: number): Array<[string, unknown]> => {
  const n = 17 + seed
  const bytes = Uint8Array.from({ length: n * 8 }, (_, i) => (i * 37 + seed * 11) & 0xff)
  const out: Array<[string, unknown]> = [
    ["Int8Array", Int8Array.from({ length: n }, (_, i) => ((i * 29 + seed) % 256) - 128)],
    ["Uint8Array", Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)],
    ["Uint8ClampedArray", Uint8ClampedArray.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff)],
    ["Int16Array", Int16Array.from([-32768, 32767, 0, -1, seed])],
    ["Uint16Array", Uint16Array.from([0, 65535, seed, 12345])],
    ["Int32Array", Int32Array.from([-2147483648, 2147483647, 0, -1, seed])],
    ["Uint32Array", Uint32Array.from([0, 4294967295, seed, 0xdeadbeef])],
    ["Float32Array", Float32Array.from([NaN, -0, Infinity, -Infinity, 1.5e-45, 3.4e38, seed + 0.25])],
    ["Float64Array", Float64Array.from([NaN, -0, Infinity, -Infinity, 5e-324, Number.MAX_VALUE, Math.PI * seed])],
    ["BigInt64Array", BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 0n, BigInt(seed)])],
    ["BigUint64Array", BigUint64Array.from([0n, 2n ** 64n - 1n, BigInt(seed) * 1234567891011n])],
    ["Buffer", Buffer.from(bytes.subarray(0, n))],
    ["DataView", new DataView(bytes.slice().buffer, 3, n)],
    ["ArrayBuffer", bytes.slice(5, 5 + n).buffer],
    ["subarray", new Float64Array(new Float64Array(16).map((_, i) => i * seed + 0.5).buffer, 24, 5)]
  ]
  if (F16 !== undefined) out.push(["Float16Array", F16.from([NaN, -0, Infinity, 65504, seed + 0.5])])
  // A NaN with a payload: bit-exactness, not just value equality.
  const nan = new Float64Array(2)
  new DataView(nan.buffer).setBigUint64(0, 0x7ff8000000000123n, true)
  new DataView(nan.buffer).setBigUint64(8, 0xfff0000000000001n, true)
  out.push(["nanPayload", nan])
  return out
}

/** Bytes and type of a typed value, to compare bit for bit. */
export const fingerprint = (v: any): { type: string; bytes: Array<number> } => {
  const type = Buffer.isBuffer(v) ? "Buffer" : v?.constructor?.name
  const u8 = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
  return { type, bytes: Array.from(u8) }
}

// ------------------------------------------------------------------ scenarios

export const scenarios: Record<string, Scenario> = {
  /** Every rank sends three messages to every rank (itself too); receives pick them by source and tag. */
  matching: {
    async run(comm, kit) {
      const sends: Array<Request<void>> = []
      for (let d = 0; d < comm.size; d++) {
        for (let k = 0; k < 3; k++) sends.push(comm.isend({ src: comm.rank, k }, d, 100 * comm.rank + k))
      }
      const st = new Status()
      const byTag: Array<unknown> = []
      for (let s = 0; s < comm.size; s++) {
        const m = await comm.recv(s, 100 * s + 2, st)
        byTag.push({ m, st: statusOf(st) })
      }
      const firstAnyTag: Array<unknown> = []
      for (let s = 0; s < comm.size; s++) {
        const m = await comm.recv(s, ANY_TAG, st)
        firstAnyTag.push({ m, st: statusOf(st) })
      }
      const anySource: Array<unknown> = []
      for (let i = 0; i < comm.size; i++) {
        const m = await comm.recv(ANY_SOURCE, ANY_TAG, st)
        anySource.push({ m, st: statusOf(st) })
      }
      await kit.waitAll(sends)
      return { byTag, firstAnyTag, anySource }
    },
    check(t, results, size) {
      for (const r of results) {
        r.byTag.forEach((x: any, s: number) => {
          t.deepEqual(x.m, { src: s, k: 2 })
          t.is(x.st.source, s)
          t.is(x.st.tag, 100 * s + 2)
          t.true(x.st.count > 0)
        })
        r.firstAnyTag.forEach((x: any, s: number) => {
          t.deepEqual(x.m, { src: s, k: 0 }, "ANY_TAG takes the earliest message of that source")
          t.is(x.st.tag, 100 * s)
        })
        const seen = r.anySource.map((x: any) => {
          t.is(x.st.source, x.m.src)
          t.is(x.st.tag, 100 * x.m.src + 1)
          t.is(x.m.k, 1)
          return x.m.src
        })
        t.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: size }, (_, i) => i))
      }
    }
  },

  /** 10,000 messages to the next rank with interleaved tags, received tag by tag: each tag's stream stays in order. */
  orderTags: {
    async run(comm, kit) {
      const N = 10_000
      const sends: Array<Request<void>> = []
      const to = next(comm)
      const from = prev(comm)
      const recvTwos = (async () => {
        const twos: Array<number> = []
        for (let i = 0; i < N; i += 3) twos.push(await comm.recv(from, 2))
        const ones: Array<number> = []
        for (let i = 0; i < N; i++) if (i % 3 !== 0) ones.push(await comm.recv(from, 1))
        return { twos, ones }
      })()
      for (let i = 0; i < N; i++) {
        sends.push(comm.isend(i, to, i % 3 === 0 ? 2 : 1))
        if (i % 500 === 0) await Promise.resolve()
      }
      const got = await recvTwos
      await kit.waitAll(sends)
      const inOrder = (xs: Array<number>, want: (i: number) => boolean) => {
        const expected = Array.from({ length: N }, (_, i) => i).filter(want)
        return xs.length === expected.length && xs.every((x, i) => x === expected[i])
      }
      return { twos: inOrder(got.twos, (i) => i % 3 === 0), ones: inOrder(got.ones, (i) => i % 3 !== 0), n: got.twos.length + got.ones.length }
    },
    check(t, results) {
      for (const r of results) {
        t.true(r.twos, "tag 2 stream in order")
        t.true(r.ones, "tag 1 stream in order")
        t.is(r.n, 10_000)
      }
    }
  },

  /** Fan-in with ANY_SOURCE: 10,000 messages in all; each sender's stream arrives in order. */
  orderAnySource: {
    async run(comm, kit) {
      const senders = comm.size === 1 ? 1 : comm.size - 1
      const per = Math.floor(10_000 / senders)
      if (comm.rank !== 0 || comm.size === 1) {
        const reqs: Array<Request<void>> = []
        for (let i = 0; i < per; i++) {
          reqs.push(comm.isend([comm.rank, i], 0, i % 2))
          if (i % 1000 === 0) await Promise.resolve()
        }
        if (comm.rank !== 0) {
          await kit.waitAll(reqs)
          return null
        }
      }
      const last = new Map<number, number>()
      let ok = true
      const st = new Status()
      for (let n = 0; n < per * senders; n++) {
        const [src, i] = await comm.recv<[number, number]>(ANY_SOURCE, ANY_TAG, st)
        if (st.source !== src || st.tag !== i % 2) ok = false
        if ((last.get(src) ?? -1) !== i - 1) ok = false
        last.set(src, i)
      }
      return { ok, total: per * senders, counts: [...last.values()].map((x) => x + 1) }
    },
    check(t, results, size) {
      const r = results[0]
      t.true(r.ok, "every source's messages in order, statuses right")
      t.is(r.counts.length, size === 1 ? 1 : size - 1)
      t.true(r.total >= 9_990)
    }
  },

  /** iprobe until a message is there, probe it, then receive exactly its size. */
  probe: {
    async run(comm, kit) {
      const st = new Status()
      const nothing = comm.iprobe(ANY_SOURCE, 4242)
      // The receiver starts probing before the sender sends.
      const probed = comm.probe(prev(comm), 7, new Status())
      await sleep(10)
      // Non-blocking: a blocking send around the ring before any receive is
      // posted relies on eager buffering, which MPI does not promise.
      const sent = comm.isend(new Float64Array(comm.rank + 1).fill(comm.rank), next(comm), 7)
      const blocking = statusOf(await probed)
      let spins = 0
      while (!comm.iprobe(prev(comm), 7, st)) {
        spins++
        await sleep(1)
      }
      const nonBlocking = statusOf(st)
      const buf = new Float64Array(st.getCount(Float64Array))
      await comm.Recv(buf, st.source, st.tag)
      const after = comm.iprobe(prev(comm), 7)
      await sent.wait()
      return { nothing, blocking, nonBlocking, got: Array.from(buf), after, spins }
    },
    check(t, results, size) {
      results.forEach((r, rank) => {
        const p = (rank - 1 + size) % size
        t.false(r.nothing)
        t.deepEqual(r.blocking, { source: p, tag: 7, count: (p + 1) * 8, cancelled: false })
        t.deepEqual(r.nonBlocking, r.blocking)
        t.deepEqual(r.got, new Array(p + 1).fill(p))
        t.false(r.after, "the message was consumed")
      })
    }
  },

  /** sendrecv around the ring: objects, and typed arrays with the buffer form. */
  sendrecvRing: {
    async run(comm, kit) {
      const st = new Status()
      const obj = await comm.sendrecv({ from: comm.rank }, next(comm), 11, prev(comm), 11, st)
      const objStatus = statusOf(st)
      const buf = new Int32Array(4)
      await comm.Sendrecv(Int32Array.of(comm.rank, comm.rank * 2, comm.rank * 3, -comm.rank), next(comm), 12, buf, prev(comm), 12)
      // A shift the other way with wildcards.
      const back = await comm.sendrecv(comm.rank, prev(comm), 13, ANY_SOURCE, ANY_TAG)
      return { obj, objStatus, buf: Array.from(buf), back }
    },
    check(t, results, size) {
      results.forEach((r, rank) => {
        const p = (rank - 1 + size) % size
        t.deepEqual(r.obj, { from: p })
        t.is(r.objStatus.source, p)
        t.is(r.objStatus.tag, 11)
        t.deepEqual(r.buf, [p, p * 2, p * 3, (-p) | 0])
        t.is(r.back, (rank + 1) % size)
      })
    }
  },

  /** A pending irecv is cancelled: its status says so, and the message it would have matched goes to the next receive. */
  cancel: {
    async run(comm, kit) {
      const never = comm.irecv(ANY_SOURCE, 999)
      never.cancel()
      const st = new Status()
      const value = await never.wait(st)
      const cancelled = statusOf(st)
      const pending = comm.irecv(prev(comm), 5)
      pending.cancel()
      await pending.wait()
      const [done] = pending.test()
      // Only once the receiver has cancelled may its sender send: tell it.
      // (Sends around the ring are non-blocking: MPI promises no eager buffering.)
      const ready = comm.isend("ready", prev(comm), 4)
      await comm.recv(next(comm), 4)
      await ready.wait()
      const afterCancel = comm.isend("after cancel", next(comm), 5)
      const got = await comm.recv(prev(comm), 5)
      await afterCancel.wait()
      // Cancelling a receive that already matched does nothing.
      const sentMatched = comm.isend("matched", next(comm), 6)
      const matched = comm.irecv(prev(comm), 6)
      await matched.wait()
      await sentMatched.wait()
      matched.cancel()
      const [, matchedValue] = matched.test()
      return { value, cancelled, done, got, matchedValue }
    },
    check(t, results) {
      for (const r of results) {
        t.is(r.value, undefined)
        t.true(r.cancelled.cancelled)
        t.true(r.done)
        t.is(r.got, "after cancel")
        t.is(r.matchedValue, "matched")
      }
    }
  },

  /** A persistent send/recv pair started 1,000 times, in buffer and object form. */
  persistent: {
    async run(comm, kit) {
      const sendBuf = new Int32Array(2)
      const recvBuf = new Int32Array(2)
      const s = comm.SendInit(sendBuf, next(comm), 3)
      const r = comm.RecvInit(recvBuf, prev(comm), 3)
      const obj = { round: -1 }
      const so = comm.sendInit(obj, next(comm), 4)
      const ro = comm.recvInit<{ round: number }>(prev(comm), 4)
      let ok = 0
      let activeError = ""
      for (let i = 0; i < 1000; i++) {
        sendBuf[0] = i
        sendBuf[1] = comm.rank
        obj.round = i
        kit.startAll([r, ro, s, so])
        const [got, gotObj] = await kit.waitAll([r, ro, s, so])
        if (got === recvBuf && recvBuf[0] === i && recvBuf[1] === prev(comm) && gotObj.round === i) ok++
      }
      for (const p of [s, r, so, ro]) p.free()
      // Starting an active request is refused; a persistent receive can be cancelled.
      const idle = comm.recvInit(comm.rank, 999)
      idle.start()
      try {
        idle.start()
      } catch (e: any) {
        activeError = e._tag
      }
      idle.cancel()
      const idleStatus = new Status()
      await idle.wait(idleStatus)
      idle.free()
      let freedError = ""
      try {
        s.start()
      } catch (e: any) {
        freedError = e._tag
      }
      return { ok, activeError, freedError, idleCancelled: idleStatus.cancelled }
    },
    check(t, results) {
      for (const r of results) {
        t.is(r.ok, 1000)
        t.is(r.activeError, "InvalidRequest")
        t.is(r.freedError, "InvalidRequest")
        t.true(r.idleCancelled)
      }
    }
  },

  /** waitAny, waitSome, testAll and testAny over receives that complete at different times. */
  waitAnySome: {
    async run(comm, kit) {
      const k = 4
      const reqs = Array.from({ length: k }, (_, i) => comm.irecv<number>(prev(comm), 20 + i))
      const [allBefore] = kit.testAll(reqs)
      const [anyIdxBefore, anyFlagBefore] = kit.testAny(reqs)
      // Tell the rank that sends to this one to start; it sends in reverse tag order, with pauses.
      await comm.send("go", prev(comm), 19)
      const sending = (async () => {
        await comm.recv(next(comm), 19)
        for (let i = k - 1; i >= 0; i--) {
          await comm.send(i * 10, next(comm), 20 + i)
          await sleep(5)
        }
      })()
      const [first, v] = await kit.waitAny(reqs)
      const [idx, vals] = await kit.waitSome(reqs)
      await sending
      const all = await kit.waitAll(reqs)
      const [allAfter, valuesAfter] = kit.testAll(reqs)
      const emptyAny = await kit.waitAny([])
      return { allBefore, anyIdxBefore, anyFlagBefore, first, v, idx, vals, all, allAfter, valuesAfter, emptyAny }
    },
    check(t, results) {
      for (const r of results) {
        t.false(r.allBefore)
        t.is(r.anyIdxBefore, -1)
        t.false(r.anyFlagBefore)
        t.true(r.first >= 0 && r.first < 4)
        t.is(r.v, r.first * 10)
        t.true(r.idx.length >= 1)
        r.idx.forEach((i: number, j: number) => t.is(r.vals[j], i * 10))
        t.deepEqual(r.all, [0, 10, 20, 30])
        t.true(r.allAfter)
        t.deepEqual(r.valuesAfter, [0, 10, 20, 30])
        t.deepEqual(r.emptyAny, [-1, undefined])
      }
    }
  },

  /** Every typed array kind (and Buffer, DataView, ArrayBuffer) round-trips bit-exact, alone and nested. */
  typedArrays: {
    async run(comm, kit) {
      const mine = typedSamples(comm.rank)
      // Sent non-blocking (waited for below): a ring of blocking sends before
      // any receive relies on eager buffering, which MPI does not promise.
      const sends = mine.map(([, v]) => comm.isend(v, next(comm), 30))
      sends.push(comm.isend({ nested: Object.fromEntries(mine), map: new Map(mine), set: new Set(mine.map(([, v]) => v)) }, next(comm), 31))
      const theirs = typedSamples(prev(comm))
      const alone: Array<unknown> = []
      for (const [name, want] of theirs) {
        const got = await comm.recv(prev(comm), 30)
        alone.push({ name, got: fingerprint(got), want: fingerprint(want) })
      }
      const nested: any = await comm.recv(prev(comm), 31)
      await kit.waitAll(sends)
      const nestedOk = theirs.every(([name, want]) =>
        JSON.stringify(fingerprint(nested.nested[name])) === JSON.stringify(fingerprint(want)) &&
        JSON.stringify(fingerprint(nested.map.get(name))) === JSON.stringify(fingerprint(want))
      ) && nested.set.size === theirs.length
      // The buffer API into preallocated arrays of each kind.
      const bufferOk: Array<boolean> = []
      const bufferSends = mine.filter(([name]) => name !== "ArrayBuffer" && name !== "DataView").map(([, v]) => comm.Isend(v as any, next(comm), 32))
      for (const [name, want] of theirs) {
        if (name === "ArrayBuffer" || name === "DataView") continue
        const w = want as any
        const buf = name === "Buffer" ? Buffer.alloc(w.length) : new w.constructor(w.length)
        await comm.Recv(buf, prev(comm), 32)
        bufferOk.push(JSON.stringify(fingerprint(buf).bytes) === JSON.stringify(fingerprint(want).bytes))
      }
      await kit.waitAll(bufferSends)
      return { alone, nestedOk, bufferOk }
    },
    check(t, results) {
      for (const r of results) {
        for (const x of r.alone) t.deepEqual(x.got, x.want, x.name)
        t.true(r.nestedOk)
        t.true(r.bufferOk.length >= 13)
        t.true(r.bufferOk.every(Boolean))
      }
    }
  },

  /** Typed errors: a value the codec refuses, a truncated receive, a type mismatch, bad ranks and tags; the world goes on. */
  errors: {
    async run(comm, kit) {
      const tags: Record<string, unknown> = {}
      const catchTag = async (name: string, p: Promise<unknown> | (() => unknown)) => {
        try {
          await (typeof p === "function" ? p() : p)
          tags[name] = "no error"
        } catch (e: any) {
          tags[name] = { tag: e._tag, message: e.message, path: e.path, rank: e.rank, peer: e.peer }
        }
      }
      class Opaque {
        x = 1
      }
      await catchTag("function", comm.send({ ok: 1, cb: () => 1 }, next(comm), 1))
      await catchTag("symbol", comm.send([1, Symbol("s")], next(comm), 1))
      await catchTag("classInstance", () => comm.isend({ deep: [{ o: new Opaque() }] }, next(comm), 1))
      await catchTag("invalidRank", comm.send(1, comm.size, 1))
      await catchTag("invalidTag", comm.send(1, next(comm), -5))
      await catchTag("invalidSource", () => comm.irecv(comm.size + 3))
      // Wrong-length and wrong-type receives: the message is consumed.
      await comm.Send(new Int32Array(100).fill(1), next(comm), 2)
      await catchTag("truncated", comm.Recv(new Int32Array(50), prev(comm), 2))
      // A rendezvous-sized message (started, since a large send to oneself waits for the receive).
      const large = comm.Isend(new Int32Array(1 << 18).fill(2), next(comm), 3)
      await catchTag("truncatedLarge", comm.Recv(new Int32Array(10), prev(comm), 3))
      await large.wait()
      await comm.Send(new Float64Array(4), next(comm), 4)
      await catchTag("typeMismatch", comm.Recv(new Int32Array(8), prev(comm), 4))
      await comm.send({ an: "object" }, next(comm), 5)
      await catchTag("objectIntoBuffer", comm.Recv(new Int32Array(8), prev(comm), 5))
      await catchTag("notABuffer", comm.Send({ not: "typed" } as any, next(comm), 6))
      // Shorter than the buffer is fine; the status tells how much came.
      await comm.Send(Int32Array.of(7, 8), next(comm), 7)
      const st = new Status()
      const roomy = await comm.Recv(new Int32Array(10), prev(comm), 7, st)
      // Still working.
      const after = await comm.sendrecv("still fine", next(comm), 8, prev(comm), 8)
      return { tags, roomy: Array.from(roomy.subarray(0, st.getCount(Int32Array))), after, unmatched: comm.iprobe(ANY_SOURCE, ANY_TAG) }
    },
    check(t, results) {
      for (const r of results) {
        t.is(r.tags.function.tag, "Unencodable")
        t.is(r.tags.function.path, "the message.cb")
        t.true(r.tags.function.message.includes("function"))
        t.is(r.tags.symbol.tag, "Unencodable")
        t.is(r.tags.classInstance.tag, "Unencodable")
        t.true(r.tags.classInstance.message.includes("class Opaque"))
        t.is(r.tags.invalidRank.tag, "InvalidRank")
        t.is(r.tags.invalidTag.tag, "InvalidTag")
        t.is(r.tags.invalidSource.tag, "InvalidRank")
        t.is(r.tags.truncated.tag, "Truncated")
        t.true(r.tags.truncated.message.includes("400 bytes"))
        t.is(r.tags.truncatedLarge.tag, "Truncated")
        t.is(r.tags.typeMismatch.tag, "TypeMismatch")
        t.true(r.tags.typeMismatch.message.includes("Float64Array"))
        t.is(r.tags.objectIntoBuffer.tag, "TypeMismatch")
        t.is(r.tags.notABuffer.tag, "InvalidArgument")
        t.deepEqual(r.roomy, [7, 8])
        t.is(r.after, "still fine")
        t.false(r.unmatched, "no message left over")
      }
    }
  },

  /** Large sends wait for the receiver (rendezvous): a flood of them does not move data until receives are posted. */
  rendezvous: {
    minSize: 2,
    async run(comm, kit) {
      const count = 6
      const bytes = 1 << 20
      if (comm.rank === 0) {
        const reqs = Array.from({ length: count }, (_, i) => comm.Isend(new Uint8Array(bytes).fill(i + 1), 1, 40 + i))
        await sleep(30)
        const [doneEarly] = kit.testAll(reqs)
        await comm.send("go", 1, 39)
        await kit.waitAll(reqs)
        return { doneEarly }
      }
      if (comm.rank === 1) {
        await comm.recv(0, 39)
        const st = new Status()
        const seen = comm.iprobe(0, 40, st)
        const sizes: Array<number> = []
        // Receive in reverse order: each by its tag.
        for (let i = count - 1; i >= 0; i--) {
          const got = await comm.recv<Uint8Array>(0, 40 + i)
          sizes.push(got.length === bytes && got[0] === i + 1 && got[bytes - 1] === i + 1 ? got.length : -1)
        }
        return { seen, probedCount: st.count, sizes }
      }
      return null
    },
    check(t, results) {
      t.false(results[0].doneEarly, "large isends stay pending until the receiver asks")
      t.true(results[1].seen)
      t.is(results[1].probedCount, 1 << 20)
      t.deepEqual(results[1].sizes, new Array(6).fill(1 << 20))
    }
  },

  /** PROC_NULL: sends to it complete, receives from it give undefined with status source PROC_NULL. */
  procNull: {
    async run(comm, kit) {
      await comm.send("lost", PROC_NULL, 1)
      const st = new Status()
      const v = await comm.recv(PROC_NULL, 1, st)
      const probed = comm.iprobe(PROC_NULL, 1)
      const r = await comm.sendrecv("x", PROC_NULL, 0, PROC_NULL, 0)
      return { v, st: statusOf(st), probed, r }
    },
    check(t, results) {
      for (const r of results) {
        t.is(r.v, undefined)
        t.is(r.st.source, PROC_NULL)
        t.is(r.st.count, 0)
        t.true(r.probed)
        t.is(r.r, undefined)
      }
    }
  },

  /** Receives from a rank that has finished fail with PeerLost instead of waiting forever. */
  finishedPeer: {
    minSize: 2,
    alone: true,
    async run(comm) {
      if (comm.rank === 0) return "done"
      try {
        await comm.recv(0, 77)
        return "no error"
      } catch (e: any) {
        return { tag: e._tag, reason: e.reason, peer: e.peer }
      }
    },
    check(t, results) {
      t.is(results[0], "done")
      for (const r of results.slice(1)) t.deepEqual(r, { tag: "PeerLost", reason: "finished", peer: 0 })
    }
  }
}

/** A rank program that runs the scenario named in argv, or the batch `--batch a,b,c` (see batch.ts). */
export default async (comm: Comm): Promise<unknown> => {
  const names = batchNames(process.argv)
  if (names !== undefined) return runBatch(comm, scenarios, names, promiseKit)
  const name = process.argv[2]!
  const s = scenarios[name]
  if (s === undefined) throw new Error(`no scenario ${name}`)
  return s.run(comm, promiseKit)
}
