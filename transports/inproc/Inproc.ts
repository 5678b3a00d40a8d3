/**
 * The in-process transport (MPI's btl self, for a whole world): every rank
 * runs in the current event loop, and a frame is handed straight to the
 * destination engine within `send`. Nothing is copied here; the engine copies
 * or decodes the borrowed body as it would from any transport, so the
 * receiver still gets its own copy and the codec still refuses what it
 * cannot carry.
 *
 * @example
 * ```ts
 * import { runWorld } from "rankflow/promise"
 * const sums = await runWorld({ size: 4, transport: "inproc" }, async (comm) => comm.rank * 2)
 * ```
 * @since 0.1.0
 */
import { Envelope, Errors, World } from "../../core/index.ts"
import type { Transport } from "../../core/index.ts"

type Sink = Transport.Sink

/** Rank sinks of one in-process world. */
export class Hub {
  readonly sinks: Array<Sink | undefined>
  readonly size: number
  constructor(size: number) {
    this.size = size
    this.sinks = new Array(size).fill(undefined)
  }

  /** The transport of rank `rank`. */
  transport(rank: number, eagerLimit = 64 * 1024): Transport.TransportShape {
    const hub = this
    return {
      name: "inproc",
      rank,
      size: this.size,
      eagerLimit,
      send(f: Envelope.Frame): boolean {
        const sink = hub.sinks[f.dst]
        if (sink === undefined) {
          throw new Errors.TransportError({ transport: "inproc", rank, peer: f.dst, reason: `rank ${f.dst} is not attached` })
        }
        // A copy of the header: the sender may reuse its frame while the
        // receiver is still in this call (a CTS answered at once).
        sink.frame({ ...f })
        return true
      },
      attach(sink: Sink): void {
        hub.sinks[rank] = sink
      },
      poll(): void {},
      close(): void {
        hub.sinks[rank] = undefined
      }
    }
  }
}

/**
 * Launches a world in this event loop. The program may be a function or
 * Effect (not only a module URL).
 *
 * @category launchers
 * @since 0.1.0
 */
export const launcher: World.Launcher = {
  name: "inproc",
  async launch(spec) {
    const program = typeof spec.program === "string" ? await World.loadProgram(spec.program) : spec.program
    const hub = new Hub(spec.size)
    const eager = spec.options?.eagerLimit
    const engines = Array.from({ length: spec.size }, (_, rank) =>
      World.makeEngine(hub.transport(rank, typeof eager === "number" ? eager : undefined), spec.engine)
    )
    const outcomes: Array<World.RankOutcome> = []
    const all = Promise.all(
      engines.map((engine, rank) =>
        World.runRank(engine, program).then((r) => {
          const o: World.RankOutcome = { rank, ok: r.ok, value: r.value, error: r.error, at: performance.now() }
          outcomes.push(o)
          spec.onOutcome?.(o)
          if (!r.ok) engines.forEach((e, i) => i !== rank && e.peerFailed(rank, r.error))
        })
      )
    )
    const aborted = new Promise<void>((resolve) => {
      if (spec.signal.aborted) resolve()
      spec.signal.addEventListener("abort", () => resolve(), { once: true })
    })
    await Promise.race([all, aborted])
    for (const e of engines) e.close()
    return outcomes
  }
}
