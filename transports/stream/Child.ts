/**
 * The child side shared by the byte-stream transports' launchers (process,
 * tcp, websocket): what a rank's process does besides building its own
 * transport.
 *
 * {@link readConfig} takes the transport's JSON config out of the
 * environment and {@link takeSecret} the world's secret (`RANKFLOW_SECRET`
 * or `RANKFLOW_SECRET_FILE`), so the program never sees either.
 * {@link runChild} builds the rank (the transport's part: its connector,
 * addresses and rendezvous), starts it, runs the program module and
 * reports the outcome to the parent over IPC: `{ type: "done", ok: true,
 * value }` (Codec bytes) or `{ type: "done", ok: false, error }`
 * (`Errors.toWire`). A throw outside the program's promise chain is
 * reported as the rank's failure and ends it with code 1.
 *
 * Messages from the parent: `{ type: "lost", rank, error, exited }` (a peer
 * failed; `exited`: its process is gone, so stop reconnecting to it) and
 * `{ type: "stop" }`. A parent that disappears (the IPC channel closes)
 * ends the rank: code 0 if it had reported, 1 otherwise.
 *
 * @since 0.1.0
 */
import { Codec, Errors, World } from "../../core/index.ts"
import type { Engine } from "../../core/index.ts"
import { loadSecret, SECRET_ENV, SECRET_FILE_ENV } from "./Handshake.ts"
import type { StreamTransport } from "./Transport.ts"

/**
 * What every child's config carries: the program module's URL, the engine's
 * options and the transport's options.
 *
 * @category models
 * @since 0.1.0
 */
export interface ChildConfig {
  readonly program: string
  readonly engine: Record<string, unknown>
  readonly options: Record<string, unknown>
}

/**
 * A rank built by its transport.
 *
 * @category models
 * @since 0.1.0
 */
export interface ChildRank {
  readonly engine: Engine.Engine
  readonly transport: StreamTransport
  /** Closes what the rank holds (engine, transport, connector...). */
  close(): void
}

/**
 * Parses the JSON config in `env[name]` (`{}` when unset) and removes it
 * from the environment.
 *
 * @category running
 * @since 0.1.0
 */
export const readConfig = <C extends ChildConfig>(name: string, env: Record<string, string | undefined> = process.env): C => {
  const config = JSON.parse(env[name] ?? "{}") as C
  delete env[name]
  return config
}

/**
 * Loads the world's secret (`RANKFLOW_SECRET` or `RANKFLOW_SECRET_FILE`)
 * and removes both variables from the environment.
 *
 * @category running
 * @since 0.1.0
 */
export const takeSecret = (env: Record<string, string | undefined>, rank: number): Uint8Array => {
  const secret = loadSecret(env, rank)
  forgetSecret(env)
  return secret
}

/**
 * Removes the secret's variables from the environment.
 *
 * @category running
 * @since 0.1.0
 */
export const forgetSecret = (env: Record<string, string | undefined>): void => {
  delete env[SECRET_ENV]
  delete env[SECRET_FILE_ENV]
}

/**
 * A rank over `transport`: its engine made with `engine` options; closing
 * it closes the engine, the transport, then `also` (a connector...).
 *
 * @category running
 * @since 0.1.0
 */
export const rankOver = (transport: StreamTransport, engine: Record<string, unknown>, also?: () => void): ChildRank => {
  const e = World.makeEngine(transport, engine)
  return {
    engine: e,
    transport,
    close: () => {
      e.close()
      transport.close()
      also?.()
    }
  }
}

type FromParent = { type: string; rank?: number; error?: unknown; exited?: boolean }

/**
 * Runs this process as one rank: `build` makes it (a rejection is the
 * rank's failure), then its transport starts, the program runs and the
 * outcome goes to the parent. `onStop` closes what `build` opened when
 * the parent says stop before `build` has finished.
 *
 * @category running
 * @since 0.1.0
 */
export const runChild = async (o: {
  readonly program: string
  readonly build: () => Promise<ChildRank>
  readonly onStop?: () => void
}): Promise<void> => {
  let reported = false
  let stopping = false
  const send = (m: unknown, then?: () => void): void => {
    if (process.connected) process.send!(m, undefined, {}, () => then?.())
    else then?.()
  }

  const report = (outcome: { ok: boolean; value?: unknown; error?: unknown }, then?: () => void): void => {
    if (reported) return then?.()
    reported = true
    if (outcome.ok) {
      try {
        send({ type: "done", ok: true, value: Codec.encode(outcome.value).slice() }, then)
        return
      } catch (e) {
        outcome = { ok: false, error: new Error(`the program's result cannot be sent to the launcher: ${e instanceof Error ? e.message : e}`) }
      }
    }
    send({ type: "done", ok: false, error: Errors.toWire(outcome.error) }, then)
  }

  // A throw outside the program's promise chain ends the rank, reported as its failure.
  process.on("uncaughtException", (error) => report({ ok: false, error }, () => process.exit(1)))
  // The parent is gone: nobody can stop this rank any more.
  process.on("disconnect", () => {
    if (!stopping) process.exit(reported ? 0 : 1)
  })

  let rank: ChildRank | undefined
  // Peers lost while the rank is being built: told to it once it exists.
  const early: Array<FromParent> = []
  const onMessage = (m: FromParent): void => {
    if (m.type === "stop") {
      stopping = true
      if (rank !== undefined) rank.close()
      else o.onStop?.()
      process.disconnect()
      // Leave even if the program left a timer or socket open.
      setTimeout(() => process.exit(0), 500).unref()
    } else if (rank === undefined) early.push(m)
    else if (m.type === "lost") {
      rank.engine.peerFailed(m.rank!, Errors.fromWire(m.error))
      if (m.exited === true) rank.transport.forget(m.rank!)
    }
  }
  process.on("message", onMessage)

  try {
    rank = await o.build()
    for (const m of early.splice(0)) onMessage(m)
    await rank.transport.start()
    report(await World.runRank(rank.engine, await World.loadProgram(o.program)))
  } catch (error) {
    report({ ok: false, error })
  }
}
