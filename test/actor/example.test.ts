// examples/actor-bank.ts end to end through `rankflow run`, on 3 worker
// ranks: the money moved, the balances held, and the restart after an
// overdraft are parsed from its output and checked.
import test from "ava"
import { rankflow } from "../run/rankflow.ts"

test("examples/actor-bank.ts on 3 worker ranks: transfers by name, a credited audit log, a supervised restart", async (t) => {
  const transfers = 20
  const r = await rankflow(["run", "-n", "3", "--transport", "worker", "--timeout", "30", "examples/actor-bank.ts", String(transfers)], 60_000)
  t.is(r.code, 0, r.stderr)
  const m = /^3 ranks moved (\d+) in (\d+) audited transfers; the accounts hold (\d+) \(3 x 1000\)$/m.exec(r.stdout)
  t.truthy(m, r.stdout)
  t.deepEqual(m!.slice(1).map(Number), [3 * transfers * 7, 3 * transfers, 3000])
  t.regex(r.stdout, /^after an overdraft, account-0 restarted as incarnation 1 with 1000$/m)
})
