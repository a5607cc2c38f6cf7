// How long the API's emailed account links work (core/src/services/account-links.ts), which
// this app cannot import and the API does not send with its answers: the pages say it
// before and after asking for a link. api/test/console-mirrors.test.ts holds them to core's.
const HOUR_MS = 3600 * 1000
const DAY_MS = 24 * HOUR_MS

export const MEMBER_INVITATION_TTL_MS = 7 * DAY_MS
export const SIGNUP_CONFIRMATION_TTL_MS = 24 * HOUR_MS
export const PASSWORD_RESET_TTL_MS = HOUR_MS

/** A lifetime as a page says it: "an hour", "24 hours", "7 days" (days from two on). */
export function lifetimeInWords(ms: number): string {
  if (ms >= 2 * DAY_MS && ms % DAY_MS === 0) return `${ms / DAY_MS} days`
  const hours = Math.round(ms / HOUR_MS)
  return hours <= 1 ? 'an hour' : `${hours} hours`
}
