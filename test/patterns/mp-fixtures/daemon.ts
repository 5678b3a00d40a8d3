// Daemon Processes of the start method argv[2], in the scenario argv[3]; prints
// what it saw as JSON and returns. The program must end without waiting for
// the daemon, except while it joins it or waits on a queue it fills.
//  - forever:  the daemon reports its pid, then waits forever
//  - consumer: the daemon doubles numbers from one queue onto another, forever
//  - join:     the daemon takes one value and returns; the program joins it
import { getContext, type QueueLike, type StartMethod } from "rankflow/patterns/process"

const ctx = getContext(process.argv[2] as StartMethod)
const scenario = process.argv[3]

if (scenario === "forever") {
  const q = ctx.Queue<number>()
  const p = ctx.Process({
    target: async (q: QueueLike<number>) => {
      await q.put(process.pid)
      await new Promise(() => {})
    },
    args: [q],
    daemon: true
  })
  p.start()
  const pid = await q.get()
  console.log(JSON.stringify({ daemon: p.daemon, alive: p.isAlive(), pid }))
} else if (scenario === "consumer") {
  const inbox = ctx.Queue<number>()
  const outbox = ctx.Queue<number>()
  const p = ctx.Process({
    target: async (inbox: QueueLike<number>, outbox: QueueLike<number>) => {
      for (;;) await outbox.put(2 * (await inbox.get()))
    },
    args: [inbox, outbox],
    daemon: true
  })
  p.start()
  for (const x of [1, 2, 3]) await inbox.put(x)
  const got = [await outbox.get(), await outbox.get(), await outbox.get()]
  console.log(JSON.stringify({ got, alive: p.isAlive() }))
} else if (scenario === "join") {
  const q = ctx.Queue<number>()
  const p = ctx.Process({ target: async (q: QueueLike<number>) => void (await q.get()), args: [q], daemon: true })
  p.start()
  await q.put(1)
  await p.join()
  console.log(JSON.stringify({ exitCode: p.exitCode, alive: p.isAlive() }))
}
