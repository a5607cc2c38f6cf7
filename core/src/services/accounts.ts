import { randomUUID } from 'node:crypto'
import { and, asc, eq, gt, isNull, lt, lte, ne, or, sql } from 'drizzle-orm'
import { type Actor, actorRef, requireRole } from '../actor.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Config } from '../config.ts'
import type { Db, Executor } from '../db/client.ts'
import { apiKeys, orgMembers, orgs, passwordResets, type Role, sessions, signupRequests, users } from '../db/schema/index.ts'
import { AppError, conflict, isUniqueViolation, notFound } from '../errors.ts'
import { enqueue } from '../jobs/outbox.ts'
import type { PasswordHasher } from '../passwords.ts'
import { generateToken, isWellFormedToken, type TokenHasher, tokenHint } from '../tokens.ts'
import { byEmail, linkRefused, openSession, sameEmail, SIGNUP_CONFIRMATION_TTL_MS, signupConfirmationToken, spendLink } from './account-links.ts'
import { alreadyAMember, claimMemberInvitation, joinByInvitation, requireSession, wrongEmail } from './members.ts'

// Writing last_used_at on every request would turn every read into a write.
const LAST_USED_GRANULARITY_MS = 60_000
// Any constant shared by every process on the database: it only serialises the first sign-ups
// (local ones here, Supabase onboarding in supabase-identity.ts).
export const FIRST_SIGNUP_LOCK = 7_415_311
// With the address's hash, serialises the sign-up requests of one address.
const SIGNUP_REQUEST_LOCK = 7_415_312
/** At most one confirmation email per address this often, however often sign-up is asked for. */
export const SIGNUP_REQUEST_COOLDOWN_MS = 10 * 60 * 1000

export type SignupMode = Config['signup']

export interface AccountDeps {
  db: Db
  tokens: TokenHasher
  passwords: PasswordHasher
  clock: Clock
  /** Who may create an org by signing up (`SIGNUP`). */
  signup: SignupMode
}

const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'email or password is incorrect')
const signupClosed = () =>
  new AppError(403, 'signup_closed', 'sign-up is by invitation on this server: ask an owner of your organisation for an invitation')
const emailTaken = (then: string) => conflict('email_taken', `an account with this email already exists; ${then}`)

export function createAccountService({ db, tokens, passwords, clock, signup: mode }: AccountDeps) {
  const sessionDeps = { tokens, clock }

  // Orgs are never deleted: once one exists, no later sign-up can be the first.
  const orgExists = async (exec: Executor) => (await exec.select({ id: orgs.id }).from(orgs).limit(1)).length > 0

  /** A new account, its new org with it as owner, and a session there. */
  async function createOwner(
    tx: Executor,
    input: { email: string; name?: string | null; passwordHash: string; orgName: string },
    via: 'first_user' | 'confirmation',
  ) {
    const [user] = await tx.insert(users).values({ email: input.email, name: input.name, passwordHash: input.passwordHash }).returning()
    const [org] = await tx.insert(orgs).values({ name: input.orgName }).returning()
    await tx.insert(orgMembers).values({ orgId: org!.id, userId: user!.id, role: 'owner' })
    const session = await openSession(tx, sessionDeps, user!.id, org!.id)
    await recordAudit(tx, { orgId: org!.id, kind: 'user.signup', actor: `user:${user!.id}`, target: user!.id, meta: { via } })
    return { user: user!, org: org!, role: 'owner' as Role, session }
  }

  /**
   * Records a sign-up to confirm by email. Whether the address already has an account is
   * decided by the email job, not here, so this answer (and its timing) is the same for both.
   * An address with a request still pending from the last few minutes gets no other: open
   * sign-up must not be a way to flood someone's inbox. The answer is the same either way.
   */
  async function requestSignup(input: { email: string; name?: string; orgName: string }, passwordHash: string) {
    const id = randomUUID()
    const now = clock.now()
    await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${SIGNUP_REQUEST_LOCK}, hashtext(${input.email.toLowerCase()}))`)
      const [pending] = await tx
        .select({ id: signupRequests.id })
        .from(signupRequests)
        .where(
          and(
            byEmail(signupRequests.email, input.email),
            isNull(signupRequests.usedAt),
            gt(signupRequests.expiresAt, now),
            gt(signupRequests.createdAt, new Date(now.getTime() - SIGNUP_REQUEST_COOLDOWN_MS)),
          ),
        )
        .limit(1)
      if (!pending) {
        await tx.insert(signupRequests).values({
          id,
          email: input.email,
          name: input.name,
          orgName: input.orgName,
          passwordHash,
          tokenHash: tokens.hash(signupConfirmationToken(tokens, id)),
          expiresAt: new Date(now.getTime() + SIGNUP_CONFIRMATION_TTL_MS),
          createdAt: now,
        })
        await enqueue(tx, [{ kind: 'email.signup_confirm', orgId: null, payload: { signupRequestId: id } }])
      }
      await recordAudit(tx, {
        orgId: null,
        kind: 'auth.signup_requested',
        actor: 'anonymous',
        target: pending?.id ?? id,
        meta: { email: input.email.toLowerCase(), ...(pending ? { throttled: true } : {}) },
      })
    })
    return { status: 'confirmation_sent' as const }
  }

  /** The account with this email and password, or the one answer login gives for every failure. */
  async function verifyCredentials(input: { email: string; password: string }) {
    const [user] = await db.select().from(users).where(byEmail(users.email, input.email))
    // Verified even without an account (against no hash), so both failures take as long.
    const ok = await passwords.verify(user?.passwordHash ?? null, input.password)
    if (!user || !ok) {
      await recordAudit(db, {
        orgId: null,
        kind: 'auth.login_failed',
        actor: 'anonymous',
        meta: { email: input.email.toLowerCase(), reason: user ? 'wrong_password' : 'unknown_email' },
      })
      throw invalidCredentials()
    }
    return user
  }

  /** Ends sessions of `userId` (all, or all but `keep`); returns how many ended. */
  async function endSessions(tx: Executor, userId: string, keep?: string) {
    const ended = await tx
      .delete(sessions)
      .where(and(eq(sessions.userId, userId), keep ? ne(sessions.id, keep) : undefined))
      .returning({ id: sessions.id })
    return ended.length
  }

  /** Reset links still outstanding stop working once the password has changed. */
  const spendResets = (tx: Executor, userId: string) =>
    tx.update(passwordResets).set({ usedAt: clock.now() }).where(and(eq(passwordResets.userId, userId), isNull(passwordResets.usedAt)))

  return {
    /**
     * Signs up with a new org. The instance's first sign-up (in `first-user` and `open`
     * modes) creates account, org and session at once; later ones in `open` mode are only
     * requested here and created when the emailed link is followed; otherwise sign-up is closed.
     */
    async signup(input: { email: string; password: string; name?: string; orgName: string }) {
      if (mode === 'invite') throw signupClosed()
      if (await orgExists(db)) {
        if (mode !== 'open') throw signupClosed()
        return requestSignup(input, await passwords.hash(input.password))
      }
      const passwordHash = await passwords.hash(input.password)
      let first
      try {
        first = await db.transaction(async (tx) => {
          // Two first sign-ups at once: the second waits here, then sees the first one's org.
          await tx.execute(sql`select pg_advisory_xact_lock(${FIRST_SIGNUP_LOCK})`)
          if (await orgExists(tx)) return undefined
          return createOwner(tx, { ...input, passwordHash }, 'first_user')
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw emailTaken('log in instead')
        throw err
      }
      if (first) return { status: 'created' as const, ...first }
      if (mode !== 'open') throw signupClosed()
      return requestSignup(input, passwordHash)
    },

    /** Follows the emailed sign-up link: creates the account, its org and a session. */
    async confirmSignup(token: string) {
      if (mode !== 'open') throw signupClosed()
      const now = clock.now()
      try {
        return await db.transaction(async (tx) => {
          const request = await spendLink(
            { tokens, kind: 'signupConfirm', token, what: 'sign-up', now },
            (tokenHash) =>
              tx
                .update(signupRequests)
                .set({ usedAt: now })
                .where(and(eq(signupRequests.tokenHash, tokenHash), isNull(signupRequests.usedAt), gt(signupRequests.expiresAt, now)))
                .returning(),
            (tokenHash) => tx.select().from(signupRequests).where(eq(signupRequests.tokenHash, tokenHash)),
          )
          return createOwner(tx, request, 'confirmation')
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw emailTaken('log in instead')
        throw err
      }
    },

    /**
     * Creates the account of someone invited to an org, through the emailed link (which
     * proves the address), in any sign-up mode; they join that org and no new one is made.
     */
    async signupByInvitation(input: { token: string; email?: string; password: string; name?: string }) {
      const passwordHash = await passwords.hash(input.password)
      const now = clock.now()
      try {
        return await db.transaction(async (tx) => {
          const invitation = await claimMemberInvitation(tx, tokens, input.token, now)
          if (input.email && !sameEmail(input.email, invitation.email)) throw wrongEmail()
          const [user] = await tx.insert(users).values({ email: invitation.email, name: input.name, passwordHash }).returning()
          await recordAudit(tx, { orgId: invitation.orgId, kind: 'user.signup', actor: `user:${user!.id}`, target: user!.id, meta: { via: 'member_invitation' } })
          const org = await joinByInvitation(tx, invitation, user!.id, `user:${user!.id}`)
          const session = await openSession(tx, sessionDeps, user!.id, org.id)
          return { status: 'created' as const, user: user!, org, role: invitation.role, session }
        })
      } catch (err) {
        // The token holder owns the address, so saying it has an account tells them nothing new.
        if (isUniqueViolation(err)) throw emailTaken('log in with its password to accept the invitation')
        throw err
      }
    },

    /**
     * Accepts a member invitation with the invited account's email and password, for
     * someone who cannot log in first (an account of no org). Refused exactly as a login
     * is; then joins and opens a session in that org.
     */
    async joinWithPassword(input: { token: string; email: string; password: string }) {
      const user = await verifyCredentials(input)
      const now = clock.now()
      try {
        return await db.transaction(async (tx) => {
          const invitation = await claimMemberInvitation(tx, tokens, input.token, now)
          if (!sameEmail(user.email, invitation.email)) throw wrongEmail()
          const org = await joinByInvitation(tx, invitation, user.id, `user:${user.id}`)
          const session = await openSession(tx, sessionDeps, user.id, org.id)
          return { user, org, role: invitation.role, session }
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyAMember()
        throw err
      }
    },

    async login(input: { email: string; password: string; orgId?: string }) {
      const user = await verifyCredentials(input)
      const memberships = await db
        .select({ org: orgs, role: orgMembers.role })
        .from(orgMembers)
        .innerJoin(orgs, eq(orgs.id, orgMembers.orgId))
        .where(eq(orgMembers.userId, user.id))
        .orderBy(asc(orgMembers.createdAt))
      const membership = input.orgId ? memberships.find((m) => m.org.id === input.orgId) : memberships[0]
      if (!membership) throw new AppError(403, 'not_a_member', 'this account is not a member of that organisation')
      return db.transaction(async (tx) => {
        const session = await openSession(tx, sessionDeps, user.id, membership.org.id)
        await recordAudit(tx, { orgId: membership.org.id, kind: 'auth.login', actor: `user:${user.id}` })
        return { user, org: membership.org, role: membership.role, session }
      })
    },

    async logout(actor: Actor) {
      if (!actor.sessionId) return
      await db.delete(sessions).where(eq(sessions.id, actor.sessionId))
    },

    /** Ends every session of the caller, in every org, this one included. */
    async logoutAll(actor: Actor) {
      requireSession(actor, 'signing out everywhere')
      await db.transaction(async (tx) => {
        const ended = await endSessions(tx, actor.userId)
        await recordAudit(tx, { orgId: actor.orgId, kind: 'auth.logout_all', actor: actorRef(actor), target: actor.userId, meta: { sessions_ended: ended } })
      })
    },

    /** Changes the caller's password; every other session of theirs ends, this one stays. */
    async changePassword(actor: Actor, input: { currentPassword: string; newPassword: string }) {
      requireSession(actor, 'changing the password')
      const [user] = await db.select().from(users).where(eq(users.id, actor.userId))
      if (!user) throw notFound('user')
      if (!(await passwords.verify(user.passwordHash, input.currentPassword))) {
        await recordAudit(db, { orgId: actor.orgId, kind: 'user.password_change_failed', actor: actorRef(actor), target: user.id })
        throw new AppError(403, 'wrong_password', 'the current password is not correct')
      }
      const passwordHash = await passwords.hash(input.newPassword)
      await db.transaction(async (tx) => {
        await tx.update(users).set({ passwordHash }).where(eq(users.id, user.id))
        await spendResets(tx, user.id)
        const ended = await endSessions(tx, user.id, actor.sessionId)
        await recordAudit(tx, { orgId: actor.orgId, kind: 'user.password_changed', actor: actorRef(actor), target: user.id, meta: { sessions_ended: ended } })
      })
    },

    /**
     * Emails a password reset link when the address has an account (at most one per account
     * every few minutes). The request does the same work, and the caller is told the same
     * thing, either way: one look-up, one audit row, one job with ids only; the job decides.
     */
    async requestPasswordReset(email: string) {
      const [user] = await db.select({ id: users.id }).from(users).where(byEmail(users.email, email))
      const passwordResetId = randomUUID()
      await db.transaction(async (tx) => {
        await recordAudit(tx, {
          orgId: null,
          kind: 'auth.password_reset_requested',
          actor: 'anonymous',
          target: user?.id,
          meta: { email: email.toLowerCase(), known: Boolean(user) },
        })
        await enqueue(tx, [{ kind: 'email.password_reset', orgId: null, payload: { passwordResetId, userId: user?.id ?? '' } }])
      })
      return { status: 'sent' as const }
    },

    /**
     * Follows the emailed reset link: sets the password, ends every session of the account and
     * revokes every API key it made, in every org. Whoever reset it may be recovering it from
     * someone who took it over, and a key made then would otherwise outlive the new password.
     */
    async resetPassword(input: { token: string; newPassword: string }) {
      // A malformed link costs no password hash.
      if (!isWellFormedToken('passwordReset', input.token)) throw linkRefused('password reset', 'unknown')
      const passwordHash = await passwords.hash(input.newPassword)
      const now = clock.now()
      const revoked = await db.transaction(async (tx) => {
        const reset = await spendLink(
          { tokens, kind: 'passwordReset', token: input.token, what: 'password reset', now },
          (tokenHash) =>
            tx
              .update(passwordResets)
              .set({ usedAt: now })
              .where(and(eq(passwordResets.tokenHash, tokenHash), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, now)))
              .returning(),
          (tokenHash) => tx.select().from(passwordResets).where(eq(passwordResets.tokenHash, tokenHash)),
        )
        await tx.update(users).set({ passwordHash }).where(eq(users.id, reset.userId))
        await spendResets(tx, reset.userId)
        const ended = await endSessions(tx, reset.userId)
        const keys = await tx
          .update(apiKeys)
          .set({ revokedAt: now })
          .where(and(eq(apiKeys.createdBy, reset.userId), isNull(apiKeys.revokedAt)))
          .returning({ id: apiKeys.id, orgId: apiKeys.orgId })
        await recordAudit(tx, {
          orgId: null,
          kind: 'user.password_reset',
          actor: `user:${reset.userId}`,
          target: reset.userId,
          meta: { sessions_ended: ended, api_keys_revoked: keys.map((k) => k.id) },
        })
        // Each org's own trail says why its keys stopped working.
        for (const key of keys) {
          await recordAudit(tx, { orgId: key.orgId, kind: 'api_key.revoked', actor: `user:${reset.userId}`, target: key.id, meta: { reason: 'password_reset' } })
        }
        return keys.length
      })
      return { status: 'password_changed' as const, apiKeysRevoked: revoked }
    },

    /**
     * Drops sign-up requests (which hold password hashes) and reset links past their expiry,
     * used or not: nothing reads them after that. Safe to run any number of times.
     */
    async pruneExpiredLinks() {
      const now = clock.now()
      const signups = await db.delete(signupRequests).where(lte(signupRequests.expiresAt, now)).returning({ id: signupRequests.id })
      const resets = await db.delete(passwordResets).where(lte(passwordResets.expiresAt, now)).returning({ id: passwordResets.id })
      return { signupRequests: signups.length, passwordResets: resets.length }
    },

    /** Resolves a session cookie to an actor; undefined when unknown or expired. */
    async actorForSession(token: string): Promise<Actor | undefined> {
      if (!isWellFormedToken('session', token)) return undefined
      const [row] = await db
        .select({ session: sessions, role: orgMembers.role })
        .from(sessions)
        .innerJoin(orgMembers, and(eq(orgMembers.orgId, sessions.orgId), eq(orgMembers.userId, sessions.userId)))
        .where(and(eq(sessions.tokenHash, tokens.hash(token)), gt(sessions.expiresAt, clock.now())))
      if (!row) return undefined
      const { session, role } = row
      return { userId: session.userId, orgId: session.orgId, role, via: 'session', sessionId: session.id }
    },

    /** Resolves `Bearer thk_…`; the key acts as its creator with the creator's current role. */
    async actorForApiKey(token: string): Promise<Actor | undefined> {
      if (!isWellFormedToken('apiKey', token)) return undefined
      const [row] = await db
        .select({ key: apiKeys, role: orgMembers.role })
        .from(apiKeys)
        .innerJoin(orgMembers, and(eq(orgMembers.orgId, apiKeys.orgId), eq(orgMembers.userId, apiKeys.createdBy)))
        .where(and(eq(apiKeys.keyHash, tokens.hash(token)), isNull(apiKeys.revokedAt)))
      if (!row) return undefined
      const now = clock.now()
      await db
        .update(apiKeys)
        .set({ lastUsedAt: now })
        .where(
          and(
            eq(apiKeys.id, row.key.id),
            or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, new Date(now.getTime() - LAST_USED_GRANULARITY_MS))),
          ),
        )
      return { userId: row.key.createdBy, orgId: row.key.orgId, role: row.role, via: 'api_key', apiKeyId: row.key.id }
    },

    async createApiKey(actor: Actor, input: { name: string }) {
      requireRole(actor, ['owner', 'admin'])
      const key = generateToken('apiKey')
      return db.transaction(async (tx) => {
        const [row] = await tx
          .insert(apiKeys)
          .values({
            orgId: actor.orgId,
            name: input.name,
            keyHash: tokens.hash(key),
            hint: tokenHint(key),
            createdBy: actor.userId,
          })
          .returning()
        await recordAudit(tx, { orgId: actor.orgId, kind: 'api_key.created', actor: actorRef(actor), target: row!.id })
        return { ...row!, key }
      })
    },

    listApiKeys(actor: Actor) {
      requireRole(actor, ['owner', 'admin'])
      return db.select().from(apiKeys).where(eq(apiKeys.orgId, actor.orgId)).orderBy(asc(apiKeys.createdAt))
    },

    async revokeApiKey(actor: Actor, id: string) {
      requireRole(actor, ['owner', 'admin'])
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(apiKeys)
          .set({ revokedAt: clock.now() })
          .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, actor.orgId), isNull(apiKeys.revokedAt)))
          .returning()
        if (!row) throw notFound('api_key')
        await recordAudit(tx, { orgId: actor.orgId, kind: 'api_key.revoked', actor: actorRef(actor), target: id })
        return row
      })
    },

    async me(actor: Actor) {
      const [row] = await db
        .select({ user: users, org: orgs })
        .from(users)
        .innerJoin(orgs, eq(orgs.id, actor.orgId))
        .where(eq(users.id, actor.userId))
      if (!row) throw notFound('user')
      return { ...row, role: actor.role }
    },
  }
}

export type AccountService = ReturnType<typeof createAccountService>
