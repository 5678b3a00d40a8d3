/** Runs the `rankflow` CLI in a child process, for the end-to-end tests. */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../../", import.meta.url))
const cli = fileURLToPath(new URL("../../patterns/run/cli.ts", import.meta.url))

export interface Ran {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

/**
 * Runs `cmd args` in `cwd` (with `env`, else this process's environment);
 * kills it and rejects after `limitMs`, naming it `what` and giving what it
 * wrote to stderr. A command that cannot start rejects with why.
 */
export const runCommand = (
  cmd: string,
  args: ReadonlyArray<string>,
  o: { readonly cwd: string; readonly limitMs: number; readonly what: string; readonly env?: NodeJS.ProcessEnv }
): Promise<Ran> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    const kill = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${o.what} did not end within ${o.limitMs} ms${stderr.length > 0 ? `\n${stderr}` : ""}`))
    }, o.limitMs)
    child.on("error", (e) => {
      clearTimeout(kill)
      reject(e)
    })
    child.on("close", (code) => {
      clearTimeout(kill)
      resolve({ code, stdout, stderr, ms: performance.now() - t0 })
    })
  })

/**
 * Runs this project's Node on `script` with `args` from the project root;
 * kills it and rejects after `limitMs`, naming it `what`.
 */
export const runNode = (script: string, args: ReadonlyArray<string>, limitMs: number, what: string): Promise<Ran> =>
  runCommand(process.execPath, [script, ...args], { cwd: root, limitMs, what })

/** Runs `rankflow ...args` from the project root; kills it and rejects after `limitMs`. */
export const rankflow = (args: ReadonlyArray<string>, limitMs = 30_000): Promise<Ran> =>
  runNode(cli, args, limitMs, `rankflow ${args.join(" ")}`)
