/**
 * Starting one TCP rank: listen, meet the others at the rendezvous, start
 * the stream transport and its engine.
 *
 * {@link startRank} takes a {@link Bootstrap} (from the environment or
 * made by hand): it binds a listening socket, hosts the coordinator when
 * the bootstrap says this rank does, publishes `tcp://<ip>:<port>` — the
 * local IP address of its connection to the coordinator, so peers get an
 * interface that routes, unless `advertise` names another host — and, with
 * the table, starts the transport. Every pair of ranks connects at once
 * (eagerly; the README gives the measurements behind this choice).
 *
 * @since 0.1.0
 */
import { Engine, World } from "../../core/index.ts"
import type { Bootstrap } from "../stream/Bootstrap.ts"
import { type Coordinator, parseHostPort, type RendezvousLogEntry, rendezvous, type Table, type TlsOptions, startCoordinator } from "../stream/Rendezvous.ts"
import { limits, type LogEntry, StreamTransport, type StreamOptions } from "../stream/Transport.ts"
import { TcpConnector } from "./Endpoint.ts"

/**
 * Options of a TCP rank.
 *
 * @category models
 * @since 0.1.0
 */
export interface RankOptions extends StreamOptions {
  /** The address to listen on for peers. Default 0.0.0.0. */
  readonly listenHost?: string
  /** The host to publish. Default: the local IP of the connection to the coordinator. */
  readonly advertise?: string
  /** Mutual TLS for the rendezvous and every link. */
  readonly tls?: TlsOptions
  /** How long the rendezvous may take (ms): the coordinator's wait for every rank. Default 60 000. */
  readonly rendezvousTimeout?: number
  /** Engine options. */
  readonly engine?: Engine.EngineOptions
  /** Where the coordinator's log lines go (when this rank hosts it). */
  readonly rendezvousLog?: (e: RendezvousLogEntry) => void
}

/**
 * A started TCP rank.
 *
 * @category models
 * @since 0.1.0
 */
export interface TcpRank {
  readonly engine: Engine.Engine
  readonly transport: StreamTransport
  readonly connector: TcpConnector
  readonly table: Table
  /** Closes the engine, the transport and (if hosted here) the coordinator. */
  close(): void
}

/**
 * Starts a rank from `b`. Rejects with the rendezvous's error
 * (`RendezvousError`: missing ranks named, a refused secret) or a socket's.
 *
 * @category running
 * @since 0.1.0
 */
export const startRank = async (b: Bootstrap, o: RankOptions = {}): Promise<TcpRank> => {
  const opts = limits(o as Record<string, unknown>)
  const log: ((e: LogEntry) => void) | undefined = o.log
  const connector = new TcpConnector({
    host: o.listenHost ?? "0.0.0.0",
    tls: o.tls,
    highWaterMark: opts.highWaterMark,
    onTlsRefused: (reason) =>
      (log ?? ((e: LogEntry) => process.stderr.write(`rankflow: rank ${e.rank}: ${e.message}\n`)))({ level: "warn", rank: b.rank, peer: -1, code: "ERR_AUTH_FAILED", message: reason })
  })
  let coordinator: Coordinator | undefined
  try {
    await connector.bind()
    const timeout = o.rendezvousTimeout ?? 60_000
    if (b.hostsCoordinator) {
      const { host, port } = parseHostPort(b.coordinator)
      try {
        coordinator = await startCoordinator({ size: b.size, secret: b.secret, world: b.world, host, port, tls: o.tls, timeout, log: o.rendezvousLog })
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        throw new Error(
          `rank 0 cannot host the coordinator at ${b.coordinator} (${code ?? (e as Error).message})${code === "EADDRINUSE" ? ": the port is taken; set RANKFLOW_COORDINATOR=host:port to a free one" : ""}`
        )
      }
      coordinator.done.then(() => coordinator?.close(), () => coordinator?.close())
    }
    const table = await rendezvous({
      coordinator: b.coordinator,
      rank: b.rank,
      size: b.size,
      secret: b.secret,
      address: (ip) => connector.address(o.advertise ?? ip),
      tls: o.tls,
      timeout: timeout + 15_000
    })
    connector.setPeers(table.addresses)
    const transport = new StreamTransport({ ...opts, log, rank: b.rank, size: b.size, world: table.world, secret: b.secret, connector })
    const engine = World.makeEngine(transport, o.engine)
    await transport.start()
    return {
      engine,
      transport,
      connector,
      table,
      close: () => {
        engine.close()
        transport.close()
        coordinator?.close()
      }
    }
  } catch (e) {
    connector.close()
    coordinator?.close()
    throw e
  }
}
