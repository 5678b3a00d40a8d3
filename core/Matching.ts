/**
 * The matching engine (MPI's PML matching): posted receives and unexpected
 * messages, per communicator context, with wildcards.
 *
 * Plain data in and out: no Effect, no IO. Sources are world ranks. Within a
 * context, messages from one sender match in the order they arrived (the
 * transport keeps send order), and receives match in the order they were
 * posted, so messages are non-overtaking as MPI requires. Queues are kept per
 * source so that a receive from a given rank only looks at that rank's
 * messages; a wildcard receive compares the arrival stamps of the candidates.
 *
 * @since 0.1.0
 */
import { Fifo } from "./internal/Fifo.ts"

/**
 * Receive from any source.
 *
 * @category constants
 * @since 0.1.0
 */
export const ANY_SOURCE = -1

/**
 * Receive with any tag.
 *
 * @category constants
 * @since 0.1.0
 */
export const ANY_TAG = -1

/**
 * A posted receive, as the matcher sees it.
 *
 * @category models
 * @since 0.1.0
 */
export interface Posted {
  readonly ctx: number
  /** World rank, or ANY_SOURCE. */
  readonly src: number
  /** Tag, or ANY_TAG. */
  readonly tag: number
  /** Set by the matcher: posting order. */
  stamp: number
}

/**
 * An arrived message (or rendezvous request) nobody was waiting for yet.
 *
 * @category models
 * @since 0.1.0
 */
export interface Arrived {
  readonly ctx: number
  /** World rank of the sender. */
  readonly src: number
  readonly tag: number
  /** Set by the matcher: arrival order. */
  stamp: number
}

class Queues<P, A> {
  readonly posted: Array<Fifo<P> | undefined> = []
  readonly postedAny = new Fifo<P>()
  readonly unexpected: Array<Fifo<A> | undefined> = []
}

/**
 * Posted and unexpected queues for every context of one rank.
 *
 * @category models
 * @since 0.1.0
 */
export class Matcher<P extends Posted, A extends Arrived> {
  private readonly ctxs = new Map<number, Queues<P, A>>()
  private postStamp = 0
  private arriveStamp = 0
  private unexpectedTotal = 0

  private queues(ctx: number): Queues<P, A> {
    let q = this.ctxs.get(ctx)
    if (q === undefined) {
      q = new Queues()
      this.ctxs.set(ctx, q)
    }
    return q
  }

  /** Number of unexpected messages waiting, over all contexts. */
  get unexpectedCount(): number {
    return this.unexpectedTotal
  }

  /**
   * Matches a new receive against the unexpected messages. Returns the
   * earliest matching arrival (removed from its queue), or queues `r` as
   * posted and returns `undefined`.
   */
  post(r: P): A | undefined {
    const a = this.takeUnexpected(r.ctx, r.src, r.tag)
    if (a !== undefined) return a
    const q = this.queues(r.ctx)
    r.stamp = ++this.postStamp
    if (r.src === ANY_SOURCE) q.postedAny.push(r)
    else (q.posted[r.src] ??= new Fifo()).push(r)
    return undefined
  }

  /**
   * Finds and removes the earliest posted receive that matches a message from
   * `src` with `tag`. Returns `undefined` when there is none; the caller then
   * keeps the message with {@link addUnexpected}.
   */
  takePosted(ctx: number, src: number, tag: number): P | undefined {
    const q = this.ctxs.get(ctx)
    if (q === undefined) return undefined
    const own = q.posted[src]
    // A posted receive's tag may be ANY_TAG; an arrival's never is.
    const i = own === undefined || own.length === 0 ? -1 : own.indexOfTag(tag, ANY_TAG)
    const j = q.postedAny.length === 0 ? -1 : q.postedAny.indexOfTag(tag, ANY_TAG)
    if (i < 0 && j < 0) return undefined
    if (j < 0 || (i >= 0 && own!.at(i).stamp < q.postedAny.at(j).stamp)) return own!.removeAt(i)
    return q.postedAny.removeAt(j)
  }

  /** Keeps an arrival that no posted receive matched. */
  addUnexpected(a: A): void {
    a.stamp = ++this.arriveStamp
    ;(this.queues(a.ctx).unexpected[a.src] ??= new Fifo()).push(a)
    this.unexpectedTotal++
  }

  /** The earliest unexpected arrival matching (src, tag), left in place. */
  peek(ctx: number, src: number, tag: number): A | undefined {
    const found = this.find(ctx, src, tag)
    return found === undefined ? undefined : found[0].at(found[1])
  }

  private takeUnexpected(ctx: number, src: number, tag: number): A | undefined {
    const found = this.find(ctx, src, tag)
    if (found === undefined) return undefined
    this.unexpectedTotal--
    return found[0].removeAt(found[1])
  }

  private find(ctx: number, src: number, tag: number): [Fifo<A>, number] | undefined {
    const q = this.ctxs.get(ctx)
    if (q === undefined) return undefined
    if (src !== ANY_SOURCE) {
      const u = q.unexpected[src]
      if (u === undefined || u.length === 0) return undefined
      const i = tag === ANY_TAG ? 0 : u.indexOfTag(tag, tag)
      return i < 0 ? undefined : [u, i]
    }
    let best: [Fifo<A>, number] | undefined
    let bestStamp = Infinity
    for (const u of q.unexpected) {
      if (u === undefined || u.length === 0) continue
      const i = tag === ANY_TAG ? 0 : u.indexOfTag(tag, tag)
      if (i >= 0 && u.at(i).stamp < bestStamp) {
        bestStamp = u.at(i).stamp
        best = [u, i]
      }
    }
    return best
  }

  /** Removes a posted receive that has not matched. False if it is not posted. */
  cancel(r: P): boolean {
    const q = this.ctxs.get(r.ctx)
    if (q === undefined) return false
    const fifo = r.src === ANY_SOURCE ? q.postedAny : q.posted[r.src]
    if (fifo === undefined) return false
    const i = fifo.findIndex((x) => x === r)
    if (i < 0) return false
    fifo.removeAt(i)
    return true
  }

  /** Removes and returns every posted receive for which `f` holds. */
  removePosted(f: (r: P) => boolean): Array<P> {
    const out: Array<P> = []
    for (const q of this.ctxs.values()) {
      for (const fifo of q.posted) if (fifo !== undefined) out.push(...fifo.removeWhere(f))
      out.push(...q.postedAny.removeWhere(f))
    }
    return out.sort((a, b) => a.stamp - b.stamp)
  }

  /** Every posted receive, in no particular order. */
  *postedAll(): IterableIterator<P> {
    for (const q of this.ctxs.values()) {
      for (const fifo of q.posted) if (fifo !== undefined) yield* fifo
      yield* q.postedAny
    }
  }

  /** Every unexpected arrival, in no particular order. */
  *unexpectedAll(): IterableIterator<A> {
    for (const q of this.ctxs.values()) for (const fifo of q.unexpected) if (fifo !== undefined) yield* fifo
  }

  /** Forgets a context (the communicator was freed); returns what was left. */
  dropContext(ctx: number): { posted: Array<P>; unexpected: Array<A> } {
    const q = this.ctxs.get(ctx)
    this.ctxs.delete(ctx)
    if (q === undefined) return { posted: [], unexpected: [] }
    const unexpected = q.unexpected.flatMap((u) => (u === undefined ? [] : [...u]))
    this.unexpectedTotal -= unexpected.length
    return {
      posted: [...q.posted.flatMap((p) => (p === undefined ? [] : [...p])), ...q.postedAny],
      unexpected
    }
  }
}
