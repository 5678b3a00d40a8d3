// The progress bar of long maps: drawn by cli-progress on a terminal, never
// when the output is not one. The terminal is a stream that says it is a
// TTY and keeps what is written to it.
import test from "ava"
import { spawn } from "node:child_process"
import { Writable } from "node:stream"
import { fileURLToPath } from "node:url"
import { type ExecutorOptions, ProcessPoolExecutor, task, ThreadPoolExecutor } from "rankflow/patterns/executor"
import { startProgress } from "rankflow/patterns/pool"
import type * as T from "./fixtures/tasks.ts"

const square = task<typeof T.square>(new URL("./fixtures/tasks.ts", import.meta.url), "square")

class Screen extends Writable {
  readonly isTTY: boolean
  readonly columns = 120
  text = ""
  constructor(isTTY: boolean) {
    super()
    this.isTTY = isTTY
  }
  override _write(chunk: Buffer, _: BufferEncoding, done: () => void): void {
    this.text += chunk.toString()
    done()
  }
}

const makers: ReadonlyArray<readonly [string, (o: ExecutorOptions) => ThreadPoolExecutor | ProcessPoolExecutor]> = [
  ["thread", (o) => new ThreadPoolExecutor(o)],
  ["process", (o) => new ProcessPoolExecutor(o)]
]

for (const [kind, make] of makers) {
  test(`${kind}: a map draws its bar on a terminal, up to the last item`, async (t) => {
    await using ex = make({ maxWorkers: 2 })
    const screen = new Screen(true)
    const xs = Array.from({ length: 500 }, (_, i) => i)
    const ys = await ex.map(square, xs, { progress: { stream: screen, delayMs: 0, label: "squares" } })
    t.deepEqual(ys, xs.map((x) => x * x))
    t.regex(screen.text, /squares \[/)
    t.regex(screen.text, /100% \| 500\/500/)
    t.true(screen.text.includes("\x1B[?25l")) // the cursor is hidden while it draws
  })
}

test("no bar on a stream that is not a terminal", (t) => {
  const screen = new Screen(false)
  const p = startProgress({ stream: screen, delayMs: 0 }, 10)
  p.advance(5)
  p.advance(5)
  p.stop()
  t.is(screen.text, "")
})

test("a map that ends before the delay draws nothing", (t) => {
  const screen = new Screen(true)
  const p = startProgress({ stream: screen, delayMs: 60_000 }, 3)
  p.advance(3)
  p.stop()
  t.is(screen.text, "")
})

test("a bar whose total is learned late (an iterator without a length) ends at it", (t) => {
  const screen = new Screen(true)
  const p = startProgress({ stream: screen, delayMs: 0 }, undefined)
  p.advance(4)
  p.setTotal(7)
  p.advance(3)
  p.stop()
  t.regex(screen.text, /100% \| 7\/7/)
})

// A program whose standard output is a pipe, not a terminal: "auto" draws
// nothing there; `progress: true` draws anyway.
const program = (progress: string) => `
  import { ThreadPoolExecutor, task } from "rankflow/patterns/executor"
  const square = task(new URL("./fixtures/tasks.ts", ${JSON.stringify(import.meta.url)}), "square")
  const ex = new ThreadPoolExecutor({ maxWorkers: 1 })
  const ys = await ex.map(square, Array.from({ length: 300 }, (_, i) => i), { progress: ${progress} })
  await ex.shutdown()
  console.log("sum", ys.reduce((a, b) => a + b, 0))
`
const runPiped = (source: string): Promise<{ out: string; code: number | null }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", source], {
      cwd: fileURLToPath(new URL("../../", import.meta.url)),
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (out += d))
    child.on("close", (code) => resolve({ out, code }))
  })

test("on a pipe, the default draws no bar and progress: true draws one", async (t) => {
  const auto = await runPiped(program(`{ delayMs: 0 }`))
  t.is(auto.code, 0)
  t.is(auto.out.trim(), `sum ${Array.from({ length: 300 }, (_, i) => i * i).reduce((a, b) => a + b, 0)}`)
  const forced = await runPiped(program("true"))
  t.is(forced.code, 0)
  t.regex(forced.out, /map \[.*\] 100% \| 300\/300/)
})
