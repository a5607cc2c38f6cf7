const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' })

/** A timestamp from the API in the viewer's own time zone; a dash for none. */
export const formatWhen = (iso: string | null | undefined) => (iso ? dateTime.format(new Date(iso)) : '—')

/** A length of time in seconds as "2 d 3 h", "3 h 5 min" or "42 s". */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—'
  const days = Math.floor(seconds / 86_400)
  const hours = Math.floor((seconds % 86_400) / 3_600)
  const minutes = Math.floor((seconds % 3_600) / 60)
  if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`
  if (minutes > 0) return `${minutes} min`
  return `${seconds} s`
}

/** How far off a moment is, from now: "in 3 h", "5 min ago". */
export function formatRelative(iso: string, now = Date.now()): string {
  const diff = Math.round((new Date(iso).getTime() - now) / 1000)
  const span = formatSeconds(Math.abs(diff))
  return diff >= 0 ? `in ${span}` : `${span} ago`
}

export const shortSha = (sha: string | null | undefined) => (sha ? sha.slice(0, 7) : '—')
