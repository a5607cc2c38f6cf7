import type { Clock } from '../clock.ts'
import type { Executor } from '../db/client.ts'
import { sessions } from '../db/schema/index.ts'
import { AppError } from '../errors.ts'
import { generateToken, type TokenHasher } from '../tokens.ts'

export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000
export const MEMBER_INVITATION_TTL_MS = 7 * 24 * 3600 * 1000
export const SIGNUP_CONFIRMATION_TTL_MS = 24 * 3600 * 1000
export const PASSWORD_RESET_TTL_MS = 3600 * 1000

/**
 * The tokens of emailed account links are derived from their row's id with the server key,
 * as start links are: the email job carries the id only, and only the hash is stored.
 */
export const memberInvitationToken = (tokens: TokenHasher, id: string) => tokens.derive('memberInvite', `member-invite:${id}`)
export const passwordResetToken = (tokens: TokenHasher, id: string) => tokens.derive('passwordReset', `password-reset:${id}`)
export const signupConfirmationToken = (tokens: TokenHasher, id: string) => tokens.derive('signupConfirm', `signup-confirm:${id}`)

/** Paths of the pages those links open, under `APP_BASE_URL`. */
export const ACCOUNT_PAGES = {
  join: '/join',
  resetPassword: '/reset-password',
  confirmSignup: '/signup/confirm',
  login: '/login',
} as const

export type LinkState = 'unknown' | 'used' | 'revoked' | 'expired'

/**
 * Why an emailed link no longer works. Only its holder can ask, so telling them which
 * (rather than one vague answer) reveals nothing to anyone else.
 */
export function linkRefused(what: string, state: LinkState): AppError {
  switch (state) {
    case 'unknown':
      return new AppError(404, 'link_invalid', `this ${what} link is not valid`)
    case 'used':
      return new AppError(409, 'link_used', `this ${what} link has already been used`)
    case 'revoked':
      return new AppError(410, 'link_revoked', `this ${what} link was withdrawn`)
    case 'expired':
      return new AppError(410, 'link_expired', `this ${what} link has expired; ask for a new one`)
  }
}

/** A new session of `userId` in `orgId`; the raw token goes into the cookie only. */
export async function openSession(exec: Executor, { tokens, clock }: { tokens: TokenHasher; clock: Clock }, userId: string, orgId: string) {
  const token = generateToken('session')
  const expiresAt = new Date(clock.now().getTime() + SESSION_TTL_MS)
  await exec.insert(sessions).values({ tokenHash: tokens.hash(token), userId, orgId, expiresAt })
  return { token, expiresAt }
}
