/**
 * The TCP transport end to end with real processes: `rankflow run
 * --transport tcp` (examples, TLS from the environment, a rank killed with
 * SIGKILL), ranks started by hand from the environment (a killed rank found
 * by the failure detector alone, a missing secret), `mpirun` running a
 * program directly, and a multi-machine world — `--listen` and `join` on
 * loopback, and across two network namespaces joined by a veth pair.
 */
import test from "ava"
import { execFileSync, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runWorld } from "../../promise.ts"
import { type Ran, rankflow, root } from "./rankflow.ts"

const NODE = process.execPath
const CLI = join(root, "patterns/run/cli.ts")

/** Runs a command from the project root with extra environment; kills it after `limitMs`. */
const run = (cmd: string, args: ReadonlyArray<string>, env: Record<string, string | undefined>, limitMs = 60_000, onStdout?: (d: string) => void): Promise<Ran> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => {
      stdout += d
      onStdout?.(String(d))
    })
    child.stderr.on("data", (d) => (stderr += d))
    const kill = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${cmd} ${args.join(" ")} did not end within ${limitMs} ms\n${stdout}\n${stderr}`))
    }, limitMs)
    child.on("close", (code) => {
      clearTimeout(kill)
      resolve({ code, stdout, stderr, ms: performance.now() - t0 })
    })
  })

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })

const SECRET = { RANKFLOW_SECRET: "tcp-run-test-secret" }
const ALLREDUCE = /allreduce over 4 ranks: \[6, 14, 4\]; expected \[6, 14, 4\]/

test.serial("rankflow run --transport tcp: psum and the allreduce example on 4 ranks", async (t) => {
  const psum = await rankflow(["run", "-n", "4", "--transport", "tcp", "--timeout", "30", "examples/04-psum.ts", "1000"], 60_000)
  t.is(psum.code, 0, psum.stderr)
  t.regex(psum.stdout, /psum of arange\(1000\) over 4 ranks .*: 499500\b/)
  const ar = await rankflow(["run", "-n", "4", "--transport", "tcp", "--timeout", "30", "examples/20-mpirun-allreduce.ts"], 60_000)
  t.is(ar.code, 0, ar.stderr)
  t.regex(ar.stdout, ALLREDUCE)
})

test.serial("kill -9 of a rank in the middle of an allreduce under rankflow run: the others fail with PeerLost, the run exits 1 naming it", async (t) => {
  const r = await rankflow(["run", "-n", "4", "--transport", "tcp", "--timeout", "30", "test/transports/process/killed.ts"], 60_000)
  const end = Date.now()
  t.is(r.code, 1, r.stderr)
  t.regex(r.stderr, /rankflow: rank 2 failed: Error: rank 2's process was killed \(SIGKILL\) before its program finished/)
  t.regex(r.stderr, /then rank \d: .* on rank \d .*rank 2.* cannot complete: it failed/)
  const killedAt = Number(/killing rank 2 at (\d+)/.exec(r.stderr)?.[1])
  t.true(end - killedAt < 10_000, `the run ended ${end - killedAt} ms after the kill (the detector timeout is 10 s)`)
})

test.serial("kill -9 with no launcher (ranks started by hand from the environment): the others' links find it lost within the detector timeout and every rank exits 1", async (t) => {
  const port = await freePort()
  const ranks = [0, 1, 2, 3].map((rank) =>
    run(NODE, ["test/transports/tcp/direct-killed.ts"], {
      ...SECRET,
      RANKFLOW_RANK: String(rank),
      RANKFLOW_SIZE: "4",
      RANKFLOW_COORDINATOR: `127.0.0.1:${port}`,
      RANKFLOW_HOST_COORDINATOR: "1"
    }))
  const out = await Promise.all(ranks)
  const ended = Date.now()
  const killedAt = Number(/killing rank 2 at (\d+)/.exec(out[2]!.stderr)?.[1])
  t.is(out[2]!.code, null, "rank 2 was killed")
  for (const r of [0, 1, 3]) {
    t.is(out[r]!.code, 1, out[r]!.stderr)
    // Those that waited on rank 2 find it lost; those that waited on them learn at once that they ended.
    t.regex(out[r]!.stderr, new RegExp(`rankflow: rank ${r} failed: PeerLost: .* on rank ${r} from rank \\d .*cannot complete`), out[r]!.stderr)
  }
  const all = [0, 1, 3].map((r) => out[r]!.stderr).join("")
  t.regex(all, /failed: PeerLost: .* from rank 2 .*cannot complete: it failed: .*ERR_(UNREACHABLE|HEARTBEAT_TIMEOUT)/, all)
  t.regex(all, /lost rank 2: ERR_(UNREACHABLE|HEARTBEAT_TIMEOUT)/)
  t.true(ended - killedAt < 10_000 + 5_000, `the last rank ended ${ended - killedAt} ms after the kill (the detector timeout is 10 s)`)
  t.log(`the last rank ended ${ended - killedAt} ms after the kill`)
})

test.serial("a rank started with no secret exits 1 with ERR_NO_SECRET", async (t) => {
  const r = await run(NODE, ["examples/20-mpirun-allreduce.ts"], { RANKFLOW_SECRET: undefined, RANKFLOW_SECRET_FILE: undefined, RANKFLOW_RANK: "0", RANKFLOW_SIZE: "1", RANKFLOW_COORDINATOR: "127.0.0.1:1" })
  t.is(r.code, 1)
  t.regex(r.stderr, /rankflow: rank 0 failed: .*ERR_NO_SECRET.*set RANKFLOW_SECRET or RANKFLOW_SECRET_FILE/)
})

test.serial("runWorld over tcp: ranks get their arguments, and neither the secret nor its file is in their environment or on a command line", async (t) => {
  const results = await runWorld<any>({ size: 3, transport: "tcp", argv: ["a", "b c"], timeout: 30_000 }, new URL("../transports/process/env.ts", import.meta.url))
  t.deepEqual(results.map((r) => r.rank), [0, 1, 2])
  for (const r of results) {
    t.deepEqual(r.argv, ["a", "b c"])
    t.deepEqual(r.execArgv, [])
    t.is(r.secret, null)
    t.is(r.secretFile, null)
  }
  t.is(new Set(results.map((r) => r.pid)).size, 3)
})

test.serial("world(): ranks started by hand get their communicator, talk, and close once every rank is done", async (t) => {
  const port = await freePort()
  const out = await Promise.all([0, 1, 2].map((rank) =>
    run(NODE, ["test/transports/tcp/world-api.ts"], { ...SECRET, RANKFLOW_RANK: String(rank), RANKFLOW_SIZE: "3", RANKFLOW_COORDINATOR: `127.0.0.1:${port}`, RANKFLOW_HOST_COORDINATOR: "1" })))
  for (const r of out) t.is(r.code, 0, r.stderr)
  t.regex(out[0]!.stdout, /world\(\) rank 0 of 3: sum 6, gathered \["rankflow:0","rankflow:1","rankflow:2"\]/)
})

test.serial("a joined rank killed with SIGKILL: the head tells every rank, and both the head and the join exit 1 naming it", async (t) => {
  const port = await freePort()
  const head = run(NODE, [CLI, "run", "-n", "4", "--listen", `127.0.0.1:${port}`, "--local", "2", "--timeout", "60", "test/transports/process/killed.ts"], SECRET, 90_000)
  const joined = await run(NODE, [CLI, "join", `127.0.0.1:${port}`, "-n", "2", "test/transports/process/killed.ts"], SECRET, 90_000)
  const h = await head
  t.is(h.code, 1, h.stderr)
  t.is(joined.code, 1, joined.stderr)
  t.regex(h.stderr, /rankflow: rank 2 failed: Error: rank 2's process was killed \(SIGKILL\) before its program finished/)
  t.regex(h.stderr, /then rank \d: .*rank 2.* cannot complete: it failed/)
  t.regex(h.stderr, /killing rank 2 at \d+/, "the joined rank's output reached the head")
})

test.serial("a joined machine that stops dead (SIGSTOP of the agent and its ranks): the head's ranks and the head find it within the detector timeout and the run exits 1", async (t) => {
  const port = await freePort()
  let watched = ""
  const head = run(NODE, [CLI, "run", "-n", "4", "--listen", `127.0.0.1:${port}`, "--local", "2", "--timeout", "60", "test/run/fixtures/tcp-loop.ts"], SECRET, 90_000, (d) => (watched += d))
  // The agent leads its own process group, so the whole "machine" can be stopped at once.
  const agent = spawn(NODE, [CLI, "join", `127.0.0.1:${port}`, "-n", "2", "test/run/fixtures/tcp-loop.ts"], {
    cwd: root,
    env: { ...process.env, ...SECRET },
    stdio: "ignore",
    detached: true
  })
  t.teardown(() => {
    try {
      process.kill(-agent.pid!, "SIGKILL")
    } catch {
      // gone already
    }
  })
  // Stop it once the world is in its loop (bounded: the head's own time limit ends it otherwise).
  await Promise.race([head, new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (watched.includes("looping")) {
        clearInterval(poll)
        resolve()
      }
    }, 50)
  })])
  const stoppedAt = Date.now()
  process.kill(-agent.pid!, "SIGSTOP")
  const h = await head
  const took = Date.now() - stoppedAt
  t.is(h.code, 1, h.stderr)
  t.regex(h.stdout, /looping/, "the world was running when the machine stopped")
  t.regex(h.stderr, /rankflow: rank [0-3] failed: /)
  t.regex(h.stderr, /rank [23]'s machine \(its agent at .*\) was silent for 10000 ms|ERR_HEARTBEAT_TIMEOUT|ERR_UNREACHABLE/)
  t.true(took < 10_000 + 6_000, `the head ended ${took} ms after the machine stopped (the detector timeout is 10 s)`)
  t.log(`the head ended ${took} ms after the machine stopped`)
})

test.serial("usage errors of --listen and join exit 2 naming what is wrong", async (t) => {
  const cases: Array<[Array<string>, RegExp]> = [
    [["run", "-n", "2", "--listen", "nope", "app.ts"], /--listen needs HOST:PORT; got nope/],
    [["run", "-n", "2", "--listen", "127.0.0.1:1", "--transport", "process", "app.ts"], /--listen runs a tcp world/],
    [["run", "-n", "2", "--local", "1", "app.ts"], /--local and --advertise go with --listen/],
    [["join", "x", "app.ts"], /join needs the head's HOST:PORT; got x/],
    [["join", "127.0.0.1:1", "-n", "0", "app.ts"], /-n K must be a positive whole number/],
    [["join", "127.0.0.1:1"], /no module to run/]
  ]
  for (const [args, message] of cases) {
    const r = await rankflow(args)
    t.is(r.code, 2, args.join(" "))
    t.regex(r.stderr, message)
  }
})

test.serial("--listen without a secret in the environment fails before anything starts, naming the variables", async (t) => {
  const r = await run(NODE, [CLI, "run", "-n", "2", "--listen", "127.0.0.1:0", "examples/20-mpirun-allreduce.ts"], { RANKFLOW_SECRET: undefined, RANKFLOW_SECRET_FILE: undefined })
  t.is(r.code, 1)
  t.regex(r.stderr, /^rankflow: Error: a world that listens for other machines needs their shared secret: no secret: set RANKFLOW_SECRET or RANKFLOW_SECRET_FILE/m)
})

const hasMpirun = spawnSync("mpirun", ["--version"], { stdio: "ignore" }).status === 0

;(hasMpirun ? test.serial : test.serial.skip)(`mpirun -n 4 node examples/20-mpirun-allreduce.ts runs the allreduce over TCP${hasMpirun ? "" : " (skipped: mpirun not found; .ci/run installs openmpi-bin as root)"}`, async (t) => {
  const r = await run("mpirun", ["--allow-run-as-root", "--oversubscribe", "-n", "4", NODE, "examples/20-mpirun-allreduce.ts"], SECRET, 90_000)
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, ALLREDUCE)
})

test.serial("--listen and join on loopback: the head runs ranks 0-1, the joined machine 2-3; their output reaches the head", async (t) => {
  const port = await freePort()
  const head = run(NODE, [CLI, "run", "-n", "4", "--listen", `127.0.0.1:${port}`, "--local", "2", "--tag-output", "--timeout", "60", "test/run/fixtures/tcp-ranks.ts"], SECRET, 90_000)
  const joined = await run(NODE, [CLI, "join", `127.0.0.1:${port}`, "-n", "2", "test/run/fixtures/tcp-ranks.ts"], SECRET, 90_000)
  const h = await head
  t.is(h.code, 0, h.stderr)
  t.is(joined.code, 0, joined.stderr)
  for (const r of [0, 1, 2, 3]) t.regex(h.stdout, new RegExp(`^\\[${r}\\] rank ${r} of 4 on pid \\d+: allreduce 6 \\(coordinator `, "m"))
  t.regex(h.stderr, /ranks 2\.\.3 joined from/)
  t.regex(joined.stderr, /joined 127\.0\.0\.1:\d+ as ranks 2\.\.3 of 4/)
})

test.serial("join with the wrong secret is refused, and the head goes on waiting for a genuine one", async (t) => {
  const port = await freePort()
  const head = run(NODE, [CLI, "run", "-n", "2", "--listen", `127.0.0.1:${port}`, "--local", "1", "--timeout", "60", "test/run/fixtures/tcp-ranks.ts"], SECRET, 90_000)
  const bad = await run(NODE, [CLI, "join", `127.0.0.1:${port}`, "-n", "1", "test/run/fixtures/tcp-ranks.ts"], { RANKFLOW_SECRET: "wrong" }, 60_000)
  t.is(bad.code, 1)
  t.regex(bad.stderr, /ERR_AUTH_FAILED/)
  const good = await run(NODE, [CLI, "join", `127.0.0.1:${port}`, "-n", "1", "test/run/fixtures/tcp-ranks.ts"], SECRET, 60_000)
  t.is(good.code, 0, good.stderr)
  const h = await head
  t.is(h.code, 0, h.stderr)
  t.regex(h.stderr, /ERR_AUTH_FAILED/, "the refusal is logged at the head")
  t.regex(h.stdout, /rank 1 of 2 on pid \d+: allreduce 1/)
})

// ------------------------------------------------- two machines: netns + veth

const isRoot = process.getuid?.() === 0
/** Can this process make network namespaces (root with CAP_NET_ADMIN and `ip`)? Probed by making one. */
const canNetns = ((): boolean => {
  if (!isRoot) return false
  const probe = `rfprobe${process.pid % 100000}`
  const ok = spawnSync("ip", ["netns", "add", probe], { stdio: "ignore" }).status === 0
  if (ok) spawnSync("ip", ["netns", "del", probe], { stdio: "ignore" })
  return ok
})()

;(canNetns ? test.serial : test.serial.skip)(
  `two machines: a head in one network namespace and a join in another, joined by a veth pair (10.77.x)${canNetns ? "" : " (skipped: needs root with CAP_NET_ADMIN and ip netns)"}`,
  async (t) => {
    const id = String(process.pid % 100000)
    const [nsA, nsB, vA, vB] = [`rfA${id}`, `rfB${id}`, `rfa${id}`, `rfb${id}`]
    const ip = (...args: Array<string>): void => void execFileSync("ip", args, { stdio: "ignore" })
    const clean = (): void => {
      for (const ns of [nsA, nsB]) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" })
    }
    t.teardown(clean)
    clean() // left over from a run that was killed
    ip("netns", "add", nsA)
    ip("netns", "add", nsB)
    ip("link", "add", vA, "type", "veth", "peer", "name", vB)
    ip("link", "set", vA, "netns", nsA)
    ip("link", "set", vB, "netns", nsB)
    ip("netns", "exec", nsA, "ip", "addr", "add", "10.77.0.1/24", "dev", vA)
    ip("netns", "exec", nsB, "ip", "addr", "add", "10.77.0.2/24", "dev", vB)
    for (const [ns, v] of [[nsA, vA], [nsB, vB]] as const) {
      ip("netns", "exec", ns, "ip", "link", "set", v, "up")
      ip("netns", "exec", ns, "ip", "link", "set", "lo", "up")
    }
    const head = run("ip", ["netns", "exec", nsA, NODE, CLI, "run", "-n", "4", "--listen", "10.77.0.1:7400", "--local", "2", "--tag-output", "--timeout", "60", "test/run/fixtures/tcp-ranks.ts"], SECRET, 90_000)
    const joined = await run("ip", ["netns", "exec", nsB, NODE, CLI, "join", "10.77.0.1:7400", "-n", "2", "test/run/fixtures/tcp-ranks.ts"], SECRET, 90_000)
    const h = await head
    t.is(h.code, 0, h.stderr)
    t.is(joined.code, 0, joined.stderr)
    for (const r of [0, 1, 2, 3]) t.regex(h.stdout, new RegExp(`^\\[${r}\\] rank ${r} of 4 on pid \\d+: allreduce 6 \\(coordinator `, "m"))
    t.regex(h.stderr, /ranks 2\.\.3 joined from 10\.77\.0\.2:/, "the other machine joined over the veth pair")
    t.regex(h.stdout, /^\[2\] .*\(coordinator 10\.77\.0\.1:7400\)$/m, "rank 2 met the world at the head's address")
  }
)

const hasOpenssl = spawnSync("openssl", ["version"], { stdio: "ignore" }).status === 0

;(hasOpenssl ? test.serial : test.serial.skip)(`TLS from the environment: rankflow run --transport tcp with RANKFLOW_TLS_CERT/KEY/CA works${hasOpenssl ? "" : " (skipped: openssl not found)"}`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "rankflow-tls-run-"))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
  execFileSync("openssl", ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=ca"], { cwd: dir, stdio: "ignore" })
  execFileSync("openssl", ["req", ...ec, "-keyout", "rank.key", "-out", "rank.csr", "-subj", "/CN=rank"], { cwd: dir, stdio: "ignore" })
  execFileSync("openssl", ["x509", "-req", "-in", "rank.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "rank.pem", "-days", "1"], { cwd: dir, stdio: "ignore" })
  const r = await run(NODE, [CLI, "run", "-n", "4", "--transport", "tcp", "--timeout", "30", "examples/20-mpirun-allreduce.ts"], {
    RANKFLOW_TLS_CERT: join(dir, "rank.pem"),
    RANKFLOW_TLS_KEY: join(dir, "rank.key"),
    RANKFLOW_TLS_CA: join(dir, "ca.pem")
  })
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, ALLREDUCE)
})
