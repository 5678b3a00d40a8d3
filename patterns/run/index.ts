/**
 * `runWorld`: run one program on every rank of a world, programmatically.
 *
 * @example
 * ```ts
 * import { runWorld } from "rankflow/promise"
 * // every rank runs the module's default export, each in its own worker thread
 * const results = await runWorld({ size: 4, transport: "worker" }, new URL("./app.ts", import.meta.url))
 * ```
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { Errors, type Engine, World } from "../../core/index.ts"
import { launcher as load, names } from "../../transports/index.ts"

/**
 * Options of a world.
 *
 * @category models
 * @since 0.1.0
 */
export interface WorldOptions {
  /** Number of ranks. */
  readonly size: number
  /**
   * Transport name: "inproc" (one event loop), "worker" (a thread per
   * rank), "process", "tcp" or "websocket" (a child process per rank).
   * Defaults to "worker" for a module URL and "inproc" for a program value.
   */
  readonly transport?: string
  /** End the world after this many milliseconds (`WorldTimeout`). */
  readonly timeout?: number
  /** Arguments the ranks see in `process.argv.slice(2)`. */
  readonly argv?: ReadonlyArray<string>
  /** Prefix each line of a rank's output with `[rank]` (thread and process transports). */
  readonly tagOutput?: boolean
  /** Engine options: eager limit, spin budget, warnings. */
  readonly engine?: Engine.EngineOptions
  /** Transport options (ring sizes and the like). */
  readonly transportOptions?: Readonly<Record<string, unknown>>
  /** Called as each rank ends. */
  readonly onOutcome?: (o: World.RankOutcome) => void
  /** Aborting it ends the world. */
  readonly signal?: AbortSignal
}

const resolveProgram = (program: World.Program | string | URL): World.Program | string =>
  program instanceof URL ? program.href : program

/**
 * Runs `program` on `size` ranks; resolves to the per-rank results in rank
 * order. Rejects with `WorldFailed` (naming the first rank that failed and
 * its error) or `WorldTimeout`. `program` is a module URL (its default export
 * runs on each rank) or, for the in-process transport, the program itself.
 *
 * @category running
 * @since 0.1.0
 */
export const runWorld = async <A = unknown>(
  options: WorldOptions,
  program: World.Program<A> | string | URL
): Promise<Array<A>> => {
  const p = resolveProgram(program as World.Program | string | URL)
  const name = options.transport ?? (typeof p === "string" ? "worker" : "inproc")
  if (!names.includes(name)) {
    throw new Errors.InvalidArgument({ rank: -1, op: "runWorld", reason: `unknown transport "${name}"; known: ${names.join(", ")}` })
  }
  if (typeof p !== "string" && name !== "inproc") {
    throw new Errors.InvalidArgument({
      rank: -1,
      op: "runWorld",
      reason: `the ${name} transport runs a module on each rank: pass the module's URL (e.g. import.meta.url), whose default export is the program`
    })
  }
  // the transport's module loads only now, when a world asks for it
  const launcher = (await load(name))!
  return World.run<A>(launcher, {
    size: options.size,
    program: p,
    engine: options.engine,
    argv: options.argv,
    tagOutput: options.tagOutput,
    options: options.transportOptions,
    timeoutMs: options.timeout,
    onOutcome: options.onOutcome,
    signal: options.signal
  })
}

/**
 * `runWorld` as an Effect: interrupting it ends the world.
 *
 * @category running
 * @since 0.1.0
 */
export const runWorldEffect = <A = unknown>(
  options: WorldOptions,
  program: World.Program<A> | string | URL
): Effect.Effect<Array<A>, Errors.WorldFailed | Errors.WorldTimeout | Errors.InvalidArgument> =>
  Effect.tryPromise({
    try: (signal) => runWorld<A>({ ...options, signal }, program),
    catch: (e) => e as Errors.WorldFailed | Errors.WorldTimeout | Errors.InvalidArgument
  })
