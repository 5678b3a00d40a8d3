/**
 * A rank program in the Effect face, run by Comm.test.ts on every transport:
 * send/recv, non-blocking requests with Request.waitAll, a typed error
 * recovered by tag, and a receive cancelled by interrupting its fiber.
 */
import { Effect, Fiber } from "effect"
import { ANY_SOURCE, Comm, Request, Status } from "../../index.ts"

export default Effect.gen(function*() {
  const comm = yield* Comm.Comm
  const next = (comm.rank + 1) % comm.size
  const prev = (comm.rank - 1 + comm.size) % comm.size
  const rank = yield* Comm.rank

  // Blocking send/recv through the service accessors and the object.
  yield* Comm.send({ from: rank }, next, 1)
  const st = new Status()
  const got = yield* comm.recv<{ from: number }>(prev, 1, st)

  // Non-blocking requests mixed in one waitAll.
  const reqs = [yield* comm.irecv<number>(prev, 2), yield* comm.irecv<number>(prev, 3)]
  const sends = [yield* comm.isend(10, next, 3), yield* comm.isend(20, next, 2)]
  const [a, b] = yield* Request.waitAll([...reqs, ...sends])

  // A typed error, recovered by its tag.
  const truncated = yield* comm.Send(new Float64Array(8), next, 4).pipe(
    Effect.andThen(comm.Recv(new Float64Array(2), prev, 4)),
    Effect.as("no error"),
    Effect.catchTag("Truncated", (e) => Effect.succeed(`${e._tag} ${e.length}>${e.capacity}`))
  )

  // Interrupting a fiber that waits in recv cancels the receive: the message
  // it would have taken goes to the next receive.
  const waiting = yield* Effect.forkChild(comm.recv(prev, 5))
  yield* Effect.sleep(5)
  yield* Fiber.interrupt(waiting)
  yield* comm.send("ready", prev, 6)
  yield* comm.recv(next, 6)
  yield* comm.send(`five from ${rank}`, next, 5)
  const afterInterrupt = yield* comm.recv(prev, 5)

  // Probe and a persistent request in the Effect face.
  yield* comm.send(new Int32Array(3), next, 7)
  const probed = yield* comm.probe(ANY_SOURCE, 7)
  yield* comm.Recv(new Int32Array(3), probed.source, 7)
  const p = yield* comm.recvInit<number>(prev, 8)
  let sum = 0
  for (let i = 0; i < 50; i++) {
    yield* p.start()
    yield* comm.send(i, next, 8)
    sum += yield* p.wait()
  }
  yield* p.free()

  return { got, source: st.source, a, b, truncated, afterInterrupt, probedCount: probed.count, sum }
})
