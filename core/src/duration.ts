import { z } from 'zod'

/**
 * ISO 8601 durations of fixed length (weeks, days, hours, minutes, seconds). Years and
 * months are refused: they have no fixed length, and a deadline must be unambiguous.
 */
const PATTERN = /^P(?!$)(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/
const MAX_SECONDS = 366 * 86_400

export function parseDuration(text: string): number | undefined {
  const m = PATTERN.exec(text.trim().toUpperCase())
  if (!m) return undefined
  const [w, d, h, min, s] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number]
  return w * 604_800 + d * 86_400 + h * 3_600 + min * 60 + s
}

export function formatDuration(seconds: number): string {
  const d = Math.floor(seconds / 86_400)
  const h = Math.floor((seconds % 86_400) / 3_600)
  const m = Math.floor((seconds % 3_600) / 60)
  const s = seconds % 60
  const time = `${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s ? `${s}S` : ''}`
  const text = `P${d ? `${d}D` : ''}${time ? `T${time}` : ''}`
  return text === 'P' ? 'PT0S' : text
}

/** The zod type used at the edge: an ISO 8601 string in, seconds out. */
export const durationSchema = z
  .string()
  .max(40)
  .transform((text, ctx) => {
    const seconds = parseDuration(text)
    if (seconds === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: /^P.*[YM]/i.test(text) && !/T.*M/i.test(text)
          ? 'use weeks, days, hours, minutes or seconds (years and months have no fixed length), e.g. "P3D" or "PT48H"'
          : 'must be an ISO 8601 duration such as "P3D" or "PT48H"',
      })
      return z.NEVER
    }
    if (seconds <= 0 || seconds > MAX_SECONDS) {
      ctx.addIssue({ code: 'custom', message: 'must be longer than zero and at most 366 days' })
      return z.NEVER
    }
    return seconds
  })
