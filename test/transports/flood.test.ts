/**
 * Bounded receiver memory under a flood: senders post far more eager-sized
 * messages than the receiver's `maxUnexpectedBytes` while it receives
 * nothing; the receiver holds at most that many unmatched bytes, the rest
 * waits at the senders by rendezvous, and every message still arrives in
 * order. On the worker transport and over the process transport's links.
 */
import test from "ava"
import { runWorld } from "../../promise.ts"

const program = new URL("./flood.ts", import.meta.url)
const count = 2000
const bytes = 4096
const max = 1 << 20

for (const transport of ["worker", "process"]) {
  test.serial(`${transport}: 3 senders flood 3 x ${count} x ${bytes} B at a receiver with maxUnexpectedBytes 1 MiB`, async (t) => {
    const size = 4
    // The receiver's memory is measured for its whole thread, so on the
    // worker transport it gets a thread of its own (by default 4 ranks on 2
    // cores share 2 threads, and a sender's own bodies would count).
    const transportOptions = transport === "worker" ? { ranksPerThread: 1 } : undefined
    const results = await runWorld(
      { size, transport, argv: [String(count), String(bytes)], engine: { maxUnexpectedBytes: max }, transportOptions, timeout: 60_000 },
      program
    )
    const [r0, ...senders] = results as [any, ...Array<any>]
    const flood = (size - 1) * count * bytes
    t.is(r0.maxUnexpectedBytes, max)
    t.true(r0.peak <= max, `peak of unmatched bytes ${r0.peak} > ${max}`)
    t.true(r0.heldWhileIdle > 0, "some messages went eagerly")
    t.is(r0.messagesWhileIdle, (size - 1) * count, "the whole flood arrived, as eager bodies or RTS headers")
    // The receiver's memory grew by far less than the flood (24 MiB): headers, not bodies.
    t.true(r0.grew < flood / 3, `rank 0 grew by ${r0.grew} bytes during a ${flood}-byte flood`)
    t.is(r0.inOrder, (size - 1) * count)
    t.is(r0.left, 0)
    t.true(r0.creditFrames > 0)
    for (const s of senders) {
      t.is(s.eagerSends + s.rendezvousSends, count)
      t.true(s.rendezvousSends > count / 2, `rendezvous sends: ${s.rendezvousSends}`)
    }
  })
}
