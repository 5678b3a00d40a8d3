/**
 * The WebSocket transport's streams: each rank listens with a `ws`
 * WebSocketServer on an HTTP (or HTTPS) server, at a path such as
 * `/rankflow`, so it can sit behind an HTTP proxy; a rank dials a peer by
 * opening a WebSocket to the peer's URL and turns it into a byte stream
 * (`createWebSocketStream`). The stream protocol (`../stream/`) runs over
 * that stream unchanged: its bytes travel in binary WebSocket messages,
 * without per-message compression, each message at most `maxPayload`
 * bytes (from the protocol's maximum frame size).
 *
 * With TLS (`wss://`) both ends present a certificate and both require the
 * other's to be signed by the world's CA: a peer without one, or with one
 * from another CA, is refused in the TLS handshake. Host names are not
 * checked; the CA and the world's secret say who belongs to the world.
 *
 * What the HTTP listener refuses before the stream protocol starts — bytes
 * that are not HTTP, a plain HTTP request, an upgrade to another path, a
 * failed TLS handshake — closes that one connection and is logged with a
 * stable code (`ERR_BAD_REQUEST`, `ERR_NOT_WEBSOCKET`, `ERR_TLS`).
 *
 * @since 0.1.0
 */
import { readFileSync } from "node:fs"
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { createServer as createHttpsServer } from "node:https"
import type { Duplex } from "node:stream"
import type { TLSSocket } from "node:tls"
import { type ClientOptions, createWebSocketStream, WebSocket, WebSocketServer } from "ws"
import { LENGTH_BYTES } from "../stream/Framing.ts"
import type { Code } from "../stream/StreamError.ts"
import type { Connector, LogEntry } from "../stream/Transport.ts"

/**
 * Certificates for `wss://`: PEM text, or the path of a PEM file, for this
 * rank's certificate and key and for the CA that signs every rank's.
 *
 * @category models
 * @since 0.1.0
 */
export interface WebSocketTls {
  readonly cert: string
  readonly key: string
  readonly ca: string
  readonly passphrase?: string
}

/**
 * The WebSocket connector's options.
 *
 * @category models
 * @since 0.1.0
 */
export interface WebSocketOptions {
  /** This rank. */
  readonly rank: number
  /** Interface to listen on. Default 127.0.0.1. */
  readonly host?: string
  /** Port to listen on; 0 picks a free one. Default 0. */
  readonly port?: number
  /** The URL path peers (and proxies) upgrade at; `{rank}` becomes the rank. Default `/rankflow`. */
  readonly path?: string
  /** The protocol's maximum frame size; a WebSocket message may be this plus 64 KiB. Default 4 MiB. */
  readonly maxFrame?: number
  /** Mutual TLS: listen with HTTPS and dial `wss://`. */
  readonly tls?: WebSocketTls
  /** How long a dial may take to open its WebSocket (ms). Default 10 000. */
  readonly handshakeTimeout?: number
  /**
   * Mask client messages with a random key (RFC 6455). Default true. With
   * false, the key is zero, so the payload goes unchanged (a copy saved per
   * message); only for links no browser script can write to.
   */
  readonly randomMask?: boolean
  /** Where refused connections are logged. Default: stderr, as the stream transport's warnings. */
  readonly log?: (entry: LogEntry) => void
}

/**
 * The default path.
 *
 * @category constants
 * @since 0.1.0
 */
export const DEFAULT_PATH = "/rankflow"

/** Bytes a WebSocket message may carry beyond one frame: a write gathers frames from one chunk of the link's queue. */
const SLACK = 64 * 1024

/**
 * PEM text as it is, or the contents of the file it names.
 *
 * @example
 * ```ts
 * import { pem } from "rankflow/transports/websocket/Endpoint"
 * const ca = pem("certs/ca.pem") // "-----BEGIN CERTIFICATE-----\n…"
 * ```
 * @category tls
 * @since 0.1.0
 */
export const pem = (s: string): string => (s.trimStart().startsWith("-----BEGIN") ? s : readFileSync(s, "utf8"))

/** Host names are not checked (node:tls reads undefined as "no error"); the CA says who belongs. */
const anyHost = (() => undefined) as unknown as ClientOptions["checkServerIdentity"]

const zeroMask = (mask: Buffer): void => {
  mask.fill(0)
}

/**
 * Streams between ranks anywhere an HTTP(S) connection reaches: WebSockets.
 *
 * Call `bind` to start the HTTP server and learn this rank's URL (to
 * publish at the rendezvous), give the world's URLs to `setAddresses`, then
 * hand the connector to a `StreamTransport`, whose `listen` takes the
 * streams accepted so far and from then on.
 *
 * @example
 * ```ts
 * import { WebSocketConnector } from "rankflow/transports/websocket/Endpoint"
 * const connector = new WebSocketConnector({ rank: 0, path: "/rankflow" })
 * const url = await connector.bind() // "ws://127.0.0.1:41234/rankflow"
 * connector.setAddresses([url, "ws://127.0.0.1:41235/rankflow"])
 * ```
 * @category connectors
 * @since 0.1.0
 */
export class WebSocketConnector implements Connector {
  readonly name = "websocket"
  readonly rank: number
  readonly path: string
  private readonly host: string
  private readonly port: number
  private readonly maxPayload: number
  private readonly tls: { cert: string; key: string; ca: string; passphrase?: string } | undefined
  private readonly handshakeTimeout: number
  private readonly randomMask: boolean
  private readonly logTo: ((e: LogEntry) => void) | undefined
  private server: Server | undefined = undefined
  private wss: WebSocketServer | undefined = undefined
  private bound: Promise<string> | undefined = undefined
  private accept: ((stream: Duplex) => void) | undefined = undefined
  private early: Array<Duplex> = []
  private addresses: ReadonlyArray<string> = []
  private readonly dialed = new Set<WebSocket>()
  private closed = false

  constructor(o: WebSocketOptions) {
    this.rank = o.rank
    this.host = o.host ?? "127.0.0.1"
    this.port = o.port ?? 0
    const path = (o.path ?? DEFAULT_PATH).replaceAll("{rank}", String(o.rank))
    if (!path.startsWith("/") || /[\s?#]/.test(path)) throw new RangeError(`the WebSocket path must start with "/" and have no spaces, "?" or "#"; got "${path}"`)
    this.path = path
    this.maxPayload = (o.maxFrame ?? 4 * 1024 * 1024) + LENGTH_BYTES + SLACK
    this.tls = o.tls === undefined
      ? undefined
      : { cert: pem(o.tls.cert), key: pem(o.tls.key), ca: pem(o.tls.ca), ...(o.tls.passphrase !== undefined ? { passphrase: o.tls.passphrase } : {}) }
    this.handshakeTimeout = o.handshakeTimeout ?? 10_000
    this.randomMask = o.randomMask ?? true
    this.logTo = o.log
  }

  /** `ws` or `wss`. */
  get scheme(): "ws" | "wss" {
    return this.tls === undefined ? "ws" : "wss"
  }

  private log(code: Code, message: string, level: LogEntry["level"] = "warn"): void {
    const entry: LogEntry = { level, rank: this.rank, peer: -1, code, message: `closed a connection: ${code}: ${message}` }
    try {
      if (this.logTo !== undefined) this.logTo(entry)
      else if (level === "warn") process.stderr.write(`rankflow: rank ${this.rank}: ${entry.message}\n`)
    } catch {
      // a log that throws must not break the listener
    }
  }

  /**
   * Starts the HTTP(S) server and its WebSocket endpoint; resolves to this
   * rank's URL, with `advertise` (default: the listening host, or
   * 127.0.0.1 when it listens on every interface) as its host.
   */
  bind(advertise?: string): Promise<string> {
    this.bound ??= new Promise((resolve, reject) => {
      const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
        this.log("ERR_NOT_WEBSOCKET", `an HTTP ${req.method ?? "?"} request for ${req.url ?? "?"} from ${req.socket.remoteAddress ?? "?"} is not a WebSocket upgrade`)
        res.writeHead(426, { "content-type": "text/plain", connection: "close", upgrade: "websocket" })
        res.end("this is a rankflow WebSocket endpoint\n")
      }
      // A client must finish its TLS handshake and its upgrade request within
      // the protocol's handshake timeout (then the stream protocol's own starts).
      const limit = this.handshakeTimeout
      const http = {
        maxHeaderSize: 8192,
        headersTimeout: limit,
        requestTimeout: limit,
        connectionsCheckingInterval: Math.max(50, Math.min(1000, limit >> 2))
      }
      const server: Server = this.tls === undefined
        ? createHttpServer(http, onRequest)
        : createHttpsServer({ ...this.tls, ...http, requestCert: true, rejectUnauthorized: false, handshakeTimeout: limit }, onRequest)
      if (this.tls !== undefined) {
        // Node would drop a client whose certificate fails silently; this refuses it
        // the same way (before a byte of HTTP is read) and says why.
        server.on("secureConnection", (socket: TLSSocket) => {
          if (socket.authorized) return
          const cert = socket.getPeerCertificate()
          const why = cert === null || Object.keys(cert).length === 0 ? "it presented no certificate" : `its certificate is not the world's (${String(socket.authorizationError)})`
          this.log("ERR_TLS", `a TLS client from ${socket.remoteAddress ?? "?"} is refused: ${why}`)
          socket.destroy()
        })
      }
      const wss = new WebSocketServer({ noServer: true, maxPayload: this.maxPayload, perMessageDeflate: false, clientTracking: false })
      wss.on("wsClientError", (e: Error, socket: Duplex, req: IncomingMessage) => {
        this.log("ERR_BAD_REQUEST", `a WebSocket upgrade from ${req.socket.remoteAddress ?? "?"} failed: ${e.message}`)
        socket.on("error", () => {})
        socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
        setTimeout(() => socket.destroy(), 1000).unref()
      })
      server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        socket.on("error", () => {})
        const path = (req.url ?? "").split("?")[0]
        if (path !== this.path || this.closed) {
          this.log("ERR_NOT_WEBSOCKET", `an upgrade to ${req.url ?? "?"} from ${req.socket.remoteAddress ?? "?"}; this rank's endpoint is ${this.path}`)
          socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n")
          setTimeout(() => socket.destroy(), 1000).unref()
          return
        }
        wss.handleUpgrade(req, socket, head, (ws) => this.accepted(ws, req.socket.remoteAddress ?? "?"))
      })
      server.on("clientError", (e: NodeJS.ErrnoException, socket: Duplex) => {
        socket.on("error", () => {})
        if (e.code === "ECONNRESET" || !socket.writable) {
          socket.destroy()
          return
        }
        if (e.code?.startsWith("ERR_TLS_") === true || e.code?.startsWith("ERR_SSL_") === true) {
          // tlsClientError says why.
          socket.destroy()
        } else if (e.code === "ERR_HTTP_REQUEST_TIMEOUT") {
          this.log("ERR_HANDSHAKE_TIMEOUT", `an HTTP request not finished within ${limit} ms`)
          socket.end("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n")
        } else {
          this.log("ERR_BAD_REQUEST", `bytes that are not an HTTP request (${e.code ?? e.message})`)
          socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
        }
        setTimeout(() => socket.destroy(), 1000).unref()
      })
      server.on("tlsClientError", (e: NodeJS.ErrnoException, socket: TLSSocket) => {
        // A peer that hangs up in its TLS handshake (a rank exiting while it dials) is not bad input.
        const hungUp = e.code === "ECONNRESET" || e.code === "EPIPE"
        if (e.code === "ERR_TLS_HANDSHAKE_TIMEOUT") this.log("ERR_HANDSHAKE_TIMEOUT", `a TLS handshake from ${socket?.remoteAddress ?? "?"} not finished within ${limit} ms`)
        else this.log("ERR_TLS", `a TLS handshake from ${socket?.remoteAddress ?? "?"} failed: ${e.code ?? e.message}`, hungUp ? "info" : "warn")
        socket?.destroy()
      })
      server.once("error", reject)
      server.listen(this.port, this.host, () => {
        server.off("error", reject)
        server.on("error", () => {})
        const a = server.address()
        const port = typeof a === "object" && a !== null ? a.port : this.port
        const host = advertise ?? (this.host === "0.0.0.0" || this.host === "::" ? "127.0.0.1" : this.host)
        resolve(`${this.scheme}://${host.includes(":") ? `[${host}]` : host}:${port}${this.path}`)
      })
      this.server = server
      this.wss = wss
    })
    return this.bound
  }

  /** Logs a WebSocket protocol violation by the peer (ws closes the connection itself). */
  private watch(ws: WebSocket, from: string): void {
    ws.on("error", (e: NodeJS.ErrnoException) => {
      const code = e.code ?? ""
      if (!code.startsWith("WS_ERR_")) return
      this.log(code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" ? "ERR_FRAME_TOO_LARGE" : "ERR_MALFORMED", `a WebSocket protocol error from ${from}: ${code}: ${e.message}`)
    })
  }

  private accepted(ws: WebSocket, from: string): void {
    this.watch(ws, from)
    const stream = createWebSocketStream(ws)
    // Errors are the connection's to handle; this keeps an early one from throwing.
    stream.on("error", () => {})
    if (this.closed) stream.destroy()
    else if (this.accept !== undefined) this.accept(stream)
    else this.early.push(stream)
  }

  /** The URL of every rank of the world, in rank order (from the rendezvous). */
  setAddresses(addresses: ReadonlyArray<string>): void {
    this.addresses = addresses
  }

  listen(accept: (stream: Duplex) => void): Promise<void> {
    return this.bind().then(() => {
      this.accept = accept
      const early = this.early
      this.early = []
      for (const s of early) accept(s)
    })
  }

  dial(peer: number): Promise<Duplex> {
    const url = this.addresses[peer]
    if (url === undefined) return Promise.reject(new Error(`no address for rank ${peer}`))
    return new Promise((resolve, reject) => {
      const options: ClientOptions = {
        perMessageDeflate: false,
        maxPayload: this.maxPayload,
        handshakeTimeout: this.handshakeTimeout,
        followRedirects: false,
        ...(this.randomMask ? {} : { generateMask: zeroMask }),
        ...(this.tls !== undefined ? { ...this.tls, rejectUnauthorized: true, checkServerIdentity: anyHost } : {})
      }
      const ws = new WebSocket(url, options)
      this.dialed.add(ws)
      const failed = (e: Error): void => {
        this.dialed.delete(ws)
        ws.terminate()
        reject(e)
      }
      ws.once("error", failed)
      ws.once("unexpected-response", (_req, res) => failed(new Error(`${url} answered HTTP ${res.statusCode} instead of a WebSocket upgrade`)))
      ws.once("open", () => {
        ws.off("error", failed)
        this.watch(ws, url)
        const stream = createWebSocketStream(ws)
        stream.on("error", () => {})
        ws.once("close", () => this.dialed.delete(ws))
        resolve(stream)
      })
    })
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const s of this.early) s.destroy()
    this.early = []
    for (const ws of this.dialed) if (ws.readyState === WebSocket.CONNECTING) ws.terminate()
    this.wss?.close()
    const server = this.server
    if (server !== undefined) {
      server.close()
      server.closeAllConnections?.()
    }
  }
}
