/**
 * The worker transport as one rank sees it: shared-memory rings to and from
 * every peer, and a doorbell to sleep on.
 *
 * Delivery is adaptive. A rank that waits for a request spins over its
 * incoming rings for a short budget (`poll`), which hands a message over in
 * well under a microsecond; past the budget it sleeps on its doorbell with
 * `Atomics.waitAsync`, so an idle rank burns no CPU and an oversubscribed
 * world (more ranks than cores) still makes progress. A writer rings a
 * sleeping peer's doorbell once (it clears the peer's sleeping flag with a
 * compare-and-swap, so a burst of messages costs one wake-up), and a reader
 * that frees room in a ring a writer is waiting on rings that writer.
 *
 * Frames that do not fit (a full ring, or the rest of a large body) wait in a
 * per-peer queue and go as room frees up; `send` then returns false and the
 * engine waits for `writable`.
 *
 * Several ranks may share a thread (M:N placement, a {@link LocalGroup}):
 * a frame to a rank of the same thread is handed to its engine within
 * `send`, as the in-process transport does, and only frames to ranks of other
 * threads go through the rings. A waiting rank then spins only while every
 * rank of its thread waits (spinning while another could run would hold it
 * up), and while it spins it serves the rings of all of them.
 *
 * @since 0.1.0
 */
import { Envelope } from "../../core/index.ts"
import type { Transport } from "../../core/index.ts"
import { RingReader, ringBytes, RingWriter } from "./Ring.ts"

type Frame = Envelope.Frame

/** Int32 words of control per rank (a cache line each). */
export const CTRL_WORDS = 16
const BELL = 0
const SLEEPING = 1

/**
 * The shared memory of one worker world: the control block (a doorbell per
 * rank) followed by a ring for every ordered pair of distinct ranks.
 *
 * @category models
 * @since 0.1.0
 */
export interface Shared {
  readonly size: number
  readonly capacity: number
  readonly sab: SharedArrayBuffer
}

/**
 * Ring capacity for a world of `size` ranks: a power of two from 64 KiB to
 * 2 MiB, within a total of `budget` bytes. Larger rings let a large message
 * stream through with fewer waits for room; measured here with 4 MiB
 * messages, 1 MiB rings gave 7.4 GB/s (windowed) and 380 µs (ping-pong), 2 MiB
 * rings 8.7 GB/s and 300 µs, 4 MiB rings 11 GB/s but 450 µs. The memory is
 * touched only as a ring is used.
 *
 * @category models
 * @since 0.1.0
 */
export const defaultCapacity = (size: number, budget = 256 * 1024 * 1024): number => {
  const pairs = Math.max(1, size * (size - 1))
  let cap = 2 << 20
  while (cap > 64 * 1024 && cap * pairs > budget) cap >>= 1
  return cap
}

/**
 * Allocates the shared memory of a world.
 *
 * @category constructors
 * @since 0.1.0
 */
export const allocate = (size: number, capacity = defaultCapacity(size)): Shared => {
  if ((capacity & (capacity - 1)) !== 0 || capacity < 4096) {
    throw new RangeError(`ring capacity must be a power of two of at least 4096 bytes; got ${capacity}`)
  }
  const bytes = size * CTRL_WORDS * 4 + size * size * ringBytes(capacity)
  return { size, capacity, sab: new SharedArrayBuffer(bytes) }
}

const ringOffset = (shared: Shared, src: number, dst: number): number =>
  shared.size * CTRL_WORDS * 4 + (src * shared.size + dst) * ringBytes(shared.capacity)

/**
 * The ranks that share one thread, and which of them wait. A rank waits
 * while the condition of its latest `poll` is false: a rank whose wait is
 * over (it runs, or will as soon as the event loop lets it), or that never
 * waited, does not.
 *
 * @category models
 * @since 0.3.0
 */
export class LocalGroup {
  /** The transports of this thread's ranks, by world rank. */
  readonly members = new Map<number, WorkerTransport>()
  /** The members in rank order. */
  readonly list: Array<WorkerTransport> = []
  private readonly until: Array<(() => boolean) | undefined> = []
  add(t: WorkerTransport): void {
    this.members.set(t.rank, t)
    this.list.push(t)
    this.list.sort((a, b) => a.rank - b.rank)
  }
  has(rank: number): boolean {
    return this.members.has(rank)
  }
  /** Rank `rank` waits until `until()`. */
  wait(rank: number, until: () => boolean): void {
    this.until[rank] = until
  }
  /** Does every rank of this thread wait (none could run now)? */
  allWaiting(): boolean {
    for (const m of this.list) {
      const u = this.until[m.rank]
      if (u === undefined || u()) return false
    }
    return true
  }
}

interface Pending {
  readonly frame: Frame
  offset: number
}

/**
 * The transport of one rank over the world's shared memory.
 *
 * @category models
 * @since 0.1.0
 */
export class WorkerTransport implements Transport.TransportShape {
  readonly name = "worker"
  readonly size: number
  readonly eagerLimit: number
  private readonly ctrl: Int32Array
  private readonly writers: Array<RingWriter | undefined>
  private readonly readers: Array<RingReader | undefined>
  private readonly pending: Array<Array<Pending> | undefined>
  private pendingCount = 0
  private sink: Transport.Sink | undefined = undefined
  private armed = false
  private closed = false
  private readonly me: number
  private readonly group: LocalGroup | undefined

  readonly rank: number
  constructor(rank: number, shared: Shared, eagerLimit?: number, group?: LocalGroup) {
    this.rank = rank
    this.group = group
    group?.add(this)
    this.size = shared.size
    this.ctrl = new Int32Array(shared.sab, 0, shared.size * CTRL_WORDS)
    this.me = rank * CTRL_WORDS
    this.writers = []
    this.readers = []
    this.pending = new Array(shared.size).fill(undefined)
    for (let p = 0; p < shared.size; p++) {
      this.writers.push(p === rank ? undefined : new RingWriter(shared.sab, ringOffset(shared, rank, p), shared.capacity))
      this.readers.push(p === rank ? undefined : new RingReader(shared.sab, ringOffset(shared, p, rank), shared.capacity, rank))
    }
    this.eagerLimit = eagerLimit ?? Math.min(64 * 1024, shared.capacity / 8)
  }

  // ----------------------------------------------------------------- sending

  send(f: Frame): boolean {
    const dst = f.dst
    const g = this.group
    if (g !== undefined && g.has(dst)) {
      // A rank of this thread: straight to its engine, as in-process. A copy
      // of the header, since the sender may reuse its frame while the
      // receiver is still in this call.
      const peer = g.members.get(dst)!
      if (peer.closed || peer.sink === undefined) return true
      peer.sink.frame({ ...f })
      return true
    }
    const q = this.pending[dst]
    if (q === undefined || q.length === 0) {
      const w = this.writers[dst]!
      const len = f.body === undefined ? 0 : f.body.byteLength
      const at = w.write(f, 0)
      if (at >= 0) {
        w.publish()
        this.wake(dst)
        if (at === len) return true
      }
      this.enqueue(f, Math.max(at, 0))
      return this.stuck(dst)
    }
    this.enqueue(f, 0)
    return false
  }

  /**
   * A frame could not go now: ask the ring's reader to ring when it frees
   * room, then try once more, in case it freed some before it could see the
   * request. (Set once per stall, not per retry, so a spinning writer and its
   * reader do not trade a cache line for every record.)
   */
  private stuck(dst: number): boolean {
    this.writers[dst]!.wantRoom()
    return this.flush(dst)
  }

  /** Keeps a frame that could not go now. A DATA body is the engine's and stays put until `writable`; any other body is copied. */
  private enqueue(f: Frame, offset: number): void {
    const frame: Frame = { ...f, body: f.body === undefined || f.kind === Envelope.Kind.DATA ? f.body : f.body.slice() }
    ;(this.pending[f.dst] ??= []).push({ frame, offset })
    this.pendingCount++
  }

  /** Writes queued frames to `dst`; true (and `writable`) when the queue is empty. */
  private flush(dst: number): boolean {
    const q = this.pending[dst]
    if (q === undefined || q.length === 0) return true
    const w = this.writers[dst]!
    let wrote = false
    while (q.length > 0) {
      const p = q[0]!
      const len = p.frame.body === undefined ? 0 : p.frame.body.byteLength
      const at = w.write(p.frame, p.offset)
      if (at >= 0) {
        wrote = true
        p.offset = at
      }
      if (at < 0 || at < len) break
      q.shift()
      this.pendingCount--
    }
    if (wrote) {
      w.publish()
      this.wake(dst)
    }
    if (q.length > 0) return false
    this.sink?.writable(dst)
    return true
  }

  /** Writes what waits to go; true if anything went. */
  private flushAll(): boolean {
    const before = this.progressMark()
    for (let d = 0; d < this.size; d++) {
      const q = this.pending[d]
      if (q !== undefined && q.length > 0) this.flush(d)
    }
    return this.progressMark() !== before
  }

  /** Changes whenever a queued frame (or a piece of one) is written. */
  private progressMark(): number {
    let m = this.pendingCount
    for (let d = 0; d < this.size; d++) {
      const q = this.pending[d]
      if (q !== undefined && q.length > 0) m = m * 31 + q[0]!.offset
    }
    return m
  }

  /** Rings `peer`'s doorbell if it sleeps (once per sleep). */
  private wake(peer: number): void {
    const at = peer * CTRL_WORDS
    // A plain load first: a busy peer's flag is 0, and reading a shared line
    // is cheaper than taking it for a compare-and-swap.
    if (Atomics.load(this.ctrl, at + SLEEPING) === 1 && Atomics.compareExchange(this.ctrl, at + SLEEPING, 1, 0) === 1) {
      Atomics.add(this.ctrl, at + BELL, 1)
      Atomics.notify(this.ctrl, at + BELL)
    }
  }

  // --------------------------------------------------------------- receiving

  attach(sink: Transport.Sink): void {
    this.sink = sink
    this.arm()
  }

  private readonly deliver = (f: Frame): void => this.sink!.frame(f)
  private readonly target = (f: Frame): Uint8Array => this.sink!.target(f)

  /** Is anything waiting in an incoming ring? */
  private ready(): boolean {
    for (let p = 0; p < this.size; p++) {
      const r = this.readers[p]
      if (r !== undefined && r.ready()) return true
    }
    return false
  }

  /** Delivers everything that has arrived and writes what waits to go. */
  drain(): void {
    for (let p = 0; p < this.size; p++) {
      const r = this.readers[p]
      if (r !== undefined && r.ready() && r.drain(this.deliver, this.target)) this.wake(p)
    }
    if (this.pendingCount > 0) this.flushAll()
  }

  poll(until: () => boolean, budgetMicros: number): void {
    if (this.closed) return
    const g = this.group
    if (g !== undefined && g.list.length > 1) return this.pollGroup(g, until, budgetMicros)
    // While spinning, writers need not ring: lower the sleeping flag.
    if (budgetMicros > 0) Atomics.store(this.ctrl, this.me + SLEEPING, 0)
    this.drain()
    if (budgetMicros > 0 && !until()) {
      const t0 = performance.now()
      const limit = budgetMicros / 1000
      let i = 0
      for (;;) {
        if (this.pendingCount > 0 || this.ready()) {
          this.drain()
          if (until()) break
        }
        if ((++i & 127) === 0) {
          if (until() || performance.now() - t0 > limit) break
        }
      }
    }
    if (!this.armed) return
    // A wait that is still pending means this rank goes idle: get ready to
    // sleep now. One that completed means user code goes on (often straight
    // into the next call), so get ready only once the event loop is idle.
    if (until()) this.sleepSoon()
    else this.prepareSleep()
  }

  /**
   * `poll` for a rank that shares its thread: serve every member's rings;
   * spin only while every member waits, and stop as soon as this rank's
   * wait or another member's is over (that member can run now).
   */
  private pollGroup(g: LocalGroup, until: () => boolean, budgetMicros: number): void {
    g.wait(this.rank, until)
    for (const m of g.list) if (!m.closed) m.drain()
    if (!until()) {
      if (budgetMicros > 0 && g.allWaiting()) {
        for (const m of g.list) Atomics.store(m.ctrl, m.me + SLEEPING, 0)
        const t0 = performance.now()
        const limit = budgetMicros / 1000
        let i = 0
        for (;;) {
          let any = false
          for (const m of g.list) {
            if (!m.closed && (m.pendingCount > 0 || m.ready())) {
              m.drain()
              any = true
            }
          }
          if (any && (until() || !g.allWaiting())) break
          if ((++i & 127) === 0 && performance.now() - t0 > limit) break
        }
        for (const m of g.list) if (m !== this && m.armed && !m.closed) m.prepareSleep()
      }
    }
    if (!this.armed) return
    if (until()) this.sleepSoon()
    else this.prepareSleep()
  }

  private sleepScheduled = false
  private sleepSoon(): void {
    if (this.sleepScheduled) return
    this.sleepScheduled = true
    setImmediate(this.sleepNow)
  }
  private readonly sleepNow = (): void => {
    this.sleepScheduled = false
    if (this.armed && !this.closed) this.prepareSleep()
  }

  /** Asks the reader of every ring with frames waiting to ring when it frees room. */
  private wantRoom(): void {
    if (this.pendingCount === 0) return
    for (let d = 0; d < this.size; d++) if ((this.pending[d]?.length ?? 0) > 0) this.writers[d]!.wantRoom()
  }

  /**
   * Raises the sleeping flag (so writers ring the doorbell) and, for frames
   * waiting for room, the ring's "want room" flag (so its reader rings when
   * it frees some); then looks once more, since a frame or some room may have
   * come before the flags were seen. Anything found is handled and the flags
   * raised again: when this returns, every event that matters will ring.
   * (A spinning rank lowers its sleeping flag and sets no "want room" flag,
   * so readers and writers do not trade a cache line for every record.)
   */
  private prepareSleep(): void {
    for (;;) {
      Atomics.store(this.ctrl, this.me + SLEEPING, 1)
      this.wantRoom()
      if (!this.ready() && !(this.pendingCount > 0 && this.flushAll())) return
      Atomics.store(this.ctrl, this.me + SLEEPING, 0)
      this.drain()
    }
  }

  /** Sleeps on the doorbell until a peer rings (or already has). */
  private arm(): void {
    while (!this.armed && !this.closed) {
      const v = Atomics.load(this.ctrl, this.me + BELL)
      this.prepareSleep()
      const w = Atomics.waitAsync(this.ctrl, this.me + BELL, v)
      if (!w.async) continue
      this.armed = true
      w.value.then(this.woken)
    }
  }

  private readonly woken = (): void => {
    this.armed = false
    if (this.closed) return
    Atomics.store(this.ctrl, this.me + SLEEPING, 0)
    this.drain()
    this.arm()
  }

  /** Wakes this rank's own sleeper (used to stop). */
  private ringSelf(): void {
    Atomics.add(this.ctrl, this.me + BELL, 1)
    Atomics.notify(this.ctrl, this.me + BELL)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.ringSelf()
  }
}
