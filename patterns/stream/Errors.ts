/**
 * The errors of the stream layer. Each is a `Data.TaggedError` with the facts
 * attached (the stage, the rank it ran on, the cause): recover with
 * `Effect.catchTag` in the Effect face, or `instanceof` / `_tag` in the
 * Promise face, where the same classes end the Observable with `error` and
 * are thrown by the synchronous builder calls (`via`, `keyBy`).
 *
 * A stage's failure on another rank travels back to the subscriber's rank
 * as plain data ({@link toWire} / {@link fromWire}) and is rebuilt as the
 * same class there.
 *
 * @since 0.4.0
 */
import * as Data from "effect/Data"
import { Errors } from "../../core/promise/index.ts"

const why = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "object" && cause !== null && "message" in cause ? String((cause as any).message) : String(cause)

/**
 * A stage of a pipeline failed: its operator threw or sent `error`, its
 * factory did not give an operator, an item it emitted could not travel, or
 * its rank was lost. The pipeline ends with this error on the subscriber's
 * rank; every other stage of it is cancelled.
 *
 * @example
 * ```ts
 * import { StageFailed } from "rankflow/patterns/stream"
 * const e = new StageFailed({ stage: "parse", rank: 2, instance: 0, cause: new SyntaxError("bad line") })
 * e.message // 'stage "parse" failed on rank 2: bad line'
 * ```
 * @category errors
 * @since 0.4.0
 */
export class StageFailed extends Data.TaggedError("StageFailed")<{
  readonly stage: string
  readonly rank: number
  readonly instance: number
  readonly cause: unknown
  readonly message: string
}> {
  constructor(f: { readonly stage: string; readonly rank: number; readonly instance: number; readonly cause: unknown }) {
    super({ ...f, message: `stage "${f.stage}" failed on rank ${f.rank}: ${why(f.cause)}` })
  }
}

/**
 * A pipeline named a stage (or a key function, or a source) that is not
 * defined on the rank that was to run it. Thrown by `via` when this rank does
 * not know the name; the pipeline ends with it when another rank does not.
 *
 * @example
 * ```ts
 * import { UnknownStage } from "rankflow/patterns/stream"
 * const e = new UnknownStage({ rank: 1, name: "dubble", kind: "stage", known: ["double"] })
 * e._tag // "UnknownStage"
 * ```
 * @category errors
 * @since 0.4.0
 */
export class UnknownStage extends Data.TaggedError("UnknownStage")<{
  readonly rank: number
  readonly name: string
  readonly kind: string
  readonly known: ReadonlyArray<string>
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly name: string; readonly kind: string; readonly known: ReadonlyArray<string> }) {
    super({
      ...f,
      message: `no ${f.kind} "${f.name}" is defined on rank ${f.rank} (known: ${f.known.join(", ") || "none"}); ` +
        `define it with Stage.${f.kind === "stage" ? "define" : f.kind} in the module every rank runs`
    })
  }
}

/**
 * A pipeline that cannot be built as asked: an empty or invalid rank list, a
 * bad credit, a function that would have to travel to another rank without a
 * name, a pipeline subscribed after its system shut down.
 *
 * @example
 * ```ts
 * import { InvalidPipeline } from "rankflow/patterns/stream"
 * const e = new InvalidPipeline({ rank: 0, op: "via", reason: "credit must be a positive integer; got 0" })
 * e.message // "via on rank 0: credit must be a positive integer; got 0"
 * ```
 * @category errors
 * @since 0.4.0
 */
export class InvalidPipeline extends Data.TaggedError("InvalidPipeline")<{
  readonly rank: number
  readonly op: string
  readonly reason: string
  readonly message: string
}> {
  constructor(f: { readonly rank: number; readonly op: string; readonly reason: string }) {
    super({ ...f, message: `${f.op} on rank ${f.rank}: ${f.reason}` })
  }
}

/**
 * Any error a pipeline ends with: the stream layer's own, or core's
 * (`InvalidRank` for a stage on a rank outside the communicator,
 * `Unencodable` as the cause of a `StageFailed`).
 *
 * **When to use**: Type the error channel, or narrow an `error` notification by `_tag`.
 *
 * @example
 * ```ts
 * import type { StreamError } from "rankflow/patterns/stream"
 * const blame = (e: StreamError) => (e._tag === "StageFailed" ? `${e.stage}@${e.rank}` : e._tag)
 * ```
 * @category errors
 * @since 0.4.0
 */
export type StreamError = StageFailed | UnknownStage | InvalidPipeline | Errors.InvalidRank

const classes: Record<string, new(f: any) => Error> = { StageFailed, UnknownStage, InvalidPipeline }

/**
 * An error as plain data that the codec carries.
 *
 * @internal
 * @category errors
 * @since 0.4.0
 */
export const toWire = (e: unknown): unknown => {
  if (typeof e === "object" && e !== null && typeof (e as any)._tag === "string" && (e as any)._tag in classes) {
    const { message: _m, stack: _s, _tag: _t, ...fields } = e as any
    const cause = (e as any).cause
    return { $streamError: (e as any)._tag, fields: cause === undefined ? fields : { ...fields, cause: toWire(cause) } }
  }
  return Errors.toWire(e)
}

/**
 * Rebuilds an error made by {@link toWire}.
 *
 * @internal
 * @category errors
 * @since 0.4.0
 */
export const fromWire = (u: unknown): unknown => {
  if (typeof u === "object" && u !== null && typeof (u as any).$streamError === "string") {
    const C = classes[(u as any).$streamError]
    if (C !== undefined) {
      const fields = (u as any).fields ?? {}
      return new C("cause" in fields ? { ...fields, cause: fromWire(fields.cause) } : fields)
    }
  }
  return Errors.fromWire(u)
}
