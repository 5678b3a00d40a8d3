/**
 * The launcher side shared by the byte-stream transports (process, tcp,
 * websocket): one child process per rank, watched.
 *
 * {@link spawnChild} starts a rank's process with this Node
 * (`process.execPath`) running the transport's entry module (the child side
 * is `Child.ts`), the rank's environment and the program's arguments; it
 * hears the rank's outcome over IPC, its output line by line (when piped)
 * and its exit. {@link Outcomes} records what each rank ended with and,
 * when one fails (its program throws, or its process exits or is killed
 * before reporting), tells every other rank at once, so the requests that
 * depend on it fail instead of waiting. {@link launchChildren} is a whole
 * world on this machine: it spawns every rank, forwards their output
 * (prefixed with `[rank] ` under `--tag-output`), and when every rank has
 * ended tells them to stop and kills those still running after
 * {@link STOP_GRACE_MS}; an aborted launch (the world's time limit) kills
 * them at once.
 *
 * @since 0.1.0
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import type { Readable } from "node:stream"
import { Codec, Errors } from "../../core/index.ts"
import { World } from "../../core/index.ts"

/**
 * How long ranks told to stop have before they are killed (ms).
 *
 * @category internals
 * @since 0.1.0
 */
export const STOP_GRACE_MS = 2000

/**
 * An error without the launcher's stack: where the launcher noticed says
 * nothing about the rank.
 *
 * @category internals
 * @since 0.1.0
 */
export const bare = (message: string): Error => {
  const e = new Error(message)
  e.stack = `Error: ${message}`
  return e
}

/**
 * Why a rank's process ended before its program did.
 *
 * @category internals
 * @since 0.1.0
 */
export const describeExit = (rank: number, code: number | null, signal: string | null): string =>
  signal !== null
    ? `rank ${rank}'s process was killed (${signal}) before its program finished`
    : `rank ${rank}'s process exited (code ${code}) before its program finished`

/** Calls `onLine` with each line of `from`; resolves when it ends. */
const lines = (from: Readable, onLine: (line: string) => void): Promise<void> =>
  new Promise((resolve) => {
    const rl = createInterface({ input: from, crlfDelay: Infinity })
    rl.on("line", onLine)
    rl.on("close", resolve)
  })

/**
 * What a parent (a launcher, or a tcp agent) hears from one rank's process.
 *
 * @category internals
 * @since 0.1.0
 */
export interface RankEvents {
  done(rank: number, ok: boolean, value: unknown, error: unknown): void
  exit(rank: number, code: number | null, signal: string | null, error?: Error): void
  line(rank: number, fd: 1 | 2, line: string): void
}

/**
 * A rank's child process on this machine.
 *
 * @category internals
 * @since 0.1.0
 */
export interface LocalRank {
  readonly child: ChildProcess
  /** Resolves once the process has exited (or could not be spawned). */
  readonly exited: Promise<void>
  /** Resolves once the process has exited and its output is drained. */
  readonly ended: Promise<void>
  /** Sends `m` over IPC, unless the channel is already closed. */
  tell(m: unknown): void
}

/**
 * Spawns rank `rank`'s process running `entry` with `env` (the whole
 * environment) and `argv`. `pipe`: hand its output to `events.line` (else
 * it goes to this process's).
 *
 * @category internals
 * @since 0.1.0
 */
export const spawnChild = (
  entry: string,
  rank: number,
  env: Record<string, string | undefined>,
  argv: ReadonlyArray<string>,
  pipe: boolean,
  events: RankEvents
): LocalRank => {
  const child = spawn(process.execPath, [entry, ...argv], {
    env: World.withCompileCache(env),
    stdio: ["ignore", pipe ? "pipe" : "inherit", pipe ? "pipe" : "inherit", "ipc"],
    serialization: "advanced"
  })
  const drained: Array<Promise<void>> = []
  if (pipe) {
    drained.push(lines(child.stdout!, (l) => events.line(rank, 1, l)))
    drained.push(lines(child.stderr!, (l) => events.line(rank, 2, l)))
  }
  child.on("message", (m: { type: string; ok: boolean; value?: Uint8Array; error?: unknown }) => {
    if (m.type !== "done") return
    if (m.ok) events.done(rank, true, Codec.decode(m.value!), undefined)
    else events.done(rank, false, undefined, Errors.fromWire(m.error))
  })
  const exited = new Promise<void>((resolve) => {
    let finished = false
    const over = (code: number | null, signal: string | null, error?: Error): void => {
      if (finished) return
      finished = true
      events.exit(rank, code, signal, error)
      resolve()
    }
    child.on("error", (e) => {
      // Spawning failed (no exit follows) or a signal could not be sent.
      if (child.pid === undefined || child.exitCode !== null) over(null, null, e)
    })
    child.on("exit", (code, signal) => over(code, signal))
  })
  return {
    child,
    exited,
    ended: exited.then(() => Promise.all(drained)).then(() => {}),
    tell: (m) => {
      if (!child.connected) return
      try {
        child.send(m as never, (e) => void e)
      } catch {
        // the channel closed meanwhile: the child is exiting
      }
    }
  }
}

/**
 * What the other ranks are told when one is lost: `exited` when its process
 * is gone (they stop reconnecting to it). `error` is `Errors.toWire`'s.
 *
 * @category internals
 * @since 0.1.0
 */
export interface Lost {
  readonly type: "lost"
  readonly rank: number
  readonly error: unknown
  readonly exited: boolean
}

/**
 * The outcomes of a world's ranks as they come in. A rank that fails, or
 * whose process goes before the world has ended, is told to the others
 * with `tellOthers`; `onAll` is called each time an outcome is recorded
 * while every rank has one. Nothing is recorded once {@link finish} has
 * been called.
 *
 * @category internals
 * @since 0.1.0
 */
export class Outcomes {
  private readonly byRank = new Map<number, World.RankOutcome>()
  private readonly size: number
  private readonly onOutcome: ((o: World.RankOutcome) => void) | undefined
  private readonly tellOthers: (m: Lost, except: number) => void
  private readonly onAll: () => void
  private ended = false

  constructor(
    size: number,
    onOutcome: ((o: World.RankOutcome) => void) | undefined,
    tellOthers: (m: Lost, except: number) => void,
    onAll: () => void
  ) {
    this.size = size
    this.onOutcome = onOutcome
    this.tellOthers = tellOthers
    this.onAll = onAll
  }

  /** Whether `rank` has an outcome. */
  has(rank: number): boolean {
    return this.byRank.has(rank)
  }

  /** Every outcome, in the order they came. */
  list(): Array<World.RankOutcome> {
    return [...this.byRank.values()]
  }

  /** Marks the world ended; false if it already was. */
  finish(): boolean {
    if (this.ended) return false
    this.ended = true
    return true
  }

  /** Records `rank`'s outcome; `gone`: its process has ended. */
  record(rank: number, ok: boolean, value: unknown, error: unknown, gone: boolean): void {
    if (this.ended) return
    if (!this.byRank.has(rank)) {
      const o: World.RankOutcome = { rank, ok, value, error, at: performance.now() }
      this.byRank.set(rank, o)
      this.onOutcome?.(o)
      if (!ok) this.tellOthers({ type: "lost", rank, error: Errors.toWire(error), exited: gone }, rank)
    } else if (gone) {
      // It had reported, but its process is gone before the world ended:
      // the peers stop reconnecting to it.
      this.tellOthers({ type: "lost", rank, error: Errors.toWire(error), exited: true }, rank)
    }
    if (this.byRank.size === this.size) this.onAll()
  }

  /** Records that `rank`'s process ended (`error`: it could not be spawned or signalled). */
  exit(rank: number, code: number | null, signal: string | null, error?: Error): void {
    const why = error ?? bare(
      this.byRank.has(rank) ? `rank ${rank}'s process ended (${signal ?? `code ${code}`}) before the world did` : describeExit(rank, code, signal)
    )
    this.record(rank, false, undefined, why, true)
  }
}

/**
 * Launches every rank of `spec` as a child process on this machine running
 * `entry`, with this process's environment plus `env(rank)`; `close` runs
 * once every child has exited and its output is drained, before the
 * outcomes are returned.
 *
 * @category internals
 * @since 0.1.0
 */
export const launchChildren = (
  spec: World.LaunchSpec,
  o: { readonly entry: string; readonly env: (rank: number) => Record<string, string>; readonly close: () => void }
): Promise<ReadonlyArray<World.RankOutcome>> =>
  new Promise((resolve) => {
    const children: Array<LocalRank> = []
    const running = new Set<number>()
    const outcomes = new Outcomes(
      spec.size,
      spec.onOutcome,
      (m, except) => children.forEach((c, r) => r !== except && c.tell(m)),
      () => void end(true)
    )

    const end = async (stop: boolean): Promise<void> => {
      if (!outcomes.finish()) return
      const kill = (): void => {
        for (const r of running) children[r]?.child.kill("SIGKILL")
      }
      if (stop) for (const c of children) c.tell({ type: "stop" })
      else kill()
      const grace = setTimeout(kill, stop ? STOP_GRACE_MS : 0)
      await Promise.all(children.map((c) => c.exited))
      clearTimeout(grace)
      await Promise.all(children.map((c) => c.ended))
      o.close()
      resolve(outcomes.list())
    }

    spec.signal.addEventListener("abort", () => void end(false), { once: true })

    const events: RankEvents = {
      done: (rank, ok, value, error) => outcomes.record(rank, ok, value, error, false),
      exit: (rank, code, signal, error) => {
        running.delete(rank)
        outcomes.exit(rank, code, signal, error)
      },
      line: (rank, fd, line) => (fd === 1 ? process.stdout : process.stderr).write(`[${rank}] ${line}\n`)
    }
    const tag = spec.tagOutput === true
    for (let rank = 0; rank < spec.size; rank++) {
      children.push(spawnChild(o.entry, rank, { ...process.env, ...o.env(rank) }, spec.argv ?? [], tag, events))
      running.add(rank)
    }
    if (spec.signal.aborted) void end(false)
  })
