/**
 * Rank processes (process, tcp, websocket transports), rank threads (worker
 * transport) and pool worker processes start with Node's module compile
 * cache on, in the launcher's own cache directory, unless the environment
 * turns it off.
 */
import test from "ava"
import { execFile } from "node:child_process"
import { getCompileCacheDir } from "node:module"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { ProcessPoolExecutor } from "rankflow/patterns/executor"
import { runWorld } from "../../promise.ts"

const fixture = new URL("./fixtures/compile-cache.ts", import.meta.url)
const root = fileURLToPath(new URL("../../", import.meta.url))

test("the test process itself has the cache on (test/setup/compile-cache.ts)", (t) => {
  t.is(typeof getCompileCacheDir(), "string")
})

for (const transport of ["worker", "process", "tcp", "websocket"]) {
  test(`${transport}: every rank's ${transport === "worker" ? "thread" : "process"} has the launcher's compile cache`, async (t) => {
    const results = await runWorld<{ dir: string | undefined }>({ size: 2, transport, timeout: 60_000 }, fixture)
    t.is(results.length, 2)
    // Node keys the directory by its version below the one it is given.
    for (const r of results) t.is(r.dir, getCompileCacheDir())
  })
}

test("a process pool's workers have it too", async (t) => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 })
  const dir = await pool.submit(async () => (await import("node:module")).getCompileCacheDir())
  t.is(dir, getCompileCacheDir())
})

test("NODE_DISABLE_COMPILE_CACHE turns it off for `rankflow run` and its ranks", async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, ["patterns/run/cli.ts", "run", "-n", "2", "--transport", "process", "test/transports/fixtures/print-compile-cache.ts"], {
    cwd: root,
    env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: "1", NODE_COMPILE_CACHE: "" },
    timeout: 60_000
  })
  t.deepEqual(stdout.trim().split("\n").sort(), ["rank 0: none", "rank 1: none"])
})
