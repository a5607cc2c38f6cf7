import { Readable } from 'node:stream'
import { ARCHIVE_MAX_BYTES, type Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { admin, errors, idParams } from '../common.ts'

const MiB = 1024 * 1024

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/api/invitations/:id/archive.zip',
    {
      schema: {
        tags: ['review'],
        security: admin,
        summary: "The candidate's repository at its final commit, as a zip",
        description:
          'Streamed as `git archive` makes it, without a length. Once the invitation has a final commit (submitted, expired or ' +
          `revoked after starting); before that 409 \`no_final_commit\`. An archive past ${ARCHIVE_MAX_BYTES / MiB} MiB, or still ` +
          'being read after 10 minutes, is stopped and the response aborted, so the download fails rather than ending as a broken file.',
        params: idParams,
        response: {
          200: { content: { 'application/zip': { schema: z.instanceof(Readable).describe('the zip, streamed') } } },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { stream, filename } = await services.review.archive(actorOf(request), request.params.id)
      return reply.type('application/zip').header('content-disposition', `attachment; filename="${filename}"`).send(stream)
    },
  )
}

export default routes
