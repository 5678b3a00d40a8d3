/**
 * Builds the installable package: the library's sources compiled by `tsc`
 * (tsconfig.build.json) to JavaScript and declarations in a self-contained
 * folder with a package.json of its own, ready for `npm pack`.
 *
 *     node scripts/build.ts [--out DIR]        (default: dist/)
 *     npm pack ./dist                          → rankflow-<version>.tgz
 *
 * The repository's package.json keeps pointing at the .ts sources, so the
 * tests, examples and benchmarks run the sources (one copy of core in every
 * thread and child process); only the built folder's package.json points at
 * .js and .d.ts. Its `exports` and `bin` are derived from the repository's,
 * entry by entry (`./x.ts` → `{ types: "./x.d.ts", default: "./x.js" }`), so
 * a new entry point is one line in the repository's package.json.
 */
import { spawnSync } from "node:child_process"
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve, sep } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))

const fail = (msg: string): never => {
  process.stderr.write(`build: ${msg}\n`)
  process.exit(1)
}

const args = process.argv.slice(2)
const outAt = args.indexOf("--out")
if (args.some((a, i) => a !== "--out" && i !== outAt + 1)) fail(`usage: node scripts/build.ts [--out DIR]; got ${args.join(" ")}`)
const out = resolve(outAt >= 0 ? args[outAt + 1] ?? fail("--out needs a folder") : join(root, "dist"))
// The folder is emptied first: never the repository or a folder holding it,
// nor one of the source folders.
const rel = relative(root, out)
if (rel === "" || !relative(out, root).startsWith("..") || ["core", "transports", "patterns", "examples", "test", "bench", "scripts", "docs", "node_modules"].includes(rel.split(sep)[0]!)) {
  fail(`refusing to build into ${out}: pick an empty folder outside the sources (default: dist/)`)
}

interface Manifest {
  name: string
  version: string
  description: string
  keywords: Array<string>
  license: string
  type: string
  engines: Record<string, string>
  exports: Record<string, string | null>
  bin: Record<string, string>
  dependencies: Record<string, string>
}
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Manifest

// 1. Compile. tsc rewrites relative ".ts" imports to ".js" in the JavaScript;
// the declarations keep them, which TypeScript resolves to the .d.ts beside.
rmSync(out, { recursive: true, force: true })
const tsc = join(dirname(fileURLToPath(import.meta.resolve("typescript/package.json"))), "bin", "tsc")
const compiled = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", out], {
  cwd: root,
  stdio: "inherit"
})
if (compiled.status !== 0) fail(`tsc failed (exit ${compiled.status ?? compiled.signal})`)

// 2. The built package's manifest.
const js = (target: string): string => target.replace(/\.ts$/, ".js")
const dts = (target: string): string => target.replace(/\.ts$/, ".d.ts")
const exports: Record<string, unknown> = {}
for (const [entry, target] of Object.entries(pkg.exports)) {
  if (target === null || !target.endsWith(".ts")) exports[entry] = target
  else exports[entry] = { types: dts(target), default: js(target) }
}
const bin = Object.fromEntries(Object.entries(pkg.bin).map(([name, target]) => [name, js(target)]))
const manifest = {
  name: pkg.name,
  version: pkg.version,
  description: pkg.description,
  keywords: pkg.keywords,
  license: pkg.license,
  type: pkg.type,
  engines: pkg.engines,
  exports,
  bin,
  dependencies: pkg.dependencies
}
writeFileSync(join(out, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`)

// 3. Every file the manifest names must be there.
const named = [
  ...Object.values(exports).flatMap((e) => (e === null ? [] : typeof e === "string" ? [e] : Object.values(e as Record<string, string>))),
  ...Object.values(bin)
]
const missing = named.filter((file) => !existsSync(join(out, file)))
if (missing.length > 0) fail(`the manifest names files the build did not make: ${missing.join(", ")}`)
for (const file of Object.values(bin)) chmodSync(join(out, file), 0o755)

// 4. The documentation, so the README's links work in the package too.
copyFileSync(join(root, "README.md"), join(out, "README.md"))
if (existsSync(join(root, "docs"))) {
  mkdirSync(join(out, "docs"))
  for (const f of readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md"))) copyFileSync(join(root, "docs", f), join(out, "docs", f))
}

// `npm pack dist` would look "dist" up in the registry: name the folder as a path.
const shown = relative(process.cwd(), out) || "."
const asPath = /^\.{1,2}(\/|$)|^\//.test(shown) ? shown : `./${shown}`
process.stderr.write(`build: rankflow ${pkg.version} in ${shown}; pack it with: npm pack ${asPath}\n`)
