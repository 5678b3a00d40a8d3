/**
 * The child side of the TCP launcher (and of `rankflow join`): starts this
 * rank from its environment over TCP, runs the program module, reports the
 * outcome to its parent over IPC, and serves peers until told to stop.
 *
 * Environment: `RANKFLOW_RANK`, `RANKFLOW_SIZE`, `RANKFLOW_COORDINATOR`,
 * `RANKFLOW_WORLD`, the secret (`RANKFLOW_SECRET` or `RANKFLOW_SECRET_FILE`,
 * removed from the environment before the program runs), TLS files
 * (`RANKFLOW_TLS_CERT`/`KEY`/`CA`), and `RANKFLOW_TCP_CONFIG` (program,
 * engine and transport options as JSON). Its arguments are the program's.
 * IPC from the parent: `{ type: "lost", rank, error, exited }` and
 * `{ type: "stop" }`, as in the process transport.
 *
 * @since 0.1.0
 */
import { fromEnvironment } from "../stream/Bootstrap.ts"
import { type ChildConfig, forgetSecret, readConfig, runChild } from "../stream/Child.ts"
import { loadTls, tlsFilesFromEnvironment } from "./Endpoint.ts"
import { startRank } from "./Rank.ts"

interface Config extends ChildConfig {
  readonly listenHost?: string
  readonly advertise?: string
}

const env = process.env
const config = readConfig<Config>("RANKFLOW_TCP_CONFIG")

await runChild({
  program: config.program,
  build: () => {
    const b = fromEnvironment(env)
    forgetSecret(env)
    const files = tlsFilesFromEnvironment(env)
    return startRank(b, {
      ...config.options,
      tls: files === undefined ? undefined : loadTls(files),
      engine: config.engine,
      listenHost: config.listenHost,
      advertise: config.advertise
    })
  }
})
