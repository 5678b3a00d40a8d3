/**
 * Puts the latest full benchmark run into README.md, between the
 * `<!-- bench:start -->` and `<!-- bench:end -->` markers: the charts and
 * the tables of `bench/results/latest.md`. Refuses a quick smoke run.
 *
 *     node bench/readme.ts
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))
const results = `${root}bench/results/`
const latest = JSON.parse(readFileSync(`${results}latest.json`, "utf8")) as { quick?: boolean }
if (latest.quick === true) {
  process.stderr.write("bench/results/latest.json is a quick smoke run; run `npm run bench` first\n")
  process.exit(1)
}
const charts = [
  ["latency.svg", "one-way latency"],
  ["bandwidth.svg", "bandwidth"],
  ["streams-latency.svg", "byte-stream transports: one-way latency"],
  ["streams-bandwidth.svg", "byte-stream transports: bandwidth"],
  ["collectives.svg", "collectives"]
].filter(([file]) => existsSync(`${results}${file}`))
const body = [
  "The latest full run (`bench/results/latest.md`, every sample in",
  "`bench/results/latest.json`):",
  "",
  ...charts.map(([file, alt]) => `![${alt}](bench/results/${file})`),
  "",
  readFileSync(`${results}latest.md`, "utf8").trimEnd()
].join("\n")
const readme = readFileSync(`${root}README.md`, "utf8")
const start = readme.indexOf("<!-- bench:start -->")
const end = readme.indexOf("<!-- bench:end -->")
if (start < 0 || end < start) {
  process.stderr.write("README.md has no <!-- bench:start --> … <!-- bench:end --> markers\n")
  process.exit(1)
}
writeFileSync(`${root}README.md`, `${readme.slice(0, start)}<!-- bench:start -->\n${body}\n${readme.slice(end)}`)
process.stderr.write(`README.md: the run of ${readFileSync(`${results}latest.md`, "utf8").slice(9, 19)} between the bench markers\n`)
