/** What a rank of the process transport sees of its own process: arguments, environment, socket directory. */
import type { Comm } from "../../../promise.ts"

export default async (comm: Comm) => ({
  rank: comm.rank,
  argv: process.argv.slice(2),
  execArgv: process.execArgv,
  dir: process.env.RANKFLOW_SOCKET_DIR,
  secret: process.env.RANKFLOW_SECRET ?? null,
  secretFile: process.env.RANKFLOW_SECRET_FILE ?? null,
  envRank: process.env.RANKFLOW_RANK,
  pid: process.pid,
  node: process.version
})
