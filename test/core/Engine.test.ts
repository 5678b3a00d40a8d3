/**
 * Unit tests of the engine over a fake transport: a queue of frames between
 * engines in this thread that the test delivers by hand and can mark full.
 * They pin the flow-control rules (eager credit, rendezvous while a link is
 * not writable, credit given back in batches) and what `close` fails, which
 * the real transports' suites cannot drive frame by frame.
 */
import test from "ava"
import { Engine, Envelope, Errors } from "../../index.ts"
import type { Transport } from "../../index.ts"

type Frame = Envelope.Frame

/** A world of `size` engines whose frames wait in `queue` until `pump`. */
class FakeNet {
  readonly queue: Array<Frame> = []
  readonly engines: Array<Engine.Engine> = []
  /** Peers whose link refuses frames (send returns false, the frame is still queued). */
  readonly full = new Set<string>()
  readonly warnings: Array<string> = []
  sent = 0
  constructor(size: number, options: Engine.EngineOptions = {}) {
    for (let rank = 0; rank < size; rank++) {
      let sink: Transport.Sink | undefined
      const t: Transport.TransportShape = {
        name: "fake",
        rank,
        size,
        eagerLimit: 1024,
        send: (f) => {
          this.sent++
          this.queue.push({ ...f, body: f.body?.slice() })
          return !this.full.has(`${rank}>${f.dst}`)
        },
        attach: (s) => (sink = s),
        poll: () => this.pump(),
        close: () => {}
      }
      const e = new Engine.Engine(t, { ...options, onWarning: (m) => this.warnings.push(m) })
      this.engines.push(e)
      void sink
    }
  }
  /** Delivers every queued frame (and those they cause) in order. */
  pump(): number {
    let n = 0
    while (this.queue.length > 0) {
      const f = this.queue.shift()!
      this.engines[f.dst]!.frame(f)
      n++
    }
    return n
  }
  kinds(): Array<string> {
    return this.queue.map((f) => Envelope.kindName(f.kind))
  }
}

const bytes = (n: number, fill = 7): Uint8Array => new Uint8Array(n).fill(fill)
const send = (e: Engine.Engine, dst: number, tag: number, n: number, fill = 7) => {
  const comm = e.worldComm()
  return e.isendBody(comm, "isend", Envelope.Format.RAW + 1, bytes(n, fill), dst, tag, comm.ctx, true)
}
const recv = (e: Engine.Engine, src: number, tag: number) => {
  const comm = e.worldComm()
  return e.irecv(comm, "irecv", src, tag, comm.ctx, undefined)
}

test("eager sends stop at the receiver's window and go on by rendezvous; every message arrives in order", (t) => {
  // 2 ranks, 8 KiB: a 4 KiB window per sender, credit back per 1 KiB.
  const net = new FakeNet(2, { maxUnexpectedBytes: 8192 })
  const [a, b] = net.engines as [Engine.Engine, Engine.Engine]
  t.is(b.stats.eagerWindow, 4096)
  const sends = Array.from({ length: 40 }, (_, i) => send(a, 1, 5, 100, i))
  net.pump()
  const sb = b.stats
  t.true(sb.peakUnexpectedBytes <= sb.maxUnexpectedBytes, `peak ${sb.peakUnexpectedBytes}`)
  t.true(sb.peakUnexpectedBytes <= sb.eagerWindow)
  const sa = a.stats
  t.is(sa.eagerSends + sa.rendezvousSends, 40)
  t.is(sa.eagerSends, Math.floor(4096 / (100 + Engine.MESSAGE_OVERHEAD)))
  t.true(sa.rendezvousSends > 0)
  // The eager ones are done; the rendezvous ones wait for their receives.
  t.deepEqual(sends.map((r) => r.done), sends.map((_, i) => i < sa.eagerSends))
  const recvs = Array.from({ length: 40 }, () => recv(b, 0, 5))
  net.pump()
  t.true(recvs.every((r) => r.done && r.error === undefined))
  t.deepEqual(recvs.map((r) => (r.value as Uint8Array)[0]), Array.from({ length: 40 }, (_, i) => i))
  t.true(sends.every((r) => r.done && r.error === undefined))
  t.is(b.stats.unexpectedBytes, 0)
  t.true(b.stats.creditFrames >= 1)
  // Credit came back: the next small message goes eagerly again.
  const before = a.stats.eagerSends
  const r = send(a, 1, 6, 10)
  t.true(r.done)
  t.is(a.stats.eagerSends, before + 1)
  net.pump()
  t.deepEqual(net.warnings, [])
})

test("with no eager window every message goes by rendezvous", (t) => {
  const net = new FakeNet(2, { maxUnexpectedBytes: 0 })
  const [a, b] = net.engines as [Engine.Engine, Engine.Engine]
  const s = send(a, 1, 1, 1)
  t.deepEqual(net.kinds(), ["RTS"])
  t.false(s.done)
  const r = recv(b, 0, 1)
  net.pump()
  t.true(s.done && r.done)
  t.deepEqual(Array.from(r.value as Uint8Array), [7])
  t.is(a.stats.eagerSends, 0)
  t.is(a.stats.rendezvousSends, 1)
})

test("a link that is not writable switches its sender to rendezvous until the transport says writable", (t) => {
  const net = new FakeNet(2)
  const [a, b] = net.engines as [Engine.Engine, Engine.Engine]
  net.full.add("0>1")
  const first = send(a, 1, 1, 10)
  t.true(first.done, "the frame the transport took still counts as sent")
  const second = send(a, 1, 1, 10)
  t.false(second.done)
  t.deepEqual(net.kinds(), ["EAGER", "RTS"])
  net.full.delete("0>1")
  a.writable(1)
  const third = send(a, 1, 1, 10)
  t.true(third.done)
  t.deepEqual(net.kinds(), ["EAGER", "RTS", "EAGER"])
  const got = [recv(b, 0, 1), recv(b, 0, 1), recv(b, 0, 1)]
  net.pump()
  t.true(got.every((r) => r.done && r.error === undefined))
  t.true(second.done)
})

test("close fails posted receives, probes, rendezvous sends and receives, and sends waiting for room", (t) => {
  const net = new FakeNet(3, { maxUnexpectedBytes: 0 })
  const [a, b, c] = net.engines as [Engine.Engine, Engine.Engine, Engine.Engine]
  const comm = a.worldComm()
  const posted = recv(a, 1, 9)
  const probe = a.probe(comm, "probe", 2, 3, comm.ctx)
  // A rendezvous send from a that no one answers.
  const waitingCts = send(a, 1, 4, 50)
  // A rendezvous receive on a waiting for its DATA: c sends, a receives, the DATA is held back.
  send(c, 0, 8, 50)
  net.pump()
  const waitingData = recv(a, 2, 8)
  t.deepEqual(net.kinds(), ["CTS"])
  net.queue.length = 0
  // A send waiting for room: b answers a's RTS while a's link to b is full.
  const toB = send(a, 1, 6, 50)
  const rb = recv(b, 0, 6)
  net.full.add("0>1")
  net.pump()
  t.false(toB.done, "the link took the DATA but is full: the send waits for room before its buffer is free")
  t.true(rb.done)
  for (const r of [posted, probe, waitingCts, waitingData]) t.false(r.done)
  a.close()
  for (const [name, r] of Object.entries({ posted, probe, waitingCts, waitingData, toB })) {
    t.true(r.done, name)
    t.true(r.error instanceof Errors.EngineClosed, `${name}: ${String(r.error)}`)
  }
  t.regex((posted.error as Error).message, /irecv on rank 0 from rank 1 \(tag 9\) cannot complete: the rank's engine was closed/)
  t.regex((probe.error as Error).message, /probe on rank 0 from rank 2 \(tag 3\)/)
  t.regex((waitingCts.error as Error).message, /isend on rank 0 to rank 1 \(tag 4\)/)
  // After close: new operations fail at once, frames are ignored, close is idempotent.
  const late = recv(a, 1, 1)
  t.true(late.error instanceof Errors.EngineClosed)
  t.true(send(a, 1, 1, 1).error instanceof Errors.EngineClosed)
  t.true(a.probe(comm, "probe", 1, 1, comm.ctx).error instanceof Errors.EngineClosed)
  t.throws(() => a.iprobe(comm.ctx, 1, 1, recv(b, 0, 99)), { instanceOf: Errors.EngineClosed })
  a.frame({ kind: Envelope.Kind.EAGER, fmt: 0, src: 1, dst: 0, ctx: 0, tag: 1, seq: 1, id: 0, ref: 0, size: 0, body: undefined })
  t.is(a.stats.unexpectedMessages, 0)
  t.notThrows(() => a.close())
  t.true(a.stats.closed)
})

test("credit past the window from a peer is refused with a warning, not trusted", (t) => {
  const net = new FakeNet(2, { maxUnexpectedBytes: 4096 })
  const [a] = net.engines as [Engine.Engine, Engine.Engine]
  a.frame({ kind: Envelope.Kind.CREDIT, fmt: 0, src: 1, dst: 0, ctx: 0, tag: 0, seq: 1, id: 0, ref: 1e9, size: 0, body: undefined })
  t.is(net.warnings.length, 1)
  t.regex(net.warnings[0]!, /dropped a CREDIT frame from rank 1: credit of 1000000000 bytes brings the eager window past 2048/)
  // The credit stays at the window: a small message still goes eagerly, and
  // the window's worth of them is all that does.
  const fit = Math.floor(2048 / (100 + Engine.MESSAGE_OVERHEAD))
  for (let i = 0; i < fit + 2; i++) send(a, 1, 1, 100)
  t.is(a.stats.eagerSends, fit)
  t.is(a.stats.rendezvousSends, 2)
})

test("maxUnexpectedBytes must be a finite number of bytes", (t) => {
  for (const bad of [-1, Infinity, Number.NaN, "1" as unknown as number]) {
    t.throws(() => new FakeNet(2, { maxUnexpectedBytes: bad }), { instanceOf: Errors.InvalidArgument, message: /maxUnexpectedBytes must be a finite number/ })
  }
})
