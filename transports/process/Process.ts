/**
 * The process transport's launcher: one child process per rank, linked by
 * Unix domain sockets in a temporary directory (see `Endpoint.ts` and the
 * stream protocol in `../stream/`).
 *
 * The launcher makes the socket directory (mode 0700) and a secret for the
 * world, and spawns every rank with this Node (`process.execPath`) running
 * `Entry.ts`; rank, size, directory, world id and program travel in the
 * environment, the secret too (never on a command line), and the program's
 * arguments are the child's arguments. It watches the children: when a rank
 * fails (its program throws, or its process exits or is killed before
 * reporting), every other rank is told at once over IPC, so the requests
 * that depend on it fail instead of waiting. When every rank has ended the
 * children are told to stop, and killed if they have not exited within a
 * grace period; an aborted launch (the world's time limit) kills them at
 * once. The socket directory is removed in every case.
 *
 * @example
 * ```ts
 * import { runWorld } from "rankflow/promise"
 * await runWorld({ size: 4, transport: "process" }, new URL("./app.ts", import.meta.url))
 * ```
 * @since 0.1.0
 */
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { extname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { World } from "../../core/index.ts"
import { launchChildren } from "../stream/Children.ts"
import { newSecret, SECRET_ENV } from "../stream/Handshake.ts"
import { limits } from "../stream/Transport.ts"

// The child side beside this module: Entry.ts in the repository, Entry.js
// in the built package (this module's own extension either way).
const ENTRY = fileURLToPath(new URL(`./Entry${extname(import.meta.url)}`, import.meta.url))

/**
 * Launches a world of child processes.
 *
 * Transport options: the stream protocol's limits (`maxFrame`,
 * `handshakeTimeout`, `heartbeatInterval`, `detectorTimeout`,
 * `reconnectAttempts`, `connectTimeout`, `highWaterMark`, `maxQueued`,
 * `maxPendingHandshakes`, `eagerLimit`; see `StreamOptions`).
 *
 * @category launchers
 * @since 0.1.0
 */
export const launcher: World.Launcher = {
  name: "process",
  launch(spec) {
    if (typeof spec.program !== "string") {
      return Promise.reject(new TypeError("the process transport runs a module on each rank: pass its URL"))
    }
    let options: Record<string, number>
    try {
      options = { ...limits(spec.options) }
    } catch (e) {
      return Promise.reject(e)
    }
    const size = spec.size
    const dir = mkdtempSync(join(tmpdir(), "rankflow-"))
    const removeDir = (): void => rmSync(dir, { recursive: true, force: true })
    process.once("exit", removeDir)
    const secret = newSecret()
    const world = randomUUID()
    const config = JSON.stringify({ program: spec.program, engine: spec.engine ?? {}, options })
    return launchChildren(spec, {
      entry: ENTRY,
      env: (rank) => ({
        RANKFLOW_RANK: String(rank),
        RANKFLOW_SIZE: String(size),
        RANKFLOW_SOCKET_DIR: dir,
        RANKFLOW_WORLD: world,
        RANKFLOW_PROCESS_CONFIG: config,
        [SECRET_ENV]: secret
      }),
      close: () => {
        removeDir()
        process.off("exit", removeDir)
      }
    })
  }
}
