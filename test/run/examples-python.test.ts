/**
 * The seed talk's Python-library examples, each run as its own program with
 * this project's Node: multiprocessing's `Pool(5).map`, concurrent.futures'
 * `ThreadPoolExecutor` with `asCompleted` against the local server the
 * example starts, and asyncio's coroutine completing a future. Their output
 * is parsed and checked; nothing about time is asserted.
 */
import test, { type ExecutionContext } from "ava"
import { PAGES } from "../../examples/11-executor-as-completed.ts"
import { type Ran, runNode } from "./rankflow.ts"

/** Runs `examples/<file>` with this project's Node; kills it and rejects after `limitMs`. */
const node = (file: string, args: ReadonlyArray<string> = [], limitMs = 30_000): Promise<Ran> =>
  runNode(`examples/${file}`, args, limitMs, file)

const ok = async (t: ExecutionContext, file: string, args: ReadonlyArray<string> = []): Promise<string> => {
  const r = await node(file, args)
  t.is(r.code, 0, `${file}:\n${r.stderr}`)
  t.is(r.stderr, "", file)
  return r.stdout
}

test("10-pool-map: Pool(5).map(f, [1, 2, 3]) prints [1, 4, 9]", async (t) => {
  t.is(await ok(t, "10-pool-map.ts"), "[ 1, 4, 9 ]\n")
})

test("11-executor-as-completed: every page's size, and the missing page's exception, once each", async (t) => {
  const out = await ok(t, "11-executor-as-completed.ts")
  const lines = out.trimEnd().split("\n")
  t.is(lines.length, Object.keys(PAGES).length + 1, out)
  const port = /127\.0\.0\.1:(\d+)\//.exec(out)?.[1]
  t.truthy(port, out)
  const sizes = new Map<string, number>()
  for (const line of lines) {
    const m = /^'http:\/\/127\.0\.0\.1:(\d+)(\/[a-z]+\.html)' (?:page is (\d+) bytes|generated an exception: (.*))$/.exec(line)
    if (m === null) {
      t.fail(`unexpected line: ${line}`)
      continue
    }
    t.is(m[1]!, port!)
    t.false(sizes.has(m[2]!), `${m[2]} reported twice`)
    if (m[3] !== undefined) sizes.set(m[2]!, Number(m[3]))
    else {
      t.is(m[2], "/missing.html")
      t.is(m[4], "HTTP Error 404: Not Found")
      sizes.set(m[2]!, -1)
    }
  }
  t.deepEqual(
    Object.fromEntries(sizes),
    { ...Object.fromEntries(Object.entries(PAGES).map(([path, [, size]]) => [path, size])), "/missing.html": -1 }
  )
})

test("12-asyncio-future: the future completed after the sleep reads Done! in both faces", async (t) => {
  t.is(await ok(t, "12-asyncio-future.ts", ["20"]), "async function: Done!\nEffect: Done!\n")
  const bad = await node("12-asyncio-future.ts", ["soon"])
  t.is(bad.code, 1)
  t.regex(bad.stderr, /RangeError: the sleep must be a number of milliseconds ≥ 0; got soon/)
})
