/**
 * rankflow's benchmark suite, OSU style, side by side with the raw floor of
 * this machine and with mpi4py on Open MPI, all measured in one run.
 *
 *     npm run bench                   # the whole comparison (~22 minutes on 2 cores, 5 repeats)
 *     npm run bench -- --quick        # a smoke run: few sizes, few iterations
 *     npm run bench -- --no-peers     # without mpi4py
 *     npm run bench -- --skip-p2p     # the collectives only (or --skip-coll, --skip-pools)
 *     npm run bench -- --repeats 7 --out bench/results
 *
 * Every figure is the median (and min) of several repeats; the repeats of
 * every system interleave, so drift on this shared machine hits them all.
 * Point-to-point benchmarks run on 2 ranks; collectives on 2, 4 and 8 (the
 * worker transport and mpi4py; inproc up to 4). The byte-stream transports
 * (process, and tcp and websocket where registered) run the typed-array
 * latency, bandwidth and message-rate benchmarks, each beside its own bare
 * floor of the same run: `node:net` over a Unix socket, `node:net` over TCP
 * loopback, and `ws`, between two fresh processes.
 * The worker pools (`bench/patterns.ts`): rankflow's ThreadPoolExecutor
 * beside piscina and tinypool on 2 threads, in tiny-task throughput (100,000
 * calls of `x => x * x`) and single-call round-trip latency.
 * Writes a JSON file of every sample, SVG charts (vega-lite), and a Markdown
 * summary, and prints the tables.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import os from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as vega from "vega"
import * as vl from "vega-lite"
import { runWorld } from "../promise.ts"
import { names as registered } from "../transports/index.ts"
import { portBandwidth, portPingPong, promisePingPong, sabPingPong } from "./floor/floor.ts"
import { streamFloor, type StreamKind } from "./floor/stream.ts"
import { formatBytes, fmt, markdown, max, median, min, ratio, table } from "./lib/stats.ts"
import { poolRepeat, type PoolSpec, poolSystems } from "./patterns.ts"
import { coll, type CollPoint, type CollSpec } from "./programs/coll.ts"
import { p2p, type P2pPoint, type P2pSpec } from "./programs/p2p.ts"

// ------------------------------------------------------------------- options

const argv = process.argv.slice(2)
const flags = ["--quick", "--no-peers", "--skip-p2p", "--skip-coll", "--skip-pools"]
const valued = ["--repeats", "--scale", "--out"]
if (argv.includes("--help") || argv.includes("-h")) {
  console.log(`usage: npm run bench -- [${flags.join("] [")}] [--repeats N] [--scale X] [--out DIR]`)
  process.exit(0)
}
for (let i = 0; i < argv.length; i++) {
  if (valued.includes(argv[i]!) && argv[i + 1] !== undefined) i++
  else if (!flags.includes(argv[i]!)) {
    console.error(`bench: unknown argument ${JSON.stringify(argv[i])}; see --help`)
    process.exit(2)
  }
}
const flag = (name: string) => argv.includes(name)
const option = (name: string, fallback: string): string => {
  const i = argv.indexOf(name)
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback
}
const quick = flag("--quick")
const peers = !flag("--no-peers")
const runP2p = !flag("--skip-p2p")
const runColl = !flag("--skip-coll")
const runPools = !flag("--skip-pools")
const repeats = Number(option("--repeats", quick ? "1" : "5"))
const scale = Number(option("--scale", quick ? "0.02" : "1"))
const outDir = option("--out", fileURLToPath(new URL("./results/", import.meta.url)))
const sizes = quick ? [0, 8, 4096, 1 << 20] : [0, 8, 64, 512, 4096, 32768, 262144, 1 << 20, 4 << 20]
const listSizes = quick ? [8, 4096] : [8, 512, 4096, 32768, 262144, 1 << 20]
const bytesSizes = quick ? [8, 1 << 20] : [8, 4096, 65536, 1 << 20, 4 << 20]
const persistentSizes = [8, 32768]
const transports = ["inproc", "worker"]
/** The byte-stream transports and the bare stream each is measured against. */
const streamFloors: ReadonlyArray<{ transport: string; kind: StreamKind; floor: string; label: string }> = [
  { transport: "process", kind: "unix", floor: "floor: net unix", label: "net unix" },
  { transport: "tcp", kind: "tcp", floor: "floor: net tcp", label: "net tcp" },
  { transport: "websocket", kind: "ws", floor: "floor: ws", label: "ws" }
]
const streams = streamFloors.filter((s) => registered.includes(s.transport))
/** The benchmarks the byte-stream transports run (the typed-array ones). */
const streamBenches = new Set(["latency:typed", "bw:typed", "rate:typed"])
const collRanks = quick ? [2, 4] : [2, 4, 8]
/** The in-process transport runs every rank on one event loop: collectives up to this many ranks. */
const collInprocMax = 4
const root = fileURLToPath(new URL("../", import.meta.url))
/** The worker pools: rankflow, piscina and tinypool on 2 threads. */
const poolSpec: PoolSpec = quick ? { tasks: 10_000, trips: 300, threads: 2 } : { tasks: 100_000, trips: 5_000, threads: 2 }

// ------------------------------------------------------------------- samples

interface Sample {
  readonly system: string
  readonly bench: string
  readonly data: string
  readonly size: number
  readonly value: number
  readonly repeat: number
  readonly iters?: number
  /** Number of ranks, for the collectives (the point-to-point samples run on 2). */
  readonly ranks?: number
}
const samples: Array<Sample> = []
const add = (system: string, bench: string, data: string, repeat: number, points: ReadonlyArray<{ size: number; value: number; iters?: number }>, ranks?: number) => {
  for (const p of points) {
    samples.push({ system, bench, data, size: p.size, value: p.value, repeat, ...(p.iters ? { iters: p.iters } : {}), ...(ranks !== undefined ? { ranks } : {}) })
  }
}

const floorIters = (size: number): number => Math.max(5, Math.round((size <= 8192 ? 10_000 : size <= 262_144 ? 1_000 : 200) * scale))

// The benchmark suite: the same specs for rankflow and mpi4py.
const suite: Array<{ spec: P2pSpec; api: "buffer" | "object" }> = [
  { spec: { bench: "latency", data: "typed", sizes, scale }, api: "buffer" },
  { spec: { bench: "latency", data: "dict", sizes: [0], scale }, api: "object" },
  { spec: { bench: "latency", data: "list", sizes: listSizes, scale }, api: "object" },
  { spec: { bench: "latency", data: "bytes", sizes: bytesSizes, scale }, api: "object" },
  { spec: { bench: "bw", data: "typed", sizes: sizes.filter((s) => s > 0), scale }, api: "buffer" },
  { spec: { bench: "rate", data: "typed", sizes: [8], scale }, api: "buffer" },
  { spec: { bench: "persistent", data: "typed", sizes: persistentSizes, scale }, api: "buffer" }
]

const programUrl = new URL("./programs/p2p.ts", import.meta.url)
const rankflowRun = async (transport: string, spec: P2pSpec): Promise<ReadonlyArray<P2pPoint>> => {
  const results = transport === "inproc"
    ? await runWorld({ size: 2, transport, timeout: 600_000 }, (comm) => p2p(comm, spec))
    : await runWorld({ size: 2, transport, argv: [JSON.stringify(spec)], timeout: 600_000 }, programUrl)
  return results[0] as ReadonlyArray<P2pPoint>
}

// The collective benchmarks: the same specs for rankflow and mpi4py, on every
// rank count. Sample data: "typed" for the buffer forms (Uint8Array, or
// Float64Array for Allreduce), "number" for the object API, "none" for the
// barrier.
const collSuite: Array<CollSpec> = [
  { bench: "barrier", api: "buffer", sizes: [0], scale },
  { bench: "bcast", api: "buffer", sizes: [8, 1 << 20], scale },
  { bench: "allreduce", api: "buffer", sizes: [8, 1 << 20], scale },
  { bench: "allreduce", api: "object", sizes: [8], scale },
  { bench: "alltoall", api: "buffer", sizes: [8, 65536], scale }
]
const collData = (spec: CollSpec): string => (spec.bench === "barrier" ? "none" : spec.api === "object" ? "number" : "typed")
const collLabel = (spec: CollSpec, size: number): string =>
  spec.bench === "barrier"
    ? "barrier"
    : spec.api === "object"
    ? "allreduce(x), a number"
    : spec.bench === "alltoall"
    ? `Alltoall ${formatBytes(size)} per pair`
    : `${spec.bench === "bcast" ? "Bcast" : "Allreduce"} ${formatBytes(size)}`
const collTransports = (ranks: number) => transports.filter((t) => t !== "inproc" || ranks <= collInprocMax)

const collUrl = new URL("./programs/coll.ts", import.meta.url)
const rankflowColl = async (transport: string, ranks: number, spec: CollSpec): Promise<ReadonlyArray<CollPoint>> => {
  const results = transport === "inproc"
    ? await runWorld({ size: ranks, transport, timeout: 600_000 }, (comm) => coll(comm, spec))
    : await runWorld({ size: ranks, transport, argv: [JSON.stringify(spec)], timeout: 600_000 }, collUrl)
  return results[0] as ReadonlyArray<CollPoint>
}

// ---------------------------------------------------------------------- peers

const python = ["/usr/bin/python3", "python3"].find((p) => spawnSync(p, ["-c", "import mpi4py"], { stdio: "ignore" }).status === 0)
const mpirun = spawnSync("mpirun", ["--version"], { encoding: "utf8" })
const havePeer = peers && python !== undefined && mpirun.status === 0
const mpiEnv = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1", OMPI_MCA_rmaps_base_oversubscribe: "1" }
const mpirunPeer = (ranks: number, script: string, spec: object): Array<{ size: number; value: number; iters: number }> => {
  const out = execFileSync("mpirun", ["-n", String(ranks), python!, join(root, "bench/peers", script), JSON.stringify(spec)], {
    encoding: "utf8",
    env: mpiEnv,
    timeout: 600_000
  })
  return JSON.parse(out.trim().split("\n").pop()!)
}
const mpi4pyRun = (spec: P2pSpec, api: string): ReadonlyArray<P2pPoint> => mpirunPeer(2, "osu.py", { ...spec, api })
const mpi4pyColl = (ranks: number, spec: CollSpec): ReadonlyArray<CollPoint> => mpirunPeer(ranks, "osu_coll.py", spec)

const version = (cmd: string, args: Array<string>): string | undefined => {
  const r = spawnSync(cmd, args, { encoding: "utf8" })
  return r.status === 0 ? (r.stdout || r.stderr).trim().split("\n")[0] : undefined
}

// ------------------------------------------------------------------------ run

const log = (s: string) => process.stderr.write(`${s}\n`)
log(
  `rankflow bench: ${quick ? "quick smoke run, " : ""}${repeats} repeat(s), scale ${scale}, peers: ${havePeer ? "mpi4py" : peers ? "none found (run bench/peers/setup)" : "off"}, ` +
    `${[runP2p ? "point-to-point" : "", runColl ? `collectives on ${collRanks.join(", ")} ranks` : "", runPools ? "worker pools" : ""].filter(Boolean).join(", ")}`
)
const started = Date.now()
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(0)} s`

const pointToPoint = async (repeat: number): Promise<void> => {
  // The floor.
  const small = Math.max(5, Math.round(100_000 * scale))
  add("floor: promise", "latency", "typed", repeat, [{ size: 0, value: await promisePingPong(small) }])
  add("floor: MessagePort", "latency", "typed", repeat, await portPingPong(sizes, sizes.map(floorIters)))
  add("floor: SAB+Atomics", "latency", "typed", repeat, await sabPingPong(sizes, sizes.map(floorIters)))
  const bwSizes = sizes.filter((s) => s > 0)
  add("floor: MessagePort", "bw", "typed", repeat, await portBandwidth(bwSizes, bwSizes.map((s) => Math.max(3, Math.round(floorIters(s) / 20)))))
  // The bare streams, each floor measured whether or not its transport is registered.
  for (const { kind, floor } of streamFloors) {
    const { latency, bandwidth: bw } = await streamFloor(kind, { sizes, iters: sizes.map(floorIters) }, {
      sizes: bwSizes,
      iters: bwSizes.map((s) => Math.max(3, Math.round(floorIters(s) / 20)))
    })
    add(floor, "latency", "typed", repeat, latency)
    add(floor, "bw", "typed", repeat, bw)
    // The message rate is the same windowed stream of 8-byte messages, counted in messages.
    add(floor, "rate", "typed", repeat, bw.filter((p) => p.size === 8).map((p) => ({ size: 8, value: (p.value * 1e6) / 8 })))
  }
  // rankflow and mpi4py, interleaved.
  for (const { spec, api } of suite) {
    for (const transport of transports) add(`rankflow ${transport}`, spec.bench, spec.data, repeat, await rankflowRun(transport, spec))
    if (havePeer) add(`mpi4py ${api}`, spec.bench, spec.data, repeat, mpi4pyRun(spec, api))
  }
  // The byte-stream transports: their benchmarks one after another in one world each.
  const streamSpecs = suite.filter(({ spec }) => streamBenches.has(`${spec.bench}:${spec.data}`)).map(({ spec }) => spec)
  for (const { transport } of streams) {
    const results = await runWorld({ size: 2, transport, argv: [JSON.stringify(streamSpecs)], timeout: 600_000 }, programUrl)
    const perSpec = results[0] as ReadonlyArray<ReadonlyArray<P2pPoint>>
    streamSpecs.forEach((spec, i) => add(`rankflow ${transport}`, spec.bench, spec.data, repeat, perSpec[i]!))
  }
}

const collectives = async (repeat: number): Promise<void> => {
  // rankflow and mpi4py, interleaved, on each rank count.
  for (const ranks of collRanks) {
    for (const spec of collSuite) {
      for (const transport of collTransports(ranks)) add(`rankflow ${transport}`, spec.bench, collData(spec), repeat, await rankflowColl(transport, ranks, spec), ranks)
      if (havePeer) add(`mpi4py ${spec.api}`, spec.bench, collData(spec), repeat, mpi4pyColl(ranks, spec), ranks)
    }
  }
}

for (let repeat = 0; repeat < repeats; repeat++) {
  log(`repeat ${repeat + 1}/${repeats}`)
  if (runP2p) {
    const t = Date.now()
    await pointToPoint(repeat)
    log(`  point-to-point: ${seconds(t)}`)
  }
  if (runColl) {
    const t = Date.now()
    await collectives(repeat)
    log(`  collectives: ${seconds(t)}`)
  }
  if (runPools) {
    const t = Date.now()
    for (const p of await poolRepeat(poolSpec)) {
      add(p.system, `pool-${p.bench}`, "square", repeat, [{ size: p.bench === "throughput" ? poolSpec.tasks : 0, value: p.value }])
    }
    log(`  worker pools: ${seconds(t)}`)
  }
}

// -------------------------------------------------------------------- summary

const stat = (system: string, bench: string, data: string, size: number): { med: number; min: number; n: number } => {
  const v = samples.filter((s) => s.system === system && s.bench === bench && s.data === data && s.size === size).map((s) => s.value)
  return { med: median(v), min: min(v), n: v.length }
}
const cell = (system: string, bench: string, data: string, size: number, higherIsBetter = false): string => {
  const s = stat(system, bench, data, size)
  if (s.n === 0) return "-"
  const best = higherIsBetter ? Math.max(...samples.filter((x) => x.system === system && x.bench === bench && x.data === data && x.size === size).map((x) => x.value)) : s.min
  return s.n > 1 ? `${fmt(s.med)} (${fmt(best)})` : fmt(s.med)
}
const med = (system: string, bench: string, data: string, size: number) => stat(system, bench, data, size).med
const peerCols = havePeer

const tables: Array<{ title: string; head: Array<string>; rows: Array<Array<string>> }> = []

if (runP2p) {
  tables.push({
    title: "Latency, typed arrays (buffer API), one way, µs: median (min)",
    head: ["size", "floor SAB", "floor port", "inproc", "worker", ...(peerCols ? ["mpi4py Send/Recv"] : []), "worker/SAB", "worker/port", ...(peerCols ? ["worker/mpi4py"] : [])],
    rows: sizes.map((size) => [
      formatBytes(size),
      cell("floor: SAB+Atomics", "latency", "typed", size),
      cell("floor: MessagePort", "latency", "typed", size),
      cell("rankflow inproc", "latency", "typed", size),
      cell("rankflow worker", "latency", "typed", size),
      ...(peerCols ? [cell("mpi4py buffer", "latency", "typed", size)] : []),
      ratio(med("rankflow worker", "latency", "typed", size), med("floor: SAB+Atomics", "latency", "typed", size)),
      ratio(med("rankflow worker", "latency", "typed", size), med("floor: MessagePort", "latency", "typed", size)),
      ...(peerCols ? [ratio(med("rankflow worker", "latency", "typed", size), med("mpi4py buffer", "latency", "typed", size))] : [])
    ])
  })

  tables.push({
    title: "Latency, objects (object API), one way, µs: median (min)",
    head: ["message", "floor promise", "inproc", "worker", ...(peerCols ? ["mpi4py send/recv", "worker/mpi4py"] : []), "inproc/promise"],
    rows: [
      [
        "small dict",
        cell("floor: promise", "latency", "typed", 0),
        cell("rankflow inproc", "latency", "dict", 0),
        cell("rankflow worker", "latency", "dict", 0),
        ...(peerCols ? [cell("mpi4py object", "latency", "dict", 0), ratio(med("rankflow worker", "latency", "dict", 0), med("mpi4py object", "latency", "dict", 0))] : []),
        ratio(med("rankflow inproc", "latency", "dict", 0), med("floor: promise", "latency", "typed", 0))
      ],
      ...(["list", "bytes"] as const).flatMap((data) =>
        (data === "list" ? listSizes : bytesSizes).map((size) => [
          data === "list" ? `list of ${Math.max(1, size >> 3)} numbers (${formatBytes(size)})` : `byte array of ${formatBytes(size)}`,
          "",
          cell("rankflow inproc", "latency", data, size),
          cell("rankflow worker", "latency", data, size),
          ...(peerCols ? [cell("mpi4py object", "latency", data, size), ratio(med("rankflow worker", "latency", data, size), med("mpi4py object", "latency", data, size))] : []),
          ""
        ])
      )
    ]
  })

  const bwSizes = sizes.filter((s) => s > 0)
  tables.push({
    title: "Bandwidth, window of 64 non-blocking sends, MB/s: median (max)",
    head: ["size", "floor port", "inproc", "worker", ...(peerCols ? ["mpi4py Isend", "worker/mpi4py"] : []), "worker/port"],
    rows: bwSizes.map((size) => [
      formatBytes(size),
      cell("floor: MessagePort", "bw", "typed", size, true),
      cell("rankflow inproc", "bw", "typed", size, true),
      cell("rankflow worker", "bw", "typed", size, true),
      ...(peerCols ? [cell("mpi4py buffer", "bw", "typed", size, true), ratio(med("rankflow worker", "bw", "typed", size), med("mpi4py buffer", "bw", "typed", size))] : []),
      ratio(med("rankflow worker", "bw", "typed", size), med("floor: MessagePort", "bw", "typed", size))
    ])
  })

  tables.push({
    title: "Message rate, 8-byte messages, window of 64, messages/s: median (max)",
    head: ["", "inproc", "worker", ...(peerCols ? ["mpi4py", "worker/mpi4py"] : [])],
    rows: [[
      "8 B",
      cell("rankflow inproc", "rate", "typed", 8, true),
      cell("rankflow worker", "rate", "typed", 8, true),
      ...(peerCols ? [cell("mpi4py buffer", "rate", "typed", 8, true), ratio(med("rankflow worker", "rate", "typed", 8), med("mpi4py buffer", "rate", "typed", 8))] : [])
    ]]
  })

  // The byte-stream transports, each against its own floor.
  const streamHead = streamFloors.flatMap(({ transport, label }) =>
    registered.includes(transport) ? [`floor ${label}`, transport, `${transport}/${label}`] : [`floor ${label}`]
  )
  const streamRow = (bench: string, size: number, higherIsBetter: boolean): Array<string> =>
    streamFloors.flatMap(({ transport, floor }) =>
      registered.includes(transport)
        ? [
          cell(floor, bench, "typed", size, higherIsBetter),
          cell(`rankflow ${transport}`, bench, "typed", size, higherIsBetter),
          ratio(med(`rankflow ${transport}`, bench, "typed", size), med(floor, bench, "typed", size))
        ]
        : [cell(floor, bench, "typed", size, higherIsBetter)]
    )
  tables.push({
    title: "Byte-stream transports, latency, typed arrays, one way, µs: median (min); each beside its bare floor (two processes, same run)",
    head: ["size", ...streamHead],
    rows: sizes.map((size) => [formatBytes(size), ...streamRow("latency", size, false)])
  })
  tables.push({
    title: "Byte-stream transports, bandwidth, window of 64 non-blocking sends, MB/s: median (max); each beside its bare floor",
    head: ["size", ...streamHead],
    rows: bwSizes.map((size) => [formatBytes(size), ...streamRow("bw", size, true)])
  })
  tables.push({
    title: "Byte-stream transports, message rate, 8-byte messages, window of 64, messages/s: median (max); each beside its bare floor",
    head: ["", ...streamHead],
    rows: [["8 B", ...streamRow("rate", 8, true)]]
  })

  tables.push({
    title: "Persistent requests against plain ones, one way, µs: median",
    head: ["size", "inproc plain", "inproc persistent", "worker plain", "worker persistent", ...(peerCols ? ["mpi4py plain", "mpi4py persistent"] : [])],
    rows: persistentSizes.map((size) => [
      formatBytes(size),
      fmt(med("rankflow inproc", "latency", "typed", size)),
      fmt(med("rankflow inproc", "persistent", "typed", size)),
      fmt(med("rankflow worker", "latency", "typed", size)),
      fmt(med("rankflow worker", "persistent", "typed", size)),
      ...(peerCols ? [fmt(med("mpi4py buffer", "latency", "typed", size)), fmt(med("mpi4py buffer", "persistent", "typed", size))] : [])
    ])
  })
}

// The collectives, against the point-to-point floor of the same run: the
// worker's one-way latency of 8 bytes.
const collCell = (system: string, spec: CollSpec, size: number, ranks: number): string => {
  const v = collValues(system, spec, size, ranks)
  return v.length === 0 ? "-" : v.length > 1 ? `${fmt(median(v))} (${fmt(min(v))})` : fmt(median(v))
}
const collValues = (system: string, spec: CollSpec, size: number, ranks: number): Array<number> =>
  samples.filter((s) => s.system === system && s.bench === spec.bench && s.data === collData(spec) && s.size === size && s.ranks === ranks).map((s) => s.value)
const collMed = (system: string, spec: CollSpec, size: number, ranks: number) => median(collValues(system, spec, size, ranks))
const collRows = collSuite.flatMap((spec) => spec.sizes.map((size) => ({ spec, size, label: collLabel(spec, size) })))
const p2pFloor = med("rankflow worker", "latency", "typed", 8)

if (runColl) {
  tables.push({
    title: "Collectives: latency against rank count, µs per call (the slowest rank's average): median (min); p2p: the worker's 8 B one-way latency, same run",
    head: ["collective", "ranks", "inproc", "worker", ...(peerCols ? ["mpi4py", "worker/mpi4py"] : []), "p2p", "worker/p2p"],
    rows: collRows.flatMap(({ spec, size, label }) =>
      collRanks.map((ranks) => [
        label,
        String(ranks),
        collCell("rankflow inproc", spec, size, ranks),
        collCell("rankflow worker", spec, size, ranks),
        ...(peerCols ? [collCell(`mpi4py ${spec.api}`, spec, size, ranks), ratio(collMed("rankflow worker", spec, size, ranks), collMed(`mpi4py ${spec.api}`, spec, size, ranks))] : []),
        fmt(p2pFloor),
        ratio(collMed("rankflow worker", spec, size, ranks), p2pFloor)
      ])
    )
  })
}

if (runPools) {
  const values = (system: string, bench: string) => samples.filter((s) => s.system === system && s.bench === bench).map((s) => s.value)
  const tp = (system: string) => median(values(system, "pool-throughput"))
  const rt = (system: string) => median(values(system, "pool-latency"))
  const both = (v: Array<number>, best: number) => (v.length > 1 ? `${fmt(median(v))} (${fmt(best)})` : fmt(median(v)))
  tables.push({
    title: `Worker pools on ${poolSpec.threads} threads, x => x * x: throughput of ${poolSpec.tasks.toLocaleString("en")} calls, calls/s: median (max); ` +
      `round trip of one call at a time, µs: median (min)`,
    head: ["pool", "throughput", "throughput/piscina", "round trip", "round trip/piscina"],
    rows: poolSystems.map((system) => [
      system,
      both(values(system, "pool-throughput"), max(values(system, "pool-throughput"))),
      ratio(tp(system), tp("piscina")),
      both(values(system, "pool-latency"), min(values(system, "pool-latency"))),
      ratio(rt(system), rt("piscina"))
    ])
  })
}

// ------------------------------------------------------------------- outputs

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
const dep = (name: string) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version
const machine = {
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()}`
}
const versions = {
  rankflow: pkg.version,
  node: process.version,
  effect: dep("effect"),
  msgpackr: dep("msgpackr"),
  ...(runPools ? { piscina: dep("piscina"), tinypool: dep("tinypool") } : {}),
  ...(havePeer ? { openmpi: version("mpirun", ["--version"]), mpi4py: version(python!, ["-c", "import mpi4py; print(mpi4py.__version__)"]), python: version(python!, ["--version"]) } : {})
}
const date = new Date().toISOString()
const header = `${date.slice(0, 10)} on ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.os}; ` +
  Object.entries(versions).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join(", ") +
  `; ${repeats} repeat(s), scale ${scale}`

for (const t of tables) {
  process.stdout.write(`\n${t.title}\n${table(t.head, t.rows)}\n`)
}
process.stdout.write(`\n${header}\n(${((Date.now() - started) / 1000).toFixed(0)} s)\n`)

mkdirSync(outDir, { recursive: true })
const stamp = date.replace(/[:.]/g, "-")
const json = JSON.stringify({ date, machine, versions, repeats, scale, quick, samples }, null, 1)
writeFileSync(join(outDir, `${stamp}.json`), json)
writeFileSync(join(outDir, "latest.json"), json)

/** The header in lines of at most 100 characters, for a chart's subtitle. */
const subtitle = (text: string): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(" ")) {
    if (line.length + word.length + 1 > 100) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  return [...lines, line]
}

const chart = async (bench: string, data: string, title: string, yTitle: string, systems: ReadonlyArray<string>): Promise<string> => {
  const values = systems.flatMap((system) =>
    [...new Set(samples.filter((s) => s.system === system && s.bench === bench && s.data === data && s.size >= 8).map((s) => s.size))].map((size) => ({
      system,
      size,
      value: med(system, bench, data, size)
    }))
  )
  const spec: vl.TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle: subtitle(header) },
    width: 560,
    height: 340,
    background: "white",
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: {
        field: "size",
        type: "quantitative",
        scale: { type: "log", base: 2 },
        title: "message size",
        axis: {
          values: [...new Set(values.map((v) => v.size))],
          labelExpr: "datum.value >= 1048576 ? datum.value / 1048576 + ' MiB' : datum.value >= 1024 ? datum.value / 1024 + ' KiB' : datum.value + ' B'"
        }
      },
      y: { field: "value", type: "quantitative", scale: { type: "log" }, title: yTitle },
      color: { field: "system", type: "nominal", title: null }
    }
  }
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" })
  return view.toSVG()
}
const collChart = async (): Promise<string> => {
  // One panel per collective (their times differ by orders of magnitude), one
  // line per system; mpi4py's object and buffer forms are one system.
  const systems = [["rankflow worker", "rankflow worker"], ["rankflow inproc", "rankflow inproc"], ["mpi4py", "mpi4py (Open MPI)"]] as const
  const values = collRows.flatMap(({ spec, size, label }) =>
    systems.flatMap(([system, name]) =>
      collRanks.flatMap((ranks) => {
        const v = collMed(system === "mpi4py" ? `mpi4py ${spec.api}` : system, spec, size, ranks)
        return Number.isFinite(v) ? [{ collective: label, system: name, ranks, value: v }] : []
      })
    )
  )
  const spec: vl.TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Collectives: time per call against rank count (lower is better)", subtitle: subtitle(header) },
    background: "white",
    data: { values },
    facet: { field: "collective", type: "nominal", title: null, sort: collRows.map((r) => r.label) },
    columns: 4,
    spec: {
      width: 180,
      height: 150,
      mark: { type: "line", point: true },
      encoding: {
        x: {
          field: "ranks",
          type: "quantitative",
          scale: { type: "log", base: 2, domain: [collRanks[0]!, collRanks[collRanks.length - 1]!] },
          title: "ranks",
          axis: { values: collRanks, format: "d" }
        },
        y: { field: "value", type: "quantitative", scale: { type: "log" }, title: "µs per call" },
        color: { field: "system", type: "nominal", title: null }
      }
    },
    resolve: { scale: { y: "independent" } }
  }
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" })
  return view.toSVG()
}

const written = [`${stamp}.json`, "latest.json"]
if (runP2p) {
  const latencySystems = ["floor: SAB+Atomics", "floor: MessagePort", "rankflow inproc", "rankflow worker", ...(havePeer ? ["mpi4py buffer"] : [])]
  writeFileSync(join(outDir, "latency.svg"), await chart("latency", "typed", "One-way latency, typed arrays (lower is better)", "µs", latencySystems))
  writeFileSync(
    join(outDir, "bandwidth.svg"),
    await chart("bw", "typed", "Bandwidth, 64 non-blocking sends per round (higher is better)", "MB/s", ["floor: MessagePort", "rankflow inproc", "rankflow worker", ...(havePeer ? ["mpi4py buffer"] : [])])
  )
  written.push("latency.svg", "bandwidth.svg")
  const streamSystems = streamFloors.flatMap(({ transport, floor }) => (registered.includes(transport) ? [floor, `rankflow ${transport}`] : [floor]))
  writeFileSync(join(outDir, "streams-latency.svg"), await chart("latency", "typed", "Byte-stream transports and their bare floors: one-way latency (lower is better)", "µs", streamSystems))
  writeFileSync(
    join(outDir, "streams-bandwidth.svg"),
    await chart("bw", "typed", "Byte-stream transports and their bare floors: bandwidth, 64 sends per round (higher is better)", "MB/s", streamSystems)
  )
  written.push("streams-latency.svg", "streams-bandwidth.svg")
}
if (runColl) {
  writeFileSync(join(outDir, "collectives.svg"), await collChart())
  written.push("collectives.svg")
}
writeFileSync(
  join(outDir, "latest.md"),
  `Measured ${header}.\n\n` + tables.map((t) => `**${t.title}**\n\n${markdown(t.head, t.rows)}\n`).join("\n")
)
log(`wrote ${join(outDir, written[0]!)}, ${[...written.slice(1), "latest.md"].join(", ")}`)
