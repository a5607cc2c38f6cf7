import type { Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { commentSchema, feedbackSchema, presentComment, presentFeedback } from '../../presenters.ts'
import { admin, errors, idParams, INT4_MAX, multiline, prose, text } from '../common.ts'

const compared = {
  repo_id: z.string(),
  base_sha: z.string(),
  head_sha: z.string(),
  in_progress: z.boolean().describe('true while the candidate works: head is main as it is now'),
}

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  const tags = ['review']

  app.get(
    '/api/repos/:id/diff',
    {
      schema: {
        tags,
        security: admin,
        summary: 'What the candidate changed: base_sha..final_sha (..main while in progress)',
        description: 'With `Accept: text/x-diff` the raw unified diff; otherwise per-file stats and patches as JSON.',
        params: idParams,
        response: {
          200: z.union([
            z.string(),
            z.object({
              ...compared,
              truncated: z.boolean().describe('true when the patches were too large to include'),
              totals: z.object({ files: z.number(), additions: z.number(), deletions: z.number() }),
              files: z.array(
                z.object({
                  path: z.string(),
                  old_path: z.string(),
                  status: z.enum(['added', 'deleted', 'modified', 'renamed']),
                  additions: z.number().nullable(),
                  deletions: z.number().nullable(),
                  binary: z.boolean(),
                  patch: z.string().nullable(),
                }),
              ),
            }),
          ]),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const diff = await services.review.diff(actorOf(request), request.params.id)
      if (/\btext\/x-diff\b/.test(request.headers.accept ?? '')) {
        return reply.type('text/x-diff; charset=utf-8').send(diff.patch)
      }
      const files = diff.files.map((f) => ({
        path: f.path,
        old_path: f.oldPath,
        status: fileStatus(f.patch, f.path !== f.oldPath),
        additions: f.additions,
        deletions: f.deletions,
        binary: f.additions === null,
        patch: diff.truncated ? null : f.patch,
      }))
      return {
        repo_id: diff.repo.id,
        base_sha: diff.repo.baseSha,
        head_sha: diff.head,
        in_progress: diff.inProgress,
        truncated: diff.truncated,
        totals: {
          files: files.length,
          additions: files.reduce((n, f) => n + (f.additions ?? 0), 0),
          deletions: files.reduce((n, f) => n + (f.deletions ?? 0), 0),
        },
        files,
      }
    },
  )

  app.get(
    '/api/repos/:id/commits',
    {
      schema: {
        tags,
        security: admin,
        summary: "The candidate's commits after the base commit, newest first",
        params: idParams,
        response: {
          200: z.object({
            ...compared,
            commits: z.array(
              z.object({
                sha: z.string(),
                message: z.string(),
                author_name: z.string(),
                author_email: z.string(),
                authored_at: z.string(),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const log = await services.review.commits(actorOf(request), request.params.id)
      return {
        repo_id: log.repo.id,
        base_sha: log.repo.baseSha,
        head_sha: log.head,
        in_progress: log.inProgress,
        commits: log.commits.map((c) => ({
          sha: c.sha,
          message: c.message,
          author_name: c.authorName,
          author_email: c.authorEmail,
          authored_at: c.authoredAt.toISOString(),
        })),
      }
    },
  )

  app.post(
    '/api/invitations/:id/comments',
    {
      schema: {
        tags,
        security: admin,
        summary: 'An inline comment on a line of a file, or a general one without path and line',
        params: idParams,
        body: z.object({
          path: text(1000).optional(),
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

function fileStatus(patch: string, renamed: boolean) {
  if (renamed) return 'renamed' as const
  if (/^new file mode /m.test(patch)) return 'added' as const
  if (/^deleted file mode /m.test(patch)) return 'deleted' as const
  return 'modified' as const
}

export default routes
