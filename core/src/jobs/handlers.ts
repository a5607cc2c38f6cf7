import { and, eq, inArray } from 'drizzle-orm'
import type { GitHost } from '../adapters/git-host.ts'
import type { Mailer, OutgoingEmail } from '../adapters/mailer.ts'
import type { Clock } from '../clock.ts'
import type { Db, Executor } from '../db/client.ts'
import { assessments, candidateRepos, emailEvents, invitations, orgMembers, users } from '../db/schema/index.ts'
import { renderTemplate, type TemplateVariables } from '../email.ts'
import { renderMarkdown } from '../markdown.ts'
import type { TokenHasher } from '../tokens.ts'
import type { EmailTemplateService } from '../services/email-templates.ts'
import { formatDeadline, startLinkToken } from '../services/invitations.ts'
import type { Lifecycle } from '../services/lifecycle.ts'
import { enqueue, type Job } from './outbox.ts'
import { type JobHandlers, PermanentJobError } from './runner.ts'

export interface HandlerDeps {
  db: Db
  mailer: Mailer
  gitHost: GitHost
  lifecycle: Lifecycle
  templates: EmailTemplateService
  tokens: TokenHasher
  clock: Clock
  appBaseUrl: string
}

const field = (job: Job, name: string) => {
  const value = job.payload[name]
  if (typeof value !== 'string') throw new PermanentJobError(`job payload has no ${name}`)
  return value
}

/**
 * What each job kind does. Every handler reads the current state before acting, so a job
 * that runs twice (a redelivery, a runner killed mid-way) has the effect of running once.
 */
export function createJobHandlers({ db, mailer, gitHost, lifecycle, templates, tokens, clock, appBaseUrl }: HandlerDeps): JobHandlers {
  async function invitationOf(job: Job) {
    const [row] = await db
      .select({ invitation: invitations, assessment: assessments })
      .from(invitations)
      .innerJoin(assessments, eq(assessments.id, invitations.assessmentId))
      .where(eq(invitations.id, field(job, 'invitationId')))
    return row
  }

  const variablesOf = (row: NonNullable<Awaited<ReturnType<typeof invitationOf>>>): TemplateVariables => ({
    candidate_name: row.invitation.candidateName ?? 'there',
    assessment_title: row.assessment.title,
    start_link: `${appBaseUrl}/start/${startLinkToken(tokens, row.invitation.id)}`,
    start_deadline: formatDeadline(row.invitation.startDeadline),
    complete_deadline: row.invitation.completeDeadline ? formatDeadline(row.invitation.completeDeadline) : 'set when you start',
  })

  /**
   * Sends at most one email per job, however often the job runs: the send is recorded
   * under the job's id, and the provider is given that id as its idempotency key.
   */
  async function deliver(job: Job, email: Omit<OutgoingEmail, 'idempotencyKey'> & { invitationId?: string }) {
    const { invitationId, ...message } = email
    const send = async (exec: Executor) => {
      const [sent] = await exec.select({ id: emailEvents.id }).from(emailEvents).where(eq(emailEvents.outboxId, job.id))
      if (sent) return
      const result = await mailer.send(exec, { ...message, idempotencyKey: job.id })
      await exec
        .insert(emailEvents)
        .values({ orgId: email.orgId, invitationId, type: email.kind, toEmail: email.to, providerId: result.providerId, status: result.status, outboxId: job.id })
        .onConflictDoNothing()
    }
    // The local mailbox stores the message, so it commits together with the record of the
    // send. A provider is called outside any transaction (one held open across a network
    // call would stall the database, all of it on PGlite); its idempotency key covers a
    // crash between its answer and our record.
    await (mailer.kind === 'local' ? db.transaction(send) : send(db))
  }

  async function sendToCandidate(job: Job, row: NonNullable<Awaited<ReturnType<typeof invitationOf>>>, template: { subject: string; body: string }, kind: 'invite' | 'reminder' | 'follow_up') {
    const rendered = renderTemplate(template, variablesOf(row))
    await deliver(job, { ...rendered, orgId: row.invitation.orgId, kind, to: row.invitation.candidateEmail, invitationId: row.invitation.id })
  }

  return {
    async 'email.invite'(job) {
      const row = await invitationOf(job)
      // Revoked or lapsed before the email went out: there is nothing to invite to.
      if (!row || !['sent', 'accepted'].includes(row.invitation.status)) return
      const { assessment } = row
      const template =
        assessment.candidateEmailSubject && assessment.candidateEmailBody
          ? { subject: assessment.candidateEmailSubject, body: assessment.candidateEmailBody }
          : await templates.resolve(db, assessment.orgId, 'invite')
      await sendToCandidate(job, row, template, 'invite')
    },

    async 'email.reminder'(job) {
      const row = await invitationOf(job)
      if (!row) return
      const now = clock.now()
      const { status, startDeadline, completeDeadline } = row.invitation
      const stillDue =
        field(job, 'deadline') === 'start'
          ? ['sent', 'accepted'].includes(status) && startDeadline > now
          : status === 'started' && completeDeadline !== null && completeDeadline > now
      if (!stillDue) return
      await sendToCandidate(job, row, await templates.resolve(db, row.invitation.orgId, 'reminder'), 'reminder')
    },

    async 'email.follow_up'(job) {
      const row = await invitationOf(job)
      if (!row) return
      const templateId = job.payload['templateId']
      const template = await templates.resolve(db, row.invitation.orgId, 'follow_up', typeof templateId === 'string' ? templateId : undefined)
      await sendToCandidate(job, row, template, 'follow_up')
    },

    async 'email.expiry_notice'(job) {
      const row = await invitationOf(job)
      const [recipient] = await db.select({ email: users.email }).from(users).where(eq(users.id, field(job, 'userId')))
      if (!row || !recipient) return
      const [repo] = await db.select().from(candidateRepos).where(eq(candidateRepos.invitationId, row.invitation.id))
      const who = row.invitation.candidateName ? `${row.invitation.candidateName} <${row.invitation.candidateEmail}>` : row.invitation.candidateEmail
      const text = [
        `The time for "${row.assessment.title}" ran out for ${who} without a submission.`,
        '',
        repo?.finalSha ? `Their work was captured at commit ${repo.finalSha} and the repository archived; it is ready for review.` : 'They had not started.',
      ].join('\n')
      await deliver(job, {
        orgId: row.invitation.orgId,
        kind: 'notice',
        to: recipient.email,
        subject: `Time ran out: ${row.invitation.candidateEmail} · ${row.assessment.title}`,
        text,
        html: renderMarkdown(text),
        invitationId: row.invitation.id,
      })
    },

    /** After an invitation ends: record where main stood, close the repository, tell the org if time ran out. */
    async 'repo.finalize'(job) {
      const invitationId = field(job, 'invitationId')
      await lifecycle.captureFinal(invitationId)
      const [repo] = await db.select().from(candidateRepos).where(eq(candidateRepos.invitationId, invitationId))
      if (repo) await gitHost.archive(repo.repoFullName)
      if (!repo || job.payload['ending'] !== 'expired' || !job.orgId) return
      const admins = await db
        .select({ userId: orgMembers.userId })
        .from(orgMembers)
        .where(and(eq(orgMembers.orgId, job.orgId), inArray(orgMembers.role, ['owner', 'admin'])))
      await enqueue(
        db,
        admins.map(({ userId }) => ({
          kind: 'email.expiry_notice' as const,
          orgId: job.orgId,
          payload: { invitationId, userId },
          key: `expiry_notice:${invitationId}:${userId}`,
        })),
      )
    },
  }
}
