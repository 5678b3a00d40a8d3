/**
 * A progress bar for long maps, drawn by cli-progress when standard output
 * is a terminal.
 *
 * @since 0.2.0
 */
import cliProgress from "cli-progress"

/**
 * When to draw a map's progress bar: `"auto"` (the default) draws one when
 * standard output is a terminal and the map has run for `delayMs` (1 s)
 * without finishing; `true` draws it whatever the terminal; `false` never.
 * An object picks the stream (for tests: any writable with `isTTY`).
 *
 * @category models
 * @since 0.2.0
 */
export type ProgressOption =
  | boolean
  | "auto"
  | {
    readonly stream?: NodeJS.WritableStream & { readonly isTTY?: boolean }
    readonly delayMs?: number
    readonly label?: string
  }

/**
 * The progress of one map.
 *
 * @category models
 * @since 0.2.0
 */
export interface Progress {
  /** `n` more items are done. */
  advance(n: number): void
  /** The total is now known (or grew). */
  setTotal(total: number): void
  /** The map has ended: remove the timer, finish the bar. */
  stop(): void
}

const none: Progress = { advance() {}, setTotal() {}, stop() {} }

/**
 * A progress tracker for a map of `total` items (`undefined`: not known yet).
 *
 * @example
 * ```ts
 * import { startProgress } from "rankflow/patterns/pool"
 * const p = startProgress("auto", 100)
 * p.advance(50)
 * p.stop()
 * ```
 * @category constructors
 * @since 0.2.0
 */
export const startProgress = (option: ProgressOption | undefined, total: number | undefined): Progress => {
  if (option === false) return none
  const o = typeof option === "object" ? option : {}
  const stream = o.stream ?? (process.stderr.isTTY ? process.stderr : process.stdout)
  const tty = o.stream !== undefined ? o.stream.isTTY === true : process.stdout.isTTY === true
  if (option !== true && !tty) return none
  const delay = o.delayMs ?? (option === true ? 0 : 1000)
  let done = 0
  let max = total ?? 0
  let bar: cliProgress.SingleBar | undefined
  const draw = (): void => {
    bar = new cliProgress.SingleBar({
      stream,
      format: `${o.label ?? "map"} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} | ETA {eta_formatted}`,
      hideCursor: true,
      noTTYOutput: option === true || o.stream !== undefined,
      notTTYSchedule: 200
    }, cliProgress.Presets.shades_classic)
    bar.start(max, done)
  }
  const timer = delay > 0 ? setTimeout(draw, delay) : undefined
  timer?.unref()
  if (delay <= 0) draw()
  return {
    advance(n) {
      done += n
      bar?.update(done)
    },
    setTotal(t) {
      max = t
      bar?.setTotal(t)
    },
    stop() {
      if (timer !== undefined) clearTimeout(timer)
      if (bar !== undefined) {
        bar.update(done)
        bar.stop()
      }
    }
  }
}
