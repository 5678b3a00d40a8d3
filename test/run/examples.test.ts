/**
 * The seed-talk examples end to end through `rankflow run`: psum (one
 * Allreduce into a preallocated buffer), π (bcast + reduce, Effect face) and
 * the matrix–vector product (Scatterv, Bcast, Gatherv), on 1, 3 and 4 worker
 * ranks and 3 in-process ranks. Every number they print is parsed and checked
 * against a value computed here.
 */
import test, { type ExecutionContext } from "ava"
import { rankflow } from "./rankflow.ts"

/** Runs an example and checks that it exited 0. */
const example = async (t: ExecutionContext, ranks: number, transport: string, file: string, ...args: Array<string>): Promise<string> => {
  const r = await rankflow(["run", "-n", String(ranks), "--transport", transport, "--timeout", "20", `examples/${file}`, ...args])
  t.is(r.code, 0, `${file} ${args.join(" ")} on ${on(ranks, transport)}:\n${r.stderr}`)
  t.log(`${file} ${args.join(" ")}: ${r.ms.toFixed(0)} ms`)
  return r.stdout
}

const NUM = String.raw`([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)`

/** The numbers captured by `pattern` (with NUM groups) in `out`; fails the test if it does not match. */
const numbers = (t: ExecutionContext, out: string, pattern: string): Array<number> => {
  const m = new RegExp(pattern, "m").exec(out)
  if (m === null) {
    t.fail(`no line matching /${pattern}/ in:\n${out}`)
    return []
  }
  return m.slice(1).map(Number)
}

/** Blocks of `total` over `ranks`: as many as ranks, summing to total, differing by at most one, larger first. */
const checkSplit = (t: ExecutionContext, listed: string | undefined, total: number, ranks: number): void => {
  const sizes = (listed ?? "").split(", ").map(Number)
  t.is(sizes.length, ranks, `split ${listed}`)
  t.is(sizes.reduce((a, b) => a + b, 0), total, `split ${listed}`)
  t.deepEqual(sizes, Array.from({ length: ranks }, (_, r) => Math.floor(total / ranks) + (r < total % ranks ? 1 : 0)))
}

const worlds: ReadonlyArray<[number, string]> = [[1, "worker"], [3, "worker"], [4, "worker"], [3, "inproc"]]
const on = (ranks: number, transport: string): string => `${ranks} ${transport} rank${ranks === 1 ? "" : "s"}`

for (const [ranks, transport] of worlds) {
  test.serial(`psum: ${on(ranks, transport)} sum an unevenly split arange with one Allreduce`, async (t) => {
    const n = 1_000_003 // not a multiple of 3 or 4
    const out = await example(t, ranks, transport, "04-psum.ts", String(n))
    const exact = (n * (n - 1)) / 2
    const [total, closed, diff] = numbers(t, out, String.raw`^psum of arange\(${n}\) over ${ranks} ranks? \(slices of [\d, ]+ elements\): ${NUM}\nclosed form n\(n-1\)/2 = ${NUM}; difference ${NUM}`)
    t.is(closed, exact)
    t.true(Math.abs(total! - exact) <= 1e-12 * exact, `total ${total}, expected ${exact}`)
    t.true(diff! <= 1e-12 * exact && diff === Math.abs(total! - exact), `difference ${diff}`)
    checkSplit(t, /slices of ([\d, ]+) elements/.exec(out)?.[1], n, ranks)
  })

  test.serial(`pi: ${on(ranks, transport)} integrate with bcast + reduce (Effect face)`, async (t) => {
    // The default n: π to about 1e-13.
    const big = await example(t, ranks, transport, "05-pi.ts")
    const [pi, n] = numbers(t, big, String.raw`^π ≈ ${NUM} from ${NUM} intervals on ${ranks} ranks?$`)
    t.is(n, 10_000_000)
    t.true(Math.abs(pi! - Math.PI) < 1e-11, `π ≈ ${pi}`)
    const [err, ms] = numbers(t, big, String.raw`^error ${NUM} against Math\.PI, in ${NUM} ms$`)
    t.true(Math.abs(err! - Math.abs(pi! - Math.PI)) <= 1e-3 * Math.abs(pi! - Math.PI) + 1e-16, `error ${err} for π ≈ ${pi}`)
    t.true(ms! >= 0)
    // A small n from the command line: the midpoint rule's own error, 1/(12n²), shows every rank used it.
    const small = await example(t, ranks, transport, "05-pi.ts", "1000")
    const [pi1000] = numbers(t, small, String.raw`^π ≈ ${NUM} from 1000 intervals on ${ranks} ranks?$`)
    const rule = 1 / (12 * 1000 ** 2)
    t.true(Math.abs(pi1000! - Math.PI - rule) < 1e-4 * rule, `π ≈ ${pi1000}: error ${pi1000! - Math.PI}, expected ${rule}`)
  })

  test.serial(`matvec: ${on(ranks, transport)} multiply with Scatterv, Bcast and Gatherv`, async (t) => {
    const [m, n] = [1001, 500] // m not a multiple of 3 or 4
    const out = await example(t, ranks, transport, "06-matvec.ts", String(m), String(n))
    numbers(t, out, String.raw`^y = A·x, A the ${m}×${n} Hilbert matrix, x all ones, on ${ranks} ranks? \(rows [\d, ]+\)$`)
    checkSplit(t, /\(rows ([\d, ]+)\)/.exec(out)?.[1], m, ranks)
    // y[i] = 1/(i+1) + ... + 1/(i+n), computed here independently.
    const yAt = (i: number): number => {
      let s = 0
      for (let k = i + n; k > i; k--) s += 1 / k
      return s
    }
    const [y0, yLast] = numbers(t, out, String.raw`^y\[0\] = ${NUM}, y\[${m - 1}\] = ${NUM}$`)
    t.true(Math.abs(y0! - yAt(0)) < 1e-12, `y[0] = ${y0}, expected ${yAt(0)}`)
    t.true(Math.abs(yLast! - yAt(m - 1)) < 1e-12, `y[${m - 1}] = ${yLast}, expected ${yAt(m - 1)}`)
    const [diff] = numbers(t, out, String.raw`^largest \|y − serial A·x\| = ${NUM}$`)
    t.true(diff! < 1e-12, `largest difference ${diff}`)
  })
}

test.serial("fewer elements or rows than ranks: the extra ranks hold empty blocks", async (t) => {
  const psum = await example(t, 4, "worker", "04-psum.ts", "2")
  t.deepEqual(numbers(t, psum, String.raw`^psum of arange\(2\) over 4 ranks \(slices of 1, 1, 0, 0 elements\): ${NUM}$`), [1])
  const matvec = await example(t, 4, "worker", "06-matvec.ts", "2", "5")
  t.regex(matvec, /on 4 ranks \(rows 1, 1, 0, 0\)/)
  const [y0, y1] = numbers(t, matvec, String.raw`^y\[0\] = ${NUM}, y\[1\] = ${NUM}$`)
  t.true(Math.abs(y0! - (1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5)) < 1e-14)
  t.true(Math.abs(y1! - (1 / 2 + 1 / 3 + 1 / 4 + 1 / 5 + 1 / 6)) < 1e-14)
  t.deepEqual(numbers(t, matvec, String.raw`^largest \|y − serial A·x\| = ${NUM}$`), [0])
})

test.serial("a bad size on the command line fails the run at rank 0, and the others are told", async (t) => {
  for (const file of ["05-pi.ts", "06-matvec.ts"]) {
    const r = await rankflow(["run", "-n", "3", "--timeout", "20", `examples/${file}`, "lots"])
    t.is(r.code, 1, file)
    t.regex(r.stderr, /rankflow: rank 0 failed: Error: .*must be (a )?whole numbers? ≥ 1; got lots/, file)
    t.regex(r.stderr, /bcast on rank \d from rank 0 .*cannot complete/, file)
  }
})
