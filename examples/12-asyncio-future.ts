/**
 * The seed talk's asyncio example, a coroutine that completes a future
 * after a sleep:
 *
 *     import asyncio
 *
 *     @asyncio.coroutine
 *     def sleep_coroutine(f):
 *         yield from asyncio.sleep(2)
 *         f.set_result("Done!")
 *
 *     # how it is run (not on the slide)
 *     loop = asyncio.get_event_loop()
 *     future = asyncio.Future()
 *     asyncio.ensure_future(sleep_coroutine(future))
 *     loop.run_until_complete(future)
 *     print(future.result())
 *
 * Twice: with async functions (the Promise face, where a coroutine is an
 * async function and `await` is `yield from`), then as Effects (where it is
 * a generator and `yield*` is, literally, `yield from`). Times are in
 * milliseconds; the sleep is 2000 unless given as the first argument.
 *
 * Run: node_modules/.bin/node examples/12-asyncio-future.ts [ms]
 */
import { Effect } from "effect"
import * as asyncio from "rankflow/patterns/asyncio"
import * as aio from "rankflow/patterns/asyncio/promise"

const ms = Number(process.argv[2] ?? 2000)
if (!(ms >= 0)) throw new RangeError(`the sleep must be a number of milliseconds ≥ 0; got ${process.argv[2]}`)

// Promise face
async function sleepCoroutine(f: aio.Future<string>): Promise<void> {
  await aio.sleep(ms)
  f.setResult("Done!")
}

const future = new aio.Future<string>()
aio.createTask(() => sleepCoroutine(future))
await future
console.log(`async function: ${future.result()}`)

// Effect face
const sleepEffect = (f: asyncio.Future<string>) =>
  Effect.gen(function*() {
    yield* asyncio.sleep(ms)
    f.setResult("Done!")
  })

const program = Effect.gen(function*() {
  const future = new asyncio.Future<string>()
  yield* asyncio.createTask(sleepEffect(future))
  yield* future.join
  return future.result()
})

console.log(`Effect: ${await Effect.runPromise(program)}`)
