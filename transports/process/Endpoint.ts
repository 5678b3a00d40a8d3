/**
 * The process transport as one rank sees it: the stream protocol over Unix
 * domain sockets in the world's socket directory.
 *
 * Rank `r` listens on `<dir>/<r>.sock`; the higher rank of each pair dials
 * the lower one. The directory is made by the launcher with mode 0700, so
 * only the user who runs the world can reach the sockets at all; the
 * handshake's secret is checked all the same.
 *
 * @since 0.1.0
 */
import { unlinkSync } from "node:fs"
import { connect, createServer, type NetConnectOpts, type Server } from "node:net"
import { join } from "node:path"
import type { Duplex } from "node:stream"
import type { Connector } from "../stream/Transport.ts"

/**
 * The socket of `rank` in `dir`.
 *
 * @category addresses
 * @since 0.1.0
 */
export const socketPath = (dir: string, rank: number): string => join(dir, `${rank}.sock`)

/**
 * Streams between the ranks of one machine: Unix domain sockets in `dir`.
 *
 * @example
 * ```ts
 * import { UnixConnector } from "rankflow/transports/process/Endpoint"
 * const connector = new UnixConnector("/tmp/rankflow-abc", 0)
 * ```
 * @category connectors
 * @since 0.1.0
 */
export class UnixConnector implements Connector {
  readonly name = "process"
  readonly dir: string
  readonly rank: number
  private readonly highWaterMark: number
  private server: Server | undefined = undefined

  constructor(dir: string, rank: number, highWaterMark = 1024 * 1024) {
    this.dir = dir
    this.rank = rank
    this.highWaterMark = highWaterMark
  }

  listen(accept: (stream: Duplex) => void): Promise<void> {
    const server = createServer({ highWaterMark: this.highWaterMark, pauseOnConnect: false }, (socket) => {
      // Errors are the connection's to handle; this keeps an early one from throwing.
      socket.on("error", () => {})
      accept(socket)
    })
    this.server = server
    return new Promise((resolve, reject) => {
      server.once("error", reject)
      server.listen(socketPath(this.dir, this.rank), () => {
        server.off("error", reject)
        server.on("error", () => {})
        resolve()
      })
    })
  }

  dial(peer: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const socket = connect({ path: socketPath(this.dir, peer), highWaterMark: this.highWaterMark } as NetConnectOpts)
      const failed = (e: Error): void => {
        socket.destroy()
        reject(e)
      }
      socket.once("error", failed)
      socket.once("connect", () => {
        socket.off("error", failed)
        socket.on("error", () => {})
        resolve(socket)
      })
    })
  }

  close(): void {
    const s = this.server
    this.server = undefined
    if (s === undefined) return
    s.close()
    try {
      unlinkSync(socketPath(this.dir, this.rank))
    } catch {
      // gone already
    }
  }
}
