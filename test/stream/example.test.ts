// examples/stream-wordcount.ts and examples/stream-mapreduce.ts end to end
// through `rankflow run`, on 3 worker ranks: their output is parsed and
// checked against what the input must give.
import test from "ava"
import { rankflow } from "../run/rankflow.ts"

test("examples/stream-wordcount.ts on 3 worker ranks: every word counted once, on one rank", async (t) => {
  const r = await rankflow(["run", "-n", "3", "--transport", "worker", "--timeout", "30", "examples/stream-wordcount.ts", "100"], 60_000)
  t.is(r.code, 0, r.stderr)
  // 48 words a repeat, 16 distinct; the split and the counts run on ranks 1 and 2
  t.regex(r.stdout, /^4800 words, 16 distinct, counted on 2 ranks; each word on one rank: true$/m)
  t.regex(r.stdout, /^top: it=800 of=800 the=800$/m)
})

test("examples/stream-mapreduce.ts on 3 worker ranks: the sums by key match the closed form", async (t) => {
  const r = await rankflow(["run", "-n", "3", "--transport", "worker", "--timeout", "30", "examples/stream-mapreduce.ts", "50000"], 60_000)
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /^total (\d+), expected \1, matches: true; \d+ running updates in \d+ ms$/m)
  t.regex(r.stdout, /^sum of squares 1\.\.50000 by last digit: 0:\d+ 1:\d+ 2:\d+ 3:\d+ 4:\d+ 5:\d+ 6:\d+ 7:\d+ 8:\d+ 9:\d+$/m)
})
