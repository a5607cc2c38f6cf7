import type { Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { apiKeySchema, presentApiKey } from '../../presenters.ts'
import { admin, errors, idParams, text } from '../common.ts'

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  const tags = ['api keys']

  app.post(
    '/api/api-keys',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Create an API key; the key is shown in this response only',
        body: z.object({ name: text(100) }),
        response: { 201: apiKeySchema.extend({ key: z.string() }), ...errors },
      },
    },
    async (request, reply) => {
      const created = await services.accounts.createApiKey(actorOf(request), request.body)
      return reply.status(201).send({ ...presentApiKey(created), key: created.key })
    },
  )

  app.get(
    '/api/api-keys',
    { schema: { tags, security: admin, response: { 200: z.object({ api_keys: z.array(apiKeySchema) }), ...errors } } },
    async (request) => ({ api_keys: (await services.accounts.listApiKeys(actorOf(request))).map(presentApiKey) }),
  )

  app.delete(
    '/api/api-keys/:id',
    { schema: { tags, security: admin, params: idParams, response: { 200: apiKeySchema, ...errors } } },
    async (request) => presentApiKey(await services.accounts.revokeApiKey(actorOf(request), request.params.id)),
  )
}

export default routes
