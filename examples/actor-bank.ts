/**
 * Actors across ranks: one supervised account per rank, found by name,
 * money moved with asks from any rank, an overdraft that crashes an account
 * and the supervisor restarting it (a fresh incarnation, same id), and a
 * bounded audit log whose tells wait for credit when it is full.
 *
 *     npx rankflow run -n 4 examples/actor-bank.ts [transfers]
 */
import { ActorSystem, Behavior, type Context, Supervisor } from "rankflow/patterns/actor"
import type { ActorRef } from "rankflow/patterns/actor"
import type { Comm } from "rankflow/promise"

type AccountMsg = { deposit: number } | { withdraw: number } | "balance"

Behavior.define("account", (opening: number) => {
  let balance = opening
  return (msg: AccountMsg) => {
    if (msg === "balance") return balance
    if ("deposit" in msg) return (balance += msg.deposit)
    if (msg.withdraw > balance) throw new RangeError(`overdraft: ${msg.withdraw} > ${balance}`)
    return (balance -= msg.withdraw)
  }
})

Behavior.define("audit", () => {
  let entries = 0
  return async (msg: string | "count") => {
    if (msg === "count") return entries
    entries++
    await new Promise((r) => setTimeout(r, 0)) // a slow disk
  }
})

export default async (comm: Comm) => {
  const transfers = Number(process.argv[2] ?? 100)
  const system = await ActorSystem.start(comm)
  // every rank supervises its own account, registered as account-<rank>
  const sup = Supervisor.start(system, {
    strategy: "oneForOne",
    intensity: 10,
    period: 1000,
    backoff: { initial: 1, max: 50 },
    children: [{ id: "account", behavior: "account", args: 1000, name: `account-${comm.rank}` }]
  })
  const audit = comm.rank === 0 ? system.spawn("audit", { mailbox: { capacity: 8, overflow: "suspend" } }) : undefined
  if (comm.rank === 0) await system.register("audit", audit!)
  await comm.barrier()
  await new Promise((r) => setTimeout(r, 10)) // names registered everywhere

  const find = async (name: string): Promise<ActorRef<AccountMsg>> => {
    for (;;) {
      const ref = await system.whereis(name)
      if (ref !== undefined) return ref
      await new Promise((r) => setTimeout(r, 5))
    }
  }
  const log = (await system.whereis("audit"))!
  let moved = 0
  for (let i = 0; i < transfers; i++) {
    const to = await find(`account-${(comm.rank + 1 + (i % (comm.size - 1 || 1))) % comm.size}`)
    const from = await find(`account-${comm.rank}`)
    try {
      await system.ask(from, { withdraw: 7 })
      await system.ask(to, { deposit: 7 })
      moved += 7
      await system.tell(log, `rank ${comm.rank} moved 7 to ${to}`) // waits for credit when the log is full
    } catch {
      // a stale ref (the account restarted meanwhile): look it up again
    }
  }
  const total = await comm.allreduce(moved) // every rank is done transferring
  const held = await comm.allreduce(await system.ask<number>(await find(`account-${comm.rank}`), "balance"))
  // an overdraft crashes this rank's account; its supervisor restarts it with 1000 again
  const mine = await find(`account-${comm.rank}`)
  await system.ask(mine, { withdraw: 1e9 }).catch((e) => e._tag)
  let restarted: ActorRef | undefined
  while (restarted === undefined || restarted.incarnation === mine.incarnation) {
    await new Promise((r) => setTimeout(r, 5))
    restarted = (await Supervisor.children(system, sup)).account
  }
  const balance = await system.ask<number>(restarted, "balance")
  await comm.barrier()
  if (comm.rank === 0) {
    const entries = await system.ask<number>(audit!, "count")
    console.log(`${comm.size} ranks moved ${total} in ${entries} audited transfers; the accounts hold ${held} (${comm.size} x 1000)`)
    console.log(`after an overdraft, account-0 restarted as incarnation ${restarted.incarnation} with ${balance}`)
  }
  await system.shutdown()
  return balance
}
