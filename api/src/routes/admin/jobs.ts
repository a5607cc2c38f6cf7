import type { Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { jobSchema, presentJob } from '../../presenters.ts'
import { admin, errors, idParams } from '../common.ts'

/** Jobs that failed for good (the dead letter), for the admins who can act on them. */
const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  const tags = ['jobs']

  app.get(
    '/api/jobs/failed',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Jobs of your organisation that failed on every try, newest first',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ jobs: z.array(jobSchema) }), ...errors },
      },
    },
    async (request) => ({ jobs: (await services.jobAdmin.failed(actorOf(request), request.query.limit)).map(presentJob) }),
  )

  app.post(
    '/api/jobs/:id/retry',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Queue a failed job again, with a fresh set of tries',
        params: idParams,
        response: { 202: z.object({ status: z.literal('queued') }), ...errors },
      },
    },
    async (request, reply) => {
      await services.jobAdmin.retry(actorOf(request), request.params.id)
      return reply.status(202).send({ status: 'queued' as const })
    },
  )
}

export default routes
