import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { and, asc, desc, eq, gt, inArray, isNull, lte, notInArray, type SQL, sql } from 'drizzle-orm'
import { type Actor, actorRef, MANAGE, REVIEW, requireRole } from '../actor.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import {
  accessTokens,
  assessments,
  candidateRepos,
  type InvitationStatus,
  invitations,
  reviewComments,
  reviewFeedback,
} from '../db/schema/index.ts'
import { AppError, conflict, isUniqueViolation, notFound, unprocessable } from '../errors.ts'
import { enqueue } from '../jobs/outbox.ts'
import type { TokenHasher } from '../tokens.ts'
import type { AccessService } from './access.ts'
import type { EmailTemplateService } from './email-templates.ts'
import type { Lifecycle } from './lifecycle.ts'

export const MAX_CANDIDATES_PER_CALL = 500
const LIVE: InvitationStatus[] = ['sent', 'accepted', 'started']
const NOT_STARTED: InvitationStatus[] = ['sent', 'accepted']
/** How far ahead a deadline may be moved: past this it is a typo, not an extension. */
export const MAX_EXTENSION_DAYS = 90
/** A second invite email within this time is refused: a double click, not a lost email. */
export const RESEND_INTERVAL_SECONDS = 60
/** Rows read from the database at a time while a CSV export streams. */
const EXPORT_PAGE = 500

type Invitation = typeof invitations.$inferSelect

export interface InvitationDeps {
  db: Db
  tokens: TokenHasher
  clock: Clock
  lifecycle: Lifecycle
  templates: EmailTemplateService
  access: Pick<AccessService, 'forget' | 'reread'>
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

/**
 * How long the candidate worked: from Start to whichever ended the work (submit, revoke,
 * expiry), never past the complete deadline (the sweeper records an expiry a little
 * after it). Null while not started or still working.
 */
function timeTakenSeconds(i: Invitation): number | null {
  const ended = i.submittedAt ?? i.revokedAt ?? i.expiredAt
  if (!i.startedAt || !ended) return null
  const end = i.completeDeadline && i.completeDeadline < ended ? i.completeDeadline : ended
  return Math.max(0, Math.round((end.getTime() - i.startedAt.getTime()) / 1000))
}

/** An invitation as the invitation tables show it, in the API and in the CSV export. */
const tableRow = (invitation: Invitation, finalSha: string | null) => ({
  ...invitation,
  finalSha,
  timeTakenSeconds: timeTakenSeconds(invitation),
})

/** `49:05:00`: hours past a day stay hours, as spreadsheets read durations. */
const clockDuration = (seconds: number) => {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${Math.floor(seconds / 3600)}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`
}

/**
 * One CSV cell (RFC 4180). A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`,
 * tab, CR first) is made text with a leading `'`: names and emails are the candidates' input.
 */
function csvCell(value: string | null): string {
  const text = value === null ? '' : /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}
const csvLine = (cells: Array<string | null>) => `${cells.map(csvCell).join(',')}\r\n`

const CSV_HEADER = ['name', 'email', 'status', 'start_deadline', 'complete_deadline', 'started_at', 'submitted_at', 'time_taken', 'final_sha']

/** A file name from a title: `backend-exercise`. */
function slugOf(title: string) {
  const words = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '')
  return words || 'assessment'
}

export function createInvitationService({ db, tokens, clock, lifecycle, templates, access, appBaseUrl }: InvitationDeps) {
  const startUrl = (token: string) => `${appBaseUrl}/start/${token}`

  const tableRows = (orgId: string, where: SQL | undefined) =>
    db
      .select({ invitation: invitations, finalSha: candidateRepos.finalSha })
      .from(invitations)
      .leftJoin(candidateRepos, eq(candidateRepos.invitationId, invitations.id))
      .where(and(eq(invitations.orgId, orgId), where))

  async function current(actor: Actor, id: string) {
    const [row] = await db
      .select()
      .from(invitations)
      .where(and(eq(invitations.id, id), eq(invitations.orgId, actor.orgId)))
    if (!row) throw notFound('invitation')
    return row
  }

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

    /** The org's invitations (of one assessment if given), newest first, with their final commit and time taken. */
    async list(actor: Actor, filter: { assessmentId?: string } = {}) {
      const rows = await tableRows(actor.orgId, filter.assessmentId ? eq(invitations.assessmentId, filter.assessmentId) : undefined)
        .orderBy(desc(invitations.sentAt), asc(invitations.candidateEmail))
      return rows.map((r) => tableRow(r.invitation, r.finalSha))
    },

    /**
     * An assessment's invitations as CSV, by candidate email, read a page at a time while
     * the stream is read, so an assessment of any size costs a page of memory.
     */
    async exportCsv(actor: Actor, assessmentId: string) {
      const [assessment] = await db
        .select({ id: assessments.id, title: assessments.title })
        .from(assessments)
        .where(and(eq(assessments.id, assessmentId), eq(assessments.orgId, actor.orgId)))
      if (!assessment) throw notFound('assessment')
      const iso = (d: Date | null) => (d ? d.toISOString() : null)
      async function* lines() {
        // The byte order mark tells spreadsheets the file is UTF-8 (accented names).
        yield `\ufeff${csvLine(CSV_HEADER)}`
        let after: { email: string; id: string } | undefined
        for (;;) {
          const page = await tableRows(
            actor.orgId,
            and(
              eq(invitations.assessmentId, assessmentId),
              after ? sql`(${invitations.candidateEmail}, ${invitations.id}) > (${after.email}, ${after.id}::uuid)` : undefined,
            ),
          )
            .orderBy(asc(invitations.candidateEmail), asc(invitations.id))
            .limit(EXPORT_PAGE)
          for (const { invitation, finalSha } of page) {
            const row = tableRow(invitation, finalSha)
            yield csvLine([
              row.candidateName,
              row.candidateEmail,
              row.status,
              iso(row.startDeadline),
              iso(row.completeDeadline),
              iso(row.startedAt),
              iso(row.submittedAt),
              row.timeTakenSeconds === null ? null : clockDuration(row.timeTakenSeconds),
              row.finalSha,
            ])
          }
          const last = page.at(-1)
          if (page.length < EXPORT_PAGE || !last) return
          after = { email: last.invitation.candidateEmail, id: last.invitation.id }
        }
      }
      return { filename: `${slugOf(assessment.title)}-invitations.csv`, stream: Readable.from(lines()) }
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
      return { ...row.invitation, timeTakenSeconds: timeTakenSeconds(row.invitation), repo: row.repo, comments, feedback }
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

    /**
     * Moves the start deadline (before the candidate starts) or the complete deadline
     * (while they work) later. The row is locked while it is checked, so a sweeper or a
     * Submit racing the extension either sees the new deadline or wins before it. The
     * access tokens carry the complete deadline too; what this process remembers of them
     * is dropped, so the gateway and the broker use the new one at once.
     */
    async extend(actor: Actor, id: string, input: { deadline: 'start' | 'complete'; until: Date; reason: string }) {
      requireRole(actor, MANAGE)
      const { deadline, until, reason } = input
      const now = clock.now()
      const updated = await db.transaction(async (tx) => {
        const [row] = await tx
          .select()
          .from(invitations)
          .where(and(eq(invitations.id, id), eq(invitations.orgId, actor.orgId)))
          .for('update')
        if (!row) throw notFound('invitation')
        // The deadline that is running: the start deadline until Start, then the complete deadline.
        const from =
          deadline === 'start'
            ? NOT_STARTED.includes(row.status) ? row.startDeadline : null
            : row.status === 'started' ? row.completeDeadline : null
        if (!from) {
          throw conflict(
            `${deadline}_deadline_not_extendable`,
            deadline === 'start'
              ? `the start deadline can be moved only before the candidate starts; this invitation is ${row.status}`
              : `the complete deadline can be moved only while the candidate works; this invitation is ${row.status}`,
          )
        }
        if (from <= now) {
          throw conflict('deadline_passed', `the ${deadline} deadline passed at ${from.toISOString()}; the invitation is over`)
        }
        if (until <= from) {
          throw unprocessable('deadline_not_later', `until must be later than the current ${deadline} deadline, ${from.toISOString()}`)
        }
        const latest = new Date(now.getTime() + MAX_EXTENSION_DAYS * 86_400_000)
        if (until > latest) {
          throw unprocessable('deadline_too_far', `until must be at most ${MAX_EXTENSION_DAYS} days from now (${latest.toISOString()})`)
        }
        const [changed] = await tx
          .update(invitations)
          .set(deadline === 'start' ? { startDeadline: until } : { completeDeadline: until })
          .where(eq(invitations.id, id))
          .returning()
        if (deadline === 'complete') {
          await tx
            .update(accessTokens)
            .set({ expiresAt: until })
            .where(and(eq(accessTokens.invitationId, id), isNull(accessTokens.revokedAt)))
        }
        await recordAudit(tx, {
          orgId: actor.orgId,
          kind: 'invitation.deadline_extended',
          actor: actorRef(actor),
          target: id,
          meta: { deadline, from: from.toISOString(), to: until.toISOString(), reason },
        })
        return changed!
      })
      if (deadline === 'complete') access.reread(id)
      return updated
    },

    /**
     * Sends the invite email again, with the same start link: the link is derived from the
     * invitation with the server key, so the new email carries what the first one did.
     * Refused within RESEND_INTERVAL_SECONDS of the last send, once started, and past the
     * start deadline (extend it first). `sent_at` becomes the time of this send.
     */
    async resend(actor: Actor, id: string) {
      requireRole(actor, MANAGE)
      const now = clock.now()
      const quietUntil = new Date(now.getTime() - RESEND_INTERVAL_SECONDS * 1000)
      const sent = await db.transaction(async (tx) => {
        const [row] = await tx
          .update(invitations)
          .set({ sentAt: now })
          .where(
            and(
              eq(invitations.id, id),
              eq(invitations.orgId, actor.orgId),
              inArray(invitations.status, NOT_STARTED),
              gt(invitations.startDeadline, now),
              lte(invitations.sentAt, quietUntil),
            ),
          )
          .returning()
        if (!row) return undefined
        const [jobId] = await enqueue(tx, [{ kind: 'email.invite', orgId: actor.orgId, payload: { invitationId: id } }])
        await recordAudit(tx, { orgId: actor.orgId, kind: 'invitation.resent', actor: actorRef(actor), target: id, meta: { job_id: jobId! } })
        return row
      })
      if (sent) return sent
      const found = await current(actor, id)
      if (!NOT_STARTED.includes(found.status)) {
        throw conflict('invitation_not_resendable', `the invite can be sent again only while the candidate has not started; this invitation is ${found.status}`)
      }
      if (found.startDeadline <= now) {
        throw conflict('deadline_passed', `the start deadline passed at ${found.startDeadline.toISOString()}; extend it before sending the invite again`)
      }
      const wait = Math.max(1, Math.ceil((found.sentAt.getTime() - quietUntil.getTime()) / 1000))
      throw new AppError(429, 'resend_too_soon', `the invite was sent less than ${RESEND_INTERVAL_SECONDS} s ago; send it again in ${wait} s`, {
        details: { retry_after_seconds: wait },
      })
    },

    /** Withdraws an invitation that has not ended; a started one loses its git access at once. */
    async revoke(actor: Actor, id: string) {
      requireRole(actor, MANAGE)
      const revoked = await lifecycle.end(id, 'revoked', { from: LIVE, actor: actorRef(actor), orgId: actor.orgId })
      if (revoked) return revoked
      throw conflict('invitation_not_revocable', `the invitation is already ${(await current(actor, id)).status}`)
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
