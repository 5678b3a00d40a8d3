/**
 * `rankflow run --transport websocket` and `runWorld` end to end: a child
 * process per rank, meeting at the launcher's rendezvous, WebSockets (or,
 * with certificates, wss) between them; real exit codes, a rank killed with
 * SIGKILL in the middle of an allreduce, options refused before any process
 * starts.
 */
import test from "ava"
import { spawnSync } from "node:child_process"
import { runWorld } from "../../promise.ts"
import { rankflow, root } from "../run/rankflow.ts"
import { scenarios } from "./scenarios.ts"
import { makeCerts } from "./websocket-harness.ts"

const run = (n: number, ...rest: Array<string>) => rankflow(["run", "-n", String(n), "--transport", "websocket", "--timeout", "30", ...rest], 60_000)
const ENV = new URL("./process/env.ts", import.meta.url)

test.serial("psum and the Effect-face ring on 4 ranks", async (t) => {
  const psum = await run(4, "examples/04-psum.ts", "1000")
  t.is(psum.code, 0, psum.stderr)
  t.regex(psum.stdout, /psum of arange\(1000\) over 4 ranks .*: 499500\b/)
  const ring = await run(3, "examples/03-effect-ring.ts")
  t.is(ring.code, 0, ring.stderr)
  for (const rank of [0, 1, 2]) t.regex(ring.stdout, new RegExp(`rank ${rank} got ${(rank + 2) % 3} from rank ${(rank + 2) % 3}`))
})

test.serial("a rank that throws ends the run non-zero, naming it", async (t) => {
  const r = await run(4, "test/run/fixtures/throws.ts")
  t.is(r.code, 1)
  t.regex(r.stderr, /rankflow: rank 2 failed: Error: boom on rank 2/)
})

test.serial("kill -9 of a rank in the middle of an allreduce: the others fail with PeerLost, the run exits 1 naming it", async (t) => {
  const r = await run(4, "test/transports/process/killed.ts")
  const end = Date.now()
  t.is(r.code, 1, r.stderr)
  t.regex(r.stderr, /rankflow: rank 2 failed: Error: rank 2's process was killed \(SIGKILL\) before its program finished/)
  t.regex(r.stderr, /then rank \d: .* on rank \d .*rank 2.* cannot complete/)
  const killedAt = Number(/killing rank 2 at (\d+)/.exec(r.stderr)?.[1])
  t.true(end - killedAt < 10_000, `the run ended ${end - killedAt} ms after the kill (the detector timeout is 10 s)`)
})

test.serial("runWorld over wss: ranks with the world's certificates run; no secret in their environment", async (t) => {
  const certs = makeCerts()
  try {
    const results = await runWorld<any>(
      { size: 3, transport: "websocket", argv: ["x"], timeout: 30_000, transportOptions: { tls: { cert: certs.cert, key: certs.key, ca: certs.ca }, path: "/rankflow/world-a" } },
      ENV
    )
    t.deepEqual(results.map((r) => r.rank), [0, 1, 2])
    for (const r of results) {
      t.deepEqual(r.argv, ["x"])
      t.is(r.secret, null)
      t.is(r.secretFile, null)
      t.is(r.node, process.version)
    }
    t.is(new Set(results.map((r) => r.pid)).size, 3)
  } finally {
    certs.rm()
  }
})

test.serial("runWorld: a path per rank and the URL each publishes (what a proxy in front would route)", async (t) => {
  // Both ways around the ring: every link carries frames, dialled at the published URLs.
  const results = await runWorld<any>(
    { size: 3, transport: "websocket", argv: ["sendrecvRing"], timeout: 30_000, transportOptions: { path: "/rankflow/r{rank}", advertise: "ws://127.0.0.1:{port}/rankflow/r{rank}" } },
    new URL("./scenarios.ts", import.meta.url)
  )
  t.is(results.length, 3)
  scenarios.sendrecvRing!.check(t, results, 3)
  await t.throwsAsync(runWorld({ size: 2, transport: "websocket", transportOptions: { advertise: "http://proxy/x" } }, ENV), { message: /advertise must be a ws:\/\/ or wss:\/\/ URL/ })
})

test.serial("runWorld: a bad path, a TLS option missing its key, or a certificate file that is not there is refused before any process starts", async (t) => {
  await t.throwsAsync(runWorld({ size: 2, transport: "websocket", transportOptions: { path: "no-slash" } }, ENV), { message: /path must start with "\/"/ })
  await t.throwsAsync(runWorld({ size: 2, transport: "websocket", transportOptions: { tls: { cert: "a.pem", ca: "b.pem" } } }, ENV), { message: /key is missing/ })
  await t.throwsAsync(runWorld({ size: 2, transport: "websocket", transportOptions: { tls: { cert: "/nonexistent/a.pem", key: "/nonexistent/b.pem", ca: "/nonexistent/c.pem" } } }, ENV), {
    message: /ENOENT/
  })
})

test.serial("rankflow run over wss with the certificates named by RANKFLOW_TLS_CERT, _KEY and _CA; one missing is named", async (t) => {
  const certs = makeCerts()
  try {
    const cli = (env: Record<string, string>) =>
      spawnSync(process.execPath, ["patterns/run/cli.ts", "run", "-n", "3", "--transport", "websocket", "--timeout", "30", "examples/02-ring.ts", "2"], {
        cwd: root,
        env: { ...process.env, ...env },
        encoding: "utf8",
        timeout: 60_000
      })
    const ok = cli({ RANKFLOW_TLS_CERT: certs.cert, RANKFLOW_TLS_KEY: certs.key, RANKFLOW_TLS_CA: certs.ca })
    t.is(ok.status, 0, ok.stderr)
    t.regex(ok.stdout, /token went 2 times around 3 ranks: 6 hops, sum 6/)
    const partial = cli({ RANKFLOW_TLS_CERT: certs.cert, RANKFLOW_TLS_KEY: certs.key })
    t.not(partial.status, 0)
    t.regex(partial.stderr, /RANKFLOW_TLS_CA is not set/)
  } finally {
    certs.rm()
  }
})
