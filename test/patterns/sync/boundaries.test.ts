/**
 * Where shared memory reaches and where it does not: shared objects sent as
 * messages between ranks of a world are the same memory on every thread
 * (worker transport) and in one thread (inproc); in another process they
 * fail with SharedMemoryUnavailable, which says why.
 */
import test from "ava"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Codec } from "../../../core/index.ts"
import { runWorld } from "../../../promise.ts"
import * as mp from "../../../patterns/sync/index.ts"

const WORLD = new URL("./fixtures/world.ts", import.meta.url)

for (const transport of ["worker", "inproc"]) {
  test(`shared objects broadcast to ${transport} ranks are the same memory: no increment is lost`, async (t) => {
    const program = transport === "inproc" ? (await import(WORLD.href)).default : WORLD
    const results = await runWorld({ size: 4, transport, timeout: 60_000 }, program)
    t.deepEqual(results, [4000, 4000, 4000, 4000])
  })
}

test("a shared object sent to a rank in another process fails there with a reason that says shared memory does not cross processes", async (t) => {
  const results = await runWorld({ size: 2, transport: "process", timeout: 60_000, argv: ["--across-processes"] }, WORLD)
  t.is(results[0], "sent")
  const failure = results[1] as { tag: string; reason: string }
  t.is(failure.tag, "Undecodable")
  t.regex(failure.reason, /a Lock lives in shared memory, which does not exist between processes/)
})

test("decoding a shared object in another process throws SharedMemoryUnavailable (reason: process)", async (t) => {
  const hex = Buffer.from(Codec.encode({ counter: mp.Value("i", 1) })).toString("hex")
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [fileURLToPath(new URL("./fixtures/decode.ts", import.meta.url)), hex], (e, stdout) =>
      e ? reject(e) : resolve(stdout))
  )
  const r = JSON.parse(out)
  t.is(r.tag, "SharedMemoryUnavailable")
  t.is(r.reason, "process")
  t.regex(r.message, /use the thread start method/i)
})

test("ensureNoShared refuses shared objects and descriptors anywhere in a value, before it leaves the process", (t) => {
  t.notThrows(() => mp.ensureNoShared([1, "a", { b: new Float64Array(2) }, new Map([["k", new Set([1])]])]))
  const lock = new mp.Lock()
  const e = t.throws(() => mp.ensureNoShared({ args: [1, { lock }] }), { instanceOf: mp.SharedMemoryUnavailable })
  t.is(e?.what, "Lock")
  t.is(e?.reason, "process")
  t.throws(() => mp.ensureNoShared(new Map([["v", mp.Value("d", 1).toShared()]])), { instanceOf: mp.SharedMemoryUnavailable })
})

test("a descriptor from another process is refused by fromShared", (t) => {
  const d = new mp.Event().toShared()
  t.throws(() => mp.fromShared({ ...d, process: "elsewhere/1" }), { instanceOf: mp.SharedMemoryUnavailable, message: /does not exist between processes/ })
  t.throws(() => mp.fromShared({} as mp.SharedDescriptor), { instanceOf: TypeError })
})

test("SharedMemoryUnavailable for a thread that cannot see the heap says how to fix it", (t) => {
  const e = new mp.SharedMemoryUnavailable({ what: "Value", reason: "heap" })
  t.regex(e.message, /Import rankflow\/patterns\/sync before starting worker threads, or pass value\.toShared\(\)/)
})
