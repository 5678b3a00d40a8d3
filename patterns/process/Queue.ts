/**
 * Message queues and pipes between this process and its workers (Python's
 * `multiprocessing.Queue` and `Pipe`). They live in the process that made
 * them; passed to a `Process`, a pool task or an initializer (as a
 * top-level argument) they arrive as proxies whose operations travel to
 * their home. Every operation is asynchronous.
 *
 * @since 0.2.0
 */
import { Channel, type ChannelLike, Connection } from "../pool/Channel.ts"

/**
 * A first-in first-out queue shared with workers (Python's
 * `multiprocessing.Queue`): `put`, `get` (with `block` and `timeout`),
 * `putNowait`, `getNowait`, `qsize`, `empty`, `full`, `close`, and
 * `taskDone`/`join` (see {@link JoinableQueue}). In a worker, type it as
 * {@link QueueLike}.
 *
 * @example
 * ```ts
 * import { Pool, Queue, type QueueLike } from "rankflow/patterns/process"
 * const q = new Queue<number>()
 * await using p = new Pool(2)
 * await p.apply(async (q: QueueLike<number>, x: number) => { await q.put(x * 10) }, [q, 4])
 * console.log(await q.get()) // 40
 * ```
 * @category models
 * @since 0.2.0
 */
export class Queue<A = unknown> extends Channel<A> {
  /** `maxsize` ≤ 0 (the default): unbounded. */
  constructor(maxsize = 0) {
    super(maxsize)
  }
  /** Python's `join_thread`: nothing to wait for here. */
  joinThread(): Promise<void> {
    return Promise.resolve()
  }
}

/**
 * A {@link Queue} named for Python's `multiprocessing.JoinableQueue`: every
 * value put counts as unfinished until a consumer calls `taskDone()` for
 * it, and `join()` waits until none is (every `Queue` here can do this, as
 * asyncio's can).
 *
 * @example
 * ```ts
 * import { JoinableQueue, Pool, type QueueLike } from "rankflow/patterns/process"
 * const q = new JoinableQueue<number>()
 * await using p = new Pool(2)
 * p.applyAsync(async (q: QueueLike<number>) => {
 *   for (;;) {
 *     await q.get()
 *     await q.taskDone()
 *   }
 * }, [q])
 * for (const x of [1, 2, 3]) await q.put(x)
 * await q.join() // all three were taken and done
 * ```
 * @category models
 * @since 0.2.0
 */
export class JoinableQueue<A = unknown> extends Queue<A> {}

/**
 * A queue as seen from anywhere (home or a worker).
 *
 * @category models
 * @since 0.2.0
 */
export type QueueLike<A = unknown> = ChannelLike<A>

/**
 * Two connected ends (Python's `multiprocessing.Pipe`): duplex by default
 * (each end sends to the other); with `duplex` false, the first end only
 * receives and the second only sends.
 *
 * @example
 * ```ts
 * import { Pipe, Process } from "rankflow/patterns/process"
 * const [parent, child] = Pipe<string>()
 * const p = new Process({ target: async (c: typeof child) => { await c.send("hi " + (await c.recv())) }, args: [child] })
 * p.start()
 * await parent.send("there")
 * console.log(await parent.recv()) // "hi there"
 * await p.join()
 * ```
 * @category constructors
 * @since 0.2.0
 */
export const Pipe = <A = unknown>(duplex = true): [Connection<A>, Connection<A>] => {
  const ab = new Channel<A>()
  if (!duplex) return [new Connection<A>(ab, undefined), new Connection<A>(undefined, ab)]
  const ba = new Channel<A>()
  return [new Connection<A>(ba, ab), new Connection<A>(ab, ba)]
}

export { Connection }
