/**
 * The TCP transport as one rank sees it: the stream protocol over TCP (or
 * mutual TLS) sockets, with Nagle's algorithm off.
 *
 * A rank first {@link TcpConnector.bind}s a listening socket (port 0 picks a
 * free one) so it knows its address, publishes `tcp://host:port` at the
 * rendezvous, and is handed every peer's address ({@link
 * TcpConnector.setPeers}) before its stream transport starts. Connections
 * that arrive before the transport listens wait for it. As in every stream
 * transport the higher rank of each pair dials the lower one, and the
 * handshake checks the world's secret on every connection, TLS or not.
 *
 * @since 0.1.0
 */
import { readFileSync } from "node:fs"
import { createServer as netCreateServer, type Server, type Socket } from "node:net"
import type { Duplex } from "node:stream"
import { createServer as tlsCreateServer, type TLSSocket } from "node:tls"
import { formatHostPort, openSocket, parseHostPort, type TlsOptions } from "../stream/Rendezvous.ts"
import type { Connector } from "../stream/Transport.ts"

/**
 * The environment variables naming TLS files (PEM): this rank's certificate
 * and key, and the CA that signs every rank's certificate.
 *
 * @category tls
 * @since 0.1.0
 */
export const TLS_ENV = { cert: "RANKFLOW_TLS_CERT", key: "RANKFLOW_TLS_KEY", ca: "RANKFLOW_TLS_CA" } as const

/**
 * File paths of a rank's TLS material.
 *
 * @category tls
 * @since 0.1.0
 */
export interface TlsFiles {
  readonly cert: string
  readonly key: string
  readonly ca: string
}

/**
 * Reads TLS files into node:tls options; throws naming the file that cannot
 * be read.
 *
 * @category tls
 * @since 0.1.0
 */
export const loadTls = (files: TlsFiles): TlsOptions => {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path)
    } catch (e) {
      throw new Error(`cannot read the TLS ${what} file ${path} (${(e as NodeJS.ErrnoException).code ?? "error"})`)
    }
  }
  return { cert: read("certificate", files.cert), key: read("key", files.key), ca: read("CA", files.ca) }
}

/**
 * The TLS files named by the environment (`RANKFLOW_TLS_CERT`,
 * `RANKFLOW_TLS_KEY`, `RANKFLOW_TLS_CA`), or undefined when none is set.
 * Setting some but not all is an error.
 *
 * @category tls
 * @since 0.1.0
 */
export const tlsFilesFromEnvironment = (env: Readonly<Record<string, string | undefined>> = process.env): TlsFiles | undefined => {
  const cert = env[TLS_ENV.cert]
  const key = env[TLS_ENV.key]
  const ca = env[TLS_ENV.ca]
  if (!cert && !key && !ca) return undefined
  if (!cert || !key || !ca) throw new Error(`TLS needs all of ${TLS_ENV.cert}, ${TLS_ENV.key} and ${TLS_ENV.ca}`)
  return { cert, key, ca }
}

/**
 * Splits "tcp://host:port".
 *
 * @category addresses
 * @since 0.1.0
 */
export const parseTcpAddress = (a: string): { host: string; port: number } => {
  if (!a.startsWith("tcp://")) throw new RangeError(`"${a}" is not a tcp:// address`)
  return parseHostPort(a.slice("tcp://".length))
}

/**
 * Options of a {@link TcpConnector}.
 *
 * @category connectors
 * @since 0.1.0
 */
export interface TcpConnectorOptions {
  /** The address to listen on. Default 0.0.0.0 (every interface). */
  readonly host?: string
  /** The port to listen on; 0 picks a free one. Default 0. */
  readonly port?: number
  /** Mutual TLS: every connection presents a certificate signed by `ca` and requires the other's. */
  readonly tls?: TlsOptions
  /** The sockets' buffer size (bytes). Default 1 MiB. */
  readonly highWaterMark?: number
  /** Called when a TLS connection is refused (no or a wrong certificate). */
  readonly onTlsRefused?: (reason: string) => void
}

/**
 * Streams between ranks anywhere: TCP sockets, TLS when configured.
 *
 * @example
 * ```ts
 * import { TcpConnector } from "rankflow/transports/tcp/Endpoint"
 * const c = new TcpConnector({ host: "0.0.0.0" })
 * const port = await c.bind()
 * // publish `tcp://<this host>:${port}` at the rendezvous, then:
 * c.setPeers(["tcp://10.0.0.1:41000", `tcp://10.0.0.2:${port}`])
 * ```
 * @category connectors
 * @since 0.1.0
 */
export class TcpConnector implements Connector {
  readonly name = "tcp"
  private readonly options: TcpConnectorOptions
  private server: Server | undefined = undefined
  private accept: ((stream: Duplex) => void) | undefined = undefined
  private early: Array<Socket> = []
  private peers: ReadonlyArray<string> = []
  private readonly open = new Set<Socket>()
  private closed = false

  constructor(options: TcpConnectorOptions = {}) {
    this.options = options
  }

  /** Starts listening (once); resolves to the port. */
  bind(): Promise<number> {
    if (this.server !== undefined) return Promise.resolve(this.port())
    const hwm = this.options.highWaterMark ?? 1024 * 1024
    const tls = this.options.tls
    const take = (socket: Socket): void => {
      socket.setNoDelay(true)
      socket.on("error", () => {})
      this.track(socket)
      if (this.closed) return void socket.destroy()
      if (this.accept === undefined) this.early.push(socket)
      else this.accept(socket)
    }
    const server: Server = tls !== undefined
      ? tlsCreateServer({ ...tls, requestCert: true, rejectUnauthorized: true, highWaterMark: hwm } as never, take)
      : netCreateServer({ highWaterMark: hwm, noDelay: true } as never, take)
    server.on("tlsClientError", (e: NodeJS.ErrnoException, s: TLSSocket) => {
      this.options.onTlsRefused?.(`refused a TLS connection from ${s?.remoteAddress ?? "?"}: ${e.code ?? e.message}`)
      s?.destroy()
    })
    this.server = server
    return new Promise((resolve, reject) => {
      server.once("error", reject)
      server.listen(this.options.port ?? 0, this.options.host ?? "0.0.0.0", () => {
        server.off("error", reject)
        server.on("error", () => {})
        resolve(this.port())
      })
    })
  }

  /** The port it listens on (after {@link bind}). */
  port(): number {
    const a = this.server?.address()
    return typeof a === "object" && a !== null ? a.port : 0
  }

  /** The address to publish, given the host peers reach this machine by. */
  address(host: string): string {
    return `tcp://${formatHostPort(host, this.port())}`
  }

  /** Every rank's address, from the rendezvous. */
  setPeers(addresses: ReadonlyArray<string>): void {
    for (const a of addresses) parseTcpAddress(a)
    this.peers = addresses
  }

  async listen(accept: (stream: Duplex) => void): Promise<void> {
    await this.bind()
    this.accept = accept
    const early = this.early
    this.early = []
    for (const s of early) if (!s.destroyed) accept(s)
  }

  dial(peer: number): Promise<Duplex> {
    const a = this.peers[peer]
    if (a === undefined) return Promise.reject(new Error(`no address for rank ${peer}`))
    const { host, port } = parseTcpAddress(a)
    return openSocket(host, port, this.options.tls, this.options.highWaterMark ?? 1024 * 1024).then((socket) => {
      socket.on("error", () => {})
      this.track(socket)
      return socket
    })
  }

  close(): void {
    this.closed = true
    const s = this.server
    this.server = undefined
    s?.close()
    for (const e of this.early) e.destroy()
    this.early = []
  }

  /** The open sockets, accepted and dialled (for diagnostics and tests). */
  sockets(): ReadonlyArray<Socket> {
    return [...this.open]
  }

  private track(socket: Socket): void {
    this.open.add(socket)
    socket.once("close", () => this.open.delete(socket))
  }
}
