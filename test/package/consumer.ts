/**
 * Builds, packs and installs rankflow the way a user gets it, for the
 * package tests: `scripts/build.ts` into a temporary folder, `npm pack` of
 * the build, and a consumer project that installs the tarball with
 * `npm ci --offline`. The consumer's lockfile is made from this
 * repository's: the same versions of every dependency, whose tarballs
 * `npm ci` here has already put in npm's cache.
 */
import { createHash } from "node:crypto"
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { type Ran, root, runCommand, runNode } from "../run/rankflow.ts"

// What `npm test` puts in the environment of its children describes this
// repository's package; an npm run inside the consumer must not see it.
const cleanEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_(package_|lifecycle_|config_(local_prefix|prefix|global_prefix)$)|^INIT_CWD$/i.test(k)) env[k] = v
  }
  return { ...env, ...extra }
}

/** Runs `cmd args` in `cwd`, without this repository's npm variables; kills it and rejects after `limitMs`. */
export const run = (cmd: string, args: ReadonlyArray<string>, cwd: string, limitMs: number, env?: NodeJS.ProcessEnv): Promise<Ran> =>
  runCommand(cmd, args, { cwd, limitMs, what: `${cmd} ${args.join(" ")}`, env: cleanEnv(env) })

interface LockEntry {
  readonly version?: string
  readonly dependencies?: Record<string, string>
  readonly optionalDependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly devDependencies?: Record<string, string>
  readonly [key: string]: unknown
}
interface Lock {
  readonly packages: Record<string, LockEntry>
}

/**
 * The entries of `lock` that `names` need, as Node would find them from the
 * top: each name, and what each of those depends on, nested copies first.
 * A dependency missing from the lock is an error unless it is optional (a
 * platform's package) or a peer.
 */
export const closure = (lock: Lock, names: ReadonlyArray<string>): Record<string, LockEntry> => {
  const out: Record<string, LockEntry> = {}
  const find = (from: string, name: string): string | undefined => {
    for (let base = from; ; ) {
      const at = base === "" ? `node_modules/${name}` : `${base}/node_modules/${name}`
      if (lock.packages[at] !== undefined) return at
      if (base === "") return undefined
      const i = base.lastIndexOf("/node_modules/")
      base = i < 0 ? "" : base.slice(0, i)
    }
  }
  const visit = (from: string, name: string, required: boolean): void => {
    const at = find(from, name)
    if (at === undefined) {
      if (required) throw new Error(`package-lock.json has no ${name} (needed by ${from || "the consumer"}): run npm ci`)
      return
    }
    if (out[at] !== undefined) return
    const entry = lock.packages[at]!
    out[at] = entry
    for (const dep of Object.keys(entry.dependencies ?? {})) visit(at, dep, true)
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) visit(at, dep, false)
    for (const dep of Object.keys(entry.peerDependencies ?? {})) visit(at, dep, false)
  }
  for (const name of names) visit("", name, true)
  return out
}

export interface Consumer {
  /** The consumer project's folder (node_modules/rankflow installed from the tarball). */
  readonly dir: string
  /** The tarball `npm pack` made. */
  readonly tarball: string
  /** How the install went: offline from npm's cache, or with the registry's help. */
  readonly installedOffline: boolean
  /** Milliseconds each step took. */
  readonly ms: Readonly<Record<"build" | "pack" | "install", number>>
}

const step = (what: string, r: Ran): Ran => {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`)
  return r
}

/**
 * Builds the package into `tmp/dist`, packs it into `tmp`, and installs the
 * tarball into `tmp/consumer` with the fixtures `files` copied in.
 */
export const makeConsumer = async (tmp: string, files: ReadonlyArray<string>): Promise<Consumer> => {
  const built = step("the build", await runNode("scripts/build.ts", ["--out", join(tmp, "dist")], 60_000, "scripts/build.ts"))
  const packed = step("npm pack", await run("npm", ["pack", join(tmp, "dist"), "--pack-destination", tmp, "--json"], tmp, 60_000))
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }]
  const tarball = join(tmp, filename)
  const manifest = JSON.parse(readFileSync(join(tmp, "dist", "package.json"), "utf8")) as LockEntry & { bin: unknown; engines: unknown; license: string }

  const dir = join(tmp, "consumer")
  mkdirSync(dir)
  const repoLock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as Lock
  const top = repoLock.packages[""]!
  const spec = `file:../${filename}`
  const pkg = {
    name: "rankflow-consumer",
    version: "1.0.0",
    private: true,
    type: "module",
    dependencies: { effect: top.dependencies!.effect!, rankflow: spec },
    devDependencies: { "@types/node": top.devDependencies!["@types/node"]! },
    allowScripts: { "msgpackr-extract": true }
  }
  const packages: Record<string, unknown> = {
    "": { name: pkg.name, version: pkg.version, dependencies: pkg.dependencies, devDependencies: pkg.devDependencies },
    "node_modules/rankflow": {
      version: manifest.version,
      resolved: spec,
      integrity: `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`,
      license: manifest.license,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines
    },
    ...closure(repoLock, [...Object.keys(manifest.dependencies ?? {}), "effect", "@types/node"])
  }
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`)
  writeFileSync(join(dir, "package-lock.json"), `${JSON.stringify({ name: pkg.name, version: pkg.version, lockfileVersion: 3, requires: true, packages }, null, 2)}\n`)
  for (const f of files) copyFileSync(join(root, "test", "package", "fixtures", f), join(dir, f))

  const flags = ["--no-audit", "--no-fund", "--loglevel=error"]
  let installedOffline = true
  let installed = await run("npm", ["ci", "--offline", ...flags], dir, 120_000)
  if (installed.code !== 0 && /ENOTCACHED/.test(installed.stderr)) {
    // npm's cache lacks a tarball (a cache cleaned since npm ci): let npm fetch it.
    installedOffline = false
    installed = await run("npm", ["ci", "--prefer-offline", ...flags], dir, 180_000)
  }
  step("npm ci in the consumer", installed)
  if (!existsSync(join(dir, "node_modules", "rankflow", "package.json"))) throw new Error("npm ci did not install rankflow")
  return { dir, tarball, installedOffline, ms: { build: built.ms, pack: packed.ms, install: installed.ms } }
}
