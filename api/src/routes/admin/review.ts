import { Readable } from 'node:stream'
import { DIFF_LIMITS, RAW_DIFF_MAX_BYTES, type ReviewedRepo, type Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { commentSchema, commitsSchema, diffSchema, feedbackSchema, presentComment, presentCommits, presentDiff, presentFeedback } from '../../presenters.ts'
import { admin, errors, idParams, INT4_MAX, multiline, prose, verbatim } from '../common.ts'

const MiB = 1024 * 1024

/** The diff and the commits are asked for by the repository's id or by the invitation's: the same answer either way. */
const KEYS = [
  { url: '/api/repos/:id', key: (id: string): ReviewedRepo => ({ repoId: id }), note: '' },
  {
    url: '/api/invitations/:id',
    key: (id: string): ReviewedRepo => ({ invitationId: id }),
    note: " By the invitation's id, so a page that has only that need not read the invitation first; 409 `not_started` while it has no repository.",
  },
] as const

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  const tags = ['review']

  for (const { url, key, note } of KEYS) {
    app.get(
      `${url}/diff`,
      {
        schema: {
          tags,
          security: admin,
          summary: 'What the candidate changed: base_sha..final_sha (..main while in progress)',
          description:
            `With \`Accept: text/x-diff\` the raw unified diff, streamed; past ${RAW_DIFF_MAX_BYTES / MiB} MiB it ends with a line starting \`\\ Takehome: the diff is longer than\`. ` +
            'Otherwise every changed file as JSON, with its line counts unless counting it would read too much (`truncation.uncounted_files`), and patches within limits: a file whose patch is over ' +
            `${DIFF_LIMITS.fileLines} changed lines or ${DIFF_LIMITS.fileBytes / 1024} KiB, or files past ${DIFF_LIMITS.totalLines} lines or ` +
            `${DIFF_LIMITS.totalBytes / MiB} MiB of patches in all, are listed with \`patch: null\` and \`patch_truncated: true\`.${note}`,
          params: idParams,
          response: {
            200: {
              content: {
                'application/json': { schema: diffSchema },
                'text/x-diff': { schema: z.instanceof(Readable).describe('the unified diff, streamed') },
              },
            },
            ...errors,
          },
        },
      },
      async (request, reply) => {
        if (/\btext\/x-diff\b/.test(request.headers.accept ?? '')) {
          const stream = await services.review.rawDiff(actorOf(request), key(request.params.id))
          return reply.type('text/x-diff; charset=utf-8').send(stream)
        }
        return presentDiff(await services.review.diff(actorOf(request), key(request.params.id)))
      },
    )

    app.get(
      `${url}/commits`,
      {
        schema: {
          tags,
          security: admin,
          summary: "The candidate's commits after the base commit, newest first, and the pushes that brought them",
          description:
            'Commit dates are whatever the candidate set. In GitHub App mode `pushes` lists when each push actually reached GitHub, ' +
            `as its push webhook reported it, oldest first.${note}`,
          params: idParams,
          response: { 200: commitsSchema, ...errors },
        },
      },
      async (request) => presentCommits(await services.review.commits(actorOf(request), key(request.params.id))),
    )
  }

  app.post(
    '/api/invitations/:id/comments',
    {
      schema: {
        tags,
        security: admin,
        summary: 'An inline comment on a line of a file, or a general one without path and line',
        params: idParams,
        body: z.object({
          // Any path git can hold: a file may have a tab in its name.
          path: verbatim().min(1, { error: 'must not be empty' }).max(1000).optional(),
          line: z
            .number()
            .int()
            .min(1, { error: 'lines count from 1' })
            .max(INT4_MAX, { error: `must be at most ${INT4_MAX}` })
            .optional(),
          body: prose(20_000),
        }),
        response: { 201: commentSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(presentComment(await services.review.comment(actorOf(request), request.params.id, request.body))),
  )

  app.post(
    '/api/invitations/:id/feedback',
    {
      schema: {
        tags,
        security: admin,
        summary: 'A summary and a rating from 1 to 5',
        params: idParams,
        body: z.object({
          summary: multiline().max(20_000).optional(),
          rating: z.number().int({ error: 'must be a whole number from 1 to 5' }).min(1).max(5, { error: 'must be from 1 to 5' }),
        }),
        response: { 201: feedbackSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(presentFeedback(await services.review.feedback(actorOf(request), request.params.id, request.body))),
  )
}

export default routes
