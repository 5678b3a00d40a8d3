/**
 * TCP worlds for programs started by something other than `rankflow run`:
 * `mpirun -n 4 node app.ts` (Open MPI), `mpiexec` (MPICH), `srun` (Slurm),
 * or one command per rank with `RANKFLOW_RANK`, `RANKFLOW_SIZE` and
 * `RANKFLOW_COORDINATOR` set by hand (a Kubernetes StatefulSet, say).
 *
 * {@link runFromEnvironment}`(program)` reads the rank's bootstrap from the
 * environment (see `../stream/Bootstrap.ts`), meets the other ranks at the
 * rendezvous (rank 0 hosts it under a foreign launcher), runs `program` with
 * the world communicator, waits until every peer has finished, and closes.
 * A program that throws ends this process with exit code 1 and a line
 * naming the rank, as `rankflow run` would; it tells its peers it has ended
 * first, so what they wait from it fails at once with `PeerLost`. A rank
 * that dies outright (SIGKILL, a machine gone) is found by the others'
 * failure detector: `PeerLost` within its timeout. {@link world} gives the
 * communicator itself, for a script that is not one program function.
 *
 * @example
 * ```ts
 * // app.ts — run with: RANKFLOW_SECRET=... mpirun -n 4 node app.ts
 * import { runFromEnvironment } from "rankflow/transports/tcp"
 * import type { Comm } from "rankflow/promise"
 * const program = async (comm: Comm) => comm.allreduce(comm.rank)
 * export default program
 * if (import.meta.main) await runFromEnvironment(program)
 * ```
 * @since 0.1.0
 */
import { type Engine, World } from "../../core/index.ts"
import { Comm as PromiseComm } from "../../core/promise/Comm.ts"
import { type Bootstrap, fromEnvironment, type Source } from "../stream/Bootstrap.ts"
import { SECRET_ENV, SECRET_FILE_ENV } from "../stream/Handshake.ts"
import { loadTls, tlsFilesFromEnvironment } from "./Endpoint.ts"
import { type RankOptions, startRank, type TcpRank } from "./Rank.ts"

export { TcpConnector } from "./Endpoint.ts"
export { startRank } from "./Rank.ts"
export type { RankOptions, TcpRank } from "./Rank.ts"

/**
 * A rank of a world started from the environment.
 *
 * @category models
 * @since 0.1.0
 */
export interface TcpWorld {
  /** The world communicator (Promise face). */
  readonly comm: PromiseComm
  readonly rank: number
  readonly size: number
  /** Which launcher's variables gave the rank and size. */
  readonly source: Source
  /** The rank itself: engine, transport, table. */
  readonly tcp: TcpRank
  /**
   * Says this rank is done, waits until every peer is done (or lost), and
   * closes. Call it once, at the end.
   */
  close(): Promise<void>
}

const settle = (engine: Engine.Engine): Promise<void> =>
  new Promise((resolve) => {
    const check = (): void => {
      for (let p = 0; p < engine.size; p++) {
        if (p !== engine.rank && engine.isLive(p)) return void setTimeout(check, 20)
      }
      resolve()
    }
    check()
  })

const boot = (env: NodeJS.ProcessEnv): { b: Bootstrap; o: RankOptions } => {
  const b = fromEnvironment(env)
  // The program never sees the secret.
  delete env[SECRET_ENV]
  delete env[SECRET_FILE_ENV]
  const files = tlsFilesFromEnvironment(env)
  return { b, o: files === undefined ? {} : { tls: loadTls(files) } }
}

/**
 * Starts this rank from the environment and resolves to its world
 * communicator. Rejects with `BootstrapError` (the environment lacks
 * something, named), the secret's `ERR_NO_SECRET`, or a `RendezvousError`.
 *
 * @category running
 * @since 0.1.0
 */
export const world = async (options: RankOptions = {}): Promise<TcpWorld> => {
  const { b, o } = boot(process.env)
  const tcp = await startRank(b, { ...o, ...options })
  let closing: Promise<void> | undefined
  return {
    comm: new PromiseComm(tcp.engine.worldComm()),
    rank: b.rank,
    size: b.size,
    source: b.source,
    tcp,
    close: () =>
      (closing ??= (async () => {
        tcp.engine.finish()
        await settle(tcp.engine)
        tcp.close()
      })())
  }
}

/**
 * Runs `program` on this rank of a world started from the environment (see
 * the module comment) and resolves to its result once every rank is done.
 * If the program (or the start) fails, prints `rankflow: rank N failed: …`
 * and exits with code 1.
 *
 * @category running
 * @since 0.1.0
 */
export const runFromEnvironment = async <A>(program: World.Program<A>, options: RankOptions = {}): Promise<A> => {
  let rank = -1
  let tcp: TcpRank | undefined
  const die = async (error: unknown): Promise<never> => {
    const r = rank >= 0 ? rank : (error as { rank?: unknown })?.rank
    const tagged = typeof (error as { _tag?: unknown })?._tag === "string"
    const what = error instanceof Error ? (tagged ? `${error.name === "Error" ? (error as { _tag?: string })._tag : error.name}: ${error.message}` : error.stack ?? error.message) : String(error)
    process.stderr.write(`rankflow: rank ${typeof r === "number" && r >= 0 ? r : "?"} failed: ${what}\n`)
    if (tcp !== undefined) {
      // Peers waiting on this rank learn at once that it has ended (no BYE:
      // a closed link would not tell them), then its sockets go with the process.
      tcp.engine.finish()
      await new Promise((res) => setTimeout(res, 200))
    }
    process.exit(1)
  }
  try {
    const { b, o } = boot(process.env)
    rank = b.rank
    tcp = await startRank(b, { ...o, ...options })
  } catch (e) {
    return die(e)
  }
  const outcome = await World.runRank(tcp.engine, program)
  if (!outcome.ok) return die(outcome.error)
  await settle(tcp.engine)
  tcp.close()
  return outcome.value as A
}
