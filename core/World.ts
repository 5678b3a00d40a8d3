/**
 * Worlds: running one program on every rank.
 *
 * A {@link Launcher} (one per transport, in `transports/`) starts the ranks
 * and connects them; inside each rank {@link runRank} builds the engine over
 * that rank's transport, runs the program with the world communicator, and
 * tells the peers when it is done. {@link run} puts a launcher, a time limit
 * and the outcome together: the per-rank results, or a `WorldFailed` that
 * names the rank that failed first, or a `WorldTimeout`.
 *
 * A program is the default export of a module (or, in-process, a value):
 * either an async function of the communicator (Promise face) or an Effect
 * that needs the `Comm` service (Effect face). A function may also return an
 * Effect.
 *
 * @since 0.1.0
 */
import { getCompileCacheDir } from "node:module"
import { tmpdir } from "node:os"
import { basename, dirname, join } from "node:path"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Cause from "effect/Cause"
import { Comm, Communicator } from "./Comm.ts"
import { Engine, type EngineOptions } from "./Engine.ts"
import * as Errors from "./Errors.ts"
import { Comm as PromiseComm } from "./promise/Comm.ts"
import type { TransportShape } from "./Transport.ts"

/**
 * A rank program: an async function of the communicator, or an Effect that
 * needs it.
 *
 * @category models
 * @since 0.1.0
 */
export type Program<A = unknown> =
  | ((comm: PromiseComm) => A | Promise<A> | Effect.Effect<A, unknown, Comm>)
  | Effect.Effect<A, unknown, Comm>

/**
 * How one rank ended.
 *
 * @category models
 * @since 0.1.0
 */
export interface RankOutcome {
  readonly rank: number
  readonly ok: boolean
  readonly value?: unknown
  readonly error?: unknown
  /** When it ended (ms, performance.now of the launcher), to order failures. */
  readonly at: number
}

/**
 * What a launcher is asked to run.
 *
 * @category models
 * @since 0.1.0
 */
export interface LaunchSpec {
  readonly size: number
  /** A program (in-process only) or the URL of a module whose default export is one. */
  readonly program: Program | string
  readonly engine?: EngineOptions
  /** Extra arguments for the ranks (their `process.argv.slice(2)`). */
  readonly argv?: ReadonlyArray<string>
  /** Prefix each line of a rank's output with `[rank]`. */
  readonly tagOutput?: boolean
  /** Aborted when the world must end now (time limit). */
  readonly signal: AbortSignal
  /** Called as each rank ends. */
  readonly onOutcome?: (o: RankOutcome) => void
  /** Transport-specific options. */
  readonly options?: Readonly<Record<string, unknown>>
}

/**
 * Starts the ranks of a world over one transport and reports how each ended.
 * It must never hang: a rank that fails is reported to the others, and an
 * aborted launch ends every rank.
 *
 * @category models
 * @since 0.1.0
 */
export interface Launcher {
  readonly name: string
  readonly launch: (spec: LaunchSpec) => Promise<ReadonlyArray<RankOutcome>>
}

/**
 * Loads a program from a module URL (its default export).
 *
 * @category running
 * @since 0.1.0
 */
export const loadProgram = async (url: string): Promise<Program> => {
  const mod = await import(url)
  const p = mod.default
  if (typeof p !== "function" && !Effect.isEffect(p)) {
    throw new TypeError(
      `${url}: the default export must be an async function of the communicator or an Effect that needs Comm; got ${typeof p}`
    )
  }
  return p
}

const runEffect = async (effect: Effect.Effect<unknown, unknown, Comm>, comm: Communicator): Promise<unknown> => {
  const exit = await Effect.runPromiseExit(Effect.provideService(effect, Comm, comm))
  if (Exit.isSuccess(exit)) return exit.value
  throw Cause.squash(exit.cause)
}

/**
 * Builds the engine of a rank over its transport (attaching it). Build every
 * rank's engine before any program runs when ranks share an event loop.
 *
 * @category running
 * @since 0.1.0
 */
export const makeEngine = (transport: TransportShape, options?: EngineOptions): Engine => new Engine(transport, options)

/**
 * Runs `program` on this rank with the world communicator of `engine`, and on
 * success tells every peer this rank has finished. The engine stays up
 * (serving peers' rendezvous requests) until the launcher closes it.
 *
 * @category running
 * @since 0.1.0
 */
export const runRank = async (engine: Engine, program: Program): Promise<{ ok: boolean; value?: unknown; error?: unknown }> => {
  const core = engine.worldComm()
  try {
    let value: unknown
    if (Effect.isEffect(program)) value = await runEffect(program, new Communicator(core))
    else {
      const out = (program as (c: PromiseComm) => unknown)(new PromiseComm(core))
      value = Effect.isEffect(out) ? await runEffect(out as Effect.Effect<unknown, unknown, Comm>, new Communicator(core)) : await out
    }
    engine.finish()
    return { ok: true, value }
  } catch (error) {
    return { ok: false, error }
  }
}

/**
 * Runs a world with `launcher`: resolves to the per-rank results in rank
 * order, or rejects with `WorldFailed` (naming the rank that failed first and
 * its error) or `WorldTimeout`.
 *
 * @category running
 * @since 0.1.0
 */
export const run = async <A = unknown>(
  launcher: Launcher,
  spec: Omit<LaunchSpec, "signal"> & { readonly timeoutMs?: number | undefined; readonly signal?: AbortSignal | undefined }
): Promise<Array<A>> => {
  if (!Number.isInteger(spec.size) || spec.size < 1) {
    throw new Errors.InvalidArgument({ rank: -1, op: "runWorld", reason: `size must be a positive integer; got ${spec.size}` })
  }
  const ac = new AbortController()
  const ended = new Set<number>()
  let timedOut = false
  const timer = spec.timeoutMs !== undefined && spec.timeoutMs > 0
    ? setTimeout(() => {
      timedOut = true
      ac.abort()
    }, spec.timeoutMs)
    : undefined
  const outer = spec.signal
  const onOuter = (): void => ac.abort()
  outer?.addEventListener("abort", onOuter)
  try {
    const outcomes = await launcher.launch({
      ...spec,
      signal: ac.signal,
      onOutcome: (o) => {
        ended.add(o.rank)
        spec.onOutcome?.(o)
      }
    })
    if (timedOut) {
      throw new Errors.WorldTimeout({
        timeoutMs: spec.timeoutMs!,
        running: Array.from({ length: spec.size }, (_, i) => i).filter((r) => !ended.has(r))
      })
    }
    const failures = outcomes.filter((o) => !o.ok).sort((a, b) => a.at - b.at)
    if (failures.length > 0) {
      throw new Errors.WorldFailed({ failures: failures.map((o) => ({ rank: o.rank, error: o.error })) })
    }
    return outcomes.slice().sort((a, b) => a.rank - b.rank).map((o) => o.value as A)
  } finally {
    if (timer !== undefined) clearTimeout(timer)
    outer?.removeEventListener("abort", onOuter)
  }
}

/**
 * `env` with Node's module compile cache turned on: a rank's (or a pool
 * worker's) process keeps V8's compiled code of the modules it loads on
 * disk, so the next process (of this world or the next) loading the same
 * modules skips parsing and compiling them — a cold rank spends most of its
 * start-up there. The cache is this process's own when it has one, else
 * Node's default place (both keyed by Node's version, so ranks share it with
 * their launcher); an explicit `NODE_COMPILE_CACHE` or
 * `NODE_DISABLE_COMPILE_CACHE` is left alone.
 *
 * @category running
 * @since 0.3.0
 */
export const withCompileCache = (env: Record<string, string | undefined>): Record<string, string | undefined> =>
  env.NODE_COMPILE_CACHE !== undefined || env.NODE_DISABLE_COMPILE_CACHE !== undefined
    ? env
    : { ...env, NODE_COMPILE_CACHE: compileCacheBase() }

/**
 * The directory to give `module.enableCompileCache` (or `NODE_COMPILE_CACHE`)
 * so that a thread or process shares this process's compile cache: the one
 * it uses (Node keys it by version below the directory it was given), or
 * Node's default.
 *
 * @category running
 * @since 0.3.0
 */
export const compileCacheBase = (): string => {
  const dir = getCompileCacheDir()
  if (dir === undefined) return join(tmpdir(), "node-compile-cache")
  return basename(dir).startsWith(`${process.version}-`) ? dirname(dir) : dir
}
