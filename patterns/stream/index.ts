/**
 * Reactive pipelines across ranks, Promise face: rxjs stages that run on
 * other ranks (`Pipeline.via`), routed by key (`keyBy`) or spread over
 * several ranks and merged back, with credit-based backpressure per stream
 * and per channel, cancellation across ranks, and typed errors
 * (`StageFailed` names the stage and its rank). The Effect face, with
 * Effect `Stream` interop, is `rankflow/patterns/stream/effect`.
 *
 * @example
 * ```ts
 * import { lastValueFrom, map, toArray } from "rxjs"
 * import { Pipeline, Stage, Streams } from "rankflow/patterns/stream"
 * import type { Comm } from "rankflow/promise"
 * const double = Stage.define("double", map((x: number) => x * 2))
 * export default async (comm: Comm) => {
 *   const streams = await Streams.start(comm)            // collective
 *   let out: Array<number> = []
 *   if (comm.rank === 0) {
 *     out = await lastValueFrom(Pipeline.from(streams, [1, 2, 3]).via(double, { on: 1 }).toObservable().pipe(toArray()))
 *   }
 *   await streams.shutdown()                             // collective
 *   return out
 * }
 * ```
 * @since 0.4.0
 */
export { InvalidPipeline, StageFailed, type StreamError, UnknownStage } from "./Errors.ts"
export { fromObservable, type KeyByOptions, Pipeline, type SinkOptions, toObservable, type ViaOptions } from "./Pipeline.ts"
export { type Key, type Source, type SourceLike, Stage, type StageContext } from "./Stage.ts"
export { Streams, type StreamsOptions, type StreamStats } from "./Streams.ts"
