/**
 * Bootstrapping a rank from its environment: who it is, how large the world
 * is, where the rendezvous coordinator is, and the world's secret.
 *
 * Sources, first match wins:
 *
 * | source    | rank / size                                   | set by                       |
 * | --------- | --------------------------------------------- | ---------------------------- |
 * | rankflow  | `RANKFLOW_RANK` / `RANKFLOW_SIZE`             | `rankflow run`, `rankflow join`, by hand |
 * | openmpi   | `OMPI_COMM_WORLD_RANK` / `OMPI_COMM_WORLD_SIZE` | Open MPI's `mpirun`        |
 * | mpich     | `PMI_RANK` / `PMI_SIZE`                       | MPICH's Hydra `mpiexec`      |
 * | slurm     | `SLURM_PROCID` / `SLURM_NTASKS`               | Slurm's `srun`               |
 *
 * The coordinator is `RANKFLOW_COORDINATOR=host:port` when set. Otherwise,
 * under a launcher whose job runs on one machine (Open MPI's
 * `OMPI_COMM_WORLD_LOCAL_SIZE`, Hydra's `MPI_LOCALNRANKS` or Slurm's
 * `SLURM_NNODES`/`SLURM_STEP_NUM_NODES` say so), it is `127.0.0.1` on a port
 * derived from the job's id: `20000 + FNV-1a(job id) mod 20000`, where the
 * job id is Open MPI's `PMIX_NAMESPACE` (or `OMPI_MCA_ess_base_jobid`),
 * Slurm's `SLURM_JOB_ID.SLURM_STEP_ID`, or else the parent process's id
 * (every rank of a Hydra or mpirun job on one machine shares its parent). A
 * Slurm step over several nodes uses the first node of
 * `SLURM_STEP_NODELIST` (where rank 0 runs) on the derived port. Another
 * job spread over machines needs `RANKFLOW_COORDINATOR` (the host of rank 0
 * and a free port), passed to every rank (`mpirun -x RANKFLOW_COORDINATOR`).
 *
 * Under a foreign launcher rank 0 hosts the coordinator (`hostsCoordinator`);
 * under `rankflow run`/`join` the launcher does, unless
 * `RANKFLOW_HOST_COORDINATOR=1`. The world id is `RANKFLOW_WORLD`, or else
 * the one the coordinator hands out (a random UUID). The
 * secret is `RANKFLOW_SECRET` or the contents of `RANKFLOW_SECRET_FILE`
 * (see `Handshake.loadSecret`).
 *
 * @example
 * ```ts
 * import { fromEnvironment } from "rankflow/transports/stream/Bootstrap"
 * const b = fromEnvironment({ OMPI_COMM_WORLD_RANK: "1", OMPI_COMM_WORLD_SIZE: "4", OMPI_COMM_WORLD_LOCAL_SIZE: "4", PMIX_NAMESPACE: "1761280001", RANKFLOW_SECRET: "s" })
 * b.source // "openmpi"
 * b.coordinator // "127.0.0.1:<a port from 20000 to 39999>"
 * ```
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import { loadSecret } from "./Handshake.ts"
import { parseHostPort } from "./Rendezvous.ts"

/**
 * Where the rank and size came from.
 *
 * @category models
 * @since 0.1.0
 */
export type Source = "rankflow" | "openmpi" | "mpich" | "slurm"

/**
 * What a rank knows before the rendezvous.
 *
 * @category models
 * @since 0.1.0
 */
export interface Bootstrap {
  readonly rank: number
  readonly size: number
  /** The coordinator's "host:port". */
  readonly coordinator: string
  /** Does this rank host the coordinator? */
  readonly hostsCoordinator: boolean
  /** The world id, when the environment fixes one; else the coordinator's. */
  readonly world: string | undefined
  readonly secret: Uint8Array
  readonly source: Source
}

/**
 * The environment does not say enough to start a rank: `reason` says what
 * is missing or wrong.
 *
 * @category errors
 * @since 0.1.0
 */
export class BootstrapError extends Data.TaggedError("BootstrapError")<{ readonly reason: string; readonly message: string }> {
  constructor(reason: string) {
    super({ reason, message: `cannot start this rank from its environment: ${reason}` })
  }
}

type Env = Readonly<Record<string, string | undefined>>

const sources: ReadonlyArray<{ source: Source; rank: string; size: string }> = [
  { source: "rankflow", rank: "RANKFLOW_RANK", size: "RANKFLOW_SIZE" },
  { source: "openmpi", rank: "OMPI_COMM_WORLD_RANK", size: "OMPI_COMM_WORLD_SIZE" },
  { source: "mpich", rank: "PMI_RANK", size: "PMI_SIZE" },
  { source: "slurm", rank: "SLURM_PROCID", size: "SLURM_NTASKS" }
]

const int = (env: Env, name: string): number => {
  const v = env[name]
  const n = Number(v)
  if (v === undefined || v.trim() === "" || !Number.isInteger(n) || n < 0) throw new BootstrapError(`${name} must be a non-negative integer; got ${JSON.stringify(v)}`)
  return n
}

/**
 * The 32-bit FNV-1a hash of a string, for ports derived from job ids.
 *
 * @category coordinator
 * @since 0.1.0
 */
export const fnv1a = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

/**
 * The coordinator port derived from a job id: 20000 + FNV-1a(id) mod 20000.
 *
 * @category coordinator
 * @since 0.1.0
 */
export const derivedPort = (jobId: string): number => 20000 + (fnv1a(jobId) % 20000)

const jobId = (source: Source, env: Env, ppid: number): string => {
  if (source === "openmpi") {
    const id = env.PMIX_NAMESPACE ?? env.OMPI_MCA_ess_base_jobid ?? env.OMPI_MCA_orte_ess_jobid
    if (id !== undefined) return `openmpi:${id}`
  }
  if (source === "slurm" && env.SLURM_JOB_ID !== undefined) return `slurm:${env.SLURM_JOB_ID}.${env.SLURM_STEP_ID ?? "0"}`
  if (source === "mpich" && env.PMI_KVSNAME !== undefined) return `mpich:${env.PMI_KVSNAME}`
  return `${source}:ppid-${ppid}`
}

/**
 * The first host of a Slurm host list ("node[07-09,12],gpu1" → "node07"):
 * where rank 0 runs, whatever the task distribution.
 *
 * @category coordinator
 * @since 0.1.0
 */
export const firstSlurmHost = (list: string): string | undefined => {
  const m = /^([^,[\]]+)(?:\[([^\],-]+))?/.exec(list.trim())
  if (m === null) return undefined
  return m[2] === undefined ? m[1] : `${m[1]}${m[2]}`
}

const oneMachine = (source: Source, env: Env, size: number): boolean => {
  if (source === "openmpi") return env.OMPI_COMM_WORLD_LOCAL_SIZE !== undefined && Number(env.OMPI_COMM_WORLD_LOCAL_SIZE) === size
  if (source === "mpich") return env.MPI_LOCALNRANKS !== undefined && Number(env.MPI_LOCALNRANKS) === size
  if (source === "slurm") return (env.SLURM_STEP_NUM_NODES ?? env.SLURM_NNODES) === "1"
  return false
}

/**
 * Reads a rank's bootstrap from `env` (default `process.env`). Throws a
 * {@link BootstrapError} naming what is missing, or the secret's
 * `StreamError` (`ERR_NO_SECRET`).
 *
 * @category bootstrap
 * @since 0.1.0
 */
export const fromEnvironment = (env: Env = process.env, ppid: number = process.ppid): Bootstrap => {
  const found = sources.find((s) => env[s.rank] !== undefined && env[s.size] !== undefined)
  if (found === undefined) {
    throw new BootstrapError(
      "no rank and size: set RANKFLOW_RANK, RANKFLOW_SIZE and RANKFLOW_COORDINATOR, or start under mpirun (Open MPI), mpiexec (MPICH) or srun (Slurm)"
    )
  }
  const rank = int(env, found.rank)
  const size = int(env, found.size)
  if (size < 1 || rank >= size) throw new BootstrapError(`${found.rank}=${rank} is not a rank of a world of ${found.size}=${size}`)
  const source = found.source
  let coordinator = env.RANKFLOW_COORDINATOR
  if (coordinator === undefined || coordinator === "") {
    if (source === "rankflow") throw new BootstrapError("RANKFLOW_COORDINATOR=host:port is not set")
    const port = derivedPort(jobId(source, env, ppid))
    const nodes = env.SLURM_STEP_NODELIST ?? env.SLURM_JOB_NODELIST
    if (oneMachine(source, env, size)) coordinator = `127.0.0.1:${port}`
    else if (source === "slurm" && nodes !== undefined && firstSlurmHost(nodes) !== undefined) coordinator = `${firstSlurmHost(nodes)}:${port}`
    else throw new BootstrapError(`this ${source} job spans machines: set RANKFLOW_COORDINATOR=host:port (rank 0's host and a free port) for every rank`)
  }
  try {
    parseHostPort(coordinator)
  } catch {
    throw new BootstrapError(`RANKFLOW_COORDINATOR must be host:port; got ${JSON.stringify(coordinator)}`)
  }
  const hostsCoordinator = rank === 0 && (source !== "rankflow" || env.RANKFLOW_HOST_COORDINATOR === "1")
  const world = env.RANKFLOW_WORLD === undefined || env.RANKFLOW_WORLD === "" ? undefined : env.RANKFLOW_WORLD
  return { rank, size, coordinator, hostsCoordinator, world, secret: loadSecret(env, rank), source }
}
