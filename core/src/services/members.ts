import { randomUUID } from 'node:crypto'
import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm'
import { type Actor, actorRef, MANAGE, requireRole } from '../actor.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db, Executor } from '../db/client.ts'
import { apiKeys, memberInvitations, orgMembers, orgs, type Role, sessions, users } from '../db/schema/index.ts'
import { AppError, conflict, forbidden, isUniqueViolation, notFound } from '../errors.ts'
import { enqueue } from '../jobs/outbox.ts'
import type { TokenHasher } from '../tokens.ts'
import { byEmail, MEMBER_INVITATION_TTL_MS, memberInvitationToken, openSession, sameEmail, spendLink } from './account-links.ts'

export type MemberInvitation = typeof memberInvitations.$inferSelect
export type MemberInvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired'

export const memberInvitationStatus = (row: MemberInvitation, now: Date): MemberInvitationStatus =>
  row.acceptedAt ? 'accepted' : row.revokedAt ? 'revoked' : row.expiresAt <= now ? 'expired' : 'pending'

export const alreadyAMember = () => conflict('already_a_member', 'this person is already a member')

export const wrongEmail = () =>
  new AppError(403, 'invitation_for_another_email', 'this invitation was sent to another email address; log in as that address to accept it')

export const requireSession = (actor: Actor, what: string) => {
  if (actor.via === 'supabase') {
    throw conflict('local_accounts_disabled', `this server signs people in with Supabase Auth: ${what} is done there (its sign-out, the console's Log out, ends every session)`)
  }
  if (actor.via !== 'session') throw forbidden(`${what} needs a logged-in session, not an API key`)
}

/**
 * Takes a member invitation for the holder of its emailed token: one guarded statement, so
 * of two concurrent uses exactly one wins. The caller's transaction adds the membership.
 */
export function claimMemberInvitation(tx: Executor, tokens: TokenHasher, token: string, now: Date): Promise<MemberInvitation> {
  return spendLink(
    { tokens, kind: 'memberInvite', token, what: 'invitation', now },
    (tokenHash) =>
      tx
        .update(memberInvitations)
        .set({ acceptedAt: now })
        .where(
          and(
            eq(memberInvitations.tokenHash, tokenHash),
            isNull(memberInvitations.acceptedAt),
            isNull(memberInvitations.revokedAt),
            gt(memberInvitations.expiresAt, now),
          ),
        )
        .returning(),
    (tokenHash) =>
      tx
        .select({ usedAt: memberInvitations.acceptedAt, revokedAt: memberInvitations.revokedAt, expiresAt: memberInvitations.expiresAt })
        .from(memberInvitations)
        .where(eq(memberInvitations.tokenHash, tokenHash)),
  )
}

/**
 * Makes the person whose address a claimed invitation was sent to a member, with the
 * invitation's role, and records who accepted it.
 */
export async function joinByInvitation(tx: Executor, invitation: MemberInvitation, userId: string, actor: string) {
  await tx.insert(orgMembers).values({ orgId: invitation.orgId, userId, role: invitation.role })
  await tx.update(memberInvitations).set({ acceptedBy: userId }).where(eq(memberInvitations.id, invitation.id))
  await recordAudit(tx, {
    orgId: invitation.orgId,
    kind: 'member.joined',
    actor,
    target: userId,
    meta: { invitation_id: invitation.id, role: invitation.role },
  })
  const [org] = await tx.select().from(orgs).where(eq(orgs.id, invitation.orgId))
  return org!
}

export interface MemberDeps {
  db: Db
  tokens: TokenHasher
  clock: Clock
}

/** Who belongs to an org: invitations by email, acceptance, role changes and removal. */
export function createMemberService({ db, tokens, clock }: MemberDeps) {
  /**
   * One membership change per org at a time, so two of them can never each leave the other
   * as the last owner. Returns the caller as they are now: one removed or demoted by the
   * change just before must not act with the role their request started with.
   */
  async function lockOrg(tx: Executor, actor: Actor, allowed: readonly Role[]): Promise<Actor> {
    // NO KEY UPDATE does not block inserts that merely reference the org.
    await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, actor.orgId)).for('no key update')
    const [current] = await tx
      .select({ role: orgMembers.role })
      .from(orgMembers)
      .where(and(eq(orgMembers.orgId, actor.orgId), eq(orgMembers.userId, actor.userId)))
    if (!current) throw forbidden('you are no longer a member of this organisation')
    const now = { ...actor, role: current.role }
    requireRole(now, allowed)
    return now
  }

  async function requireAnOwner(tx: Executor, orgId: string) {
    const [owners] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(orgMembers)
      .where(and(eq(orgMembers.orgId, orgId), eq(orgMembers.role, 'owner')))
    if (!owners || owners.n === 0) throw conflict('last_owner', 'an organisation needs at least one owner')
  }

  return {
    list(actor: Actor) {
      return db
        .select({ user: users, role: orgMembers.role, joinedAt: orgMembers.createdAt })
        .from(orgMembers)
        .innerJoin(users, eq(users.id, orgMembers.userId))
        .where(eq(orgMembers.orgId, actor.orgId))
        .orderBy(asc(orgMembers.createdAt))
    },

    /**
     * Invites someone by email. Nothing is attached to an account that may already have
     * this address: the person becomes a member only by following the emailed link, which
     * proves the address is theirs. The answer is the same whether or not it has an account.
     * Inviting an address again replaces its pending invitation (a fresh link and expiry).
     */
    async invite(actor: Actor, input: { email: string; role: Role }) {
      requireRole(actor, MANAGE)
      if (input.role === 'owner' && actor.role !== 'owner') throw forbidden('only an owner can invite another owner')
      const now = clock.now()
      return db.transaction(async (tx) => {
        const [member] = await tx
          .select({ userId: orgMembers.userId })
          .from(orgMembers)
          .innerJoin(users, eq(users.id, orgMembers.userId))
          .where(and(eq(orgMembers.orgId, actor.orgId), byEmail(users.email, input.email)))
        if (member) throw alreadyAMember()
        const outstanding = and(
          eq(memberInvitations.orgId, actor.orgId),
          byEmail(memberInvitations.email, input.email),
          isNull(memberInvitations.acceptedAt),
          isNull(memberInvitations.revokedAt),
        )
        // Replacing withdraws: an admin must not withdraw an owner's invitation this way either.
        const pending = await tx.select({ role: memberInvitations.role }).from(memberInvitations).where(and(outstanding, gt(memberInvitations.expiresAt, now)))
        if (actor.role !== 'owner' && pending.some((p) => p.role === 'owner')) {
          throw forbidden('an owner invited this address to become an owner; only an owner can replace that invitation')
        }
        const replaced = await tx.update(memberInvitations).set({ revokedAt: now }).where(outstanding).returning({ id: memberInvitations.id })
        const id = randomUUID()
        const [row] = await tx
          .insert(memberInvitations)
          .values({
            id,
            orgId: actor.orgId,
            email: input.email,
            role: input.role,
            tokenHash: tokens.hash(memberInvitationToken(tokens, id)),
            invitedBy: actor.userId,
            expiresAt: new Date(now.getTime() + MEMBER_INVITATION_TTL_MS),
          })
          .returning()
        await enqueue(tx, [{ kind: 'email.member_invite', orgId: actor.orgId, payload: { memberInvitationId: id } }])
        await recordAudit(tx, {
          orgId: actor.orgId,
          kind: 'member.invited',
          actor: actorRef(actor),
          target: id,
          meta: { email: input.email, role: input.role, replaced: replaced.map((r) => r.id) },
        })
        return { ...row!, status: memberInvitationStatus(row!, now) }
      })
    },

    /** Invitations not yet accepted, withdrawn or lapsed, oldest first. */
    async listInvitations(actor: Actor) {
      requireRole(actor, MANAGE)
      const now = clock.now()
      const rows = await db
        .select()
        .from(memberInvitations)
        .where(
          and(
            eq(memberInvitations.orgId, actor.orgId),
            isNull(memberInvitations.acceptedAt),
            isNull(memberInvitations.revokedAt),
            gt(memberInvitations.expiresAt, now),
          ),
        )
        .orderBy(asc(memberInvitations.createdAt))
      return rows.map((row) => ({ ...row, status: memberInvitationStatus(row, now) }))
    },

    async revokeInvitation(actor: Actor, id: string) {
      requireRole(actor, MANAGE)
      const now = clock.now()
      return db.transaction(async (tx) => {
        const [current] = await tx
          .select()
          .from(memberInvitations)
          .where(and(eq(memberInvitations.id, id), eq(memberInvitations.orgId, actor.orgId)))
        if (!current) throw notFound('member_invitation')
        if (current.role === 'owner' && actor.role !== 'owner') throw forbidden('only an owner can withdraw an invitation to become an owner')
        const [row] = await tx
          .update(memberInvitations)
          .set({ revokedAt: now })
          .where(and(eq(memberInvitations.id, id), isNull(memberInvitations.acceptedAt), isNull(memberInvitations.revokedAt)))
          .returning()
        if (!row) throw conflict('invitation_not_revocable', `the invitation is already ${memberInvitationStatus(current, now)}`)
        await recordAudit(tx, { orgId: actor.orgId, kind: 'member.invitation_revoked', actor: actorRef(actor), target: id })
        return { ...row, status: memberInvitationStatus(row, now) }
      })
    },

    /**
     * Accepts an invitation as the logged-in user, whose email must be the one invited,
     * and moves their session to the org they joined (a new session: the old one ends).
     */
    async accept(actor: Actor, token: string) {
      requireSession(actor, 'accepting an invitation')
      const now = clock.now()
      try {
        return await db.transaction(async (tx) => {
          const invitation = await claimMemberInvitation(tx, tokens, token, now)
          const [user] = await tx.select().from(users).where(eq(users.id, actor.userId))
          if (!user) throw notFound('user')
          if (!sameEmail(user.email, invitation.email)) throw wrongEmail()
          const org = await joinByInvitation(tx, invitation, user.id, `user:${user.id}`)
          await tx.delete(sessions).where(eq(sessions.id, actor.sessionId!))
          const session = await openSession(tx, { tokens, clock }, user.id, org.id)
          return { user, org, role: invitation.role, session }
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyAMember()
        throw err
      }
    },

    async changeRole(actor: Actor, userId: string, role: Role) {
      requireRole(actor, ['owner'])
      return db.transaction(async (tx) => {
        await lockOrg(tx, actor, ['owner'])
        const [row] = await tx
          .update(orgMembers)
          .set({ role })
          .where(and(eq(orgMembers.orgId, actor.orgId), eq(orgMembers.userId, userId)))
          .returning()
        if (!row) throw notFound('member')
        await requireAnOwner(tx, actor.orgId)
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

    /**
     * Removes a member, ends their sessions in this org and revokes the API keys they made
     * for it: a key acts through its creator's membership, so one merely left unusable
     * would work again if they were invited back.
     */
    async remove(actor: Actor, userId: string) {
      requireRole(actor, MANAGE)
      return db.transaction(async (tx) => {
        const caller = await lockOrg(tx, actor, MANAGE)
        const [row] = await tx
          .select()
          .from(orgMembers)
          .where(and(eq(orgMembers.orgId, actor.orgId), eq(orgMembers.userId, userId)))
        if (!row) throw notFound('member')
        if (row.role === 'owner' && caller.role !== 'owner') throw forbidden('only an owner can remove an owner')
        await tx.delete(orgMembers).where(and(eq(orgMembers.orgId, actor.orgId), eq(orgMembers.userId, userId)))
        await requireAnOwner(tx, actor.orgId)
        const ended = await tx
          .delete(sessions)
          .where(and(eq(sessions.orgId, actor.orgId), eq(sessions.userId, userId)))
          .returning({ id: sessions.id })
        const revoked = await tx
          .update(apiKeys)
          .set({ revokedAt: clock.now() })
          .where(and(eq(apiKeys.orgId, actor.orgId), eq(apiKeys.createdBy, userId), isNull(apiKeys.revokedAt)))
          .returning({ id: apiKeys.id })
        await recordAudit(tx, {
          orgId: actor.orgId,
          kind: 'member.removed',
          actor: actorRef(actor),
          target: userId,
          meta: { role: row.role, sessions_ended: ended.length, api_keys_revoked: revoked.map((k) => k.id) },
        })
        return row
      })
    },
  }
}

export type MemberService = ReturnType<typeof createMemberService>
