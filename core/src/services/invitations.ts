import { randomUUID } from 'node:crypto'
import { and, asc, desc, eq, inArray, lte, notInArray, sql } from 'drizzle-orm'
import { type Actor, actorRef, MANAGE, REVIEW, requireRole } from '../actor.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import {
  assessments,
  candidateRepos,
  type InvitationStatus,
  invitations,
  reviewComments,
  reviewFeedback,
} from '../db/schema/index.ts'
import { conflict, isUniqueViolation, notFound, unprocessable } from '../errors.ts'
import { enqueue } from '../jobs/outbox.ts'
import type { TokenHasher } from '../tokens.ts'
import type { EmailTemplateService } from './email-templates.ts'
import type { Lifecycle } from './lifecycle.ts'

export const MAX_CANDIDATES_PER_CALL = 500
const LIVE: InvitationStatus[] = ['sent', 'accepted', 'started']

export interface InvitationDeps {
  db: Db
  tokens: TokenHasher
  clock: Clock
  lifecycle: Lifecycle
  templates: EmailTemplateService
  /** Origin of the pages candidates open (`APP_BASE_URL`). */
  appBaseUrl: string
}

/**
 * The start link's token is derived from the invitation id with the server key, never
 * stored: the invite job (and later reminders) can write the link into an email while the
 * job itself carries only the id.
 */
export const startLinkToken = (tokens: TokenHasher, invitationId: string) => tokens.derive('invitation', `start-link:${invitationId}`)

export const formatDeadline = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`

export function createInvitationService({ db, tokens, clock, lifecycle, templates, appBaseUrl }: InvitationDeps) {
  const startUrl = (token: string) => `${appBaseUrl}/start/${token}`

  return {
    /**
     * Invites candidates: one row, one start link and one invite email job each, all in
     * one transaction. Repeated emails in one call are merged; an email that already has a
     * live invitation for this assessment refuses the whole call, so nothing is half-sent.
     */
    async create(actor: Actor, input: { assessmentId: string; candidates: Array<{ email: string; name?: string }> }) {
      requireRole(actor, MANAGE)
      const [assessment] = await db
        .select()
        .from(assessments)
        .where(and(eq(assessments.id, input.assessmentId), eq(assessments.orgId, actor.orgId)))
      if (!assessment) throw unprocessable('assessment_not_found', 'assessment_id does not name an assessment of your organisation')

      const byEmail = new Map<string, { email: string; name?: string }>()
      for (const c of input.candidates) {
        const key = c.email.toLowerCase()
        const seen = byEmail.get(key)
        byEmail.set(key, { email: seen?.email ?? c.email, name: seen?.name ?? c.name })
      }
      const candidates = [...byEmail.values()]
      const now = clock.now()
      const startDeadline = new Date(now.getTime() + assessment.timeToStartSeconds * 1000)

      try {
        return await db.transaction(async (tx) => {
          // An invitation not started by its start deadline is over, whether or not the
          // sweeper has recorded it yet: record it now, so the candidate can be invited again.
          const lapsed = await tx
            .update(invitations)
            .set({ status: 'expired', expiredAt: now })
            .where(
              and(
                eq(invitations.assessmentId, assessment.id),
                inArray(invitations.status, ['sent', 'accepted']),
                lte(invitations.startDeadline, now),
                inArray(sql`lower(${invitations.candidateEmail})`, [...byEmail.keys()]),
              ),
            )
            .returning({ id: invitations.id })
          for (const row of lapsed) {
            await recordAudit(tx, { orgId: actor.orgId, kind: 'invitation.expired', actor: 'system', target: row.id })
          }
          const existing = await tx
            .select({ email: invitations.candidateEmail })
            .from(invitations)
            .where(
              and(
                eq(invitations.assessmentId, assessment.id),
                notInArray(invitations.status, ['revoked', 'expired']),
                inArray(sql`lower(${invitations.candidateEmail})`, [...byEmail.keys()]),
              ),
            )
          if (existing.length > 0) throw duplicateError(existing.map((e) => e.email))

          const ids = candidates.map(() => randomUUID())
          const rows = await tx
            .insert(invitations)
            .values(
              candidates.map((c, i) => ({
                id: ids[i]!,
                orgId: actor.orgId,
                assessmentId: assessment.id,
                candidateEmail: c.email,
                candidateName: c.name,
                startDeadline,
                startLinkTokenHash: tokens.hash(startLinkToken(tokens, ids[i]!)),
                sentAt: now,
              })),
            )
            .returning()
          await enqueue(
            tx,
            rows.map((row) => ({ kind: 'email.invite' as const, orgId: actor.orgId, payload: { invitationId: row.id } })),
          )
          await recordAudit(tx, {
            orgId: actor.orgId,
            kind: 'invitation.created',
            actor: actorRef(actor),
            target: assessment.id,
            meta: { invitation_ids: rows.map((r) => r.id), count: rows.length },
          })
          return rows.map((row) => ({ ...row, startUrl: startUrl(startLinkToken(tokens, row.id)) }))
        })
      } catch (err) {
        // A concurrent call invited the same person between our check and our insert.
        if (isUniqueViolation(err)) throw duplicateError([])
        throw err
      }
    },

    list(actor: Actor, filter: { assessmentId?: string } = {}) {
      return db
        .select()
        .from(invitations)
        .where(
          and(
            eq(invitations.orgId, actor.orgId),
            filter.assessmentId ? eq(invitations.assessmentId, filter.assessmentId) : undefined,
          ),
        )
        .orderBy(desc(invitations.sentAt), asc(invitations.candidateEmail))
    },

    async get(actor: Actor, id: string) {
      const [row] = await db
        .select({ invitation: invitations, repo: candidateRepos })
        .from(invitations)
        .leftJoin(candidateRepos, eq(candidateRepos.invitationId, invitations.id))
        .where(and(eq(invitations.id, id), eq(invitations.orgId, actor.orgId)))
      if (!row) throw notFound('invitation')
      const scoped = (t: typeof reviewComments | typeof reviewFeedback) =>
        and(eq(t.invitationId, id), eq(t.orgId, actor.orgId))
      const [comments, feedback] = await Promise.all([
        db.select().from(reviewComments).where(scoped(reviewComments)).orderBy(asc(reviewComments.createdAt)),
        db.select().from(reviewFeedback).where(scoped(reviewFeedback)).orderBy(asc(reviewFeedback.createdAt)),
      ])
      return { ...row.invitation, repo: row.repo, comments, feedback }
    },

    /**
     * Queues a follow-up email to the candidate: the named follow-up template, else the
     * org's default. The template is checked now, so a bad id is a 422 rather than a
     * dead job.
     */
    async followUp(actor: Actor, input: { invitationId: string; templateId?: string }) {
      requireRole(actor, REVIEW)
      const [invitation] = await db
        .select({ id: invitations.id })
        .from(invitations)
        .where(and(eq(invitations.id, input.invitationId), eq(invitations.orgId, actor.orgId)))
      if (!invitation) throw unprocessable('invitation_not_found', 'invitation_id does not name an invitation of your organisation')
      if (input.templateId) await templates.resolve(db, actor.orgId, 'follow_up', input.templateId)
      return db.transaction(async (tx) => {
        const [jobId] = await enqueue(tx, [
          {
            kind: 'email.follow_up',
            orgId: actor.orgId,
            payload: { invitationId: invitation.id, ...(input.templateId ? { templateId: input.templateId } : {}) },
          },
        ])
        await recordAudit(tx, {
          orgId: actor.orgId,
          kind: 'invitation.follow_up_queued',
          actor: actorRef(actor),
          target: invitation.id,
          meta: { template_id: input.templateId ?? null, job_id: jobId! },
        })
        return { jobId: jobId! }
      })
    },

    /** Withdraws an invitation that has not ended; a started one loses its git access at once. */
    async revoke(actor: Actor, id: string) {
      requireRole(actor, MANAGE)
      const revoked = await lifecycle.end(id, 'revoked', { from: LIVE, actor: actorRef(actor), orgId: actor.orgId })
      if (revoked) return revoked
      const [current] = await db
        .select({ status: invitations.status })
        .from(invitations)
        .where(and(eq(invitations.id, id), eq(invitations.orgId, actor.orgId)))
      if (!current) throw notFound('invitation')
      throw conflict('invitation_not_revocable', `the invitation is already ${current.status}`)
    },
  }
}

function duplicateError(emails: string[]) {
  return conflict(
    'duplicate_invitation',
    emails.length
      ? `already invited to this assessment: ${emails.join(', ')}; revoke the earlier invitation to send a new one`
      : 'one of these candidates was invited to this assessment at the same moment; nothing was sent, try again',
    { emails },
  )
}

export type InvitationService = ReturnType<typeof createInvitationService>
