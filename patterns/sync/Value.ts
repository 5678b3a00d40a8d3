/**
 * Shared values and arrays across worker threads (Python's
 * `multiprocessing.Value` and `Array`, and their `Raw` forms), typed by
 * Python's `array` typecodes, in shared memory, each with a lock for
 * compound updates.
 *
 * | typecode | element | JS type |
 * |---|---|---|
 * | `b` `B` | int8, uint8 | number |
 * | `h` `H` | int16, uint16 | number |
 * | `i` `I` | int32, uint32 | number |
 * | `l` `L` `q` `Q` | int64, uint64 (C `long` is 64-bit on Linux) | bigint |
 * | `f` `d` | float32, float64 | number |
 *
 * @since 0.2.0
 */
import { Attach, fromSharedAs, registerKind, type SharedDescriptor, SharedObject } from "./Heap.ts"
import { type Lockable, Lock, RLock } from "./Lock.ts"

interface Views {
  b: Int8Array
  B: Uint8Array
  h: Int16Array
  H: Uint16Array
  i: Int32Array
  I: Uint32Array
  l: BigInt64Array
  L: BigUint64Array
  q: BigInt64Array
  Q: BigUint64Array
  f: Float32Array
  d: Float64Array
}

/**
 * A Python `array` typecode naming an element type.
 *
 * @category models
 * @since 0.2.0
 */
export type Typecode = keyof Views

/**
 * The typed array a typecode's elements live in.
 *
 * @category models
 * @since 0.2.0
 */
export type ViewOf<T extends Typecode> = Views[T]

/**
 * The JS type of one element: `bigint` for the 64-bit integer codes,
 * `number` otherwise.
 *
 * @category models
 * @since 0.2.0
 */
export type ElementOf<T extends Typecode> = T extends "l" | "L" | "q" | "Q" ? bigint : number

type AnyView = Views[Typecode]

const constructors: {
  readonly [K in Typecode]: {
    new(buffer: SharedArrayBuffer, offset: number, length: number): Views[K]
    readonly BYTES_PER_ELEMENT: number
  }
} = {
  b: Int8Array,
  B: Uint8Array,
  h: Int16Array,
  H: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  l: BigInt64Array,
  L: BigUint64Array,
  q: BigInt64Array,
  Q: BigUint64Array,
  f: Float32Array,
  d: Float64Array
}

const checkTypecode = (t: unknown): Typecode => {
  if (typeof t !== "string" || !Object.hasOwn(constructors, t)) {
    throw new TypeError(`unknown typecode ${JSON.stringify(t)}; use one of ${Object.keys(constructors).join(" ")}`)
  }
  return t as Typecode
}

const isFloat = (t: Typecode): boolean => t === "f" || t === "d"

/** A lock option: `true` a new RLock, `false` none, or a lock to use. */
type LockOption = boolean | Lock | RLock | undefined

const makeLock = (option: LockOption): Lock | RLock | undefined =>
  option === false ? undefined : option === true || option === undefined ? new RLock() : option

/** What a new Value or Array is made of. */
interface Spec<T extends Typecode> {
  readonly typecode: T
  readonly length: number
  readonly lock: LockOption
  readonly init?: ReadonlyArray<ElementOf<T>> | undefined
}

const blockBytes = (spec: Spec<Typecode>): number =>
  Math.max(1, spec.length * constructors[checkTypecode(spec.typecode)].BYTES_PER_ELEMENT)

/** The part shared by Value and Array: a typed view in the heap and an optional lock. */
abstract class Synchronized<T extends Typecode> extends SharedObject implements Lockable {
  /** The element type. */
  readonly typecode: T
  readonly #lock: Lock | RLock | undefined
  protected readonly view: ViewOf<T>
  protected readonly atomic: boolean

  constructor(from: Attach | Spec<T>) {
    super(from instanceof Attach ? from : blockBytes(from))
    const typecode = (from instanceof Attach ? from.parts[0] : from.typecode) as T
    const length = (from instanceof Attach ? from.parts[1] : from.length) as number
    this.typecode = typecode
    this.view = new constructors[typecode](this.heap.buffer, this.offset, length) as ViewOf<T>
    this.atomic = !isFloat(typecode)
    if (from instanceof Attach) {
      this.#lock = (from.parts[2] ?? undefined) as Lock | RLock | undefined
    } else {
      this.#lock = makeLock(from.lock)
      if (from.init !== undefined) (this.view as AnyView as Float64Array).set(from.init as ReadonlyArray<number>)
    }
  }

  protected parts(): ReadonlyArray<unknown> {
    return [this.typecode, this.view.length, this.#lock ?? null]
  }

  protected load(i: number): ElementOf<T> {
    return (this.atomic ? Atomics.load(this.view as Int32Array, i) : this.view[i]) as ElementOf<T>
  }

  protected store(i: number, v: ElementOf<T>): void {
    if (this.atomic) Atomics.store(this.view as Int32Array, i, v as number)
    else (this.view as Float64Array)[i] = v as number
  }

  /** The lock (Python's `get_lock()`); `undefined` for a raw one. */
  getLock(): Lock | RLock | undefined {
    return this.#lock
  }

  /**
   * The typed array over the shared memory itself (Python's `get_obj()`):
   * writes are seen by every thread. The memory then stays allocated for
   * the life of the process.
   */
  getObj(): ViewOf<T> {
    this.escape()
    return this.view
  }

  #locked(op: string): Lock | RLock {
    if (this.#lock === undefined) throw new TypeError(`${op}: a raw ${this.kind} has no lock`)
    return this.#lock
  }

  /** Takes the lock (see `Lock.acquire`). */
  acquire(timeout?: number, signal?: AbortSignal): Promise<boolean> {
    return this.#locked("acquire").acquire(timeout, signal)
  }

  /** Takes the lock, blocking the thread. */
  acquireSync(timeout?: number): boolean {
    return this.#locked("acquireSync").acquireSync(timeout)
  }

  /** Takes the lock if free. */
  tryAcquire(): boolean {
    return this.#locked("tryAcquire").tryAcquire()
  }

  /** Releases the lock. */
  release(): void {
    this.#locked("release").release()
  }

  /** Runs `fn` holding the lock (Python's `with v.get_lock():`), waiting without blocking the thread. */
  async withLock<A>(fn: () => A | PromiseLike<A>): Promise<A> {
    await this.acquire()
    try {
      return await fn()
    } finally {
      this.release()
    }
  }

  /** Runs `fn` holding the lock, blocking the thread to take it. */
  withLockSync<A>(fn: () => A): A {
    this.acquireSync()
    try {
      return fn()
    } finally {
      this.release()
    }
  }
}

/**
 * One number in shared memory (Python's `multiprocessing.Value`): `value`
 * reads and writes it, atomically for the integer typecodes; `withLock`
 * makes a compound update (`v.value += 1`) safe across threads.
 *
 * @example
 * ```ts
 * import { Value } from "rankflow/patterns/sync"
 * const counter = Value("i", 0)
 * await counter.withLock(() => {
 *   counter.value += 1
 * })
 * ```
 * @category models
 * @since 0.2.0
 */
export class SharedValue<T extends Typecode = Typecode> extends Synchronized<T> {
  /** Rebuilds a value (and its lock) from `toShared()`'s descriptor, over the same memory. */
  static fromShared<T extends Typecode = Typecode>(d: SharedDescriptor): SharedValue<T> {
    return fromSharedAs<SharedValue<T>>("Value", d)
  }

  readonly kind = "Value"

  /** The value (atomic for integer typecodes; not locked: see `withLock`). */
  get value(): ElementOf<T> {
    return this.load(0)
  }

  set value(v: ElementOf<T>) {
    this.store(0, v)
  }

  override toString(): string {
    return `Value(${JSON.stringify(this.typecode)}, ${this.value})`
  }
}

registerKind("Value", (a) => new SharedValue(a))

/**
 * An array of numbers in shared memory (Python's `multiprocessing.Array`):
 * `get`/`set` one element (atomically for the integer typecodes),
 * `getObj()` for the typed array itself, `withLock` for compound updates.
 *
 * @example
 * ```ts
 * import { Array as SharedArrayOf } from "rankflow/patterns/sync"
 * const hist = SharedArrayOf("i", 10) // ten zeros
 * await hist.withLock(() => hist.set(3, hist.get(3) + 1))
 * const squares = SharedArrayOf("d", [0, 1, 4, 9])
 * squares.getObj() // Float64Array [0, 1, 4, 9], shared
 * ```
 * @category models
 * @since 0.2.0
 */
export class SharedArray<T extends Typecode = Typecode> extends Synchronized<T> implements Iterable<ElementOf<T>> {
  /** Rebuilds an array (and its lock) from `toShared()`'s descriptor, over the same memory. */
  static fromShared<T extends Typecode = Typecode>(d: SharedDescriptor): SharedArray<T> {
    return fromSharedAs<SharedArray<T>>("Array", d)
  }

  readonly kind = "Array"

  /** Number of elements. */
  get length(): number {
    return this.view.length
  }

  #index(i: number): number {
    if (!Number.isInteger(i) || i < -this.length || i >= this.length) {
      throw new RangeError(`index ${i} is out of range for an Array of ${this.length}`)
    }
    return i < 0 ? i + this.length : i
  }

  /** Element `i` (negative counts from the end, as in Python). */
  get(i: number): ElementOf<T> {
    return this.load(this.#index(i))
  }

  /** Sets element `i`. */
  set(i: number, v: ElementOf<T>): void {
    this.store(this.#index(i), v)
  }

  /** A copy of the elements, as a plain array. */
  toArray(): Array<ElementOf<T>> {
    return [...this]
  }

  *[Symbol.iterator](): Iterator<ElementOf<T>> {
    for (let i = 0; i < this.length; i++) yield this.load(i)
  }

  override toString(): string {
    return `Array(${JSON.stringify(this.typecode)}, [${this.toArray().join(", ")}])`
  }
}

registerKind("Array", (a) => new SharedArray(a))

/**
 * Options of {@link Value} and {@link Array}: the lock that guards it —
 * `true` (default) a new `RLock`, as in Python; a `Lock` or `RLock` to
 * share; `false` none (a raw one).
 *
 * @category models
 * @since 0.2.0
 */
export interface SyncOptions {
  readonly lock?: LockOption
}

/**
 * Makes a shared value (Python's `multiprocessing.Value(typecode, init,
 * lock=True)`), initialised to `init` (default 0).
 *
 * @example
 * ```ts
 * import { Value } from "rankflow/patterns/sync"
 * const total = Value("d", 0.5)
 * const big = Value("q", 1n << 40n)
 * const raw = Value("i", 7, { lock: false })
 * ```
 * @category constructors
 * @since 0.2.0
 */
export const Value = <T extends Typecode>(typecode: T, init?: ElementOf<T>, options?: SyncOptions): SharedValue<T> => {
  return new SharedValue<T>({ typecode, length: 1, lock: options?.lock, init: init === undefined ? undefined : [init] })
}

/**
 * Makes a shared value without a lock (Python's `RawValue`).
 *
 * @example
 * ```ts
 * import { RawValue } from "rankflow/patterns/sync"
 * const flag = RawValue("B", 1)
 * ```
 * @category constructors
 * @since 0.2.0
 */
export const RawValue = <T extends Typecode>(typecode: T, init?: ElementOf<T>): SharedValue<T> =>
  Value(typecode, init, { lock: false })

const makeArray = <T extends Typecode>(
  typecode: T,
  sizeOrInit: number | Iterable<ElementOf<T>>,
  options?: SyncOptions
): SharedArray<T> => {
  const init = typeof sizeOrInit === "number" ? undefined : [...sizeOrInit]
  const length = init === undefined ? sizeOrInit as number : init.length
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`Array: the size must be a whole number ≥ 0; got ${length}`)
  return new SharedArray<T>({ typecode, length, lock: options?.lock, init })
}

/**
 * Makes a shared array (Python's `multiprocessing.Array(typecode,
 * size_or_initializer, lock=True)`): `size` zeros, or the given elements.
 * Exported as `Array`; import it under another name
 * (`import { Array as SharedArrayOf }`) or use the namespace
 * (`mp.Array("i", 10)`).
 *
 * @example
 * ```ts
 * import * as mp from "rankflow/patterns/sync"
 * const zeros = mp.Array("i", 4)
 * const xs = mp.Array("d", [1.5, 2.5])
 * ```
 * @category constructors
 * @since 0.2.0
 */
export { makeArray as Array }

/**
 * Makes a shared array without a lock (Python's `RawArray`).
 *
 * @example
 * ```ts
 * import { RawArray } from "rankflow/patterns/sync"
 * const pixels = RawArray("B", 640 * 480)
 * ```
 * @category constructors
 * @since 0.2.0
 */
export const RawArray = <T extends Typecode>(typecode: T, sizeOrInit: number | Iterable<ElementOf<T>>): SharedArray<T> =>
  makeArray(typecode, sizeOrInit, { lock: false })
