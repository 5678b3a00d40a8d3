/**
 * The shared heap: where every shared-memory object (`Lock`, `Event`,
 * `Value`, `Array`, ...) keeps its words, and how such an object travels to
 * another thread and is rebuilt there over the same memory.
 *
 * The heap is one growable `SharedArrayBuffer` per process, handed to every
 * worker thread started after this module is loaded (through
 * `worker_threads.setEnvironmentData`), so any of those threads can rebuild
 * an object from its offset alone. That is how shared objects cross as
 * task arguments through rankflow's codec (registered here with
 * `Codec.register`). The memory of an object is freed when it is garbage
 * collected, unless it ever left its thread (`toShared`, the codec,
 * `getObj`): then it stays for the life of the process.
 *
 * Three ways across:
 *
 * - as a task argument or a message, through the codec: `comm.send(lock, 1)`,
 *   an executor's `submit(fn, lock)`; rebuilt as the same class;
 * - by `postMessage` or `workerData`: pass `x.toShared()` (a plain object
 *   holding the `SharedArrayBuffer`) and rebuild with `Lock.fromShared(d)`
 *   or {@link fromShared}; this works in any thread of the process;
 * - not to another process: there is no shared memory between processes.
 *   Rebuilding there throws `SharedMemoryUnavailable`, and
 *   {@link ensureNoShared} refuses such a value before it leaves.
 *
 * The heap reserves `RANKFLOW_SHARED_HEAP_MAX` bytes of address space
 * (default 1 GiB) and commits memory as it grows.
 *
 * @since 0.2.0
 */
import { hostname } from "node:os"
import { getEnvironmentData, setEnvironmentData } from "node:worker_threads"
import { Codec } from "../../core/index.ts"
import { guardProcessArguments } from "../pool/Guards.ts"
import { SharedMemoryUnavailable } from "./Errors.ts"

const ENV_KEY = "rankflow/patterns/sync/heap"
const MAGIC = 0x5246_4850 // "RFHP"
// Header words.
const H_MAGIC = 0
const H_ID = 1 // two words
const H_LOCK = 3
const H_TOP = 4
const H_FREE = 5 // one free-list head per size class
const CLASSES = 27 // blocks of 16 B … 1 GiB
const HEADER_BYTES = 128
const MIN_BLOCK = 16
const DEFAULT_MAX = 1 << 30

/** Who this process is, as the codec writes it: processes never share memory. */
const processId = `${hostname()}/${process.pid}`

const sizeClass = (bytes: number): number => {
  let k = 0
  while (MIN_BLOCK << k < bytes) k++
  if (k >= CLASSES) throw new RangeError(`shared heap: a block of ${bytes} bytes is larger than the largest (1 GiB)`)
  return k
}

/**
 * One shared heap: a growable `SharedArrayBuffer` with a block allocator
 * (power-of-two size classes with free lists, guarded by a spin lock in the
 * header) that any thread holding the buffer can use.
 *
 * @category models
 * @since 0.2.0
 */
export class Heap {
  /** The memory. */
  readonly buffer: SharedArrayBuffer
  /** A random id, the same in every thread. */
  readonly id: string
  /** The whole heap as 32-bit words (tracks growth). */
  readonly i32: Int32Array

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer
    this.i32 = new Int32Array(buffer)
    if (Atomics.load(this.i32, H_MAGIC) !== MAGIC) throw new TypeError("this SharedArrayBuffer is not a rankflow shared heap")
    this.id = `${(this.i32[H_ID]! >>> 0).toString(16)}-${(this.i32[H_ID + 1]! >>> 0).toString(16)}`
  }

  /** A new heap reserving up to `maxBytes` of address space. */
  static create(maxBytes: number = Number(process.env.RANKFLOW_SHARED_HEAP_MAX ?? DEFAULT_MAX)): Heap {
    let max = Number.isFinite(maxBytes) && maxBytes >= 1 << 16 ? maxBytes : DEFAULT_MAX
    let buffer: SharedArrayBuffer | undefined
    while (buffer === undefined) {
      try {
        buffer = new SharedArrayBuffer(1 << 16, { maxByteLength: max })
      } catch (e) {
        // Not that much address space: settle for less.
        if (max <= 1 << 24) throw e
        max = Math.floor(max / 2)
      }
    }
    const i32 = new Int32Array(buffer)
    crypto.getRandomValues(i32.subarray(H_ID, H_ID + 2))
    i32[H_TOP] = HEADER_BYTES
    Atomics.store(i32, H_MAGIC, MAGIC)
    return Heap.of(buffer)
  }

  /** The heap over `buffer` (one object per heap and thread). */
  static of(buffer: SharedArrayBuffer): Heap {
    const probe = new Int32Array(buffer, 0, 3)
    const id = `${(probe[H_ID]! >>> 0).toString(16)}-${(probe[H_ID + 1]! >>> 0).toString(16)}`
    let heap = heaps.get(id)
    if (heap === undefined) {
      heap = new Heap(buffer)
      heaps.set(id, heap)
    }
    return heap
  }

  #lock(): void {
    while (Atomics.compareExchange(this.i32, H_LOCK, 0, 1) !== 0) Atomics.wait(this.i32, H_LOCK, 1, 1)
  }

  #unlock(): void {
    Atomics.store(this.i32, H_LOCK, 0)
    Atomics.notify(this.i32, H_LOCK, 1)
  }

  /** Allocates a zeroed block of at least `bytes` bytes, 16-byte aligned; its offset. */
  alloc(bytes: number): number {
    const k = sizeClass(Math.max(bytes, 1))
    const size = MIN_BLOCK << k
    this.#lock()
    try {
      const head = this.i32[H_FREE + k]!
      if (head !== 0) {
        this.i32[H_FREE + k] = this.i32[head >> 2]!
        new Uint8Array(this.buffer, head, size).fill(0)
        return head
      }
      const offset = this.i32[H_TOP]!
      const top = offset + size
      if (top > this.buffer.byteLength) {
        if (top > this.buffer.maxByteLength) {
          throw new RangeError(
            `shared heap: full (${this.buffer.maxByteLength} bytes); set RANKFLOW_SHARED_HEAP_MAX for a larger one`
          )
        }
        this.buffer.grow(Math.min(this.buffer.maxByteLength, Math.max(top, 2 * this.buffer.byteLength)))
      }
      this.i32[H_TOP] = top
      return offset
    } finally {
      this.#unlock()
    }
  }

  /** Returns a block made by `alloc(bytes)`. */
  free(offset: number, bytes: number): void {
    const k = sizeClass(Math.max(bytes, 1))
    this.#lock()
    try {
      this.i32[offset >> 2] = this.i32[H_FREE + k]!
      this.i32[H_FREE + k] = offset
    } finally {
      this.#unlock()
    }
  }

  /** Bytes handed out so far (freed blocks included), for tests and diagnostics. */
  used(): number {
    return Atomics.load(this.i32, H_TOP) - HEADER_BYTES
  }
}

const heaps = new Map<string, Heap>()

const publishedHeap = (): Heap => {
  const inherited = getEnvironmentData(ENV_KEY)
  if (inherited instanceof SharedArrayBuffer) return Heap.of(inherited)
  const heap = Heap.create()
  setEnvironmentData(ENV_KEY, heap.buffer)
  return heap
}

/**
 * This thread's heap: the one inherited from the thread that started it, or
 * a new one, handed on to the threads it starts.
 *
 * @example
 * ```ts
 * import { heap } from "rankflow/patterns/sync"
 * heap.used() // bytes allocated so far
 * ```
 * @category heap
 * @since 0.2.0
 */
export const heap: Heap = publishedHeap()

/**
 * What an object is rebuilt from: its heap, its offset, and its parts
 * (plain data and the shared objects it holds). Passing one to a
 * constructor attaches to existing memory instead of allocating.
 *
 * @category models
 * @since 0.2.0
 */
export class Attach {
  readonly heap: Heap
  readonly offset: number
  readonly parts: ReadonlyArray<unknown>
  constructor(heap: Heap, offset: number, parts: ReadonlyArray<unknown>) {
    this.heap = heap
    this.offset = offset
    this.parts = parts
  }
}

/**
 * The plain form of a shared object for `postMessage` and `workerData`:
 * structured clone shares its `buffer`, so {@link fromShared} on the other
 * side rebuilds the object over the same memory.
 *
 * @category models
 * @since 0.2.0
 */
export interface SharedDescriptor {
  /** The kind: "Lock", "RLock", "Event", "Semaphore", "Barrier", "Condition", "Value", "Array". */
  readonly rankflowShared: string
  readonly buffer: SharedArrayBuffer
  readonly offset: number
  readonly parts: ReadonlyArray<unknown>
  /** The process it belongs to. */
  readonly process: string
}

interface Allocation {
  readonly heap: Heap
  readonly offset: number
  readonly bytes: number
}

const reclaim = new FinalizationRegistry<Allocation>((a) => a.heap.free(a.offset, a.bytes))

/**
 * The base of every shared-memory object: where its words are, and how it
 * travels. Subclasses name their `kind`, list their `parts`, and register a
 * rebuilder with {@link registerKind}.
 *
 * @category models
 * @since 0.2.0
 */
export abstract class SharedObject {
  /** The heap holding the object. */
  readonly heap: Heap
  /** Byte offset of the object's block in the heap. */
  readonly offset: number
  /** The kind, as in descriptors. */
  abstract readonly kind: string

  /**
   * Allocates `bytes` in this thread's heap, or attaches to the block an
   * {@link Attach} names.
   */
  constructor(from: Attach | number) {
    if (from instanceof Attach) {
      this.heap = from.heap
      this.offset = from.offset
    } else {
      this.heap = heap
      this.offset = heap.alloc(from)
      reclaim.register(this, { heap, offset: this.offset, bytes: from }, this)
    }
  }

  /** The plain data and shared objects the object is rebuilt from. */
  protected abstract parts(): ReadonlyArray<unknown>

  /** Keeps the block for the life of the process: the object is leaving this thread. */
  protected escape(): void {
    reclaim.unregister(this)
  }

  /**
   * A plain descriptor for `postMessage` or `workerData`; rebuild it with
   * the class's `fromShared` (or {@link fromShared}).
   */
  toShared(): SharedDescriptor {
    this.escape()
    return {
      rankflowShared: this.kind,
      buffer: this.heap.buffer,
      offset: this.offset,
      parts: this.parts().map((p) => (p instanceof SharedObject ? p.toShared() : p)),
      process: processId
    }
  }

  /** The codec's form: kind, heap, process, offset and parts (shared objects stay objects). */
  encode(): [string, string, string, number, ReadonlyArray<unknown>] {
    this.escape()
    return [this.kind, this.heap.id, processId, this.offset, this.parts()]
  }
}

const kinds = new Map<string, (a: Attach) => SharedObject>()

/**
 * Registers how to rebuild a kind of shared object from an {@link Attach}.
 *
 * @category registration
 * @since 0.2.0
 */
export const registerKind = (kind: string, rebuild: (a: Attach) => SharedObject): void => {
  kinds.set(kind, rebuild)
}

const rebuild = (kind: string, a: Attach): SharedObject => {
  const make = kinds.get(kind)
  if (make === undefined) throw new TypeError(`fromShared: unknown kind of shared object ${JSON.stringify(kind)}`)
  return make(a)
}

/**
 * Is `u` a descriptor made by `toShared()`?
 *
 * @category guards
 * @since 0.2.0
 */
export const isSharedDescriptor = (u: unknown): u is SharedDescriptor =>
  typeof u === "object" && u !== null && typeof (u as SharedDescriptor).rankflowShared === "string" &&
  typeof (u as SharedDescriptor).offset === "number"

/**
 * Rebuilds a shared object from its descriptor (made by `toShared()` and
 * passed by `postMessage` or `workerData`), over the same memory. Throws
 * `SharedMemoryUnavailable` in another process.
 *
 * @example
 * ```ts
 * import { Worker } from "node:worker_threads"
 * import { Lock, fromShared } from "rankflow/patterns/sync"
 * const lock = new Lock()
 * new Worker(new URL("./child.ts", import.meta.url), { workerData: { lock: lock.toShared() } })
 * // child.ts: const lock = fromShared(workerData.lock) as Lock
 * ```
 * @category constructors
 * @since 0.2.0
 */
export const fromShared = (d: SharedDescriptor): SharedObject => {
  if (!isSharedDescriptor(d)) throw new TypeError("fromShared: expected a descriptor made by toShared()")
  if (d.process !== processId || !(d.buffer instanceof SharedArrayBuffer)) {
    throw new SharedMemoryUnavailable({ what: d.rankflowShared, reason: "process" })
  }
  const parts = d.parts.map((p) => (isSharedDescriptor(p) ? fromShared(p) : p))
  return rebuild(d.rankflowShared, new Attach(Heap.of(d.buffer), d.offset, parts))
}

/**
 * Rebuilds a value of a known class from its descriptor: the class's
 * `fromShared`, checking the kind.
 *
 * @category constructors
 * @since 0.2.0
 */
export const fromSharedAs = <T extends SharedObject>(kind: string, d: SharedDescriptor): T => {
  if (isSharedDescriptor(d) && d.rankflowShared !== kind) {
    throw new TypeError(`${kind}.fromShared: the descriptor is of a ${d.rankflowShared}`)
  }
  return fromShared(d) as T
}

/**
 * Throws `SharedMemoryUnavailable` if `value` holds a shared object or a
 * descriptor (in arrays, plain objects, Maps and Sets): for code about to
 * send `value` to another process, which cannot share memory.
 *
 * @example
 * ```ts
 * import { Lock, ensureNoShared } from "rankflow/patterns/sync"
 * ensureNoShared([1, { a: "x" }]) // fine
 * ensureNoShared({ lock: new Lock() }) // throws SharedMemoryUnavailable: ... does not exist between processes
 * ```
 * @category guards
 * @since 0.2.0
 */
export const ensureNoShared = (value: unknown): void => {
  const seen = new Set<unknown>()
  const walk = (v: unknown): void => {
    if (typeof v !== "object" || v === null || seen.has(v)) return
    seen.add(v)
    if (v instanceof SharedObject) throw new SharedMemoryUnavailable({ what: v.kind, reason: "process" })
    if (isSharedDescriptor(v)) throw new SharedMemoryUnavailable({ what: v.rankflowShared, reason: "process" })
    if (ArrayBuffer.isView(v)) return
    if (Array.isArray(v) || v instanceof Set) for (const x of v) walk(x)
    else if (v instanceof Map) for (const [k, x] of v) (walk(k), walk(x))
    else if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
      for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k])
    }
  }
  walk(value)
}

// Pools and processes refuse shared objects bound for another process before they leave.
guardProcessArguments(ensureNoShared)

/**
 * The msgpack extension number shared objects use in rankflow's codec.
 *
 * @category registration
 * @since 0.2.0
 */
export const CODEC_TYPE = 0x1f

Codec.register(SharedObject, CODEC_TYPE, {
  encode: (o) => o.encode(),
  decode: ([kind, heapId, process, offset, parts]: [string, string, string, number, ReadonlyArray<unknown>]) => {
    if (process !== processId) throw new SharedMemoryUnavailable({ what: kind, reason: "process" })
    const h = heaps.get(heapId)
    if (h === undefined) throw new SharedMemoryUnavailable({ what: kind, reason: "heap" })
    return rebuild(kind, new Attach(h, offset, parts))
  }
})
