import type { AccountSession } from './account-api'

/** What an account form shows after its action ran. Passwords never come back in it. */
export interface AccountState {
  /** Shown as an alert: why it did not work, when no one field is to blame. */
  error: { code: string; title: string; message: string } | null
  /** Why a field's value was refused, by the field's name. */
  fields: Record<string, string>
  /** What the person typed, to show again (an email address, a name). */
  values: Record<string, string>
  /** Set once it worked; with the session it opened, if it opened one. */
  done: { session: AccountSession | null; apiKeysRevoked?: number } | null
}

export const IDLE: AccountState = { error: null, fields: {}, values: {}, done: null }

/** The API's answers for an emailed link that no longer works (core linkRefused). */
export const LINK_PROBLEMS = ['link_invalid', 'link_used', 'link_expired', 'link_revoked'] as const
export type LinkProblem = (typeof LINK_PROBLEMS)[number]

export const linkProblemOf = (state: AccountState): LinkProblem | undefined =>
  LINK_PROBLEMS.find((code) => state.error?.code === code)
