import { and, asc, type Column, eq, inArray, isNotNull, ne, notInArray, notLike, or, sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { GitHost } from '../adapters/git-host.ts'
import { type Actor, actorRef, requireRole } from '../actor.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import {
  accessTokens,
  assessments,
  auditEvents,
  candidateRepos,
  emailEvents,
  mailboxMessages,
  orgs,
  outbox,
  reviewComments,
  reviewFeedback,
  invitations,
} from '../db/schema/index.ts'
import { notFound } from '../errors.ts'
import type { TokenHasher } from '../tokens.ts'
import type { AccessService } from './access.ts'
import { byEmail } from './account-links.ts'
import type { Lifecycle } from './lifecycle.ts'

/** The domain of erased candidates' pseudonyms: `.invalid` is reserved, so no real address ends so. */
export const ERASED_DOMAIN = 'erased.invalid'
/** Invitations the retention task erases in one run at most; the next run takes the rest. */
export const RETENTION_BATCH = 50
export const RETENTION_DAYS_MAX = 36_500

const TERMINAL = ['submitted', 'expired', 'revoked'] as const
const LIVE = ['sent', 'accepted', 'started'] as const
const endedAt = sql<Date>`coalesce(${invitations.submittedAt}, ${invitations.expiredAt}, ${invitations.revokedAt})`

/** What one erasure removed or anonymised; zero everywhere when there was nothing (left) to erase. */
export interface ErasureCounts {
  invitations: number
  repositories: number
  access_tokens: number
  comments: number
  feedback: number
  emails: number
}

const noCounts = (): ErasureCounts => ({ invitations: 0, repositories: 0, access_tokens: 0, comments: 0, feedback: 0, emails: 0 })

export interface PrivacyDeps {
  db: Db
  gitHost: GitHost
  tokens: TokenHasher
  clock: Clock
  lifecycle: Lifecycle
  access: AccessService
  logger: Logger
}

/**
 * A candidate's personal data: retention (erased a set number of days after the invitation
 * ended), erasure on request and export (a subject access request). Erasure keeps the
 * invitation row with its status, times and rating, so the org's counts still add up, and
 * replaces who the candidate was with a pseudonym that is stable per address but cannot be
 * turned back into it without TOKEN_PEPPER.
 */
export function createPrivacyService({ db, gitHost, tokens, clock, lifecycle, access, logger }: PrivacyDeps) {
  const normal = (email: string) => email.trim().toLowerCase()
  const pseudonym = (email: string) => `erased-${tokens.hash(`erased:${normal(email)}`).slice(0, 20)}@${ERASED_DOMAIN}`
  /** How an audit row names an address: a keyed hash, never the address. */
  const emailHash = (email: string) => tokens.hash(`audit-email:${normal(email)}`)
  const notErased = notLike(invitations.candidateEmail, `%@${ERASED_DOMAIN}`)

  /**
   * Erases invitations of one address in one org. The repositories go first, outside the
   * transaction: if the database part then fails, a retry finds the rows and deletes again
   * (the host's delete is idempotent), where the other order could lose track of a repository.
   */
  async function eraseInvitations(input: {
    orgId: string
    email: string
    ids: string[]
    actor: string
    reason: 'retention' | 'request'
    /**
     * Whether the local mailbox's messages to the address go in any case (a request), or
     * only once no other invitation of the address is left in the org (retention: messages
     * carry no invitation, and a later one's must stay until it is erased in its turn).
     */
    mail: 'all' | 'when_last'
    audit?: { kind: string; target?: string; meta: Record<string, unknown> }
  }): Promise<ErasureCounts> {
    const { orgId, email, ids } = input
    if (ids.length === 0 && !input.audit) return noCounts()
    const repos = ids.length
      ? await db
          .select({ repoFullName: candidateRepos.repoFullName })
          .from(candidateRepos)
          .where(and(eq(candidateRepos.orgId, orgId), inArray(candidateRepos.invitationId, ids)))
      : []
    for (const repo of repos) await gitHost.removeCandidateRepo(repo.repoFullName)
    const alias = pseudonym(email)
    const counts = await db.transaction(async (tx) => {
      const counts = noCounts()
      if (ids.length) {
        const mine = (column: Column) => inArray(column, ids)
        counts.invitations = (
          await tx
            .update(invitations)
            .set({ candidateEmail: alias, candidateName: null })
            .where(and(eq(invitations.orgId, orgId), inArray(invitations.id, ids), notErased))
            .returning({ id: invitations.id })
        ).length
        counts.comments = (
          await tx.delete(reviewComments).where(and(eq(reviewComments.orgId, orgId), mine(reviewComments.invitationId))).returning({ id: reviewComments.id })
        ).length
        // The rating stays (anonymous, it keeps the numbers); the written summary goes.
        counts.feedback = (
          await tx
            .update(reviewFeedback)
            .set({ summary: null })
            .where(and(eq(reviewFeedback.orgId, orgId), mine(reviewFeedback.invitationId), isNotNull(reviewFeedback.summary)))
            .returning({ id: reviewFeedback.id })
        ).length
        // A record of each email sent stays, addressed to the pseudonym.
        counts.emails += (
          await tx
            .update(emailEvents)
            .set({ toEmail: alias })
            .where(and(eq(emailEvents.orgId, orgId), mine(emailEvents.invitationId), ne(emailEvents.toEmail, alias)))
            .returning({ id: emailEvents.id })
        ).length
        // Jobs not yet run would email the pseudonym or touch the deleted repository; one
        // running now finishes (it read the row before this transaction).
        await tx
          .delete(outbox)
          .where(and(eq(outbox.orgId, orgId), ne(outbox.status, 'running'), inArray(sql`${outbox.payload}->>'invitationId'`, ids)))
        counts.access_tokens = (
          await tx.delete(accessTokens).where(and(eq(accessTokens.orgId, orgId), mine(accessTokens.invitationId))).returning({ id: accessTokens.id })
        ).length
        // Its push ledger goes with it (cascade); the submission keeps the final SHA.
        counts.repositories = (
          await tx.delete(candidateRepos).where(and(eq(candidateRepos.orgId, orgId), mine(candidateRepos.invitationId))).returning({ id: candidateRepos.id })
        ).length
        for (const id of ids) await recordAudit(tx, { orgId, kind: 'invitation.erased', actor: input.actor, target: id, meta: { reason: input.reason } })
      }
      const [others] =
        input.mail === 'when_last'
          ? await tx
              .select({ n: sql<number>`count(*)::int` })
              .from(invitations)
              .where(and(eq(invitations.orgId, orgId), byEmail(invitations.candidateEmail, email), ids.length ? notInArray(invitations.id, ids) : undefined))
          : [{ n: 0 }]
      // The local mailbox keeps whole messages: those to the candidate, and notices to the
      // org's admins that name them (an expired invitation).
      if (others!.n === 0) {
        const removed = await tx
          .delete(mailboxMessages)
          .where(
            and(
              eq(mailboxMessages.orgId, orgId),
              or(
                byEmail(mailboxMessages.to, email),
                and(eq(mailboxMessages.kind, 'notice'), sql`strpos(lower(${mailboxMessages.text}), ${normal(email)}) > 0`),
              ),
            ),
          )
          .returning({ id: mailboxMessages.id })
        counts.emails += removed.length
      }
      if (input.audit) {
        await recordAudit(tx, { orgId, kind: input.audit.kind, actor: input.actor, target: input.audit.target, meta: { ...input.audit.meta, counts } })
      }
      return counts
    })
    for (const id of ids) access.forget(id)
    return counts
  }

  return {
    pseudonym,
    emailHash,

    async settings(actor: Actor) {
      const [org] = await db.select().from(orgs).where(eq(orgs.id, actor.orgId))
      if (!org) throw notFound('org')
      return org
    },

    async setRetention(actor: Actor, retentionDays: number) {
      requireRole(actor, ['owner'])
      return db.transaction(async (tx) => {
        const [before] = await tx.select({ days: orgs.retentionDays }).from(orgs).where(eq(orgs.id, actor.orgId)).for('update')
        if (!before) throw notFound('org')
        const [org] = await tx.update(orgs).set({ retentionDays }).where(eq(orgs.id, actor.orgId)).returning()
        if (before.days !== retentionDays) {
          await recordAudit(tx, {
            orgId: actor.orgId,
            kind: 'org.retention_changed',
            actor: actorRef(actor),
            target: actor.orgId,
            meta: { from: before.days, to: retentionDays },
          })
        }
        return org!
      })
    },

    /**
     * Erases everything the org holds about one address at once: its live invitations are
     * revoked first (so the candidate's access ends with the usual audit trail), then every
     * invitation is erased as retention would. An address with nothing (left) to erase
     * answers zero counts, so asking twice is harmless; the request is audited either way.
     */
    async erase(actor: Actor, email: string): Promise<ErasureCounts> {
      requireRole(actor, ['owner'])
      const who = actorRef(actor)
      const live = await db
        .select({ id: invitations.id })
        .from(invitations)
        .where(and(eq(invitations.orgId, actor.orgId), byEmail(invitations.candidateEmail, email), inArray(invitations.status, [...LIVE])))
      for (const { id } of live) await lifecycle.end(id, 'revoked', { from: [...LIVE], actor: who, orgId: actor.orgId })
      const rows = await db
        .select({ id: invitations.id })
        .from(invitations)
        .where(and(eq(invitations.orgId, actor.orgId), byEmail(invitations.candidateEmail, email)))
      return eraseInvitations({
        orgId: actor.orgId,
        email,
        ids: rows.map((r) => r.id),
        actor: who,
        reason: 'request',
        mail: 'all',
        audit: { kind: 'candidate.erased', meta: { email_hash: emailHash(email), invitation_ids: rows.map((r) => r.id), revoked: live.length } },
      })
    },

    /**
     * The scheduled retention task: erases invitations whose end lies more than their org's
     * `retention_days` in the past, oldest first, at most RETENTION_BATCH per run. One that
     * fails (the git host down) is logged and left for the next run.
     */
    async sweepRetention(): Promise<{ erased: number; failed: number }> {
      const now = clock.now()
      const due = await db
        .select({ id: invitations.id, orgId: invitations.orgId, email: invitations.candidateEmail })
        .from(invitations)
        .innerJoin(orgs, eq(orgs.id, invitations.orgId))
        .where(
          and(
            inArray(invitations.status, [...TERMINAL]),
            notErased,
            sql`${endedAt} < ${now.toISOString()}::timestamptz - make_interval(days => ${orgs.retentionDays})`,
          ),
        )
        .orderBy(asc(endedAt), asc(invitations.id))
        .limit(RETENTION_BATCH)
      let erased = 0
      let failed = 0
      for (const row of due) {
        try {
          const counts = await eraseInvitations({
            orgId: row.orgId,
            email: row.email,
            ids: [row.id],
            actor: 'system',
            reason: 'retention',
            mail: 'when_last',
          })
          erased += counts.invitations
        } catch (err) {
          failed++
          logger.error({ err, invitation_id: row.id }, 'retention: erasing an invitation failed; the next run tries again')
        }
      }
      if (erased || failed) logger.info({ erased, failed }, 'retention: erased invitations past their org retention')
      return { erased, failed }
    },

    /** Everything the org holds about one address (a subject access request); empty lists for an unknown address. */
    async exportCandidate(actor: Actor, email: string) {
      requireRole(actor, ['owner'])
      const org = actor.orgId
      const found = await db
        .select({ invitation: invitations, assessmentTitle: assessments.title })
        .from(invitations)
        .innerJoin(assessments, eq(assessments.id, invitations.assessmentId))
        .where(and(eq(invitations.orgId, org), byEmail(invitations.candidateEmail, email)))
        .orderBy(asc(invitations.sentAt), asc(invitations.id))
      const ids = found.map((f) => f.invitation.id)
      const none = sql`false`
      const [repos, comments, feedback, emails, mail] = await Promise.all([
        db.select().from(candidateRepos).where(and(eq(candidateRepos.orgId, org), ids.length ? inArray(candidateRepos.invitationId, ids) : none)),
        db
          .select()
          .from(reviewComments)
          .where(and(eq(reviewComments.orgId, org), ids.length ? inArray(reviewComments.invitationId, ids) : none))
          .orderBy(asc(reviewComments.createdAt)),
        db
          .select()
          .from(reviewFeedback)
          .where(and(eq(reviewFeedback.orgId, org), ids.length ? inArray(reviewFeedback.invitationId, ids) : none))
          .orderBy(asc(reviewFeedback.createdAt)),
        db
          .select()
          .from(emailEvents)
          .where(and(eq(emailEvents.orgId, org), ids.length ? inArray(emailEvents.invitationId, ids) : none))
          .orderBy(asc(emailEvents.createdAt)),
        db
          .select()
          .from(mailboxMessages)
          .where(and(eq(mailboxMessages.orgId, org), byEmail(mailboxMessages.to, email)))
          .orderBy(asc(mailboxMessages.createdAt)),
      ])
      const targets = [...ids, ...repos.map((r) => r.id)]
      const audit = targets.length
        ? await db
            .select()
            .from(auditEvents)
            .where(and(eq(auditEvents.orgId, org), inArray(auditEvents.target, targets)))
            .orderBy(asc(auditEvents.createdAt), asc(auditEvents.id))
        : []
      return { exportedAt: clock.now(), invitations: found, repos, comments, feedback, emails, mail, audit }
    },
  }
}

export type PrivacyService = ReturnType<typeof createPrivacyService>
