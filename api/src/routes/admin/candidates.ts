import type { schema, Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { presentAuditEvent } from './audit.ts'
import { admin, emailField, errors } from '../common.ts'

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null)
const when = z.string().nullable()

const countsSchema = z.object({
  invitations: z.number().int(),
  repositories: z.number().int(),
  access_tokens: z.number().int(),
  comments: z.number().int(),
  feedback: z.number().int(),
  emails: z.number().int(),
})

const exportSchema = z.object({
  email: z.string(),
  exported_at: z.string(),
  invitations: z.array(
    z.object({
      id: z.string(),
      assessment_id: z.string(),
      assessment_title: z.string(),
      candidate_email: z.string(),
      candidate_name: z.string().nullable(),
      status: z.string(),
      sent_at: z.string(),
      start_deadline: z.string(),
      complete_deadline: when,
      accepted_at: when,
      started_at: when,
      submitted_at: when,
      expired_at: when,
      revoked_at: when,
    }),
  ),
  repositories: z.array(
    z.object({
      id: z.string(),
      invitation_id: z.string(),
      slug: z.string(),
      repo_full_name: z.string(),
      repo_html_url: z.string().nullable(),
      seed_sha_pinned: z.string(),
      base_sha: z.string(),
      final_sha: z.string().nullable(),
      archived: z.boolean(),
      created_at: z.string(),
      archived_at: when,
    }),
  ),
  comments: z.array(
    z.object({ id: z.string(), invitation_id: z.string(), path: z.string().nullable(), line: z.number().nullable(), body: z.string(), created_at: z.string() }),
  ),
  feedback: z.array(z.object({ id: z.string(), invitation_id: z.string(), rating: z.number().nullable(), summary: z.string().nullable(), created_at: z.string() })),
  emails: z.array(
    z.object({
      id: z.string(),
      invitation_id: z.string().nullable(),
      kind: z.string(),
      to: z.string(),
      status: z.string(),
      created_at: z.string(),
      subject: z.string().nullable(),
      text: z.string().nullable(),
    }),
  ),
  audit_events: z.array(
    z.object({ id: z.string(), action: z.string(), actor: z.string(), target: z.string().nullable(), meta: z.record(z.string(), z.unknown()), created_at: z.string() }),
  ),
})

type Exported = Awaited<ReturnType<Services['privacy']['exportCandidate']>>

function presentExport(email: string, data: Exported) {
  type Mail = typeof schema.mailboxMessages.$inferSelect
  return {
    email,
    exported_at: data.exportedAt.toISOString(),
    invitations: data.invitations.map(({ invitation: i, assessmentTitle }) => ({
      id: i.id,
      assessment_id: i.assessmentId,
      assessment_title: assessmentTitle,
      candidate_email: i.candidateEmail,
      candidate_name: i.candidateName,
      status: i.status,
      sent_at: i.sentAt.toISOString(),
      start_deadline: i.startDeadline.toISOString(),
      complete_deadline: iso(i.completeDeadline),
      accepted_at: iso(i.acceptedAt),
      started_at: iso(i.startedAt),
      submitted_at: iso(i.submittedAt),
      expired_at: iso(i.expiredAt),
      revoked_at: iso(i.revokedAt),
    })),
    repositories: data.repos.map((r) => ({
      id: r.id,
      invitation_id: r.invitationId,
      slug: r.slug,
      repo_full_name: r.repoFullName,
      repo_html_url: r.repoHtmlUrl,
      seed_sha_pinned: r.seedShaPinned,
      base_sha: r.baseSha,
      final_sha: r.finalSha,
      archived: r.archived,
      created_at: r.createdAt.toISOString(),
      archived_at: iso(r.archivedAt),
    })),
    comments: data.comments.map((c) => ({ id: c.id, invitation_id: c.invitationId, path: c.path, line: c.line, body: c.body, created_at: c.createdAt.toISOString() })),
    feedback: data.feedback.map((f) => ({ id: f.id, invitation_id: f.invitationId, rating: f.rating, summary: f.summary, created_at: f.createdAt.toISOString() })),
    // Emails: the record of each one sent for an invitation, and the whole message where the local mailbox kept it.
    emails: [
      ...data.emails.map((e) => ({
        id: e.id,
        invitation_id: e.invitationId,
        kind: e.type,
        to: e.toEmail,
        status: e.status,
        created_at: e.createdAt.toISOString(),
        subject: null,
        text: null,
      })),
      ...data.mail.map((m: Mail) => ({
        id: m.id,
        invitation_id: null,
        kind: m.kind,
        to: m.to,
        status: 'kept_in_local_mailbox',
        created_at: m.createdAt.toISOString(),
        subject: m.subject,
        text: m.text,
      })),
    ],
    audit_events: data.audit.map(presentAuditEvent),
  }
}

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  const tags = ['candidates']

  app.post(
    '/api/candidates/erase',
    {
      schema: {
        tags,
        security: admin,
        summary: "Erase a candidate across the organisation at once (owners): a data subject's erasure request",
        description:
          'Live invitations of the address are revoked first. Then, as retention does: the name and email become a stable pseudonym, ' +
          'comments, written feedback, emails and access tokens are removed, and the repositories deleted from the git host; statuses, ' +
          'times and ratings stay as anonymous counts. An address the organisation holds nothing about (or nothing any more: asking twice) ' +
          'answers 200 with zero counts, so the answer does not say whether it was ever known. Audited with a keyed hash of the address, never the address.',
        body: z.object({ email: emailField }).strict(),
        response: { 200: z.object({ erased: countsSchema }), ...errors },
      },
    },
    async (request) => ({ erased: await services.privacy.erase(actorOf(request), request.body.email) }),
  )

  app.get(
    '/api/candidates/export',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Everything the organisation holds about a candidate, as JSON (owners): a subject access request',
        description: 'Invitations, repository metadata, review comments and feedback, emails sent and audit events about them. An unknown address answers empty lists.',
        querystring: z.object({ email: emailField }),
        response: { 200: exportSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { email } = request.query
      const data = await services.privacy.exportCandidate(actorOf(request), email)
      reply.header('cache-control', 'no-store')
      return presentExport(email, data)
    },
  )
}

export default routes
