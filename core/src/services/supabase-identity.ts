import { asc, eq, sql } from 'drizzle-orm'
import type { Actor } from '../actor.ts'
import type { SupabaseClaims, SupabaseProfile } from '../adapters/supabase-auth.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db, Executor } from '../db/client.ts'
import { orgMembers, orgs, users } from '../db/schema/index.ts'
import { AppError, conflict, isUniqueViolation } from '../errors.ts'
import type { TokenHasher } from '../tokens.ts'
import { FIRST_SIGNUP_LOCK, type SignupMode } from './accounts.ts'
import { byEmail, sameEmail } from './account-links.ts'
import { alreadyAMember, claimMemberInvitation, joinByInvitation, wrongEmail } from './members.ts'

export interface SupabaseIdentityDeps {
  db: Db
  tokens: TokenHasher
  clock: Clock
  signup: SignupMode
}

export type User = typeof users.$inferSelect

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Takehome users signing in through Supabase Auth (hosted mode). A Supabase user becomes a
 * Takehome user the first time one of their access tokens is seen, with the email Supabase
 * has confirmed. A Takehome account that already has that email (made before Supabase was
 * configured, say) is linked rather than duplicated: Supabase has proved the address, which
 * is what a local account's ownership rests on too. Membership of an org still comes only
 * from an accepted member invitation, or from onboarding as the instance's first user.
 */
export function createSupabaseIdentityService({ db, tokens, clock, signup: mode }: SupabaseIdentityDeps) {
  const orgExists = async (exec: Executor) => (await exec.select({ id: orgs.id }).from(orgs).limit(1)).length > 0

  const bySubject = async (exec: Executor, sub: string) => (await exec.select().from(users).where(eq(users.supabaseUserId, sub)))[0]

  const memberships = (userId: string) =>
    db
      .select({ org: orgs, role: orgMembers.role })
      .from(orgMembers)
      .innerJoin(orgs, eq(orgs.id, orgMembers.orgId))
      .where(eq(orgMembers.userId, userId))
      .orderBy(asc(orgMembers.createdAt))

  /** Whether a Supabase user of no org may create one now (`SIGNUP`, as for local sign-up). */
  async function mayCreateOrg(exec: Executor = db) {
    if (mode === 'open') return true
    if (mode === 'invite') return false
    return !(await orgExists(exec))
  }

  /** The Takehome user of a verified token: found by its subject, or made (or linked by email) the first time. */
  async function userFor(claims: SupabaseClaims, profile: () => Promise<SupabaseProfile>): Promise<User> {
    const known = await bySubject(db, claims.sub)
    if (known) return known
    const account = await profile()
    if (account.id !== claims.sub) throw new AppError(401, 'invalid_access_token', 'the access token is not valid: Supabase names another user for it; sign in again')
    if (!account.email) throw new AppError(403, 'email_required', 'your Supabase account has no email address; Takehome needs one (sign in with email, or a provider that shares it)')
    if (!account.emailConfirmed) throw new AppError(403, 'email_not_confirmed', 'confirm your email address with the link Supabase sent, then sign in again')
    const email = account.email
    try {
      return await db.transaction(async (tx) => {
        const [existing] = await tx.select().from(users).where(byEmail(users.email, email)).for('update')
        if (existing) {
          if (existing.supabaseUserId && existing.supabaseUserId !== claims.sub) {
            throw conflict('email_linked_elsewhere', 'a Takehome account with this email is already linked to another Supabase user')
          }
          const [linked] = await tx.update(users).set({ supabaseUserId: claims.sub }).where(eq(users.id, existing.id)).returning()
          await recordAudit(tx, { orgId: null, kind: 'user.supabase_linked', actor: `user:${existing.id}`, target: existing.id, meta: { supabase_user_id: claims.sub } })
          return linked!
        }
        const [created] = await tx.insert(users).values({ email, passwordHash: null, supabaseUserId: claims.sub }).returning()
        await recordAudit(tx, { orgId: null, kind: 'user.signup', actor: `user:${created!.id}`, target: created!.id, meta: { via: 'supabase', supabase_user_id: claims.sub } })
        return created!
      })
    } catch (err) {
      // Two first requests of one user at once: the other made the row.
      if (isUniqueViolation(err)) {
        const made = await bySubject(db, claims.sub)
        if (made) return made
      }
      throw err
    }
  }

  return {
    userFor,
    mayCreateOrg,

    /**
     * The actor of a verified token: its user in `orgId` (the `X-Takehome-Org` header), or in
     * the org they joined first. A user of no org is told how to get one.
     */
    async actorFor(claims: SupabaseClaims, options: { orgId?: string; profile: () => Promise<SupabaseProfile> }): Promise<Actor> {
      const user = await userFor(claims, options.profile)
      const rows = await memberships(user.id)
      if (rows.length === 0) {
        const canCreate = await mayCreateOrg()
        throw new AppError(
          403,
          'no_organisation',
          canCreate
            ? 'your account belongs to no organisation yet: create one (POST /api/auth/supabase/onboard {org_name}), or accept an invitation'
            : 'your account belongs to no organisation: ask an owner or admin of your organisation for an invitation',
          { details: { can_create_org: canCreate } },
        )
      }
      const orgId = options.orgId?.toLowerCase()
      if (orgId !== undefined && !UUID.test(orgId)) throw new AppError(400, 'bad_org_header', 'X-Takehome-Org must be an organisation id (a UUID)')
      const membership = orgId === undefined ? rows[0]! : rows.find((m) => m.org.id === orgId)
      if (!membership) throw new AppError(403, 'not_a_member', 'this account is not a member of that organisation')
      return { userId: user.id, orgId: membership.org.id, role: membership.role, via: 'supabase' }
    },

    /**
     * Creates an org with the caller as owner, for a Supabase user of no org: the instance's
     * first user under `SIGNUP=first-user`, anyone under `open`, nobody under `invite`.
     */
    async onboard(user: User, input: { orgName: string }) {
      return db.transaction(async (tx) => {
        // Two first users at once: the second waits here, then sees the first one's org.
        await tx.execute(sql`select pg_advisory_xact_lock(${FIRST_SIGNUP_LOCK})`)
        const [member] = await tx.select({ orgId: orgMembers.orgId }).from(orgMembers).where(eq(orgMembers.userId, user.id)).limit(1)
        if (member) throw alreadyAMember()
        if (!(await mayCreateOrg(tx))) {
          throw new AppError(403, 'signup_closed', 'organisations are created by invitation on this server: ask an owner of your organisation for an invitation')
        }
        const [org] = await tx.insert(orgs).values({ name: input.orgName }).returning()
        await tx.insert(orgMembers).values({ orgId: org!.id, userId: user.id, role: 'owner' })
        await recordAudit(tx, { orgId: org!.id, kind: 'org.created', actor: `user:${user.id}`, target: org!.id, meta: { via: 'supabase' } })
        return { user, org: org!, role: 'owner' as const }
      })
    },

    /** Accepts a member invitation (its emailed token) as a Supabase user whose email is the one invited. */
    async acceptInvitation(user: User, token: string) {
      const now = clock.now()
      try {
        return await db.transaction(async (tx) => {
          const invitation = await claimMemberInvitation(tx, tokens, token, now)
          if (!sameEmail(user.email, invitation.email)) throw wrongEmail()
          const org = await joinByInvitation(tx, invitation, user.id, `user:${user.id}`)
          return { user, org, role: invitation.role }
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyAMember()
        throw err
      }
    },
  }
}

export type SupabaseIdentityService = ReturnType<typeof createSupabaseIdentityService>
