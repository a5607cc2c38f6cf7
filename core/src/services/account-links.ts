import { and, type Column, eq, gt, type SQL, sql } from 'drizzle-orm'
import type { Clock } from '../clock.ts'
import type { Db, Executor } from '../db/client.ts'
import { passwordResets, sessions, users } from '../db/schema/index.ts'
import { AppError } from '../errors.ts'
import { generateToken, isWellFormedToken, type TokenHasher, type TokenKind } from '../tokens.ts'

export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000
export const MEMBER_INVITATION_TTL_MS = 7 * 24 * 3600 * 1000
export const SIGNUP_CONFIRMATION_TTL_MS = 24 * 3600 * 1000
export const PASSWORD_RESET_TTL_MS = 3600 * 1000
/** At most one reset email per account this often, however often a reset is asked for. */
export const PASSWORD_RESET_COOLDOWN_MS = 5 * 60 * 1000

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

/** Email addresses match whatever their case: the one rule for every look-up by address. */
export const byEmail = (column: Column | SQL, email: string) => eq(sql`lower(${column})`, email.toLowerCase())
export const sameEmail = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

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

/** What a link's row says about whether it can still be used. */
export interface LinkRow {
  usedAt: Date | null
  revokedAt?: Date | null
  expiresAt: Date
}

/**
 * Spends the token of an emailed link. `take` is one guarded `UPDATE … RETURNING` (unused,
 * not withdrawn, not expired), so of two concurrent uses exactly one wins; when it takes
 * nothing, the row `find` reads by the same hash says why the link no longer works.
 */
export async function spendLink<Row>(
  link: { tokens: TokenHasher; kind: TokenKind; token: string; what: string; now: Date },
  take: (tokenHash: string) => Promise<Row[]>,
  find: (tokenHash: string) => Promise<LinkRow[]>,
): Promise<Row> {
  if (!isWellFormedToken(link.kind, link.token)) throw linkRefused(link.what, 'unknown')
  const tokenHash = link.tokens.hash(link.token)
  const [taken] = await take(tokenHash)
  if (taken) return taken
  const [found] = await find(tokenHash)
  // Found but still usable means the guard and the row disagree: say no more than for an unknown link.
  const state: LinkState = !found ? 'unknown' : found.usedAt ? 'used' : found.revokedAt ? 'revoked' : found.expiresAt <= link.now ? 'expired' : 'unknown'
  throw linkRefused(link.what, state)
}

/** A new session of `userId` in `orgId`; the raw token goes into the cookie only. */
export async function openSession(exec: Executor, { tokens, clock }: { tokens: TokenHasher; clock: Clock }, userId: string, orgId: string) {
  const token = generateToken('session')
  const expiresAt = new Date(clock.now().getTime() + SESSION_TTL_MS)
  await exec.insert(sessions).values({ tokenHash: tokens.hash(token), userId, orgId, expiresAt })
  return { token, expiresAt }
}

/**
 * Makes reset link `id` for `userId`, unless the account is gone or already got one within
 * the cooldown; returns the row to email (also when this id was made before: a job run again).
 * The email job decides this, not the request, so a request does the same work whether or not
 * the address has an account.
 */
export async function issuePasswordReset(db: Db, { tokens, clock }: { tokens: TokenHasher; clock: Clock }, id: string, userId: string) {
  return db.transaction(async (tx) => {
    // Holds the account's requests in line, so two at once cannot both pass the cooldown.
    const [user] = await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('no key update')
    if (!user) return undefined
    const [issued] = await tx.select().from(passwordResets).where(eq(passwordResets.id, id))
    if (issued) return issued
    const now = clock.now()
    const [recent] = await tx
      .select({ id: passwordResets.id })
      .from(passwordResets)
      .where(and(eq(passwordResets.userId, userId), gt(passwordResets.createdAt, new Date(now.getTime() - PASSWORD_RESET_COOLDOWN_MS))))
      .limit(1)
    if (recent) return undefined
    const [row] = await tx
      .insert(passwordResets)
      .values({ id, userId, tokenHash: tokens.hash(passwordResetToken(tokens, id)), expiresAt: new Date(now.getTime() + PASSWORD_RESET_TTL_MS), createdAt: now })
      .returning()
    return row
  })
}
