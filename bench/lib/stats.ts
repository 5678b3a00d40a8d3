/** Sample statistics and formatting for the benchmark reports. */

export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export const min = (xs: ReadonlyArray<number>): number => (xs.length === 0 ? NaN : Math.min(...xs))
export const max = (xs: ReadonlyArray<number>): number => (xs.length === 0 ? NaN : Math.max(...xs))

export const formatBytes = (n: number): string =>
  n >= 1 << 20 ? `${n / (1 << 20)} MiB` : n >= 1024 ? `${n / 1024} KiB` : `${n} B`

/** A number with about three significant digits. */
export const fmt = (x: number): string => {
  if (!Number.isFinite(x)) return "-"
  const a = Math.abs(x)
  return a >= 1000 ? x.toFixed(0) : a >= 100 ? x.toFixed(1) : a >= 10 ? x.toFixed(2) : x.toFixed(3)
}

export const ratio = (x: number, floor: number): string =>
  Number.isFinite(x) && Number.isFinite(floor) && floor > 0 ? `${(x / floor).toFixed(2)}x` : "-"

/** A plain-text table: a header row and rows of cells, right-aligned. */
export const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

/** A Markdown table with the same content. */
export const markdown = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n")
