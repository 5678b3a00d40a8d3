/**
 * The benchmark suite's smoke run (`npm run bench -- --quick`), so the
 * benchmark code cannot rot. It checks that every figure is produced and
 * written; it asserts no time.
 */
import test from "ava"
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { names } from "../../transports/index.ts"

const root = fileURLToPath(new URL("../../", import.meta.url))

test("bench --quick writes samples for every system and collective, charts and tables", async (t) => {
  const out = mkdtempSync(join(tmpdir(), "rankflow-bench-"))
  try {
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ["bench/run.ts", "--quick", "--no-peers", "--out", out], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
      let stderr = ""
      child.stderr.on("data", (d) => (stderr += d))
      child.stdout.resume()
      child.on("close", (c) => {
        if (c !== 0) t.log(stderr)
        resolve(c)
      })
    })
    t.is(code, 0)
    const result = JSON.parse(readFileSync(join(out, "latest.json"), "utf8"))
    const systems = new Set(result.samples.map((s: { system: string }) => s.system))
    for (const s of ["floor: promise", "floor: MessagePort", "floor: SAB+Atomics", "rankflow inproc", "rankflow worker"]) t.true(systems.has(s), s)
    // The byte-stream transports, each with its bare floor, in latency, bandwidth and message rate.
    const streams = [["floor: net unix", "rankflow process"], ["floor: net tcp", "rankflow tcp"], ["floor: ws", "rankflow websocket"]] as const
    for (const [floor, system] of streams) {
      for (const bench of ["latency", "bw", "rate"]) {
        t.true(result.samples.some((s: { system: string; bench: string }) => s.system === floor && s.bench === bench), `${floor} ${bench}`)
        if (names.includes(system.slice("rankflow ".length))) {
          t.true(result.samples.some((s: { system: string; bench: string }) => s.system === system && s.bench === bench), `${system} ${bench}`)
        }
      }
    }
    t.true(names.includes("process"))
    const benches = new Set(result.samples.map((s: { bench: string }) => s.bench))
    for (const b of ["latency", "bw", "rate", "persistent"]) t.true(benches.has(b), b)
    t.true(result.samples.every((s: { value: number }) => Number.isFinite(s.value) && s.value > 0))
    // The collectives: every benchmark on both transports at 2 and 4 ranks.
    const collectives = [
      ["barrier", "none", 0],
      ["bcast", "typed", 8],
      ["bcast", "typed", 1 << 20],
      ["allreduce", "typed", 8],
      ["allreduce", "typed", 1 << 20],
      ["allreduce", "number", 8],
      ["alltoall", "typed", 8],
      ["alltoall", "typed", 65536]
    ] as const
    for (const [bench, data, size] of collectives) {
      for (const system of ["rankflow inproc", "rankflow worker"]) {
        for (const ranks of [2, 4]) {
          const found = result.samples.some((s: { system: string; bench: string; data: string; size: number; ranks?: number }) =>
            s.system === system && s.bench === bench && s.data === data && s.size === size && s.ranks === ranks
          )
          t.true(found, `${system} ${bench} ${data} ${size} B on ${ranks} ranks`)
        }
      }
    }
    // The worker pools: rankflow, piscina and tinypool, throughput and round trip.
    for (const system of ["rankflow map", "rankflow map chunksize 1000", "rankflow submit", "piscina", "tinypool"]) {
      for (const bench of ["pool-throughput", "pool-latency"]) {
        t.true(result.samples.some((s: { system: string; bench: string }) => s.system === system && s.bench === bench), `${system} ${bench}`)
      }
    }
    t.regex(readFileSync(join(out, "latency.svg"), "utf8"), /^<svg/)
    t.regex(readFileSync(join(out, "bandwidth.svg"), "utf8"), /^<svg/)
    const collSvg = readFileSync(join(out, "collectives.svg"), "utf8")
    t.regex(collSvg, /^<svg/)
    t.regex(collSvg, /Alltoall 64 KiB per pair/)
    const md = readFileSync(join(out, "latest.md"), "utf8")
    t.regex(md, /\| size \| floor SAB \|/)
    t.regex(md, /\| collective \| ranks \| inproc \| worker \|/)
    t.regex(md, /\| size \| floor net unix \| process \| process\/net unix \|/)
    t.regex(md, /\| pool \| throughput \| throughput\/piscina \| round trip \| round trip\/piscina \|/)
    t.regex(readFileSync(join(out, "streams-latency.svg"), "utf8"), /^<svg/)
    t.regex(readFileSync(join(out, "streams-bandwidth.svg"), "utf8"), /^<svg/)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})
