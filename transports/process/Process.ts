/**
 * The process transport's launcher: one child process per rank, linked by
 * Unix domain sockets in a temporary directory (see `Endpoint.ts` and the
 * stream protocol in `../stream/`).
 *
 * The launcher makes the socket directory (mode 0700) and a secret for the
 * world, and spawns every rank with this Node (`process.execPath`) running
 * `Entry.ts`; rank, size, directory, world id and program travel in the
 * environment, the secret too (never on a command line), and the program's
 * arguments are the child's arguments. It watches the children: when a rank
 * fails (its program throws, or its process exits or is killed before
 * reporting), every other rank is told at once over IPC, so the requests
 * that depend on it fail instead of waiting. When every rank has ended the
 * children are told to stop, and killed if they have not exited within a
 * grace period; an aborted launch (the world's time limit) kills them at
 * once. The socket directory is removed in every case.
 *
 * @example
 * ```ts
 * import { runWorld } from "rankflow/promise"
 * await runWorld({ size: 4, transport: "process" }, new URL("./app.ts", import.meta.url))
 * ```
 * @since 0.1.0
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import type { Readable, Writable } from "node:stream"
import { fileURLToPath } from "node:url"
import { Codec, Errors } from "../../core/index.ts"
import type { World } from "../../core/index.ts"
import { newSecret, SECRET_ENV } from "../stream/Handshake.ts"
import { limits } from "../stream/Transport.ts"

const ENTRY = fileURLToPath(new URL("./Entry.ts", import.meta.url))
const STOP_GRACE_MS = 2000

/** Forwards `from` to `to` line by line, each line prefixed. */
const prefixLines = (from: Readable, prefix: string, to: Writable): Promise<void> =>
  new Promise((resolve) => {
    const rl = createInterface({ input: from, crlfDelay: Infinity })
    rl.on("line", (line) => to.write(`${prefix}${line}\n`))
    rl.on("close", resolve)
  })

/** An error without the launcher's stack: where the launcher noticed says nothing about the rank. */
const bare = (message: string): Error => {
  const e = new Error(message)
  e.stack = `Error: ${message}`
  return e
}

const describeExit = (rank: number, code: number | null, signal: NodeJS.Signals | null): string =>
  signal !== null
    ? `rank ${rank}'s process was killed (${signal}) before its program finished`
    : `rank ${rank}'s process exited (code ${code}) before its program finished`

/**
 * Launches a world of child processes.
 *
 * Transport options: the stream protocol's limits (`maxFrame`,
 * `handshakeTimeout`, `heartbeatInterval`, `detectorTimeout`,
 * `reconnectAttempts`, `connectTimeout`, `highWaterMark`, `maxQueued`,
 * `maxPendingHandshakes`, `eagerLimit`; see `StreamOptions`).
 *
 * @category launchers
 * @since 0.1.0
 */
export const launcher: World.Launcher = {
  name: "process",
  launch(spec) {
    if (typeof spec.program !== "string") {
      return Promise.reject(new TypeError("the process transport runs a module on each rank: pass its URL"))
    }
    let options: Record<string, number>
    try {
      options = { ...limits(spec.options) }
    } catch (e) {
      return Promise.reject(e)
    }
    const size = spec.size
    const dir = mkdtempSync(join(tmpdir(), "rankflow-"))
    const removeDir = (): void => rmSync(dir, { recursive: true, force: true })
    process.once("exit", removeDir)
    const secret = newSecret()
    const world = randomUUID()
    const config = JSON.stringify({ program: spec.program, engine: spec.engine ?? {}, options })
    return new Promise((resolve) => {
      const outcomes = new Map<number, World.RankOutcome>()
      const children: Array<ChildProcess> = []
      const running = new Set<number>()
      const exited: Array<Promise<void>> = []
      const piped: Array<Promise<void>> = []
      let ended = false

      const tell = (child: ChildProcess, m: unknown): void => {
        if (!child.connected) return
        try {
          child.send(m as never, (e) => void e)
        } catch {
          // the channel closed meanwhile: the child is exiting
        }
      }

      const end = async (stop: boolean): Promise<void> => {
        if (ended) return
        ended = true
        const kill = (): void => {
          for (const r of running) children[r]?.kill("SIGKILL")
        }
        if (stop) for (const c of children) tell(c, { type: "stop" })
        else kill()
        const grace = setTimeout(kill, stop ? STOP_GRACE_MS : 0)
        await Promise.all(exited)
        clearTimeout(grace)
        await Promise.all(piped)
        removeDir()
        process.off("exit", removeDir)
        resolve([...outcomes.values()])
      }

      const record = (rank: number, ok: boolean, value: unknown, error: unknown, gone: boolean): void => {
        if (ended) return
        if (!outcomes.has(rank)) {
          const o: World.RankOutcome = { rank, ok, value, error, at: performance.now() }
          outcomes.set(rank, o)
          spec.onOutcome?.(o)
          if (!ok) {
            const wire = Errors.toWire(error)
            children.forEach((c, r) => r !== rank && tell(c, { type: "lost", rank, error: wire, exited: gone }))
          }
        } else if (gone) {
          // It had reported, but its process is gone before the world ended:
          // the peers stop reconnecting to it.
          const wire = Errors.toWire(error)
          children.forEach((c, r) => r !== rank && tell(c, { type: "lost", rank, error: wire, exited: true }))
        }
        if (outcomes.size === size) void end(true)
      }

      spec.signal.addEventListener("abort", () => void end(false), { once: true })

      const tag = spec.tagOutput === true
      for (let rank = 0; rank < size; rank++) {
        const child = spawn(process.execPath, [ENTRY, ...(spec.argv ?? [])], {
          env: {
            ...process.env,
            RANKFLOW_RANK: String(rank),
            RANKFLOW_SIZE: String(size),
            RANKFLOW_SOCKET_DIR: dir,
            RANKFLOW_WORLD: world,
            RANKFLOW_PROCESS_CONFIG: config,
            [SECRET_ENV]: secret
          },
          stdio: ["ignore", tag ? "pipe" : "inherit", tag ? "pipe" : "inherit", "ipc"],
          serialization: "advanced"
        })
        children.push(child)
        running.add(rank)
        if (tag) {
          piped.push(prefixLines(child.stdout!, `[${rank}] `, process.stdout))
          piped.push(prefixLines(child.stderr!, `[${rank}] `, process.stderr))
        }
        child.on("message", (m: { type: string; ok: boolean; value?: Uint8Array; error?: unknown }) => {
          if (m.type !== "done") return
          if (m.ok) record(rank, true, Codec.decode(m.value!), undefined, false)
          else record(rank, false, undefined, Errors.fromWire(m.error), false)
        })
        exited.push(
          new Promise((done) => {
            let finished = false
            const over = (code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
              if (finished) return
              finished = true
              running.delete(rank)
              const why = error ?? bare(
                outcomes.has(rank) ? `rank ${rank}'s process ended (${signal ?? `code ${code}`}) before the world did` : describeExit(rank, code, signal)
              )
              record(rank, false, undefined, why, true)
              done()
            }
            child.on("error", (e) => {
              // Spawning failed (no exit follows) or a signal could not be sent.
              if (child.pid === undefined || child.exitCode !== null) over(null, null, e)
            })
            child.on("exit", (code, signal) => over(code, signal))
          })
        )
      }
      if (spec.signal.aborted) void end(false)
    })
  }
}
