/**
 * The raw floor of the byte-stream transports, measured in the same run:
 * two fresh Node processes ping-pong (or stream a window of messages) with
 * nothing of rankflow in between — bare `node:net` over TCP loopback, bare
 * `node:net` over a Unix domain socket, and bare `ws` (binary messages, no
 * compression) over loopback.
 *
 * On `node:net` a message is a 4-byte length and the body (the least framing
 * any message protocol needs), written in one `write`, with Nagle off; on
 * `ws` it is one binary message. Both processes are given the same plan
 * (sizes, rounds, window), so the echoing side only counts what arrives and
 * answers after each round: the same message back for a ping-pong, an empty
 * acknowledgement after a window.
 *
 * The launcher side (`streamFloor`) runs in the benchmark's process; the
 * same file is the two processes' program (`echo` and `drive`).
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer as httpServer } from "node:http"
import { connect, createServer, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { WebSocket, WebSocketServer } from "ws"
import type { Point } from "./floor.ts"

/** Which bare stream: `node:net` over TCP or over a Unix socket, or `ws`. */
export type StreamKind = "tcp" | "unix" | "ws"

/** What both processes do: per size, `iters` timed rounds after a warm-up. */
interface Plan {
  readonly mode: "lat" | "bw"
  readonly sizes: ReadonlyArray<number>
  readonly iters: ReadonlyArray<number>
  readonly window: number
}

const HEADER = 4
const SELF = fileURLToPath(import.meta.url)

/** The rounds of every size, the unmeasured warm-up size first (as bench/floor/peer.ts does). */
const schedule = (plan: Plan): Array<{ size: number; rounds: number; warmup: number }> => {
  const sizes = [plan.sizes[0]!, ...plan.sizes]
  const iters = [plan.iters[0]! * 4, ...plan.iters]
  return sizes.map((size, i) => {
    const n = iters[i]!
    const warmup = plan.mode === "lat" ? Math.max(2, n >> 3) : Math.max(1, n >> 4)
    return { size, rounds: n + warmup, warmup }
  })
}

/** A message of `size` bytes on `node:net`: its length, then the body. */
const message = (size: number): Buffer => {
  const b = Buffer.alloc(HEADER + size, 1)
  b.writeUInt32LE(size, 0)
  return b
}

// ------------------------------------------------------------------ launcher

const lines = (child: ReturnType<typeof spawn>): AsyncIterator<string> => {
  let buf = ""
  const queue: Array<string> = []
  const waiters: Array<(r: IteratorResult<string>) => void> = []
  let done = false
  const flush = () => {
    while (waiters.length > 0 && (queue.length > 0 || done)) {
      const w = waiters.shift()!
      if (queue.length > 0) w({ value: queue.shift()!, done: false })
      else w({ value: undefined, done: true })
    }
  }
  child.stdout!.setEncoding("utf8")
  child.stdout!.on("data", (d: string) => {
    buf += d
    let i: number
    while ((i = buf.indexOf("\n")) >= 0) {
      queue.push(buf.slice(0, i))
      buf = buf.slice(i + 1)
    }
    flush()
  })
  child.stdout!.on("end", () => {
    done = true
    flush()
  })
  return { next: () => new Promise((resolve) => (waiters.push(resolve), flush())) }
}

/**
 * Runs one bare-stream benchmark between two fresh processes and returns
 * the driver's figures: one-way µs per size (`lat`), or MB/s of a window of
 * `window` messages then an acknowledgement (`bw`).
 */
const run = async (kind: StreamKind, plan: Plan): Promise<Array<Point>> => {
  const dir = kind === "unix" ? mkdtempSync(join(tmpdir(), "rankflow-floor-")) : ""
  const spec = JSON.stringify(plan)
  const echo = spawn(process.execPath, [SELF, "echo", kind, dir, spec], { stdio: ["ignore", "pipe", "inherit"] })
  try {
    const out = lines(echo)
    const first = await out.next()
    if (first.done) throw new Error(`the ${kind} floor's echo process ended before listening`)
    const address = first.value
    const driver = spawn(process.execPath, [SELF, "drive", kind, address, spec], { stdio: ["ignore", "pipe", "inherit"] })
    const result = await lines(driver).next()
    const code = await new Promise<number | null>((resolve) => (driver.exitCode !== null ? resolve(driver.exitCode) : driver.once("exit", resolve)))
    if (result.done || code !== 0) throw new Error(`the ${kind} floor's driver failed (exit ${code})`)
    return JSON.parse(result.value) as Array<Point>
  } finally {
    echo.kill()
    if (dir !== "") rmSync(dir, { recursive: true, force: true })
  }
}

/** One-way time of a bare ping-pong over `kind` between two processes, per size, in microseconds. */
export const streamPingPong = (kind: StreamKind, sizes: ReadonlyArray<number>, iters: ReadonlyArray<number>): Promise<Array<Point>> =>
  run(kind, { mode: "lat", sizes, iters, window: 1 })

/** MB/s of a window of messages then an acknowledgement, over `kind` between two processes, per size. */
export const streamBandwidth = (kind: StreamKind, sizes: ReadonlyArray<number>, iters: ReadonlyArray<number>, window = 64): Promise<Array<Point>> =>
  run(kind, { mode: "bw", sizes, iters, window })

// ------------------------------------------------------------ the processes

/** Calls `onRound` each time a round's messages have all arrived; counts bytes (net) or messages (ws). */
class Counter {
  private readonly steps: ReturnType<typeof schedule>
  private step = 0
  private round = 0
  private have = 0
  private readonly plan: Plan
  private readonly unit: "bytes" | "messages"
  constructor(plan: Plan, unit: "bytes" | "messages") {
    this.plan = plan
    this.steps = schedule(plan)
    this.unit = unit
  }
  /** How much makes one round (bytes or messages). */
  private need(): number {
    const per = this.plan.mode === "lat" ? 1 : this.plan.window
    return this.unit === "bytes" ? per * (HEADER + this.steps[this.step]!.size) : per
  }
  /** Takes `n` bytes or messages; returns how many rounds completed, calling `reply(size)` for each. */
  take(n: number, reply: (size: number) => void): void {
    this.have += n
    while (this.step < this.steps.length && this.have >= this.need()) {
      this.have -= this.need()
      reply(this.plan.mode === "lat" ? this.steps[this.step]!.size : 0)
      if (++this.round === this.steps[this.step]!.rounds) {
        this.round = 0
        this.step++
      }
    }
  }
}

const echoNet = (kind: "tcp" | "unix", dir: string, plan: Plan): void => {
  const counter = new Counter(plan, "bytes")
  const replies = new Map<number, Buffer>()
  const server = createServer((socket: Socket) => {
    socket.setNoDelay(true)
    const reply = (size: number) => {
      let b = replies.get(size)
      if (b === undefined) replies.set(size, (b = message(size)))
      socket.write(b)
    }
    socket.on("data", (chunk: Buffer) => counter.take(chunk.byteLength, reply))
    socket.on("error", () => {})
    socket.on("close", () => process.exit(0))
  })
  const ready = () => {
    const a = server.address()
    process.stdout.write(`${typeof a === "string" ? a : a!.port}\n`)
  }
  if (kind === "unix") server.listen(join(dir, "echo.sock"), ready)
  else server.listen(0, "127.0.0.1", ready)
}

const echoWs = (plan: Plan): void => {
  const counter = new Counter(plan, "messages")
  const replies = new Map<number, Buffer>()
  const server = httpServer()
  const wss = new WebSocketServer({ server, path: "/bench", perMessageDeflate: false })
  wss.on("connection", (ws) => {
    const reply = (size: number) => {
      let b = replies.get(size)
      if (b === undefined) replies.set(size, (b = Buffer.alloc(size, 1)))
      ws.send(b)
    }
    ws.on("message", () => counter.take(1, reply))
    ws.on("close", () => process.exit(0))
  })
  server.listen(0, "127.0.0.1", () => {
    const a = server.address()
    process.stdout.write(`${typeof a === "string" ? a : a!.port}\n`)
  })
}

/** The driver: sends each round, waits for its answer, times the rounds after the warm-up. */
const drive = async (kind: StreamKind, address: string, plan: Plan): Promise<void> => {
  let arrived = 0
  let wanted = Infinity
  let wake: (() => void) | undefined
  const got = (n: number) => {
    arrived += n
    if (arrived >= wanted && wake !== undefined) {
      const w = wake
      wake = undefined
      w()
    }
  }
  /** Resolves once `n` more bytes (net) or messages (ws) have arrived since the last call. */
  const expect = (n: number): Promise<void> => {
    if (arrived >= n) {
      arrived -= n
      return Promise.resolve()
    }
    wanted = n
    return new Promise<void>((resolve) => {
      wake = () => {
        arrived -= n
        wanted = Infinity
        resolve()
      }
    })
  }
  let send: (size: number) => void
  let close: () => void
  if (kind === "ws") {
    const ws = new WebSocket(`ws://127.0.0.1:${address}/bench`, { perMessageDeflate: false })
    await new Promise<void>((resolve, reject) => (ws.once("open", () => resolve()), ws.once("error", reject)))
    ws.on("message", () => got(1))
    const bodies = new Map<number, Buffer>()
    send = (size) => {
      let b = bodies.get(size)
      if (b === undefined) bodies.set(size, (b = Buffer.alloc(size, 1)))
      ws.send(b)
    }
    close = () => ws.close()
  } else {
    const socket = kind === "unix" ? connect(address) : connect(Number(address), "127.0.0.1")
    await new Promise<void>((resolve, reject) => (socket.once("connect", () => resolve()), socket.once("error", reject)))
    socket.setNoDelay(true)
    socket.on("data", (chunk: Buffer) => got(chunk.byteLength))
    const bodies = new Map<number, Buffer>()
    send = (size) => {
      let b = bodies.get(size)
      if (b === undefined) bodies.set(size, (b = message(size)))
      socket.write(b)
    }
    close = () => socket.end()
  }
  const results: Array<Point> = []
  for (const { size, rounds, warmup } of schedule(plan)) {
    const answer = kind === "ws" ? 1 : HEADER + (plan.mode === "lat" ? size : 0)
    let t0 = 0
    for (let i = 0; i < rounds; i++) {
      if (i === warmup) t0 = performance.now()
      if (plan.mode === "lat") send(size)
      else for (let k = 0; k < plan.window; k++) send(size)
      await expect(answer)
    }
    const ms = performance.now() - t0
    const n = rounds - warmup
    results.push({ size, value: plan.mode === "lat" ? (ms * 1000) / n / 2 : (size * plan.window * n) / (ms / 1000) / 1e6 })
  }
  process.stdout.write(`${JSON.stringify(results.slice(1))}\n`)
  close()
}

if (process.argv[1] === SELF) {
  const [role, kind, where, spec] = process.argv.slice(2) as [string, StreamKind, string, string]
  const plan = JSON.parse(spec) as Plan
  if (role === "echo") {
    if (kind === "ws") echoWs(plan)
    else echoNet(kind, where, plan)
  } else {
    await drive(kind, where, plan)
    process.exit(0)
  }
}
