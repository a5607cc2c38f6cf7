import { DIFF_LIMITS, type Services } from '@takehome/core'
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
        description:
          'With `Accept: text/x-diff` the raw unified diff, streamed; past 64 MiB it ends with a line starting `\\ Takehome: the diff is longer than`. ' +
          'Otherwise every changed file with its counts as JSON, and patches within limits: a file whose patch is over ' +
          `${DIFF_LIMITS.fileLines} changed lines or ${DIFF_LIMITS.fileBytes / 1024} KiB, or files past ${DIFF_LIMITS.totalLines} lines or ` +
          `${DIFF_LIMITS.totalBytes / 1024 / 1024} MiB of patches in all, are listed with \`patch: null\` and \`patch_truncated: true\`.`,
        params: idParams,
        response: {
          200: z.union([
            z.string(),
            z.object({
              ...compared,
              truncated: z.boolean().describe('true when some patches were left out; `truncation` says how much'),
              truncation: z.object({
                files: z.number().describe('files listed without a patch'),
                additions: z.number(),
                deletions: z.number(),
                limits: z.object({ file_lines: z.number(), file_bytes: z.number(), total_lines: z.number(), total_bytes: z.number(), files: z.number() }),
              }),
              totals: z.object({ files: z.number(), additions: z.number(), deletions: z.number() }),
              files: z.array(
                z.object({
                  path: z.string(),
                  old_path: z.string(),
                  status: z.enum(['added', 'deleted', 'modified', 'renamed']),
                  old_mode: z.string().nullable().describe('100644, 100755, 120000 (symlink), 160000 (submodule); null when added'),
                  new_mode: z.string().nullable().describe('null when deleted'),
                  additions: z.number().nullable().describe('null for a binary file, or one too large to count (then patch_truncated is true)'),
                  deletions: z.number().nullable(),
                  binary: z.boolean(),
                  patch: z.string().nullable(),
                  patch_truncated: z.boolean(),
                  patch_truncated_reason: z
                    .enum(['file_too_large', 'diff_too_large'])
                    .nullable()
                    .describe('file_too_large: this file alone is over the per-file limit; diff_too_large: the whole diff reached its limit before this file'),
                }),
              ),
            }),
          ]),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      if (/\btext\/x-diff\b/.test(request.headers.accept ?? '')) {
        const stream = await services.review.rawDiff(actorOf(request), request.params.id)
        // The schema's string, delivered in pieces: a stream is sent as it is, never serialised.
        return reply.type('text/x-diff; charset=utf-8').send(stream as unknown as string)
      }
      const diff = await services.review.diff(actorOf(request), request.params.id)
      const { limits } = diff.truncation
      return {
        repo_id: diff.repo.id,
        base_sha: diff.repo.baseSha,
        head_sha: diff.head,
        in_progress: diff.inProgress,
        truncated: diff.truncated,
        truncation: {
          files: diff.truncation.files,
          additions: diff.truncation.additions,
          deletions: diff.truncation.deletions,
          limits: { file_lines: limits.fileLines, file_bytes: limits.fileBytes, total_lines: limits.totalLines, total_bytes: limits.totalBytes, files: limits.files },
        },
        totals: diff.totals,
        files: diff.files.map((f) => ({
          path: f.path,
          old_path: f.oldPath,
          status: f.status,
          old_mode: f.oldMode,
          new_mode: f.newMode,
          additions: f.additions,
          deletions: f.deletions,
          binary: f.binary,
          patch: f.patch,
          patch_truncated: f.patchOmitted !== null,
          patch_truncated_reason: f.patchOmitted,
        })),
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

export default routes
