import { MAX_CANDIDATES_PER_CALL, type Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import {
  invitationDetailSchema,
  invitationSchema,
  presentInvitation,
  presentInvitationDetail,
} from '../../presenters.ts'
import { admin, emailField, errors, idParams, text } from '../common.ts'

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
        response: { 200: z.object({ invitations: z.array(invitationSchema) }), ...errors },
      },
    },
    async (request) => ({
      invitations: (
        await services.invitations.list(actorOf(request), { assessmentId: request.query.assessment_id })
      ).map(presentInvitation),
    }),
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
