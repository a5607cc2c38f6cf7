import { and, eq, inArray } from 'drizzle-orm'
import type { GitHost } from '../adapters/git-host.ts'
import type { Mailer, OutgoingEmail } from '../adapters/mailer.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db, Executor } from '../db/client.ts'
import {
  assessments,
  candidateRepos,
  emailEvents,
  invitations,
  memberInvitations,
  orgMembers,
  orgs,
  signupRequests,
  users,
} from '../db/schema/index.ts'
import { renderTemplate, type TemplateVariables } from '../email.ts'
import { escapeHtml, renderMarkdown } from '../markdown.ts'
import type { TokenHasher } from '../tokens.ts'
import {
  ACCOUNT_PAGES,
  byEmail,
  issuePasswordReset,
  memberInvitationToken,
  passwordResetToken,
  signupConfirmationToken,
} from '../services/account-links.ts'
import type { EmailTemplateService } from '../services/email-templates.ts'
import { formatDeadline, startLinkToken } from '../services/invitations.ts'
import type { Lifecycle } from '../services/lifecycle.ts'
import type { SeedService } from '../services/seeds.ts'
import { enqueue, type Job } from './outbox.ts'
import { type JobHandlers, PermanentJobError } from './runner.ts'

export interface HandlerDeps {
  db: Db
  mailer: Mailer
  gitHost: GitHost
  lifecycle: Lifecycle
  seeds: Pick<SeedService, 'followHead'>
  templates: EmailTemplateService
  tokens: TokenHasher
  clock: Clock
  appBaseUrl: string
}

/**
 * An account email: plain paragraphs and our links. Names in it are people's input, so
 * nothing is read as markdown or HTML (the mailers keep the subject to one header line).
 */
function accountEmail(subject: string, paragraphs: Array<string | { link: string }>) {
  return {
    subject,
    text: paragraphs.map((p) => (typeof p === 'string' ? p : p.link)).join('\n\n'),
    html: paragraphs
      .map((p) => (typeof p === 'string' ? `<p>${escapeHtml(p)}</p>` : `<p><a href="${escapeHtml(p.link)}">${escapeHtml(p.link)}</a></p>`))
      .join('\n'),
  }
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
export function createJobHandlers({ db, mailer, gitHost, lifecycle, seeds, templates, tokens, clock, appBaseUrl }: HandlerDeps): JobHandlers {
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
      const [recorded] = await exec
        .insert(emailEvents)
        .values({ orgId: email.orgId, invitationId, type: email.kind, toEmail: email.to, providerId: result.providerId, status: result.status, outboxId: job.id })
        .onConflictDoNothing()
        .returning({ id: emailEvents.id })
      // A follow-up is a decision about a candidate: its sending is audited as well as its queueing.
      if (recorded && email.kind === 'follow_up') {
        await recordAudit(exec, {
          orgId: email.orgId,
          kind: 'invitation.follow_up_sent',
          actor: 'system',
          target: invitationId,
          meta: { job_id: job.id, email_event_id: recorded.id },
        })
      }
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

    async 'email.member_invite'(job) {
      const [row] = await db
        .select({ invitation: memberInvitations, org: orgs, inviter: users })
        .from(memberInvitations)
        .innerJoin(orgs, eq(orgs.id, memberInvitations.orgId))
        .leftJoin(users, eq(users.id, memberInvitations.invitedBy))
        .where(eq(memberInvitations.id, field(job, 'memberInvitationId')))
      // Accepted, withdrawn (or replaced) or lapsed before the email went out: nothing to send.
      if (!row || row.invitation.acceptedAt || row.invitation.revokedAt || row.invitation.expiresAt <= clock.now()) return
      const { invitation, org, inviter } = row
      const who = inviter ? (inviter.name ?? inviter.email) : 'An owner'
      await deliver(job, {
        orgId: org.id,
        kind: 'member_invite',
        to: invitation.email,
        ...accountEmail(`You are invited to join ${org.name} on Takehome`, [
          `${who} invited you to join ${org.name} on Takehome as ${invitation.role}.`,
          `Accept the invitation here before ${formatDeadline(invitation.expiresAt)}:`,
          { link: `${appBaseUrl}${ACCOUNT_PAGES.join}/${memberInvitationToken(tokens, invitation.id)}` },
          'If you have no Takehome account yet, you create one through the same link. If you did not expect this invitation, ignore this email.',
        ]),
      })
    },

    /**
     * Makes and emails a reset link, or does nothing: for an address without an account (no
     * user id: the request did the same work anyway), or one that got a link a moment ago.
     */
    async 'email.password_reset'(job) {
      const userId = job.payload['userId']
      if (typeof userId !== 'string' || userId === '') return
      const reset = await issuePasswordReset(db, { tokens, clock }, field(job, 'passwordResetId'), userId)
      if (!reset || reset.usedAt || reset.expiresAt <= clock.now()) return
      const [user] = await db.select({ email: users.email }).from(users).where(eq(users.id, userId))
      if (!user) return
      await deliver(job, {
        orgId: null,
        kind: 'password_reset',
        to: user.email,
        ...accountEmail('Reset your Takehome password', [
          `Someone, hopefully you, asked to reset the password of the Takehome account ${user.email}.`,
          `Choose a new password here before ${formatDeadline(reset.expiresAt)}; the link works once:`,
          { link: `${appBaseUrl}${ACCOUNT_PAGES.resetPassword}/${passwordResetToken(tokens, reset.id)}` },
          'If it was not you, ignore this email: your password stays as it is.',
        ]),
      })
    },

    /**
     * Confirms a sign-up, or, when the address already has an account, says so instead.
     * Deciding it here keeps the sign-up answer the same for both. Whoever signed up chose
     * the name and the org name, and may not own the address: neither goes into the email,
     * so open sign-up cannot carry someone's text to a stranger's inbox.
     */
    async 'email.signup_confirm'(job) {
      const [request] = await db.select().from(signupRequests).where(eq(signupRequests.id, field(job, 'signupRequestId')))
      if (!request || request.usedAt || request.expiresAt <= clock.now()) return
      const [account] = await db.select({ id: users.id }).from(users).where(byEmail(users.email, request.email))
      const email = account
        ? accountEmail('You already have a Takehome account', [
            `Someone, hopefully you, tried to sign up to Takehome as ${request.email}. This address already has an account, so nothing was created.`,
            'Log in here:',
            { link: `${appBaseUrl}${ACCOUNT_PAGES.login}` },
            'Forgot the password? Reset it here:',
            { link: `${appBaseUrl}${ACCOUNT_PAGES.resetPassword}` },
          ])
        : accountEmail('Confirm your Takehome sign-up', [
            `Someone, hopefully you, signed up to Takehome as ${request.email} to create a new organisation.`,
            `Confirm it here before ${formatDeadline(request.expiresAt)}; the link works once:`,
            { link: `${appBaseUrl}${ACCOUNT_PAGES.confirmSignup}/${signupConfirmationToken(tokens, request.id)}` },
            'If it was not you, ignore this email: nothing is created without the link.',
          ])
      await deliver(job, { orgId: null, kind: 'signup_confirm', to: request.email, ...email })
    },

    /** A seed push that arrived out of order: read where the seed's branch stands on the host now. */
    async 'seed.follow_head'(job) {
      await seeds.followHead(field(job, 'seedId'))
    },

    /**
     * After an invitation ends: record where main stood, close the repository, tell the org
     * if time ran out. Also queued without `ending` when an ended invitation's repository was
     * reopened on the host, to close it again.
     */
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
