// A rank dies under watched actors: on the worker transport its program
// throws; on the process transport its process is killed with SIGKILL.
// Watchers get Terminated { reason: "rank-lost" }, a pending ask fails with
// DeadActor, a supervised child restarts on the supervisor's rank, the
// names of its actors are dropped, and nothing waits forever.
import test from "ava"
import { runWorld } from "../../promise.ts"

const KILL = new URL("./fixtures/kill.ts", import.meta.url)

for (const [transport, how] of [["worker", "throw"], ["process", "kill9"]] as const) {
  test(`rank 2 of 3 is lost (${how}) on the ${transport} transport: Terminated rank-lost, failed asks, supervised restart here`, async (t) => {
    const outcomes = new Map<number, any>()
    const e: any = await runWorld({ size: 3, transport, timeout: 60_000, argv: [how], onOutcome: (o) => outcomes.set(o.rank, o) }, KILL).catch((x) => x)
    t.is(e?._tag, "WorldFailed")
    t.deepEqual(e.failures.map((f: any) => f.rank), [2])
    t.true(outcomes.get(1)?.ok)
    const o = outcomes.get(0)?.value
    t.truthy(o, JSON.stringify(outcomes.get(0)?.error?.message))
    t.is(o.outside, "rank-lost")
    t.deepEqual(o.pending, { tag: "DeadActor", reason: "rank 2 is lost" })
    t.is(o.beforeRank, 2)
    t.deepEqual(o.notices, ["c:rank-lost", "hang:rank-lost"])
    t.deepEqual(o.restarted, { incarnation: 1, rank: 0, answers: 0 })
    t.deepEqual(o.askAfter, { tag: "DeadActor", reason: "rank 2 is lost" })
    t.is(o.deadLetter, 1)
    t.deepEqual(o.spawnOnLost, { tag: "DeadActor", reason: "rank 2 is lost" })
    t.is(o.whereis, undefined)
  })
}
