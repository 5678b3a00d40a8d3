/**
 * The child side of the process transport: builds this rank's stream
 * transport over Unix sockets and its engine, runs the program module,
 * reports the outcome to the launcher, and serves peers until told to stop.
 *
 * It learns its rank, the world size, the socket directory and the world id
 * from its environment (`RANKFLOW_RANK`, `RANKFLOW_SIZE`,
 * `RANKFLOW_SOCKET_DIR`, `RANKFLOW_WORLD`), the program and options from
 * `RANKFLOW_PROCESS_CONFIG`, and the secret from `RANKFLOW_SECRET` (or
 * `RANKFLOW_SECRET_FILE`), which it removes from its environment before the
 * program runs. Its arguments are the program's (`process.argv.slice(2)`).
 *
 * Messages from the launcher (IPC): `{ type: "lost", rank, error, exited }`
 * (a peer failed; `exited`: its process is gone) and `{ type: "stop" }`. A
 * launcher that disappears (the IPC channel closes) ends the rank.
 *
 * @since 0.1.0
 */
import { type ChildConfig, rankOver, readConfig, runChild, takeSecret } from "../stream/Child.ts"
import { limits, StreamTransport } from "../stream/Transport.ts"
import { UnixConnector } from "./Endpoint.ts"

const env = process.env
const rank = Number(env.RANKFLOW_RANK)
const size = Number(env.RANKFLOW_SIZE)
const dir = env.RANKFLOW_SOCKET_DIR!
const world = env.RANKFLOW_WORLD!
const config = readConfig<ChildConfig>("RANKFLOW_PROCESS_CONFIG")
const secret = takeSecret(env, rank)

await runChild({
  program: config.program,
  build: async () => {
    const opts = limits(config.options)
    const transport = new StreamTransport({
      ...opts,
      rank,
      size,
      world,
      secret,
      connector: new UnixConnector(dir, rank, opts.highWaterMark)
    })
    return rankOver(transport, config.engine)
  }
})
