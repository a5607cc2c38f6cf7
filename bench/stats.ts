// Small numeric and formatting helpers for the report.

export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
export const mean = (xs: number[]) => (xs.length === 0 ? NaN : sum(xs) / xs.length)

export function median(xs: number[]) {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US')
export const fmtMs = (n: number) => (n >= 100 ? fmtInt(n) : n.toFixed(n >= 10 ? 1 : 2))
export const fmtS = (ms: number) => `${(ms / 1000).toFixed(2)} s`
export const fmtRatio = (r: number) => r.toFixed(2)
export const fmtMiB = (bytes: number) =>
  bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`

/** A Markdown table: pastes into a README as it is and stays readable in a terminal. */
export function table(head: string[], rows: string[][]) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n')
}

/** "met" or "MISSED" against a target, for the summary lines. */
export const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED')
