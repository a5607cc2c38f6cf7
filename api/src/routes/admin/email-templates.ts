import { schema, type Services, TEMPLATE_VARIABLES } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { emailTemplateSchema, presentEmailTemplate } from '../../presenters.ts'
import { admin, errors, idParams, prose, text, verbatim } from '../common.ts'

const { TEMPLATE_KINDS } = schema
const variableList = TEMPLATE_VARIABLES.map((name) => `{${name}}`).join(', ')

const kind = z.enum(TEMPLATE_KINDS, { error: `must be one of ${TEMPLATE_KINDS.join(', ')}` })
const subject = text(300)
const body = prose(20_000)

const fields = {
  kind,
  name: text(100),
  subject: subject.describe(`may use ${variableList}`),
  body: body.describe(`markdown; may use ${variableList}`),
  is_default: z.boolean().optional().describe('the template of its kind sent when none is named'),
}
const createBody = z.object(fields)
const updateBody = z
  .object(fields)
  .partial()
  .refine((b) => Object.keys(b).length > 0, { error: 'send at least one field to change' })

const sampleValues = Object.fromEntries(TEMPLATE_VARIABLES.map((name) => [name, verbatim().max(2_000).optional()])) as Record<
  (typeof TEMPLATE_VARIABLES)[number],
  z.ZodOptional<ReturnType<typeof verbatim>>
>
const previewBody = z
  .object({
    template_id: z.uuid({ error: 'must be a UUID' }).optional(),
    kind: kind.optional(),
    subject: subject.optional(),
    body: body.optional(),
    // An object rather than a record, so the document names each variable.
    variables: z
      .strictObject(sampleValues)
      .optional()
      .describe('values to use instead of the examples'),
  })
  .refine((b) => (b.template_id === undefined) !== (b.kind === undefined), { error: 'send either template_id or kind' })
  .refine((b) => b.template_id === undefined || (b.subject === undefined && b.body === undefined), {
    error: 'subject and body go with kind, not with template_id',
  })

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  const tags = ['email templates']

  app.get(
    '/api/email-templates',
    {
      schema: {
        tags,
        security: admin,
        querystring: z.object({ kind: kind.optional() }),
        response: { 200: z.object({ templates: z.array(emailTemplateSchema) }), ...errors },
      },
    },
    async (request) => ({
      templates: (await services.emailTemplates.list(actorOf(request), { kind: request.query.kind })).map(presentEmailTemplate),
    }),
  )

  app.post(
    '/api/email-templates',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Create a template; with is_default it replaces the current default of its kind',
        body: createBody,
        response: { 201: emailTemplateSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { is_default, ...rest } = request.body
      const created = await services.emailTemplates.create(actorOf(request), { ...rest, isDefault: is_default })
      return reply.status(201).send(presentEmailTemplate(created))
    },
  )

  app.post(
    '/api/email-templates/preview',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Render a template with example values',
        description:
          'Either a stored template (template_id), or a draft of a kind: subject or body left out are ' +
          "those the org sends for that kind today (its default template, or Takehome's).",
        body: previewBody,
        response: { 200: z.object({ subject: z.string(), text: z.string(), html: z.string() }), ...errors },
      },
    },
    async (request) => {
      const { template_id, kind, subject, body, variables } = request.body
      // The refinements above guarantee exactly one of template_id and kind.
      const input = template_id ? { templateId: template_id } : { kind: kind!, subject, body }
      return services.emailTemplates.preview(actorOf(request), { ...input, variables })
    },
  )

  app.get(
    '/api/email-templates/:id',
    { schema: { tags, security: admin, params: idParams, response: { 200: emailTemplateSchema, ...errors } } },
    async (request) => presentEmailTemplate(await services.emailTemplates.get(actorOf(request), request.params.id)),
  )

  app.patch(
    '/api/email-templates/:id',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Change a template; is_default true makes it the default of its kind',
        params: idParams,
        body: updateBody,
        response: { 200: emailTemplateSchema, ...errors },
      },
    },
    async (request) => {
      const { is_default, ...rest } = request.body
      return presentEmailTemplate(
        await services.emailTemplates.update(actorOf(request), request.params.id, { ...rest, isDefault: is_default }),
      )
    },
  )

  app.delete(
    '/api/email-templates/:id',
    {
      schema: {
        tags,
        security: admin,
        summary: "Delete a template; if it was the default, its kind falls back to Takehome's",
        params: idParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.emailTemplates.remove(actorOf(request), request.params.id)
      return reply.status(204).send(null)
    },
  )
}

export default routes
