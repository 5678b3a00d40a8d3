/**
 * `rankflow join HOST:PORT -n K app.ts`: this machine's share of a world
 * whose head runs `rankflow run -n N --listen HOST:PORT app.ts`.
 *
 * The agent connects to the head's coordinator, proves it knows the world's
 * secret (`RANKFLOW_SECRET` or `RANKFLOW_SECRET_FILE`, as on the head), and
 * is granted K consecutive ranks. It runs each as a child process that
 * meets the whole world at the same coordinator and links to its peers
 * directly over TCP (TLS when `RANKFLOW_TLS_CERT`/`KEY`/`CA` are set). The
 * ranks' output goes to the head, which prints it (prefixed with `[rank]`
 * under the head's `--tag-output`); their outcomes go to the head, which
 * decides the world's exit code; the head's notices (a rank lost, stop)
 * come back to them. If the head goes away (its connection closes, or it
 * falls silent for the detector timeout) the agent kills its ranks.
 *
 * @since 0.1.0
 */
import { Errors } from "../../core/index.ts"
import { loadSecret } from "../stream/Handshake.ts"
import { connectAgent, RendezvousError } from "../stream/Rendezvous.ts"
import { loadTls, tlsFilesFromEnvironment } from "./Endpoint.ts"
import type { LocalRank } from "../stream/Children.ts"
import { keepAlive, pack, packError, spawnRank, unpack } from "./Launcher.ts"

/**
 * What `rankflow join` is asked.
 *
 * @category models
 * @since 0.1.0
 */
export interface JoinOptions {
  /** The head's "host:port". */
  readonly coordinator: string
  /** Ranks to run here. */
  readonly want: number
  /** The program module's URL on this machine. */
  readonly program: string
  /** The program's arguments; default: the head's. */
  readonly argv?: ReadonlyArray<string>
  /** The host peers dial this machine's ranks at; default the IP it reaches the head from. */
  readonly advertise?: string
  /** How long to keep trying to reach the head (ms). Default 60 000. */
  readonly timeout?: number
  /** Where the agent's own lines go. Default stderr. */
  readonly say?: (line: string) => void
}

/**
 * Joins a world; resolves to this machine's exit code: 0 when each of its
 * ranks succeeded, 1 otherwise.
 *
 * @category running
 * @since 0.1.0
 */
export const join = async (o: JoinOptions): Promise<number> => {
  const say = o.say ?? ((l: string) => process.stderr.write(`rankflow: ${l}\n`))
  let secretBytes: Uint8Array
  try {
    secretBytes = loadSecret(process.env)
  } catch (e) {
    throw new Error(`${(e as { reason?: string }).reason ?? String(e)} (the head's secret)`)
  }
  const files = tlsFilesFromEnvironment()
  const grant = await connectAgent({
    coordinator: o.coordinator,
    secret: secretBytes,
    want: o.want,
    tls: files === undefined ? undefined : loadTls(files),
    timeout: o.timeout ?? 60_000
  })
  const { ranks, size, world, channel } = grant
  const headConfig = (grant.extra.config ?? {}) as Record<string, unknown>
  const config = JSON.stringify({ ...headConfig, program: o.program, listenHost: "0.0.0.0", advertise: o.advertise })
  const argv = o.argv ?? (Array.isArray(grant.extra.argv) ? (grant.extra.argv as Array<string>) : [])
  say(`joined ${o.coordinator} as ranks ${ranks[0]}..${ranks[ranks.length - 1]} of ${size}`)

  const children = new Map<number, LocalRank>()
  const ok = new Set<number>()
  const exited = new Set<number>()
  let headGone = false
  const secret = new TextDecoder().decode(secretBytes)
  for (const rank of ranks) {
    children.set(
      rank,
      spawnRank(rank, size, o.coordinator, world, secret, config, argv, true, {
        done: (r, good, value, error) => {
          if (good) {
            ok.add(r)
            try {
              return channel.send({ t: "done", rank: r, ok: true, value: pack(value) })
            } catch (e) {
              error = new Error(`rank ${r}'s result cannot be sent to the head: ${e instanceof Error ? e.message : e}`)
            }
          }
          ok.delete(r)
          channel.send({ t: "done", rank: r, ok: false, error: packError(Errors.toWire(error)) })
        },
        exit: (r, code, signal) => {
          exited.add(r)
          channel.send({ t: "exit", rank: r, code, signal })
        },
        line: (r, fd, line) => {
          if (headGone) (fd === 1 ? process.stdout : process.stderr).write(`[${r}] ${line}\n`)
          else channel.send({ t: "out", rank: r, fd, line })
        }
      })
    )
  }
  const killAll = (): void => {
    for (const [r, c] of children) if (!exited.has(r)) c.child.kill("SIGKILL")
  }
  const opts = (headConfig.options ?? {}) as { heartbeatInterval?: number; detectorTimeout?: number }
  const alive = keepAlive(channel, opts.heartbeatInterval ?? 1000, opts.detectorTimeout ?? 10_000, () => {
    channel.close()
    channel.onClose(new RendezvousError({ code: "ERR_CONNECTION", rank: -1, reason: "the head fell silent" }))
  })
  channel.onMessage = (m) => {
    alive.heard()
    if (m.t === "lost" && typeof m.rank === "number") {
      const msg = { type: "lost", rank: m.rank, error: unpack(m.error), exited: m.exited === true }
      for (const [r, c] of children) if (r !== m.rank) c.tell(msg)
    } else if (m.t === "stop") {
      for (const c of children.values()) c.tell({ type: "stop" })
      setTimeout(killAll, 2000).unref()
    } else if (m.t === "kill") killAll()
  }
  channel.onClose = () => {
    alive.stop()
    headGone = true
    if (exited.size < children.size) {
      say(`the head at ${o.coordinator} went away; ending ranks ${ranks.join(", ")}`)
      killAll()
    }
  }
  await Promise.all([...children.values()].map((c) => c.ended))
  alive.stop()
  channel.close()
  return ranks.every((r) => ok.has(r)) ? 0 : 1
}
