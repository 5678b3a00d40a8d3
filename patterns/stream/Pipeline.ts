/**
 * Pipelines: a source, stages that run on other ranks, and a sink here.
 *
 * A pipeline is built on the rank that consumes it, from a local source
 * (`Pipeline.from`, `fromObservable`) or a named source on other ranks
 * (`Pipeline.source`), with `via` (a named stage on the ranks given) and
 * `keyBy` (route the next hop by key). It is cold: each subscription of
 * `toObservable()` (or iteration of `toAsyncIterable()`) starts its own
 * stream on every rank it names, and unsubscribing cancels it there.
 *
 * @since 0.4.0
 */
import { Observable, type OperatorFunction } from "rxjs"
import { Codec, Errors } from "../../core/promise/index.ts"
import { InvalidPipeline, UnknownStage } from "./Errors.ts"
import { type Key, lookup, type Source, type SourceLike, Stage } from "./Stage.ts"
import type { LocalParts, SegmentPlan, SinkTarget, Streams } from "./Streams.ts"

/**
 * Options of `via`.
 *
 * @example
 * ```ts
 * import type { ViaOptions } from "rankflow/patterns/stream"
 * const options: ViaOptions = { on: [1, 2, 3], credit: 128 }
 * ```
 * @category models
 * @since 0.4.0
 */
export interface ViaOptions<A = unknown> {
  /** The rank, or ranks, that run the stage: one instance each (default: every rank but this one). */
  readonly on?: number | ReadonlyArray<number> | undefined
  /** Items each instance may hold on its input, shared by its producers (default 256). */
  readonly credit?: number | undefined
  /** The argument of a `Stage.factory` stage (encodable: it travels). */
  readonly args?: A | undefined
}

/**
 * Options of `keyBy`.
 *
 * @example
 * ```ts
 * import type { KeyByOptions } from "rankflow/patterns/stream"
 * const options: KeyByOptions = { keyGroups: 64 }
 * ```
 * @category models
 * @since 0.4.0
 */
export interface KeyByOptions {
  /** Keys hash into this many groups; group g goes to instance floor(g * n / keyGroups) (default 128). */
  readonly keyGroups?: number | undefined
}

/**
 * Options of the sink.
 *
 * @example
 * ```ts
 * import type { SinkOptions } from "rankflow/patterns/stream"
 * const options: SinkOptions = { credit: 64 }
 * ```
 * @category models
 * @since 0.4.0
 */
export interface SinkOptions {
  /** Items the sink may hold, shared by the last stage's instances (default 256). */
  readonly credit?: number | undefined
}

interface Seg {
  readonly plan: SegmentPlan
  readonly op: ((o: Observable<any>) => Observable<any>) | undefined
  readonly key: ((x: any) => unknown) | undefined
}

const DEFAULT_CREDIT = 256
const DEFAULT_KEY_GROUPS = 128

/**
 * A pipeline whose items are `Out`, built on this rank.
 *
 * **When to use**: move the stages of an rxjs pipeline to other ranks, with
 * credit-based backpressure between every pair of ranks.
 *
 * @example
 * ```ts
 * import { filter, map } from "rxjs"
 * import { Pipeline, Stage, type Streams } from "rankflow/patterns/stream"
 * const square = Stage.define("square", map((x: number) => x * x))
 * const even = Stage.define("even", filter((x: number) => x % 2 === 0))
 * declare const streams: Streams
 * const squares = Pipeline.from(streams, [1, 2, 3, 4]).via(square, { on: [1, 2] }).via(even, { on: 3 })
 * squares.toObservable().subscribe((x) => console.log(x))
 * ```
 * @category models
 * @since 0.4.0
 */
export class Pipeline<Out> {
  readonly streams: Streams
  private readonly segs: ReadonlyArray<Seg>
  private readonly source: SourceLike<unknown> | undefined

  private constructor(streams: Streams, segs: ReadonlyArray<Seg>, source: SourceLike<unknown> | undefined) {
    this.streams = streams
    this.segs = segs
    this.source = source
  }

  /** A pipeline from a source on this rank: an Observable, an iterable or an async iterable. */
  static from<T>(streams: Streams, source: SourceLike<T>): Pipeline<T> {
    const ok = source != null && (typeof (source as any).subscribe === "function" || typeof (source as any)[Symbol.iterator] === "function" ||
      typeof (source as any)[Symbol.asyncIterator] === "function")
    if (!ok) {
      throw new InvalidPipeline({ rank: streams.rank, op: "Pipeline.from", reason: `the source must be an Observable, an iterable or an async iterable; got ${Codec.describeValue(source)}` })
    }
    const plan: SegmentPlan = { kind: "source", name: "source", args: undefined, ranks: [streams.rank], credit: 0, key: "", keyGroups: 1 }
    return new Pipeline<T>(streams, [{ plan, op: undefined, key: undefined }], source)
  }

  /** A pipeline from a named source (`Stage.source`) that runs on the rank(s) `on` (default: this one). */
  static source<T, A = unknown>(streams: Streams, source: Source<T, A> | string, options: { readonly on?: number | ReadonlyArray<number>; readonly args?: A } = {}): Pipeline<T> {
    const name = typeof source === "string" ? source : source?.name
    const op = `Pipeline.source(${JSON.stringify(name)})`
    if (typeof name !== "string" || lookup.source(name) === undefined) {
      throw new UnknownStage({ rank: streams.rank, name: String(name), kind: "source", known: Stage.names("source") })
    }
    const ranks = checkRanks(streams, op, options.on ?? streams.rank)
    checkArgs(streams, op, options.args)
    const plan: SegmentPlan = { kind: "source", name, args: options.args, ranks, credit: 0, key: "", keyGroups: 1 }
    return new Pipeline<T>(streams, [{ plan, op: undefined, key: undefined }], undefined)
  }

  /**
   * Runs `stage` on the ranks `on`, one instance per rank; the items of the
   * previous segment spread over them (or go by key after `keyBy`), and
   * their outputs merge into the next. `stage` is a named stage
   * (`Stage.define`, `Stage.factory`, or its name); a plain operator runs
   * only on this rank.
   */
  via<B>(stage: Stage<Out, B, any> | OperatorFunction<Out, B>, options?: ViaOptions): Pipeline<B>
  via<B = any>(stage: string, options?: ViaOptions): Pipeline<B>
  via<B>(stage: Stage<Out, B, any> | string | OperatorFunction<Out, B>, options: ViaOptions = {}): Pipeline<B> {
    const s = this.streams
    let name: string
    let op: ((o: Observable<any>) => Observable<any>) | undefined
    if (typeof stage === "function") {
      name = stage.name || "anonymous"
      op = stage as (o: Observable<any>) => Observable<any>
    } else {
      name = typeof stage === "string" ? stage : stage?.name
      if (typeof name !== "string" || lookup.stage(name) === undefined) {
        throw new UnknownStage({ rank: s.rank, name: String(name), kind: "stage", known: Stage.names("stage") })
      }
    }
    const where = `via(${JSON.stringify(name)})`
    const ranks = checkRanks(s, where, options.on ?? others(s))
    if (op !== undefined && ranks.some((r) => r !== s.rank)) {
      throw new InvalidPipeline({
        rank: s.rank,
        op: where,
        reason: `a function cannot travel to rank ${ranks.find((r) => r !== s.rank)}: define the stage with Stage.define in the module every rank runs, and pass that`
      })
    }
    const credit = options.credit ?? DEFAULT_CREDIT
    if (!Number.isInteger(credit) || credit < 1) throw new InvalidPipeline({ rank: s.rank, op: where, reason: `credit must be a positive integer; got ${credit}` })
    checkArgs(s, where, options.args)
    const plan: SegmentPlan = { kind: "stage", name, args: options.args, ranks, credit, key: "", keyGroups: 1 }
    return new Pipeline<B>(s, [...this.segs, { plan, op, key: undefined }], this.source)
  }

  /**
   * Routes the items of the last segment by key to the instances of the
   * next `via`: equal keys go to the same instance, so the order of one key's
   * items is kept from each producer. `key` is a named key function
   * (`Stage.key`) or, when the last segment runs only on this rank, any
   * function.
   */
  keyBy(key: Key<Out> | string | ((x: Out) => unknown), options: KeyByOptions = {}): Pipeline<Out> {
    const s = this.streams
    const last = this.segs[this.segs.length - 1]!
    let name = ""
    let fn: ((x: any) => unknown) | undefined
    if (typeof key === "function") {
      fn = key
      if (last.plan.ranks.some((r) => r !== s.rank)) {
        throw new InvalidPipeline({
          rank: s.rank,
          op: "keyBy",
          reason: `the key function runs where "${last.plan.name}" runs (rank ${last.plan.ranks.find((r) => r !== s.rank)}), and a function cannot travel: define it with Stage.key and pass that`
        })
      }
    } else {
      name = typeof key === "string" ? key : key?.name
      if (typeof name !== "string" || lookup.key(name) === undefined) throw new UnknownStage({ rank: s.rank, name: String(name), kind: "key", known: Stage.names("key") })
    }
    const keyGroups = options.keyGroups ?? DEFAULT_KEY_GROUPS
    if (!Number.isInteger(keyGroups) || keyGroups < 1) throw new InvalidPipeline({ rank: s.rank, op: "keyBy", reason: `keyGroups must be a positive integer; got ${keyGroups}` })
    const plan: SegmentPlan = { ...last.plan, key: name === "" ? "(local)" : name, keyGroups }
    return new Pipeline<Out>(s, [...this.segs.slice(0, -1), { plan, op: last.op, key: fn }], this.source)
  }

  /** The plan and the local parts of one subscription. */
  private parts(credit: number): [Array<SegmentPlan>, LocalParts] {
    const s = this.streams
    if (!Number.isInteger(credit) || credit < 1) throw new InvalidPipeline({ rank: s.rank, op: "toObservable", reason: `credit must be a positive integer; got ${credit}` })
    const plan = this.segs.map((g) => g.plan)
    plan.push({ kind: "sink", name: "sink", args: undefined, ranks: [s.rank], credit, key: "", keyGroups: 1 })
    return [plan, { op: this.segs.map((g) => g.op), source: this.source, key: this.segs.map((g) => g.key) }]
  }

  /**
   * The pipeline's items as a cold Observable: each subscription starts a
   * stream on every rank of the pipeline; unsubscribing cancels it there.
   * Credit goes back to the last stage as `next` returns. A stage's failure
   * ends it with `StageFailed` (or `UnknownStage`).
   */
  toObservable(options: SinkOptions = {}): Observable<Out> {
    return new Observable<Out>((sub) => {
      const [plan, local] = this.parts(options.credit ?? DEFAULT_CREDIT)
      const target: SinkTarget = {
        pull: false,
        next: (x) => sub.next(x as Out),
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
        closed: () => sub.closed
      }
      const h = this.streams.open(plan, local, target)
      return () => h.cancel()
    })
  }

  /**
   * The pipeline's items as an async iterable: credit goes back as the loop
   * takes items, so a slow loop slows every rank of the pipeline down.
   * Breaking out of the loop cancels the stream.
   */
  toAsyncIterable(options: SinkOptions = {}): AsyncIterable<Out> {
    const self = this
    return {
      [Symbol.asyncIterator](): AsyncIterator<Out> {
        const [plan, local] = self.parts(options.credit ?? DEFAULT_CREDIT)
        let done = false
        const target: SinkTarget = {
          pull: true,
          next: () => {},
          error: () => {
            done = true
          },
          complete: () => {
            done = true
          },
          closed: () => done
        }
        const h = self.streams.open(plan, local, target)
        return {
          next: () => h.sink.pull() as Promise<IteratorResult<Out>>,
          return: (): Promise<IteratorResult<Out>> => {
            if (!done) {
              done = true
              h.cancel()
            }
            return Promise.resolve({ done: true, value: undefined })
          }
        }
      }
    }
  }
}

const others = (s: Streams): Array<number> => {
  const out: Array<number> = []
  for (let r = 0; r < s.size; r++) if (r !== s.rank) out.push(r)
  return out.length === 0 ? [s.rank] : out
}

const checkRanks = (s: Streams, op: string, on: number | ReadonlyArray<number>): Array<number> => {
  const ranks = typeof on === "number" ? [on] : Array.isArray(on) ? [...on] : undefined
  if (ranks === undefined || ranks.length === 0) throw new InvalidPipeline({ rank: s.rank, op, reason: `on must be a rank or a non-empty array of ranks; got ${Codec.describeValue(on)}` })
  if (ranks.length > 0xffff) throw new InvalidPipeline({ rank: s.rank, op, reason: `at most 65535 instances per stage; got ${ranks.length}` })
  for (const r of ranks) if (!Number.isInteger(r) || r < 0 || r >= s.size) throw new Errors.InvalidRank({ rank: s.rank, op, peer: r, size: s.size })
  return ranks
}

const checkArgs = (s: Streams, op: string, args: unknown): void => {
  const bad = Codec.findUnencodable(args, "args")
  if (bad !== undefined) throw new InvalidPipeline({ rank: s.rank, op, reason: `cannot send ${bad.path} to the stage's ranks: it is ${bad.what}` })
}

/**
 * A pipeline from an Observable on this rank (`Pipeline.from`).
 *
 * @example
 * ```ts
 * import { interval, take } from "rxjs"
 * import { fromObservable, type Streams } from "rankflow/patterns/stream"
 * declare const streams: Streams
 * const ticks = fromObservable(streams, interval(10).pipe(take(5)))
 * ```
 * @category constructors
 * @since 0.4.0
 */
export const fromObservable = <T>(streams: Streams, source: Observable<T>): Pipeline<T> => Pipeline.from(streams, source)

/**
 * The pipeline's items as an Observable (`pipeline.toObservable()`).
 *
 * @example
 * ```ts
 * import { toObservable, type Pipeline } from "rankflow/patterns/stream"
 * declare const p: Pipeline<number>
 * toObservable(p).subscribe((x) => console.log(x))
 * ```
 * @category destructors
 * @since 0.4.0
 */
export const toObservable = <T>(pipeline: Pipeline<T>, options?: SinkOptions): Observable<T> => pipeline.toObservable(options)
