/**
 * Eager or lazy peer connections for the TCP transport: what each costs at
 * start-up and on the first collective, with real processes on loopback.
 *
 *     node bench/tcp-connect.ts [--ranks 4] [--repeats 7] [--quick]
 *
 * Each repeat starts a world of child processes from the environment (rank
 * 0 hosting the rendezvous). `eager`: every rank dials every lower rank as
 * soon as it has the table (what the transport does). `lazy`: a rank dials
 * a lower rank only when it first sends to it (in an allreduce every pair
 * that talks sends both ways, so this is connect-on-first-use). Figures,
 * medians over the repeats:
 *
 * - launch to table: until the last rank holds the rendezvous's table (the
 *   same work either way: processes start, modules load, ranks meet);
 * - table to first allreduce done: what the choice changes — connecting
 *   (all pairs at once, or pair by pair as the algorithm first needs them)
 *   and the first allreduce of one float64;
 * - first allreduce (from ready): the same, from the last rank's transport
 *   start;
 * - second allreduce: the next one, links warm either way.
 */
import { spawn } from "node:child_process"
import type { Duplex } from "node:stream"
import { fileURLToPath } from "node:url"
import { Envelope, World } from "../core/index.ts"
import { Comm as PromiseComm } from "../core/promise/Comm.ts"
import { Op } from "../promise.ts"
import { fromEnvironment } from "../transports/stream/Bootstrap.ts"
import { rendezvous, startCoordinator } from "../transports/stream/Rendezvous.ts"
import { type Connector, StreamTransport } from "../transports/stream/Transport.ts"
import { TcpConnector } from "../transports/tcp/Endpoint.ts"

const now = (): number => performance.timeOrigin + performance.now()

/** Dials a peer only once its gate is opened (by the first send to it). */
class Gated implements Connector {
  readonly name = "tcp"
  readonly inner: TcpConnector
  private readonly gates = new Map<number, { p: Promise<void>; open: () => void }>()
  constructor(inner: TcpConnector) {
    this.inner = inner
  }
  gate(peer: number): { p: Promise<void>; open: () => void } {
    let g = this.gates.get(peer)
    if (g === undefined) {
      let open!: () => void
      const p = new Promise<void>((r) => (open = r))
      g = { p, open }
      this.gates.set(peer, g)
    }
    return g
  }
  listen(accept: (s: Duplex) => void): Promise<void> {
    return this.inner.listen(accept)
  }
  async dial(peer: number): Promise<Duplex> {
    await this.gate(peer).p
    return this.inner.dial(peer)
  }
  close(): void {
    this.inner.close()
  }
}

class LazyTransport extends StreamTransport {
  gated: Gated | undefined
  override send(f: Envelope.Frame): boolean {
    this.gated?.gate(f.dst).open()
    return super.send(f)
  }
}

const child = async (): Promise<void> => {
  const lazy = process.env.BENCH_MODE === "lazy"
  const b = fromEnvironment()
  const tcp = new TcpConnector({ host: "127.0.0.1" })
  await tcp.bind()
  const coordinator = b.hostsCoordinator
    ? await startCoordinator({ size: b.size, secret: b.secret, host: "127.0.0.1", port: Number(b.coordinator.split(":")[1]) })
    : undefined
  const table = await rendezvous({ coordinator: b.coordinator, rank: b.rank, size: b.size, secret: b.secret, address: (ip) => tcp.address(ip) })
  const got = now()
  coordinator?.close()
  tcp.setPeers(table.addresses)
  const connector = lazy ? new Gated(tcp) : tcp
  const transport = new LazyTransport({ rank: b.rank, size: b.size, world: table.world, secret: b.secret, connector, connectTimeout: 120_000 })
  if (lazy) transport.gated = connector as Gated
  const engine = World.makeEngine(transport)
  await transport.start()
  const ready = now()
  const comm = new PromiseComm(engine.worldComm())
  const out = new Float64Array(1)
  await comm.Allreduce(Float64Array.of(b.rank), out, Op.SUM)
  const first = now()
  await comm.Allreduce(Float64Array.of(b.rank), out, Op.SUM)
  const second = now()
  process.stdout.write(JSON.stringify({ rank: b.rank, got, ready, first, second, sum: out[0] }) + "\n")
  engine.finish()
  await comm.barrier().catch(() => {})
  setTimeout(() => {
    transport.close()
    process.exit(0)
  }, 50)
}

const oneWorld = (mode: string, ranks: number, port: number): Promise<Sample> =>
  new Promise((resolve, reject) => {
    const t0 = now()
    const rows: Array<{ got: number; ready: number; first: number; second: number; sum: number }> = []
    let ended = 0
    for (let rank = 0; rank < ranks; rank++) {
      const c = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child"], {
        env: {
          ...process.env,
          BENCH_MODE: mode,
          RANKFLOW_RANK: String(rank),
          RANKFLOW_SIZE: String(ranks),
          RANKFLOW_COORDINATOR: `127.0.0.1:${port}`,
          RANKFLOW_HOST_COORDINATOR: "1",
          RANKFLOW_SECRET: "bench-secret"
        },
        stdio: ["ignore", "pipe", "inherit"]
      })
      let buf = ""
      c.stdout.on("data", (d) => (buf += d))
      c.on("exit", (code) => {
        if (code !== 0) return reject(new Error(`rank ${rank} exited ${code}`))
        rows.push(JSON.parse(buf))
        if (++ended === ranks) {
          const want = (ranks * (ranks - 1)) / 2
          if (rows.some((r) => r.sum !== want)) return reject(new Error("wrong sum"))
          const got = Math.max(...rows.map((r) => r.got))
          const ready = Math.max(...rows.map((r) => r.ready))
          const first = Math.max(...rows.map((r) => r.first))
          const second = Math.max(...rows.map((r) => r.second))
          resolve({ startup: ready - t0, table: got - t0, tableToFirst: first - got, first: first - ready, second: second - first })
        }
      })
    }
  })

interface Sample {
  /** Launch to the last rank ready. */
  readonly startup: number
  /** Launch to the last rank holding the table (the same work either way: processes start, rendezvous). */
  readonly table: number
  /** The last rank holding the table to the last rank done with the first allreduce: what the choice changes. */
  readonly tableToFirst: number
  readonly first: number
  readonly second: number
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]!
}

const main = async (): Promise<void> => {
  const args = process.argv.slice(2)
  const opt = (name: string, d: number): number => {
    const i = args.indexOf(name)
    return i >= 0 ? Number(args[i + 1]) : d
  }
  const ranks = opt("--ranks", 4)
  const repeats = args.includes("--quick") ? 2 : opt("--repeats", 7)
  const samples: Record<string, Array<Sample>> = { eager: [], lazy: [] }
  let port = 31000 + (process.pid % 2000)
  for (let i = 0; i < repeats; i++) {
    for (const mode of ["eager", "lazy"]) samples[mode]!.push(await oneWorld(mode, ranks, port++))
  }
  process.stdout.write(`${ranks} ranks on loopback, median of ${repeats} (ms)\n\n`)
  process.stdout.write("| connections | launch to table | table to first allreduce done | first allreduce (from ready) | second allreduce |\n|---|---:|---:|---:|---:|\n")
  for (const mode of ["eager", "lazy"]) {
    const s = samples[mode]!
    const f = (k: keyof Sample) => median(s.map((x) => x[k])).toFixed(1)
    process.stdout.write(`| ${mode} | ${f("table")} | ${f("tableToFirst")} | ${f("first")} | ${f("second")} |\n`)
  }
}

if (process.argv.includes("--child")) await child()
else await main()
