/**
 * Groups: ordered sets of ranks, the raw material of communicators (mpi4py's
 * `Group`). A group is plain data, made from a communicator's `group` and
 * combined locally; `comm.create(group)` turns one into a communicator.
 *
 * Ranks given to and returned by a group's methods are ranks *in that
 * group*; `UNDEFINED` marks a rank that is not in it.
 *
 * @example
 * ```ts
 * import type { Comm } from "rankflow/promise"
 * declare const comm: Comm
 * const evens = comm.group.incl([0, 2, 4].filter((r) => r < comm.size))
 * const sub = await comm.create(evens) // a communicator on the even ranks, undefined elsewhere
 * ```
 * @since 0.1.0
 */

/**
 * Not a rank of the group (and the color that joins no communicator in
 * `split`).
 *
 * @category constants
 * @since 0.1.0
 */
export const UNDEFINED = -32766

/** Results of {@link Group.compare}. @category constants @since 0.1.0 */
export const IDENT = 0
/** Same members, other order. @category constants @since 0.1.0 */
export const SIMILAR = 2
/** Different members. @category constants @since 0.1.0 */
export const UNEQUAL = 3

/**
 * An ordered set of processes.
 *
 * @category models
 * @since 0.1.0
 */
export class Group {
  /** World ranks of the members, in group order. */
  readonly members: ReadonlyArray<number>
  /** World rank of the calling process. */
  readonly self: number

  constructor(members: ReadonlyArray<number>, self: number) {
    if (new Set(members).size !== members.length) throw new RangeError(`a group cannot hold a process twice: ${members.join(", ")}`)
    this.members = members
    this.self = self
  }

  /** Number of members. */
  get size(): number {
    return this.members.length
  }

  /** The calling process's rank in the group, or UNDEFINED. */
  get rank(): number {
    const i = this.members.indexOf(this.self)
    return i < 0 ? UNDEFINED : i
  }

  private check(ranks: ReadonlyArray<number>, what: string): void {
    for (const r of ranks) {
      if (!Number.isInteger(r) || r < 0 || r >= this.size) {
        throw new RangeError(`Group.${what}: ${r} is not a rank of this group (size ${this.size})`)
      }
    }
  }

  /** The members at `ranks`, in that order. */
  incl(ranks: ReadonlyArray<number>): Group {
    this.check(ranks, "incl")
    return new Group(ranks.map((r) => this.members[r]!), this.self)
  }

  /** The members except those at `ranks`, in group order. */
  excl(ranks: ReadonlyArray<number>): Group {
    this.check(ranks, "excl")
    const out = new Set(ranks)
    return new Group(this.members.filter((_, i) => !out.has(i)), this.self)
  }

  /** This group's members, then `other`'s not in it. */
  union(other: Group): Group {
    return new Group([...this.members, ...other.members.filter((m) => !this.members.includes(m))], this.self)
  }

  /** This group's members that are also in `other`, in this group's order. */
  intersection(other: Group): Group {
    return new Group(this.members.filter((m) => other.members.includes(m)), this.self)
  }

  /** This group's members that are not in `other`, in this group's order. */
  difference(other: Group): Group {
    return new Group(this.members.filter((m) => !other.members.includes(m)), this.self)
  }

  /** The ranks in `other` of the members at `ranks` here (UNDEFINED where absent). */
  translateRanks(ranks: ReadonlyArray<number>, other: Group): Array<number> {
    this.check(ranks, "translateRanks")
    return ranks.map((r) => {
      const i = other.members.indexOf(this.members[r]!)
      return i < 0 ? UNDEFINED : i
    })
  }

  /** IDENT (same members, same order), SIMILAR (same members) or UNEQUAL. */
  compare(other: Group): number {
    if (this.size !== other.size) return UNEQUAL
    if (this.members.every((m, i) => other.members[i] === m)) return IDENT
    return this.members.every((m) => other.members.includes(m)) ? SIMILAR : UNEQUAL
  }

  /** mpi4py's static forms. */
  static union(a: Group, b: Group): Group {
    return a.union(b)
  }

  static intersection(a: Group, b: Group): Group {
    return a.intersection(b)
  }

  static difference(a: Group, b: Group): Group {
    return a.difference(b)
  }

  static translateRanks(a: Group, ranks: ReadonlyArray<number>, b: Group): Array<number> {
    return a.translateRanks(ranks, b)
  }
}
