/**
 * A first-in first-out queue over an array with a moving head: O(1) push and
 * shift, removal from the middle by index. The matching engine's queues.
 *
 * @internal
 */
export class Fifo<T> {
  private items: Array<T | undefined> = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(x: T): void {
    this.items.push(x)
  }

  /** The i-th item from the head. */
  at(i: number): T {
    return this.items[this.head + i] as T
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const x = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.items.length) {
      this.items.length = 0
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return x
  }

  /** Removes and returns the i-th item from the head. */
  removeAt(i: number): T {
    if (i === 0) return this.shift() as T
    const [x] = this.items.splice(this.head + i, 1)
    return x as T
  }

  /** Index of the first item for which `f` holds, or -1. */
  findIndex(f: (x: T) => boolean): number {
    for (let i = this.head; i < this.items.length; i++) if (f(this.items[i] as T)) return i - this.head
    return -1
  }

  /**
   * Index of the first item whose `tag` is `tag` (`wildcard` in an item
   * matches any tag), or -1. The matching engine's inner loop, without a
   * closure per call.
   */
  indexOfTag(this: Fifo<{ readonly tag: number }>, tag: number, wildcard: number): number {
    const items = this.items
    for (let i = this.head; i < items.length; i++) {
      const t = items[i]!.tag
      if (t === tag || t === wildcard) return i - this.head
    }
    return -1
  }

  /** Removes every item for which `f` holds and returns them in order. */
  removeWhere(f: (x: T) => boolean): Array<T> {
    const out: Array<T> = []
    const keep: Array<T | undefined> = []
    for (let i = this.head; i < this.items.length; i++) {
      const x = this.items[i] as T
      if (f(x)) out.push(x)
      else keep.push(x)
    }
    if (out.length > 0) {
      this.items = keep
      this.head = 0
    }
    return out
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T
  }
}
