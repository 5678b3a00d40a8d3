/**
 * The documentation stays true to the code: every relative link in the
 * README and docs/ reaches a file (and heading) that exists, every typed
 * error of core is in the API reference's table, every stream error
 * code is in the protocol reference with its number, and the API
 * reference's face tables list the op table both faces are made from.
 */
import test from "ava"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Errors } from "../index.ts"
import { Codes } from "../transports/stream/StreamError.ts"
import { facesTable } from "../scripts/faces-table.ts"

const root = fileURLToPath(new URL("../", import.meta.url))
const files = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)]
const text = (f: string): string => readFileSync(join(root, f), "utf8")
const prose = (md: string): string => md.replace(/^```[\s\S]*?^```/gm, "")
// GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
const slug = (h: string): string => h.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-")
const anchors = (md: string): Set<string> => new Set([...prose(md).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)))

test("every relative link in the README and docs/ reaches a file and heading that exist", (t) => {
  let checked = 0
  for (const f of files) {
    for (const m of prose(text(f)).matchAll(/\]\(([^)\s]+)\)/g)) {
      const href = m[1]!
      if (/^[a-z]+:/.test(href)) continue
      const [path, anchor] = href.split("#") as [string, string | undefined]
      const target = path === "" ? f : join(dirname(f), path)
      t.true(existsSync(join(root, target)), `${f}: ${href} → ${target} does not exist`)
      if (anchor !== undefined && target.endsWith(".md") && existsSync(join(root, target))) {
        t.true(anchors(text(target)).has(anchor), `${f}: ${href}: no heading #${anchor} in ${target}`)
      }
      checked++
    }
  }
  t.true(checked > 20, `only ${checked} links found`)
})

test("every typed error of core is in docs/api.md's table", (t) => {
  const api = text("docs/api.md")
  const names = Object.entries(Errors).filter(([, v]) => typeof v === "function" && v.prototype instanceof Error).map(([k]) => k)
  t.true(names.length >= 10)
  for (const name of names) t.true(api.includes(`| \`${name}\` |`), `docs/api.md lacks a row for ${name}`)
})

test("every stream error code is in docs/protocol.md with its number", (t) => {
  const protocol = text("docs/protocol.md")
  for (const [name, n] of Object.entries(Codes)) t.true(protocol.includes(`| \`${name}\` | ${n} |`), `docs/protocol.md lacks ${name} (${n})`)
})

test("docs/api.md's face tables are the op table's rendering (node scripts/faces-table.ts --write)", (t) => {
  t.true(text("docs/api.md").includes(facesTable()), "docs/api.md's face tables are stale: run node scripts/faces-table.ts --write")
})
