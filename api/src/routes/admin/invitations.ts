import { Readable } from 'node:stream'
import { MAX_CANDIDATES_PER_CALL, MAX_EXTENSION_DAYS, RESEND_INTERVAL_SECONDS, type Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import {
  invitationDetailSchema,
  invitationSchema,
  presentInvitation,
  presentInvitationDetail,
  timeTakenSchema,
} from '../../presenters.ts'
import { admin, emailField, errors, idParams, text } from '../common.ts'

/** A row of the invitation table: the invitation, its final commit and how long the candidate took. */
const invitationRowSchema = invitationSchema.extend({
  final_sha: z.string().nullable(),
  time_taken_seconds: timeTakenSchema,
})

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  const tags = ['invitations']

  app.post(
    '/api/invitations',
    {
      schema: {
        tags,
        security: admin,
        summary: `Invite up to ${MAX_CANDIDATES_PER_CALL} candidates; each gets an email with a start link`,
        description:
          'Repeated emails in one call are merged. A candidate who already has a live invitation to this ' +
          'assessment refuses the whole call (409), so nothing is half-sent. start_url is returned only here.',
        body: z.object({
          assessment_id: z.uuid({ error: 'must be a UUID' }),
          candidates: z
            .array(z.object({ email: emailField, name: text(200).optional() }))
            .min(1, { error: 'invite at least one candidate' })
            .max(MAX_CANDIDATES_PER_CALL, { error: `at most ${MAX_CANDIDATES_PER_CALL} candidates per call` }),
        }),
        response: {
          201: z.object({
            invitations: z.array(
              z.object({
                id: z.string(),
                candidate_email: z.string(),
                candidate_name: z.string().nullable(),
                status: z.string(),
                start_url: z.string(),
                start_deadline: z.string(),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const created = await services.invitations.create(actorOf(request), {
        assessmentId: request.body.assessment_id,
        candidates: request.body.candidates,
      })
      return reply.status(201).send({
        invitations: created.map((i) => ({
          id: i.id,
          candidate_email: i.candidateEmail,
          candidate_name: i.candidateName,
          status: i.status,
          start_url: i.startUrl,
          start_deadline: i.startDeadline.toISOString(),
        })),
      })
    },
  )

  app.get(
    '/api/invitations',
    {
      schema: {
        tags,
        security: admin,
        querystring: z.object({ assessment_id: z.uuid({ error: 'must be a UUID' }).optional() }),
        response: { 200: z.object({ invitations: z.array(invitationRowSchema) }), ...errors },
      },
    },
    async (request) => ({
      invitations: (await services.invitations.list(actorOf(request), { assessmentId: request.query.assessment_id })).map((row) => ({
        ...presentInvitation(row),
        final_sha: row.finalSha,
        time_taken_seconds: row.timeTakenSeconds,
      })),
    }),
  )

  app.get(
    '/api/assessments/:id/invitations.csv',
    {
      schema: {
        tags,
        security: admin,
        summary: "The assessment's invitations as CSV, one row per candidate, by email",
        description:
          'Columns: name, email, status, start_deadline, complete_deadline, started_at, submitted_at (ISO 8601, UTC), time_taken ' +
          '(hours:minutes:seconds), final_sha. RFC 4180, UTF-8 with a byte order mark (for spreadsheets), streamed. A cell that ' +
          "starts with =, +, -, @, a tab or a CR is prefixed with ' so no spreadsheet runs it as a formula.",
        params: idParams,
        response: {
          200: { content: { 'text/csv': { schema: z.instanceof(Readable).describe('the CSV, streamed') } } },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { stream, filename } = await services.invitations.exportCsv(actorOf(request), request.params.id)
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}"`).send(stream)
    },
  )

  app.get(
    '/api/invitations/:id',
    {
      schema: {
        tags,
        security: admin,
        summary: 'An invitation with its repository, review comments and feedback',
        params: idParams,
        response: { 200: invitationDetailSchema, ...errors },
      },
    },
    async (request) => presentInvitationDetail(await services.invitations.get(actorOf(request), request.params.id)),
  )

  app.post(
    '/api/invitations/:id/revoke',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Withdraw an invitation that has not ended; its start link stops working',
        params: idParams,
        response: { 200: invitationSchema, ...errors },
      },
    },
    async (request) => presentInvitation(await services.invitations.revoke(actorOf(request), request.params.id)),
  )

  app.post(
    '/api/invitations/:id/extend',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Move a deadline later, with the reason, which is audited',
        description:
          'The start deadline while the candidate has not started (sent, accepted); the complete deadline while they work ' +
          `(started), and their git access with it. \`until\` must be later than the current deadline and at most ${MAX_EXTENSION_DAYS} ` +
          'days from now. 409 `start_deadline_not_extendable` / `complete_deadline_not_extendable` in another state, 409 ' +
          '`deadline_passed` once the deadline has gone by; 422 `deadline_not_later`, `deadline_too_far`.',
        params: idParams,
        body: z.object({
          deadline: z.enum(['start', 'complete'], { error: 'must be start or complete' }),
          until: z.iso
            .datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2026-12-01T17:00:00Z' })
            .transform((v) => new Date(v)),
          reason: text(500).regex(/[\p{L}\p{N}]/u, { error: 'say why, in words' }),
        }),
        response: { 200: invitationSchema, ...errors },
      },
    },
    async (request) => presentInvitation(await services.invitations.extend(actorOf(request), request.params.id, request.body)),
  )

  app.post(
    '/api/invitations/:id/resend',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Send the invite email again, with the same start link',
        description:
          'Before the candidate starts and before the start deadline (409 `invitation_not_resendable`, `deadline_passed`); ' +
          `at most once in ${RESEND_INTERVAL_SECONDS} s per invitation (429 \`resend_too_soon\`). Queued like the first invite; ` +
          'sent_at becomes the time of this send.',
        params: idParams,
        response: { 202: invitationSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(202).send(presentInvitation(await services.invitations.resend(actorOf(request), request.params.id))),
  )

  app.post(
    '/api/followup',
    {
      schema: {
        tags,
        security: admin,
        summary: "Send the candidate a follow-up email: the named follow-up template, or the org's default",
        description: 'Queued, not sent inline: 202 means the email job is written and will be sent (and retried) by the job system.',
        body: z.object({
          invitation_id: z.uuid({ error: 'must be a UUID' }),
          template_id: z.uuid({ error: 'must be a UUID' }).optional(),
        }),
        response: { 202: z.object({ status: z.literal('queued'), job_id: z.string() }), ...errors },
      },
    },
    async (request, reply) => {
      const { jobId } = await services.invitations.followUp(actorOf(request), {
        invitationId: request.body.invitation_id,
        templateId: request.body.template_id,
      })
      return reply.status(202).send({ status: 'queued' as const, job_id: jobId })
    },
  )
}

export default routes
