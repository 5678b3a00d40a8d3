/**
 * A task farm over a rankflow communicator, on any transport: the root rank
 * hands out calls, every other rank runs them (mpi4py.futures'
 * `MPICommExecutor`). Every rank calls {@link CommExecutor.start}: the root
 * gets an executor, the others serve calls until the root shuts it down and
 * then get `undefined`.
 *
 * The farm runs on a duplicate of the communicator (its own context), so it
 * never takes the program's own messages. It batches tiny calls as the
 * thread and process executors do. A rank cannot be terminated or replaced:
 * a worker rank that fails fails the calls it held (`WorkerExited`, `kind:
 * "rank"`) and takes no more; a running call that ignores its abort is
 * abandoned (the future is cancelled, the rank is no longer used).
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import { Comm as EffectComm } from "../../core/index.ts"
import { Comm } from "../../core/promise/index.ts"
import { bindRunner } from "../pool/Channel.ts"
import type { Link } from "../pool/Link.ts"
import { Runner, type ToWorker } from "../pool/Runner.ts"
import { WorkerPool } from "../pool/WorkerPool.ts"
import { Executor, type ExecutorOptions } from "./Executor.ts"

const TAG_TASK = 1
const TAG_RESULT = 2

/**
 * Options of a communicator executor.
 *
 * @category models
 * @since 0.2.0
 */
export interface CommExecutorOptions extends Omit<ExecutorOptions, "maxWorkers" | "resourceLimits" | "env" | "execArgv" | "name"> {
  /** The rank that hands out the calls (default 0). */
  readonly root?: number | undefined
}

const noop = (): void => {}

const rankLink = (comm: Comm, rank: number): Link => {
  let gone = false
  const link: Link = {
    kind: "rank",
    transfer: false,
    pid: rank,
    send(m) {
      if (gone) return
      comm.send(m, rank, TAG_TASK).catch(noop)
    },
    terminate() {
      link.kill()
    },
    kill() {
      // A rank cannot be ended from here: abandon it (it leaves after its call).
      if (gone) return
      comm.send({ t: "exit" }, rank, TAG_TASK).catch(noop)
      gone = true
      link.onExit({ reason: "terminated" })
    },
    ref: noop,
    onMessage: noop,
    onExit: noop
  }
  const loop = async (): Promise<void> => {
    for (;;) {
      let m: any
      try {
        m = await comm.recv(rank, TAG_RESULT)
      } catch (e) {
        if (!gone) {
          gone = true
          link.onExit({ reason: "error", cause: e })
        }
        return
      }
      if (m?.t === "bye") {
        if (!gone) {
          gone = true
          link.onExit({ reason: "exit", exitCode: 0 })
        }
        return
      }
      if (!gone) link.onMessage(m)
    }
  }
  void loop()
  return link
}

const serve = async (comm: Comm, root: number): Promise<void> => {
  let done!: () => void
  const finished = new Promise<void>((r) => (done = r))
  const runner = new Runner({
    transfer: false,
    post: (m) => void comm.send(m, root, TAG_RESULT).catch(noop),
    memory: () => process.memoryUsage.rss(),
    exit: () => {
      void comm.send({ t: "bye" }, root, TAG_RESULT).catch(noop).then(done)
    }
  })
  // Queues and pipes passed to a call reach their home (the root) through
  // this rank's runner.
  bindRunner(runner)
  const loop = async (): Promise<void> => {
    for (;;) {
      const m = await comm.recv<ToWorker>(root, TAG_TASK)
      runner.receive(m)
      if (m.t === "exit") return
    }
  }
  await Promise.race([loop().then(() => finished), finished])
}

/**
 * An executor whose workers are the other ranks of a communicator.
 *
 * @example
 * ```ts
 * // npx rankflow run -n 4 farm.ts
 * import type { Comm } from "rankflow/promise"
 * import { CommExecutor } from "rankflow/patterns/executor"
 * export default async (comm: Comm) => {
 *   await using ex = await CommExecutor.start(comm)
 *   if (ex !== undefined) return await ex.map((x: number) => x * x, [1, 2, 3]) // rank 0: [1, 4, 9]
 * }
 * ```
 * @category executors
 * @since 0.2.0
 */
export class CommExecutor extends Executor {
  /** The communicator the farm runs on (a duplicate of the one given). */
  readonly comm: Comm

  private constructor(comm: Comm, pool: WorkerPool) {
    super(pool)
    this.comm = comm
  }

  /**
   * Starts the farm on every rank of `comm` (collective). The root gets the
   * executor; every other rank serves calls and resolves to `undefined`
   * once the root has shut it down.
   */
  static async start(comm: Comm, options: CommExecutorOptions = {}): Promise<CommExecutor | undefined> {
    const root = options.root ?? 0
    const farm = await comm.dup()
    if (farm.rank !== root) {
      await serve(farm, root)
      farm.free()
      return undefined
    }
    const others = Array.from({ length: farm.size }, (_, r) => r).filter((r) => r !== root)
    const { root: _, ...rest } = options
    const pool = new WorkerPool({
      ...rest,
      maxWorkers: Math.max(1, others.length),
      start: (i) => rankLink(farm, others[i % others.length]!),
      replace: false,
      eager: true
    })
    if (others.length === 0) {
      pool.close()
    }
    return new CommExecutor(farm, pool)
  }

  /**
   * `start` in the Effect face: needs the `Comm` service; the root's
   * executor is shut down when the scope closes.
   */
  static startEffect(options: CommExecutorOptions = {}) {
    return Effect.gen(function*() {
      const c = yield* EffectComm.Comm
      const comm = new Comm(c.core)
      return yield* Effect.acquireRelease(
        Effect.promise(() => CommExecutor.start(comm, options)),
        (ex) => (ex === undefined ? Effect.void : ex.shutdownEffect())
      )
    })
  }

  override shutdown(options?: { readonly wait?: boolean; readonly cancelFutures?: boolean }): Promise<void> {
    return super.shutdown(options)
  }
}

