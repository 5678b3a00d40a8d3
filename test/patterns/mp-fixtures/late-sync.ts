// A thread pool whose worker started before rankflow/patterns/sync was loaded:
// a shared object passed to it fails with a message that says why and how to fix it.
import { Pool } from "rankflow/patterns/process"

await using p = new Pool(1, { context: "thread" })
const before = await p.map((x: number) => x + 1, [1])
const mp = await import("rankflow/patterns/sync")
let message = ""
try {
  await p.apply((l: unknown) => String(l), [new mp.Lock()])
} catch (e) {
  message = (e as Error).message
}
const after = await p.map((x: number) => x * 2, [4])
console.log(JSON.stringify({ before, message, after }))
