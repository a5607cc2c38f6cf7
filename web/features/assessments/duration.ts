/** The units the form offers for an assessment's times, largest first. */
export const UNITS = [
  { value: 'days', label: 'days', seconds: 86_400 },
  { value: 'hours', label: 'hours', seconds: 3_600 },
  { value: 'minutes', label: 'minutes', seconds: 60 },
] as const
export type Unit = (typeof UNITS)[number]['value']

export interface DurationInput {
  amount: string
  unit: Unit
}

const ISO = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/

/** An ISO 8601 duration as the API writes it, in the largest unit that divides it. */
export function fromIso(iso: string): DurationInput {
  const [, w = '0', d = '0', h = '0', m = '0', s = '0'] = ISO.exec(iso) ?? []
  const seconds = Number(w) * 604_800 + Number(d) * 86_400 + Number(h) * 3_600 + Number(m) * 60 + Number(s)
  const unit = UNITS.find((u) => seconds > 0 && seconds % u.seconds === 0) ?? UNITS[2]
  return { amount: String(Math.round(seconds / unit.seconds)), unit: unit.value }
}

/** What the form's amount and unit say, as ISO 8601; a bad amount goes through as typed, for the API to name. */
export function toIso({ amount, unit }: DurationInput): string {
  const n = amount.trim()
  if (!/^\d+$/.test(n)) return n
  return unit === 'days' ? `P${n}D` : unit === 'hours' ? `PT${n}H` : `PT${n}M`
}
