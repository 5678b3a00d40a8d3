#!/usr/bin/env node
/**
 * `rankflow run`: run a module on every rank of a world, like mpirun.
 *
 *     rankflow run -n 4 [--transport worker|inproc|process|tcp|websocket] [--tag-output] [--timeout SECONDS] app.ts [args...]
 *     rankflow run -n 8 --listen HOST:PORT [--local K] app.ts [args...]   (the head of a multi-machine world)
 *     rankflow join HOST:PORT [-n K] app.ts [args...]                      (on each other machine)
 *
 * Every rank runs the module's default export (an async function of the
 * communicator, or an Effect that needs it) and sees `args` in
 * `process.argv.slice(2)`. Output of every rank goes to this process's
 * stdout/stderr (prefixed with `[rank]` under `--tag-output`). The exit code
 * is 0 when every rank succeeds, 1 when one fails (the message names the
 * rank and its error), 124 when the time limit ends the world, 2 for a usage
 * error.
 *
 * @since 0.1.0
 */
import { readFileSync } from "node:fs"
import { enableCompileCache } from "node:module"
import { availableParallelism } from "node:os"
import { pathToFileURL } from "node:url"
import { resolve } from "node:path"

// Node's module compile cache, before the rest loads: the launcher and every
// rank it starts keep V8's compiled code of their modules on disk, so the
// next run starts without parsing and compiling them again (see
// World.withCompileCache). NODE_DISABLE_COMPILE_CACHE=1 turns it off.
enableCompileCache()
const [{ Errors }, { names }, { runWorld }] = await Promise.all([
  import("../../core/index.ts"),
  import("../../transports/index.ts"),
  import("./index.ts")
])

const usage = `usage: rankflow run -n N [options] app.ts [args...]

Runs app.ts on N ranks. Its default export is an async function of the
communicator (rankflow/promise) or an Effect that needs Comm (rankflow).

options:
  -n, --np N            number of ranks (required)
  --transport NAME      ${names.join(" | ")} (default: worker)
  --tag-output          prefix each output line with [rank]
  --timeout SECONDS     end the world after this long (exit 124)
  --eager-limit BYTES   largest message sent without rendezvous
  --spin MICROS         how long a waiting rank spins before it sleeps
  --max-unexpected BYTES  unmatched eager bytes a rank may hold (default 64 MiB)
  --ranks-per-thread K  worker transport: K ranks share each thread (default:
                        1 while the world fits the cores, else enough to keep
                        the threads within them)
  --listen HOST:PORT    head of a multi-machine world over TCP: run --local
                        ranks here, the others join from other machines
  --local K             ranks run on this machine with --listen (default: its CPUs)
  --advertise HOST      the host other machines dial this machine's ranks at
  -h, --help            this text
  -V, --version         rankflow's version

usage: rankflow join HOST:PORT [-n K] [--advertise HOST] app.ts [args...]

Runs K ranks (default: this machine's CPUs) of the world whose head listens
at HOST:PORT; their output and outcome go to the head. Both sides take the
secret from RANKFLOW_SECRET or RANKFLOW_SECRET_FILE, and mutual TLS from
RANKFLOW_TLS_CERT, RANKFLOW_TLS_KEY and RANKFLOW_TLS_CA when set.
`

const HOST_PORT = /^(\[[^\]]+\]|[^:\s]*):\d{1,5}$/

const fail = (msg: string): never => {
  process.stderr.write(`rankflow: ${msg}\n\n${usage}`)
  process.exit(2)
}

const number = (flag: string, v: string | undefined): number => {
  const n = Number(v)
  if (v === undefined || !Number.isFinite(n) || n < 0) fail(`${flag} needs a non-negative number; got ${v ?? "nothing"}`)
  return n
}

interface Parsed {
  size: number
  transport: string
  tagOutput: boolean
  timeout: number | undefined
  eagerLimit: number | undefined
  spin: number | undefined
  maxUnexpected: number | undefined
  ranksPerThread: number | undefined
  listen: string | undefined
  local: number | undefined
  advertise: string | undefined
  app: string
  args: Array<string>
}

const parseRun = (argv: ReadonlyArray<string>): Parsed => {
  const p: Partial<Parsed> = { transport: "worker", tagOutput: false }
  let i = 0
  for (; i < argv.length; i++) {
    const a = argv[i]!
    const [flag, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined]
    const value = (): string | undefined => inline ?? argv[++i]
    if (flag === "-n" || flag === "--np") p.size = number(flag, value())
    else if (flag === "--transport") p.transport = value()
    else if (flag === "--tag-output") p.tagOutput = true
    else if (flag === "--timeout") p.timeout = number(flag, value())
    else if (flag === "--eager-limit") p.eagerLimit = number(flag, value())
    else if (flag === "--spin") p.spin = number(flag, value())
    else if (flag === "--max-unexpected") p.maxUnexpected = number(flag, value())
    else if (flag === "--ranks-per-thread") p.ranksPerThread = number(flag, value())
    else if (flag === "--listen") p.listen = value()
    else if (flag === "--local") p.local = number(flag, value())
    else if (flag === "--advertise") p.advertise = value()
    else if (flag === "-h" || flag === "--help") {
      process.stdout.write(usage)
      process.exit(0)
    } else if (flag.startsWith("-")) fail(`unknown option ${flag}`)
    else break
  }
  if (p.size === undefined || !Number.isInteger(p.size) || p.size < 1) fail("-n N (a positive whole number of ranks) is required")
  if (!names.includes(p.transport!)) fail(`unknown transport "${p.transport}"; known: ${names.join(", ")}`)
  if (p.listen !== undefined) {
    if (!HOST_PORT.test(p.listen)) fail(`--listen needs HOST:PORT; got ${p.listen}`)
    if (argv.some((a) => a === "--transport" || a.startsWith("--transport=")) && p.transport !== "tcp") fail("--listen runs a tcp world")
    p.transport = "tcp"
  } else if (p.local !== undefined || p.advertise !== undefined) fail("--local and --advertise go with --listen")
  if (i >= argv.length) fail("no module to run")
  return { ...(p as Parsed), app: argv[i]!, args: argv.slice(i + 1) }
}

/** `rankflow join HOST:PORT [-n K] [--advertise HOST] app.ts [args...]` */
const joinCommand = async (argv: ReadonlyArray<string>): Promise<number> => {
  const [coordinator, ...rest] = argv
  if (coordinator === undefined || !HOST_PORT.test(coordinator)) fail(`join needs the head's HOST:PORT; got ${coordinator ?? "nothing"}`)
  let want = availableParallelism()
  let advertise: string | undefined
  let i = 0
  for (; i < rest.length; i++) {
    const a = rest[i]!
    if (a === "-n" || a === "--np") want = number(a, rest[++i])
    else if (a === "--advertise") advertise = rest[++i]
    else if (a.startsWith("-")) fail(`unknown option ${a}`)
    else break
  }
  if (!Number.isInteger(want) || want < 1) fail("-n K must be a positive whole number of ranks")
  if (i >= rest.length) fail("no module to run")
  try {
    // imported here: only `join` needs the TCP transport
    const { join } = await import("../../transports/tcp/Join.ts")
    return await join({
      coordinator: coordinator!,
      want,
      program: pathToFileURL(resolve(rest[i]!)).href,
      argv: rest.length > i + 1 ? rest.slice(i + 1) : undefined,
      advertise
    })
  } catch (e) {
    process.stderr.write(`rankflow: join ${coordinator}: ${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
}

const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const [command, ...rest] = argv
  if (command === "--version" || command === "-V") {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
    process.stdout.write(`rankflow ${pkg.version}\n`)
    return 0
  }
  if (command === "-h" || command === "--help" || command === undefined) {
    process.stdout.write(usage)
    return command === undefined ? 2 : 0
  }
  if (command === "join") return joinCommand(rest)
  if (command !== "run") fail(`unknown command "${command}"`)
  const o = parseRun(rest)
  if (o.ranksPerThread !== undefined && o.transport !== "worker") fail(`--ranks-per-thread places ranks on worker threads; the ${o.transport} transport has none`)
  const url = pathToFileURL(resolve(o.app))
  if (o.transport === "inproc") process.argv = [process.argv[0]!, url.pathname, ...o.args]
  try {
    await runWorld(
      {
        size: o.size,
        transport: o.transport,
        argv: o.args,
        tagOutput: o.tagOutput,
        ...(o.listen !== undefined
          ? { transportOptions: { listen: o.listen, local: o.local, advertise: o.advertise } }
          : o.ranksPerThread !== undefined
          ? { transportOptions: { ranksPerThread: o.ranksPerThread } }
          : {}),
        timeout: o.timeout === undefined ? undefined : o.timeout * 1000,
        engine: {
          ...(o.eagerLimit !== undefined ? { eagerLimit: o.eagerLimit } : {}),
          ...(o.spin !== undefined ? { spinMicros: o.spin } : {}),
          ...(o.maxUnexpected !== undefined ? { maxUnexpectedBytes: o.maxUnexpected } : {})
        }
      },
      url
    )
    return 0
  } catch (e) {
    if (e instanceof Errors.WorldTimeout) {
      process.stderr.write(`rankflow: ${e.message}\n`)
      return 124
    }
    if (e instanceof Errors.WorldFailed) {
      process.stderr.write(`rankflow: ${e.message}\n`)
      return 1
    }
    process.stderr.write(`rankflow: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
    return 1
  }
}

const code = await main(process.argv.slice(2))
// Let output drain, then leave with the world's code even if a rank left a
// handle open (an in-process rank's timer, say).
process.exitCode = code
setTimeout(() => process.exit(code), 200).unref()
