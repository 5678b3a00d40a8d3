/**
 * The package as a user installs it: built to JavaScript and declarations,
 * packed with `npm pack`, installed from the tarball into a fresh consumer
 * project, then used from there on Node 24 and on Node 22.18 (the oldest
 * Node rankflow supports, from the npm registry): a JavaScript consumer that
 * runs worlds on every transport and both pools, a strict TypeScript
 * consumer type-checked against the installed declarations, the installed
 * `rankflow` command, and what importing `rankflow/promise` loads.
 */
import test from "ava"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { root } from "../run/rankflow.ts"
import { type Consumer, makeConsumer, run } from "./consumer.ts"

const node24 = process.execPath
const node22 = join(root, "node_modules", `node22-${process.platform}-${process.arch}`, "bin", "node")
const nodes: ReadonlyArray<readonly [string, string]> = [["24", node24], ["22.18", node22]]

const tmp = mkdtempSync(join(tmpdir(), "rankflow-package-"))
let consumer: Consumer | undefined
let setup: Promise<Consumer> | undefined
const ready = (): Promise<Consumer> => (setup ??= makeConsumer(tmp, ["world.mjs", "rank.mjs", "app.mjs", "typed.ts", "loaded.mjs"]).then((c) => (consumer = c)))

test.after.always(() => rmSync(tmp, { recursive: true, force: true }))

const json = (what: string, r: { code: number | null; stdout: string; stderr: string }): any => {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`)
  return JSON.parse(r.stdout)
}

test.serial("Node 22.18 comes from the npm registry, beside Node 24", async (t) => {
  t.true(existsSync(node22), `${node22} is missing: npm ci installs the node22-* optional dependency for this platform`)
  t.is((await run(node22, ["--version"], root, 10_000)).stdout.trim(), "v22.18.0")
  t.regex(process.version, /^v24\./)
})

test.serial("the tarball holds JavaScript and declarations only, with explicit exports", async (t) => {
  const c = await ready()
  const listed = await run("tar", ["-tzf", c.tarball], tmp, 20_000)
  const files = listed.stdout.split("\n").filter(Boolean).map((f) => f.replace(/^package\//, ""))
  t.true(files.includes("index.js") && files.includes("index.d.ts") && files.includes("promise.js") && files.includes("promise.d.ts"))
  t.deepEqual(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), [], "no .ts sources in the package")
  t.false(files.some((f) => f.startsWith("test/") || f.startsWith("bench/") || f.startsWith("node_modules/")))
  const manifest = json("cat", await run("tar", ["-xzOf", c.tarball, "package/package.json"], tmp, 20_000))
  t.false(Object.keys(manifest.exports).some((k) => k.includes("*") && manifest.exports[k] !== null), "no wildcard exports")
  t.deepEqual(manifest.exports["./promise"], { types: "./promise.d.ts", default: "./promise.js" })
  t.is(manifest.bin.rankflow, "./patterns/run/cli.js")
  t.is(manifest.devDependencies, undefined)
  t.log(`build ${Math.round(c.ms.build)} ms, pack ${Math.round(c.ms.pack)} ms, install ${Math.round(c.ms.install)} ms (${c.installedOffline ? "offline" : "from the registry"})`)
})

for (const [version, node] of nodes) {
  test.serial(`Node ${version}: a JavaScript consumer runs worlds on every transport, both faces and both pools from the installed package`, async (t) => {
    const c = await ready()
    const seen = json("world.mjs", await run(node, ["world.mjs"], c.dir, 120_000))
    t.regex(seen.node, version === "24" ? /^v24\./ : /^v22\.18\./)
    for (const transport of ["worker", "process", "tcp", "websocket"]) {
      const ranks = seen.worlds[transport] as Array<any>
      const size = transport === "worker" ? 3 : 2
      t.is(ranks.length, size, transport)
      ranks.forEach((r, rank) => {
        t.is(r.rank, rank)
        t.is(r.sum, (size * (size + 1)) / 2, transport)
        const prev = (rank - 1 + size) % size
        t.deepEqual(r.got, ["Float64Array", prev, prev * 2], transport)
        t.is(r.from, prev)
        t.is(r.typed, `InvalidRank ${size}`, `${transport}: one copy of the Errors module in every rank`)
      })
    }
    t.deepEqual(seen.inproc, [3, 3, 3, 3])
    t.deepEqual(seen.effect, [30, 30, 30])
    t.is(seen.failed, "WorldFailed rank 1")
    t.is(seen.failedEffect, "WorldFailed rank 1 true")
    t.true(seen.oneErrorsModule)
    t.is(seen.thread, 1024)
    t.deepEqual(seen.process, [1, 4, 9])
    t.is(seen.tcpEntry, "function")
  })

  test.serial(`Node ${version}: the installed rankflow command runs a world and prints its version`, async (t) => {
    const c = await ready()
    const cli = join(c.dir, "node_modules", "rankflow", "patterns", "run", "cli.js")
    for (const flag of ["--version", "-V"]) {
      const v = await run(node, [cli, flag], c.dir, 20_000)
      t.is(v.code, 0)
      t.is(v.stdout, "rankflow 0.1.0\n")
    }
    const ran = await run(node, [cli, "run", "-n", "3", "app.mjs"], c.dir, 60_000)
    t.is(ran.code, 0, ran.stderr)
    t.deepEqual(ran.stdout.trim().split("\n").sort(), [0, 1, 2].map((r) => `rank ${r} of 3: sum 3`))
  })

  test.serial(`Node ${version}: importing rankflow/promise loads neither ws nor the child-process transports`, async (t) => {
    const c = await ready()
    const seen = json("loaded.mjs", await run(node, ["loaded.mjs", "rankflow/promise"], c.dir, 60_000))
    const heavy = (urls: Array<string>) => urls.filter((u) => /\/node_modules\/ws\/|\/transports\/(tcp|websocket|process|stream)\//.test(u))
    t.true(seen.afterImport.some((u: string) => u.includes("/node_modules/rankflow/promise.js")), "the built JavaScript is what runs")
    t.deepEqual(heavy(seen.afterImport), [])
    t.deepEqual(heavy(seen.afterInproc), [])
    t.deepEqual(heavy(seen.afterWorker), [], "an in-process and a worker world need neither")
    t.true(seen.afterWorker.some((u: string) => u.includes("/transports/worker/")), "the worker transport loads when a world asks for it")
  })
}

test.serial("a strict TypeScript consumer type-checks against the installed declarations and runs on both Nodes", async (t) => {
  const c = await ready()
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc")
  const checked = await run(node24, [
    tsc,
    "--strict",
    "--noEmit",
    "--module",
    "nodenext",
    "--moduleResolution",
    "nodenext",
    "--target",
    "esnext",
    "--types",
    "node",
    "--allowImportingTsExtensions",
    "--verbatimModuleSyntax",
    "typed.ts"
  ], c.dir, 120_000)
  t.is(checked.code, 0, `tsc --strict on the consumer:\n${checked.stdout}\n${checked.stderr}`)
  for (const [version, node] of nodes) {
    const seen = json(`typed.ts on Node ${version}`, await run(node, ["typed.ts"], c.dir, 60_000))
    t.regex(seen.node, version === "24" ? /^v24\./ : /^v22\.18\./)
    t.deepEqual(seen.promised.map((s: any) => [s.rank, s.sum, s.got, s.from]), [[0, 6, 2, 2], [1, 6, 0, 0], [2, 6, 1, 1]])
    t.deepEqual(seen.effected, [3, 3])
    t.is(seen.failure, "WorldFailed rank 0")
    t.is(seen.power, 81)
    t.is(seen.late, "late")
    t.is(seen.internal, "ERR_PACKAGE_PATH_NOT_EXPORTED")
    t.is(seen.tcp, "function")
  }
  void consumer
})
