import type { Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { presentSeed, seedSchema } from '../../presenters.ts'
import { admin, errors, idParams, text } from '../common.ts'

const sourceUrl = text(2000).describe(
  'An http(s) URL of a git repository. A path on the server or file://… only where ALLOW_LOCAL_SEEDS allows it; ' +
    'ssh://, git:// and loopback or private addresses only with ALLOW_PRIVATE_SEED_HOSTS. ' +
    'A source that cannot be read answers 422 `seed_source_unreachable` with `details.reason`: not_found, auth_required, not_a_repository, unreachable, too_large or timeout.',
)

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  const tags = ['seeds']

  app.post(
    '/api/seeds',
    {
      schema: {
        tags,
        security: admin,
        summary: "Mirror a template repository; the seed's main follows the source's default branch",
        body: z.object({ source_url: sourceUrl }),
        response: { 201: seedSchema, ...errors },
      },
    },
    async (request, reply) => {
      const seed = await services.seeds.create(actorOf(request), { sourceUrl: request.body.source_url })
      return reply.status(201).send(presentSeed(seed))
    },
  )

  app.get(
    '/api/seeds',
    { schema: { tags, security: admin, response: { 200: z.object({ seeds: z.array(seedSchema) }), ...errors } } },
    async (request) => ({ seeds: (await services.seeds.list(actorOf(request))).map(presentSeed) }),
  )

  app.get(
    '/api/seeds/:id',
    { schema: { tags, security: admin, params: idParams, response: { 200: seedSchema, ...errors } } },
    async (request) => presentSeed(await services.seeds.get(actorOf(request), request.params.id)),
  )

  app.post(
    '/api/seeds/:id/sync',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Fetch the source again; pass source_url (with credentials) for a private source',
        params: idParams,
        // No body at all is the common case; Fastify hands that to the schema as null.
        body: z.object({ source_url: sourceUrl.optional() }).nullish(),
        response: { 200: seedSchema, ...errors },
      },
    },
    async (request) => {
      const seed = await services.seeds.sync(actorOf(request), request.params.id, { sourceUrl: request.body?.source_url })
      return presentSeed(seed)
    },
  )
}

export default routes
