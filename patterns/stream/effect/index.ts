/**
 * Reactive pipelines across ranks, Effect face: the stream system as an
 * Effect over the `Comm` service, and Effect `Stream` interop: a pipeline
 * from a `Stream` (pulled as credit allows) and a pipeline as a `Stream`
 * (pulled as the consumer takes items, so a slow consumer slows every rank
 * of the pipeline down). The pipelines, stages and errors are the Promise
 * face's, re-exported.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { map } from "rxjs"
 * import * as Streams from "rankflow/patterns/stream/effect"
 * const double = Streams.Stage.define("double", map((x: number) => x * 2))
 * const program = Effect.gen(function*() {
 *   const system = yield* Streams.start()
 *   const out = yield* Stream.runCollect(Streams.toStream(Streams.fromStream(system, Stream.make(1, 2, 3)).via(double)))
 *   yield* Streams.shutdown(system)
 *   return out // [2, 4, 6] on the rank that ran it
 * })
 * ```
 * @since 0.4.0
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { Comm } from "../../../core/index.ts"
import { Comm as PromiseComm } from "../../../core/promise/index.ts"
import type { StreamError } from "../Errors.ts"
import { Pipeline, type SinkOptions } from "../Pipeline.ts"
import { Streams, type StreamsOptions } from "../Streams.ts"

export * from "../index.ts"

/**
 * Starts this rank's stream system over a duplicate of the world
 * communicator (the `Comm` service; collective).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Streams from "rankflow/patterns/stream/effect"
 * const program = Effect.gen(function*() {
 *   const system = yield* Streams.start()
 *   yield* Streams.shutdown(system)
 * })
 * ```
 * @category life cycle
 * @since 0.4.0
 */
export const start = (options?: StreamsOptions): Effect.Effect<Streams, never, Comm.Comm> =>
  Effect.gen(function*() {
    const c = yield* Comm.Comm
    return yield* Effect.promise(() => Streams.start(new PromiseComm(c.core), options))
  })

/**
 * Stops the stream system (collective).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Streams from "rankflow/patterns/stream/effect"
 * declare const system: Streams.Streams
 * const done: Effect.Effect<void> = Streams.shutdown(system)
 * ```
 * @category life cycle
 * @since 0.4.0
 */
export const shutdown = (system: Streams): Effect.Effect<void> => Effect.promise(() => system.shutdown())

/**
 * A pipeline whose source is an Effect `Stream` on this rank, pulled as
 * the pipeline's credit allows. A failure of the stream ends the pipeline
 * with `StageFailed` (stage `"source"`, the stream's error as `cause`).
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import * as Streams from "rankflow/patterns/stream/effect"
 * declare const system: Streams.Streams
 * const p = Streams.fromStream(system, Stream.range(1, 100))
 * ```
 * @category constructors
 * @since 0.4.0
 */
export const fromStream = <A, E>(system: Streams, stream: Stream.Stream<A, E>): Pipeline<A> =>
  Pipeline.from(system, Stream.toAsyncIterable(stream))

/**
 * A pipeline as an Effect `Stream` of its items: each run starts a stream
 * on every rank of the pipeline, pulling as the consumer takes items;
 * interrupting the run cancels it there. Fails with the pipeline's typed
 * errors (`StageFailed`, `UnknownStage`, ...).
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import * as Streams from "rankflow/patterns/stream/effect"
 * declare const p: Streams.Pipeline<number>
 * const sum = Streams.toStream(p).pipe(Stream.runFold(() => 0, (a, x: number) => a + x))
 * ```
 * @category destructors
 * @since 0.4.0
 */
export const toStream = <A>(pipeline: Pipeline<A>, options?: SinkOptions): Stream.Stream<A, StreamError> =>
  Stream.fromAsyncIterable(pipeline.toAsyncIterable(options), (e) => e as StreamError)

/**
 * Runs a pipeline and collects its items.
 *
 * @example
 * ```ts
 * import * as Streams from "rankflow/patterns/stream/effect"
 * declare const p: Streams.Pipeline<string>
 * const all = Streams.runCollect(p)
 * ```
 * @category destructors
 * @since 0.4.0
 */
export const runCollect = <A>(pipeline: Pipeline<A>, options?: SinkOptions): Effect.Effect<Array<A>, StreamError> =>
  Stream.runCollect(toStream(pipeline, options))
