/**
 * A single-producer single-consumer ring of frames in a SharedArrayBuffer:
 * the worker transport's path from one rank to another.
 *
 * Layout: a 256-byte control block (the write position, the read position
 * and the writer's "waiting for room" flag, each on its own cache line), then
 * `capacity` bytes of records. A record is a 40-byte head (the body length
 * and the frame header) and the body, padded to 8 bytes. A record never wraps:
 * when one does not fit before the end, the writer leaves a wrap marker and
 * starts again at 0. A frame larger than `maxRecord` goes as several records
 * (the first marked FIRST, the last LAST), written as room frees up: the
 * reader copies each piece out while the writer fills the next.
 *
 * Positions are byte counters that wrap at 2^32; the writer publishes with
 * `Atomics.store` after writing the bytes and the reader acquires with
 * `Atomics.load` before reading them, which orders the plain accesses.
 *
 * @since 0.1.0
 */
import { Envelope } from "../../core/index.ts"

type Frame = Envelope.Frame
const { HEADER_BYTES, readHeader, writeHeader } = Envelope

const CONTROL = 256
const TAIL = 0 // int32 index: write position
const HEAD = 16 // int32 index: read position
const WANT = 32 // int32 index: the writer is waiting for room
const REC = 8 + HEADER_BYTES // record head: body length, flags, frame header
const WRAP = -1

const FIRST = 1
const LAST = 2

const align8 = (n: number): number => (n + 7) & ~7

/** Bytes a ring with `capacity` bytes of records needs. */
export const ringBytes = (capacity: number): number => CONTROL + capacity

/** The writing end of a ring. */
export class RingWriter {
  private readonly ctl: Int32Array
  private readonly words: Int32Array
  private readonly bytes: Uint8Array
  private readonly mask: number
  private tail: number
  /** Largest record body; larger frames go in pieces. */
  readonly maxRecord: number

  readonly capacity: number
  constructor(sab: SharedArrayBuffer, offset: number, capacity: number) {
    this.capacity = capacity
    this.ctl = new Int32Array(sab, offset, CONTROL / 4)
    this.words = new Int32Array(sab, offset + CONTROL, capacity / 4)
    this.bytes = new Uint8Array(sab, offset + CONTROL, capacity)
    this.mask = capacity - 1
    this.tail = Atomics.load(this.ctl, TAIL) >>> 0
    this.head = Atomics.load(this.ctl, HEAD) >>> 0
    this.maxRecord = Math.min(capacity / 4, 256 * 1024) - REC
  }

  /** The reader's position as last read: re-read only when it says the ring is too full. */
  private head = 0

  /** Is there room for `need` bytes? Reads the reader's position only when the cached one says no. */
  private room(need: number): boolean {
    if (this.capacity - ((this.tail - this.head) >>> 0) >= need) return true
    this.head = Atomics.load(this.ctl, HEAD) >>> 0
    return this.capacity - ((this.tail - this.head) >>> 0) >= need
  }

  /**
   * Writes one record holding `len` bytes of `f.body` from `offset`. Returns
   * false (and writes nothing) when there is no room.
   */
  private record(f: Frame, flags: number, offset: number, len: number): boolean {
    const size = align8(REC + len)
    const at = this.tail & this.mask
    const toEnd = this.capacity - at
    const need = size <= toEnd ? size : toEnd + size
    if (!this.room(need)) return false
    let p = at
    if (size > toEnd) {
      this.words[at >> 2] = WRAP
      this.tail = (this.tail + toEnd) >>> 0
      p = 0
    }
    const w = p >> 2
    this.words[w] = len
    this.words[w + 1] = flags
    writeHeader(this.words, w + 2, f)
    if (len > 0) this.bytes.set(offset === 0 && len === f.body!.byteLength ? f.body! : f.body!.subarray(offset, offset + len), p + REC)
    this.tail = (this.tail + size) >>> 0
    return true
  }

  /** Makes written records visible to the reader. */
  publish(): void {
    Atomics.store(this.ctl, TAIL, this.tail | 0)
  }

  /**
   * Writes as much of `f` as fits, from body byte `offset`. Returns the new
   * offset: `f.size` (or 0 for a bodiless frame written) when all of it went,
   * -1 when nothing could be written. Does not publish.
   */
  write(f: Frame, offset: number): number {
    const len = f.body === undefined ? 0 : f.body.byteLength
    if (len <= this.maxRecord && offset === 0) return this.record(f, 0, 0, len) ? len : -1
    let at = offset
    while (at < len) {
      const n = Math.min(this.maxRecord, len - at)
      const flags = (at === 0 ? FIRST : 0) | (at + n === len ? LAST : 0) | 4
      if (!this.record(f, flags, at, n)) return at === offset ? -1 : at
      at += n
    }
    return at
  }

  /** Asks the reader to say when it frees room. */
  wantRoom(): void {
    Atomics.store(this.ctl, WANT, 1)
  }

  /** Is the ring empty (everything written has been read)? */
  empty(): boolean {
    return (Atomics.load(this.ctl, HEAD) >>> 0) === this.tail
  }
}

/** The reading end of a ring. */
export class RingReader {
  private readonly ctl: Int32Array
  private readonly words: Int32Array
  private readonly bytes: Uint8Array
  private readonly mask: number
  private head: number
  private readonly f: Frame
  /** A frame arriving in pieces: where the body goes and how far it got. */
  private partial: { frame: Frame; target: Uint8Array; at: number } | undefined = undefined

  readonly capacity: number
  private readonly dst: number
  constructor(sab: SharedArrayBuffer, offset: number, capacity: number, dst: number) {
    this.capacity = capacity
    this.dst = dst
    this.ctl = new Int32Array(sab, offset, CONTROL / 4)
    this.words = new Int32Array(sab, offset + CONTROL, capacity / 4)
    this.bytes = new Uint8Array(sab, offset + CONTROL, capacity)
    this.mask = capacity - 1
    this.head = Atomics.load(this.ctl, HEAD) >>> 0
    this.f = { kind: 0, fmt: 0, src: 0, dst, ctx: 0, tag: 0, seq: 0, id: 0, ref: 0, size: 0, body: undefined }
  }

  /** Is there something to read? */
  ready(): boolean {
    return (Atomics.load(this.ctl, TAIL) >>> 0) !== this.head
  }

  /**
   * Delivers every complete frame available to `deliver` (the body is
   * borrowed), freeing room after each. `target` gives the destination of a
   * frame that arrives in pieces. Returns true when the writer asked to hear
   * about freed room.
   */
  drain(deliver: (f: Frame) => void, target: (f: Frame) => Uint8Array): boolean {
    const tail = Atomics.load(this.ctl, TAIL) >>> 0
    let n = 0
    while (this.head !== tail) {
      const at = this.head & this.mask
      const len = this.words[at >> 2]!
      if (len === WRAP) {
        this.head = (this.head + this.capacity - at) >>> 0
        continue
      }
      const w = at >> 2
      const flags = this.words[w + 1]!
      const f = readHeader(this.words, w + 2, this.f)
      f.dst = this.dst
      const start = at + REC
      if (flags === 0) {
        f.body = len === 0 && f.fmt === 0 ? undefined : this.bytes.subarray(start, start + len)
        // The body is borrowed from the ring: its room is freed after delivery.
        deliver(f)
        f.body = undefined
      } else {
        if (flags & FIRST) {
          const frame = { ...f, body: undefined }
          this.partial = { frame, target: target(frame), at: 0 }
        }
        const p = this.partial!
        p.target.set(this.bytes.subarray(start, start + len), p.at)
        p.at += len
        if (flags & LAST) {
          this.partial = undefined
          p.frame.body = p.target.subarray(0, p.frame.size)
          this.advance(align8(REC + len))
          n++
          deliver(p.frame)
          continue
        }
      }
      this.advance(align8(REC + len))
      n++
    }
    if (n > 0 && Atomics.load(this.ctl, WANT) === 1) {
      Atomics.store(this.ctl, WANT, 0)
      return true
    }
    return false
  }

  private advance(size: number): void {
    this.head = (this.head + size) >>> 0
    Atomics.store(this.ctl, HEAD, this.head | 0)
  }
}
