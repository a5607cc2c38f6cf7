import type { Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { mailMessageSchema, presentMailMessage } from '../../presenters.ts'
import { admin, errors } from '../common.ts'

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/api/mail',
    {
      schema: {
        tags: ['mail'],
        security: admin,
        summary: 'The local mailbox (embedded default only): emails Takehome would have sent',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          before: z.iso.datetime({ error: 'must be an ISO 8601 date-time' }).optional(),
        }),
        response: { 200: z.object({ messages: z.array(mailMessageSchema) }), ...errors },
      },
    },
    async (request) => {
      const { limit, before } = request.query
      const messages = await services.mailbox.list(actorOf(request), { limit, before: before ? new Date(before) : undefined })
      return { messages: messages.map(presentMailMessage) }
    },
  )
}

export default routes
