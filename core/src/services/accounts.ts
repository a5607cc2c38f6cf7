import { randomBytes } from 'node:crypto'
import { and, asc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm'
import { type Actor, actorRef, requireRole } from '../actor.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import { apiKeys, orgMembers, orgs, type Role, sessions, users } from '../db/schema/index.ts'
import { AppError, conflict, forbidden, isUniqueViolation, notFound } from '../errors.ts'
import type { PasswordHasher } from '../passwords.ts'
import { generateToken, isWellFormedToken, type TokenHasher, tokenHint } from '../tokens.ts'

export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000
// Writing last_used_at on every request would turn every read into a write.
const LAST_USED_GRANULARITY_MS = 60_000

export interface AccountDeps {
  db: Db
  tokens: TokenHasher
  passwords: PasswordHasher
  clock: Clock
}

const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'email or password is incorrect')

export function createAccountService({ db, tokens, passwords, clock }: AccountDeps) {
  async function openSession(exec: Pick<Db, 'insert'>, userId: string, orgId: string) {
    const token = generateToken('session')
    const expiresAt = new Date(clock.now().getTime() + SESSION_TTL_MS)
    await exec.insert(sessions).values({ tokenHash: tokens.hash(token), userId, orgId, expiresAt })
    return { token, expiresAt }
  }

  return {
    async signup(input: { email: string; password: string; name?: string; orgName: string }) {
      const passwordHash = await passwords.hash(input.password)
      try {
        return await db.transaction(async (tx) => {
          const [user] = await tx
            .insert(users)
            .values({ email: input.email, name: input.name, passwordHash })
            .returning()
          const [org] = await tx.insert(orgs).values({ name: input.orgName }).returning()
          await tx.insert(orgMembers).values({ orgId: org!.id, userId: user!.id, role: 'owner' })
          const session = await openSession(tx, user!.id, org!.id)
          await recordAudit(tx, { orgId: org!.id, kind: 'user.signup', actor: `user:${user!.id}`, target: user!.id })
          return { user: user!, org: org!, role: 'owner' as Role, session }
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('email_taken', 'an account with this email already exists; log in instead')
        throw err
      }
    },

    async login(input: { email: string; password: string; orgId?: string }) {
      const [user] = await db.select().from(users).where(eq(sql`lower(${users.email})`, input.email.toLowerCase()))
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
      const memberships = await db
        .select({ org: orgs, role: orgMembers.role })
        .from(orgMembers)
        .innerJoin(orgs, eq(orgs.id, orgMembers.orgId))
        .where(eq(orgMembers.userId, user.id))
        .orderBy(asc(orgMembers.createdAt))
      const membership = input.orgId ? memberships.find((m) => m.org.id === input.orgId) : memberships[0]
      if (!membership) throw new AppError(403, 'not_a_member', 'this account is not a member of that organisation')
      return db.transaction(async (tx) => {
        const session = await openSession(tx, user.id, membership.org.id)
        await recordAudit(tx, { orgId: membership.org.id, kind: 'auth.login', actor: `user:${user.id}` })
        return { user, org: membership.org, role: membership.role, session }
      })
    },

    async logout(actor: Actor) {
      if (!actor.sessionId) return
      await db.delete(sessions).where(eq(sessions.id, actor.sessionId))
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

    listMembers(actor: Actor) {
      return db
        .select({ user: users, role: orgMembers.role, joinedAt: orgMembers.createdAt })
        .from(orgMembers)
        .innerJoin(users, eq(users.id, orgMembers.userId))
        .where(eq(orgMembers.orgId, actor.orgId))
        .orderBy(asc(orgMembers.createdAt))
    },

    /**
     * Adds a member. A new account gets a generated password, returned once for the
     * inviting admin to pass on; an existing account keeps its own.
     */
    async addMember(actor: Actor, input: { email: string; name?: string; role: Role }) {
      requireRole(actor, ['owner', 'admin'])
      if (input.role === 'owner' && actor.role !== 'owner') throw forbidden('only an owner can add another owner')
      const [existing] = await db.select().from(users).where(eq(sql`lower(${users.email})`, input.email.toLowerCase()))
      const initialPassword = existing ? undefined : randomBytes(12).toString('base64url')
      const passwordHash = initialPassword ? await passwords.hash(initialPassword) : undefined
      try {
        return await db.transaction(async (tx) => {
          const user =
            existing ??
            (await tx.insert(users).values({ email: input.email, name: input.name, passwordHash }).returning())[0]!
          await tx.insert(orgMembers).values({ orgId: actor.orgId, userId: user.id, role: input.role })
          await recordAudit(tx, {
            orgId: actor.orgId,
            kind: 'member.added',
            actor: actorRef(actor),
            target: user.id,
            meta: { role: input.role },
          })
          return { user, role: input.role, initialPassword }
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('already_a_member', 'this person is already a member')
        throw err
      }
    },

    async changeMemberRole(actor: Actor, userId: string, role: Role) {
      requireRole(actor, ['owner'])
      return db.transaction(async (tx) => {
        // One role change per org at a time: two owners stepping down at once would each
        // still count the other and leave the org with none. (NO KEY UPDATE does not
        // block inserts that merely reference the org.)
        await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, actor.orgId)).for('no key update')
        const [row] = await tx
          .update(orgMembers)
          .set({ role })
          .where(and(eq(orgMembers.orgId, actor.orgId), eq(orgMembers.userId, userId)))
          .returning()
        if (!row) throw notFound('member')
        const [owners] = await tx
          .select({ n: sql<number>`count(*)::int` })
          .from(orgMembers)
          .where(and(eq(orgMembers.orgId, actor.orgId), eq(orgMembers.role, 'owner')))
        if (!owners || owners.n === 0) {
          throw conflict('last_owner', 'an organisation needs at least one owner')
        }
        await recordAudit(tx, {
          orgId: actor.orgId,
          kind: 'member.role_changed',
          actor: actorRef(actor),
          target: userId,
          meta: { role },
        })
        return row
      })
    },
  }
}

export type AccountService = ReturnType<typeof createAccountService>
