/**
 * Runs after `npm install` and `npm ci`: makes `node_modules/.bin/node` the
 * `node` dev dependency's Node 24 again. The Node 22.18 binaries the package
 * tests run on (the optional `node22-*` aliases of `node-<platform>-<arch>`)
 * declare a `node` bin too, and an `npm install` over an existing tree may
 * hand the link to them; `npm ci` on a clean tree links Node 24 first.
 * Plain JavaScript syntax, so whichever Node runs it can.
 */
import { existsSync, readlinkSync, rmSync, symlinkSync } from "node:fs"

const link = "node_modules/.bin/node"
const want = "../node/bin/node"
const current = (): string | undefined => {
  try {
    return readlinkSync(link)
  } catch {
    return undefined
  }
}
if (process.platform !== "win32" && existsSync("node_modules/node/bin/node") && current() !== want) {
  rmSync(link, { force: true })
  symlinkSync(want, link)
  process.stderr.write(`postinstall: ${link} → ${want} (Node 24, the node dev dependency)\n`)
}
