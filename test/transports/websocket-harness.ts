/**
 * WebSocket stream transports in this process over real sockets on
 * 127.0.0.1, for the WebSocket transport's tests: a world of engines whose
 * connectors remember their streams (so a test can break them), certificates
 * made with `openssl` in a temporary directory, and a raw WebSocket client
 * that speaks the stream protocol's bytes.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer, type IncomingMessage } from "node:http"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Duplex } from "node:stream"
import { WebSocket } from "ws"
import type { Engine } from "../../core/index.ts"
import { Parser } from "../../transports/stream/Framing.ts"
import type { LogEntry, StreamOptions, StreamTransport } from "../../transports/stream/Transport.ts"
import { WebSocketConnector, type WebSocketOptions } from "../../transports/websocket/Endpoint.ts"
import { Recording, startRanks } from "./stream/harness.ts"

export { Recording, run, sleep, until } from "./stream/harness.ts"

export const SECRET = new TextEncoder().encode("ws-k3y-41d0-88ce")

export interface WsWorld {
  readonly urls: ReadonlyArray<string>
  readonly transports: Array<StreamTransport>
  readonly engines: Array<Engine.Engine>
  readonly connectors: Array<Recording<WebSocketConnector>>
  readonly logs: Array<LogEntry>
  readonly close: () => void
}

/**
 * A world of `size` WebSocket stream transports in this process, started;
 * `ws` gives each rank's connector options (TLS), `secrets` each rank's
 * secret, `via` the URLs the ranks dial instead of each other's own (a
 * proxy's).
 */
export const wsWorld = async (
  size: number,
  options: StreamOptions = {},
  ws: (rank: number) => Partial<WebSocketOptions> = () => ({}),
  secrets?: ReadonlyArray<Uint8Array>,
  via?: (urls: ReadonlyArray<string>) => Promise<ReadonlyArray<string>>
): Promise<WsWorld> => {
  const logs: Array<LogEntry> = []
  const log = (e: LogEntry) => logs.push(e)
  const connectors = Array.from({ length: size }, (_, rank) => new Recording(new WebSocketConnector({ log, ...(options.maxFrame !== undefined ? { maxFrame: options.maxFrame } : {}), ...ws(rank), rank })))
  const bound = await Promise.all(connectors.map((c) => c.inner.bind()))
  // What the ranks dial: their own URLs, or (`via`) others that lead to them.
  const urls = via === undefined ? bound : await via(bound)
  for (const c of connectors) c.inner.setAddresses(urls)
  const ranks = connectors.map((_, rank) => rank)
  const started = await startRanks(connectors, ranks, size, options, "ws-test-world", (r) => secrets?.[r] ?? SECRET, log)
  return { urls, ...started, connectors, logs }
}

/** A raw WebSocket client at `url`: send bytes, see the stream protocol's frames that come back and when it closes. */
export interface RawWs {
  readonly ws: WebSocket
  readonly frames: Array<{ kind: number; tag: number; src: number; seq: number; body: Uint8Array }>
  readonly opened: Promise<void>
  readonly closed: Promise<void>
}

export const rawWs = (url: string): RawWs => {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  const parser = new Parser({ maxFrame: 1 << 20, preamble: true, rank: -1 })
  const r: RawWs = {
    ws,
    frames: [],
    opened: new Promise((resolve, reject) => (ws.once("open", () => resolve()), ws.once("error", reject))),
    closed: new Promise((resolve) => ws.once("close", () => resolve()))
  }
  ws.on("error", () => {})
  ws.on("message", (data: Buffer) => {
    parser.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), (f, body) =>
      r.frames.push({ kind: f.kind, tag: f.tag, src: f.src, seq: f.seq, body: body.slice() }))
  })
  return r
}

/** PEM files for mutual TLS, made with openssl: a CA and a certificate it signs, and another CA with its own. */
export interface Certs {
  readonly dir: string
  /** The world's CA and a certificate it signs (every rank's). */
  readonly ca: string
  readonly cert: string
  readonly key: string
  /** Another CA and a certificate it signs: not the world's. */
  readonly otherCa: string
  readonly otherCert: string
  readonly otherKey: string
  readonly rm: () => void
}

export const makeCerts = (): Certs => {
  const dir = mkdtempSync(join(tmpdir(), "rankflow-certs-"))
  const ssl = (...args: Array<string>) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] })
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
  for (const name of ["ca", "other-ca"]) {
    ssl("req", "-x509", ...ec, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=rankflow test ${name}`)
  }
  for (const [name, ca] of [["rank", "ca"], ["other", "other-ca"]] as const) {
    ssl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=rankflow ${name}`)
    ssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "2")
  }
  const p = (f: string) => join(dir, f)
  readFileSync(p("rank.pem"))
  return {
    dir,
    ca: p("ca.pem"),
    cert: p("rank.pem"),
    key: p("rank.key"),
    otherCa: p("other-ca.pem"),
    otherCert: p("other.pem"),
    otherKey: p("other.key"),
    rm: () => rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * A reverse proxy for WebSocket upgrades, as nginx or an ingress would be:
 * `/r<k>/<rest>` goes to rank k's port as `/<rest>`, the upgrade request
 * passed on with its headers, then bytes piped both ways. `cut` destroys
 * every connection through it (the proxy drops them).
 */
export interface Proxy {
  readonly port: number
  /** Upgrades passed through so far. */
  readonly passed: () => number
  readonly cut: () => number
  readonly close: () => void
}

export const reverseProxy = async (backendPort: (rank: number) => number): Promise<Proxy> => {
  const open = new Set<Duplex>()
  let passed = 0
  const server = createServer((_req, res) => {
    res.writeHead(404)
    res.end()
  })
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {})
    const m = /^\/r(\d+)(\/.*)$/.exec(req.url ?? "")
    if (m === null) return void socket.end("HTTP/1.1 404 Not Found\r\n\r\n")
    const up = connect(backendPort(Number(m[1])), "127.0.0.1")
    up.on("error", () => socket.destroy())
    socket.on("close", () => up.destroy())
    up.on("close", () => socket.destroy())
    open.add(socket)
    open.add(up)
    socket.on("close", () => open.delete(socket))
    up.on("close", () => open.delete(up))
    up.once("connect", () => {
      passed++
      const headers: Array<string> = []
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
      up.write(`${req.method} ${m[2]} HTTP/1.1\r\n${headers.join("\r\n")}\r\nX-Forwarded-For: ${req.socket.remoteAddress}\r\n\r\n`)
      if (head.byteLength > 0) up.write(head)
      socket.pipe(up)
      up.pipe(socket)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const a = server.address()
  return {
    port: typeof a === "object" && a !== null ? a.port : 0,
    passed: () => passed,
    cut: () => {
      const n = open.size
      for (const s of [...open]) s.destroy()
      return n
    },
    close: () => {
      for (const s of [...open]) s.destroy()
      server.close()
    }
  }
}
