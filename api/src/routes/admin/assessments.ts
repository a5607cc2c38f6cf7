import { type AssessmentInput, durationSchema, MIN_PUSH_BYTES, type Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { assessmentSchema, presentAssessment } from '../../presenters.ts'
import { admin, errors, idParams, optionalText, text } from '../common.ts'

const fields = {
  seed_id: z.uuid({ error: 'must be a UUID' }),
  title: text(200),
  description: optionalText(5_000),
  instructions: optionalText(100_000),
  candidate_email_subject: text(200).nullish(),
  candidate_email_body: optionalText(20_000),
  time_to_start: durationSchema.describe('ISO 8601 duration, e.g. "P3D"'),
  time_to_complete: durationSchema.describe('ISO 8601 duration, e.g. "PT48H"'),
  max_push_bytes: z
    .number()
    .int({ error: 'must be a whole number of bytes' })
    .min(MIN_PUSH_BYTES, { error: `must be at least ${MIN_PUSH_BYTES} bytes` })
    .nullish()
    .describe("The largest push a candidate may make, in bytes, up to the server's PUSH_MAX_BYTES; null: PUSH_DEFAULT_MAX_BYTES"),
  allow_workflow_changes: z
    .boolean({ error: 'must be true or false' })
    .optional()
    .describe('Whether candidates may push changes to .github/workflows (GitHub mode refuses them otherwise); default false'),
}
const createBody = z.object(fields)
const updateBody = z
  .object(fields)
  .partial()
  .refine((b) => Object.keys(b).length > 0, { error: 'send at least one field to change' })

/** Body fields to the service's names, leaving out what was not sent (PATCH semantics). */
const toInput = (b: Partial<z.output<typeof createBody>>): Partial<AssessmentInput> =>
  Object.fromEntries(
    Object.entries({
      seedId: b.seed_id,
      title: b.title,
      description: b.description,
      instructions: b.instructions,
      candidateEmailSubject: b.candidate_email_subject,
      candidateEmailBody: b.candidate_email_body,
      timeToStartSeconds: b.time_to_start,
      timeToCompleteSeconds: b.time_to_complete,
      maxPushBytes: b.max_push_bytes,
      allowWorkflowChanges: b.allow_workflow_changes,
    }).filter(([, v]) => v !== undefined),
  )

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  const tags = ['assessments']

  app.post(
    '/api/assessments',
    { schema: { tags, security: admin, body: createBody, response: { 201: assessmentSchema, ...errors } } },
    async (request, reply) => {
      const created = await services.assessments.create(actorOf(request), toInput(request.body) as AssessmentInput)
      return reply.status(201).send(presentAssessment(created))
    },
  )

  app.get(
    '/api/assessments',
    {
      schema: { tags, security: admin, response: { 200: z.object({ assessments: z.array(assessmentSchema) }), ...errors } },
    },
    async (request) => ({ assessments: (await services.assessments.list(actorOf(request))).map(presentAssessment) }),
  )

  app.get(
    '/api/assessments/:id',
    { schema: { tags, security: admin, params: idParams, response: { 200: assessmentSchema, ...errors } } },
    async (request) => presentAssessment(await services.assessments.get(actorOf(request), request.params.id)),
  )

  app.patch(
    '/api/assessments/:id',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Change an assessment; invitations already sent keep their deadlines',
        params: idParams,
        body: updateBody,
        response: { 200: assessmentSchema, ...errors },
      },
    },
    async (request) =>
      presentAssessment(await services.assessments.update(actorOf(request), request.params.id, toInput(request.body))),
  )

  app.delete(
    '/api/assessments/:id',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Delete an assessment no candidate has started',
        params: idParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.assessments.remove(actorOf(request), request.params.id)
      return reply.status(204).send(null)
    },
  )
}

export default routes
