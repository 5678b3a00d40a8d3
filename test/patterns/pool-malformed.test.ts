/**
 * A process worker that writes garbage on its pipe to the pool: the pool's
 * bounded reader turns it into a typed `MalformedFrame`, kills the worker,
 * fails its call with `WorkerExited` (reason "malformed"), and goes on with
 * a replacement; the parent never throws. And the reader itself, fed by hand.
 */
import test from "ava"
import { MalformedFrame, ProcessPoolExecutor, task, WorkerExited } from "rankflow/patterns/executor"
import { Deframer, frame } from "rankflow/patterns/pool"
import type * as T from "./fixtures/tasks.ts"

const tasks = new URL("./fixtures/tasks.ts", import.meta.url)
const writesToPipe = task<typeof T.writesToPipe>(tasks, "writesToPipe")
const framesOnPipe = task<typeof T.framesOnPipe>(tasks, "framesOnPipe")
const square = task<typeof T.square>(tasks, "square")

const body = (b: Uint8Array): string => {
  const len = Buffer.alloc(4)
  len.writeUInt32LE(b.byteLength)
  return Buffer.concat([len, b]).toString("hex")
}

test.serial("garbage on a process worker's pipe fails its call with WorkerExited(malformed) and the pool goes on", async (t) => {
  await using ex = new ProcessPoolExecutor({ maxWorkers: 1 })
  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    ["a length past the maximum", () => ex.submit(writesToPipe, "ffffffff00").result(), /malformed frame at byte 0: a frame of 4294967295 bytes, past the maximum of 1073741824/],
    ["a body the codec cannot decode", () => ex.submit(writesToPipe, body(Uint8Array.of(0xc1, 0xc1, 0xc1))).result(), /a body of 3 bytes the codec cannot decode/],
    ["a number, not a message", () => ex.submit(framesOnPipe, 42).result(), /a number where a message object belongs/],
    ["a message of unknown type", () => ex.submit(framesOnPipe, { t: "nope", id: 1 }).result(), /a message of unknown type "nope"/],
    ["a done message without results", () => ex.submit(framesOnPipe, { t: "done", id: 0, ms: 1 }).result(), /a done message \(id 0\) without its results/]
  ]
  for (const [what, run, reason] of cases) {
    const e = await t.throwsAsync(run(), { instanceOf: WorkerExited }, what)
    t.is(e!.reason, "malformed", what)
    t.true(e!.cause instanceof MalformedFrame, what)
    t.regex((e!.cause as MalformedFrame).message, reason, what)
    t.regex(e!.message, /the process worker \d+ was killed for what it wrote on its pipe \(malformed frame/, what)
    // The replacement works.
    t.is(await ex.submit(square, 9), 81, what)
  }
  t.is(ex.metrics().started, cases.length + 1)
})

test("the reader: any chunking, one error for a bad frame, nothing read after it", (t) => {
  const got: Array<unknown> = []
  const errors: Array<MalformedFrame> = []
  const d = new Deframer((m) => got.push(m), { maxFrameBytes: 64, onError: (e) => errors.push(e) })
  const stream = Buffer.concat([frame({ a: 1 }), frame([1, 2, 3]), frame("x".repeat(10))])
  for (const byte of stream) d.push(Buffer.of(byte))
  t.deepEqual(got, [{ a: 1 }, [1, 2, 3], "x".repeat(10)])
  t.deepEqual(errors, [])
  // A length past 64 is refused on its 4 bytes, before any body arrives.
  const big = Buffer.alloc(4)
  big.writeUInt32LE(65)
  d.push(big)
  t.is(errors.length, 1)
  t.is(errors[0]!.offset, stream.byteLength)
  t.regex(errors[0]!.message, /a frame of 65 bytes, past the maximum of 64/)
  t.true(d.broken)
  d.push(frame({ more: true }))
  t.is(got.length, 3)
  t.is(errors.length, 1)
  // A shape check turns a decodable but wrong message into the error.
  const e2: Array<MalformedFrame> = []
  const d2 = new Deframer(() => t.fail("no message may pass"), { check: (m) => (typeof m === "object" ? undefined : "not an object"), onError: (e) => e2.push(e) })
  d2.push(frame(1))
  t.is(e2.length, 1)
  t.regex(e2[0]!.message, /not an object/)
})
