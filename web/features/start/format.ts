const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

// Built by hand rather than with Intl: the text must not depend on the server's ICU data
// (en-GB writes "Sept" on some versions) and the candidate's time zone is unknown to us.
export function formatUtc(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`
}

const DURATION =
  /^P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/
const UNITS = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second'] as const

/** "P2D" → "2 days", "P1DT12H" → "1 day and 12 hours"; anything unparseable is returned as is. */
export function humaniseDuration(iso: string): string {
  const match = DURATION.exec(iso)
  if (!match || iso === 'P' || iso.endsWith('T')) return iso
  const parts: string[] = []
  UNITS.forEach((unit, i) => {
    const raw = match[i + 1]
    if (raw === undefined) return
    const n = Number(raw.replace(',', '.'))
    if (n !== 0) parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`)
  })
  if (parts.length === 0) return 'no time'
  if (parts.length === 1) return parts[0]!
  return `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}`
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`

/**
 * Time left, rounded down so it never promises more than there is: "2 days and 3 hours",
 * "3 hours and 12 minutes", "12 minutes", "less than a minute"; null once it has run out.
 */
export function formatRemaining(ms: number): string | null {
  if (!Number.isFinite(ms) || ms <= 0) return null
  if (ms < MINUTE) return 'less than a minute'
  const join = (big: string, small: number, unit: string) => (small > 0 ? `${big} and ${plural(small, unit)}` : big)
  if (ms >= DAY) return join(plural(Math.floor(ms / DAY), 'day'), Math.floor((ms % DAY) / HOUR), 'hour')
  if (ms >= HOUR) return join(plural(Math.floor(ms / HOUR), 'hour'), Math.floor((ms % HOUR) / MINUTE), 'minute')
  return plural(Math.floor(ms / MINUTE), 'minute')
}

/** Git's usual abbreviation: enough to recognise a commit, short enough to read. */
export const shortSha = (sha: string) => sha.slice(0, 7)

const ISO_INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g

/**
 * The API's messages are lower-case clauses with ISO instants ("the time to start this
 * assessment ended at 2026-11-25T10:00:00.000Z"): make them a sentence a person reads.
 */
export function toSentence(message: string): string {
  const text = message.trim().replace(ISO_INSTANT, (iso) => formatUtc(iso))
  if (text === '') return text
  const capitalised = text[0]!.toUpperCase() + text.slice(1)
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`
}

/**
 * Markdown headings sit under the page's own "Instructions" heading (an h2): push them
 * down by `by` levels, capped at h6, so the page's outline stays in order. Safe on the
 * API's rendering, which escapes raw HTML, so every `<hN` is a tag markdown produced.
 */
export function demoteHeadings(html: string, by: number): string {
  return html.replace(/<(\/?)h([1-6])(?=[\s>])/g, (_m, slash: string, level: string) => `<${slash}h${Math.min(6, Number(level) + by)}`)
}
