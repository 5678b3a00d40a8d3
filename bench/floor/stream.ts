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
 * The launcher side (`streamFloor`, `streamPingPong`, `streamBandwidth`)
 * runs in the benchmark's process; the same file is the two processes'
 * program (`echo` and `drive`).
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

/** How long one floor session may take before its processes are killed (ms). */
const LIMIT_MS = 600_000

/**
 * Runs bare-stream benchmarks, one plan after another over one connection
 * between two fresh processes, and returns the driver's figures per plan:
 * one-way µs per size (`lat`), or MB/s of a window of `window` messages
 * then an acknowledgement (`bw`).
 */
const run = async (kind: StreamKind, plans: ReadonlyArray<Plan>): Promise<Array<Array<Point>>> => {
  const dir = kind === "unix" ? mkdtempSync(join(tmpdir(), "rankflow-floor-")) : ""
  const spec = JSON.stringify(plans)
  const echo = spawn(process.execPath, [SELF, "echo", kind, dir, spec], { stdio: ["ignore", "pipe", "inherit"] })
  let driver: ReturnType<typeof spawn> | undefined
  const limit = setTimeout(() => {
    echo.kill("SIGKILL")
    driver?.kill("SIGKILL")
  }, LIMIT_MS)
  try {
    const first = await lines(echo).next()
    if (first.done) throw new Error(`the ${kind} floor's echo process ended before listening`)
    driver = spawn(process.execPath, [SELF, "drive", kind, first.value, spec], { stdio: ["ignore", "pipe", "inherit"] })
    const d = driver
    const result = await lines(d).next()
    const code = await new Promise<number | null>((resolve) => (d.exitCode !== null || d.signalCode !== null ? resolve(d.exitCode) : d.once("exit", resolve)))
    if (result.done || code !== 0) throw new Error(`the ${kind} floor's driver failed (exit ${code ?? d.signalCode}${d.signalCode === "SIGKILL" ? `, killed after ${LIMIT_MS} ms` : ""})`)
    return JSON.parse(result.value) as Array<Array<Point>>
  } finally {
    clearTimeout(limit)
    echo.kill()
    if (dir !== "") rmSync(dir, { recursive: true, force: true })
  }
}

/** One-way time of a bare ping-pong over `kind` between two processes, per size, in microseconds. */
export const streamPingPong = async (kind: StreamKind, sizes: ReadonlyArray<number>, iters: ReadonlyArray<number>): Promise<Array<Point>> =>
  (await run(kind, [{ mode: "lat", sizes, iters, window: 1 }]))[0]!

/** MB/s of a window of messages then an acknowledgement, over `kind` between two processes, per size. */
export const streamBandwidth = async (kind: StreamKind, sizes: ReadonlyArray<number>, iters: ReadonlyArray<number>, window = 64): Promise<Array<Point>> =>
  (await run(kind, [{ mode: "bw", sizes, iters, window }]))[0]!

/** Both, over one connection between one pair of processes: latency, then bandwidth. */
export const streamFloor = async (
  kind: StreamKind,
  lat: { readonly sizes: ReadonlyArray<number>; readonly iters: ReadonlyArray<number> },
  bw: { readonly sizes: ReadonlyArray<number>; readonly iters: ReadonlyArray<number>; readonly window?: number }
): Promise<{ latency: Array<Point>; bandwidth: Array<Point> }> => {
  const [latency, bandwidth] = await run(kind, [{ mode: "lat", ...lat, window: 1 }, { mode: "bw", ...bw, window: bw.window ?? 64 }])
  return { latency: latency!, bandwidth: bandwidth! }
}

// ------------------------------------------------------------ the processes

/** Calls `reply` each time a round's messages have all arrived, plan after plan; counts bytes (net) or messages (ws). */
class Counter {
  private readonly steps: Array<{ size: number; rounds: number; per: number; lat: boolean }>
  private step = 0
  private round = 0
  private have = 0
  private readonly unit: "bytes" | "messages"
  constructor(plans: ReadonlyArray<Plan>, unit: "bytes" | "messages") {
    this.steps = plans.flatMap((plan) =>
      schedule(plan).map(({ size, rounds }) => ({ size, rounds, per: plan.mode === "lat" ? 1 : plan.window, lat: plan.mode === "lat" }))
    )
    this.unit = unit
  }
  /** How much makes one round (bytes or messages). */
  private need(): number {
    const s = this.steps[this.step]!
    return this.unit === "bytes" ? s.per * (HEADER + s.size) : s.per
  }
  /** Takes `n` bytes or messages, calling `reply(size)` for each round completed. */
  take(n: number, reply: (size: number) => void): void {
    this.have += n
    while (this.step < this.steps.length && this.have >= this.need()) {
      this.have -= this.need()
      const s = this.steps[this.step]!
      reply(s.lat ? s.size : 0)
      if (++this.round === s.rounds) {
        this.round = 0
        this.step++
      }
    }
  }
}

const echoNet = (kind: "tcp" | "unix", dir: string, plans: ReadonlyArray<Plan>): void => {
  const counter = new Counter(plans, "bytes")
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

const echoWs = (plans: ReadonlyArray<Plan>): void => {
  const counter = new Counter(plans, "messages")
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
const drive = async (kind: StreamKind, address: string, plans: ReadonlyArray<Plan>): Promise<void> => {
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
  const all: Array<Array<Point>> = []
  for (const plan of plans) {
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
    all.push(results.slice(1))
  }
  process.stdout.write(`${JSON.stringify(all)}\n`)
  close()
}

if (process.argv[1] === SELF) {
  const [role, kind, where, spec] = process.argv.slice(2) as [string, StreamKind, string, string]
  const plans = JSON.parse(spec) as Array<Plan>
  if (role === "echo") {
    if (kind === "ws") echoWs(plans)
    else echoNet(kind, where, plans)
  } else {
    await drive(kind, where, plans)
    process.exit(0)
  }
}
