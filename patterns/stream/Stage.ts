/**
 * The code a pipeline runs on other ranks, by name. Functions do not travel:
 * every rank runs the same module (SPMD), so each defines the same stages,
 * sources and key functions at load time, and a pipeline's plan names them.
 * A rank asked to run a name it does not know fails the pipeline with
 * `UnknownStage`.
 *
 * @since 0.4.0
 */
import type { Observable, OperatorFunction } from "rxjs"

/**
 * What a stage's factory sees: the rank it runs on, which of the stage's
 * instances it is, and how many there are.
 *
 * @example
 * ```ts
 * import { map } from "rxjs"
 * import { Stage, type StageContext } from "rankflow/patterns/stream"
 * const tagged = Stage.factory("tagged", (_: void, ctx: StageContext) => map((x: number) => ({ x, by: ctx.rank })))
 * ```
 * @category models
 * @since 0.4.0
 */
export interface StageContext {
  readonly rank: number
  readonly instance: number
  readonly instances: number
  readonly stage: string
}

/**
 * A named stage: an rxjs `OperatorFunction<In, Out>` made by a factory once
 * per subscription, on each rank that runs it.
 *
 * @example
 * ```ts
 * import { map } from "rxjs"
 * import { Stage } from "rankflow/patterns/stream"
 * const double: Stage<number, number> = Stage.define("double", map((x: number) => x * 2))
 * double.name // "double"
 * ```
 * @category models
 * @since 0.4.0
 */
export interface Stage<In, Out, A = unknown> {
  readonly _kind: "stage"
  readonly name: string
  readonly make: (args: A, ctx: StageContext) => OperatorFunction<In, Out>
}

/**
 * A named source: an Observable, an iterable or an async iterable made once
 * per subscription on the rank that runs it. Iterables are pulled as credit
 * allows (bounded memory); an Observable pushes, and what it pushes beyond
 * the credit waits on its rank.
 *
 * @example
 * ```ts
 * import { Stage } from "rankflow/patterns/stream"
 * const naturals = Stage.source("naturals", function*(n: number) { for (let i = 0; i < n; i++) yield i })
 * ```
 * @category models
 * @since 0.4.0
 */
export interface Source<Out, A = unknown> {
  readonly _kind: "source"
  readonly name: string
  readonly make: (args: A, ctx: StageContext) => SourceLike<Out>
}

/**
 * A named key function, for `keyBy` after a stage that runs on other ranks.
 *
 * @example
 * ```ts
 * import { Stage } from "rankflow/patterns/stream"
 * const byWord = Stage.key("byWord", (w: string) => w)
 * ```
 * @category models
 * @since 0.4.0
 */
export interface Key<T> {
  readonly _kind: "key"
  readonly name: string
  readonly fn: (item: T) => unknown
}

/**
 * What a source may be.
 *
 * @example
 * ```ts
 * import { of } from "rxjs"
 * import type { SourceLike } from "rankflow/patterns/stream"
 * const a: SourceLike<number> = [1, 2, 3]
 * const b: SourceLike<number> = of(1, 2, 3)
 * ```
 * @category models
 * @since 0.4.0
 */
export type SourceLike<T> = Observable<T> | Iterable<T> | AsyncIterable<T>

const stages = new Map<string, Stage<any, any, any>>()
const sources = new Map<string, Source<any, any>>()
const keys = new Map<string, Key<any>>()

const checkName = (op: string, name: string): void => {
  if (typeof name !== "string" || name.length === 0) throw new TypeError(`Stage.${op}: the name must be a non-empty string`)
}

/**
 * The stages, sources and key functions of this rank, by name.
 *
 * **When to use**: define every stage at the top level of the module every
 * rank runs, so that all ranks know the same names.
 *
 * @example
 * ```ts
 * import { filter, map } from "rxjs"
 * import { Stage } from "rankflow/patterns/stream"
 * export const square = Stage.define("square", map((x: number) => x * x))
 * export const even = Stage.define("even", filter((x: number) => x % 2 === 0))
 * export const scaled = Stage.factory("scaled", (k: number) => map((x: number) => x * k))
 * ```
 * @category stages
 * @since 0.4.0
 */
export const Stage = {
  /** Defines (or redefines) the stage `name` as one operator (reused by every subscription). */
  define<In, Out>(name: string, op: OperatorFunction<In, Out>): Stage<In, Out, unknown> {
    checkName("define", name)
    if (typeof op !== "function") throw new TypeError(`Stage.define("${name}"): the operator must be a function (Observable<In>) => Observable<Out>`)
    const s: Stage<In, Out, unknown> = { _kind: "stage", name, make: () => op }
    stages.set(name, s)
    return s
  },
  /** Defines the stage `name` by a factory called once per subscription with the `args` of `via`. */
  factory<A, In, Out>(name: string, make: (args: A, ctx: StageContext) => OperatorFunction<In, Out>): Stage<In, Out, A> {
    checkName("factory", name)
    if (typeof make !== "function") throw new TypeError(`Stage.factory("${name}"): the factory must be a function`)
    const s: Stage<In, Out, A> = { _kind: "stage", name, make }
    stages.set(name, s)
    return s
  },
  /** Defines the source `name`: a factory of an Observable, iterable or async iterable. */
  source<Out, A = void>(name: string, make: (args: A, ctx: StageContext) => SourceLike<Out>): Source<Out, A> {
    checkName("source", name)
    if (typeof make !== "function") throw new TypeError(`Stage.source("${name}"): the factory must be a function`)
    const s: Source<Out, A> = { _kind: "source", name, make }
    sources.set(name, s)
    return s
  },
  /** Defines the key function `name`. */
  key<T>(name: string, fn: (item: T) => unknown): Key<T> {
    checkName("key", name)
    if (typeof fn !== "function") throw new TypeError(`Stage.key("${name}"): the key must be a function`)
    const k: Key<T> = { _kind: "key", name, fn }
    keys.set(name, k)
    return k
  },
  /** The names of this rank's stages, sources or keys. */
  names(kind: "stage" | "source" | "key" = "stage"): Array<string> {
    return [...(kind === "stage" ? stages : kind === "source" ? sources : keys).keys()]
  }
}

/** @internal */
export const lookup = {
  stage: (name: string): Stage<any, any, any> | undefined => stages.get(name),
  source: (name: string): Source<any, any> | undefined => sources.get(name),
  key: (name: string): Key<any> | undefined => keys.get(name)
}
