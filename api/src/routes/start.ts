import { formatDuration, type Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { RateLimit } from '../app.ts'
import { errors, verbatim } from './common.ts'

const tokenParams = z.object({ token: verbatim().max(100) })

const startViewSchema = z.object({
  assessment: z.object({
    title: z.string(),
    description: z.string().nullable(),
    instructions: z.string().nullable(),
    instructions_html: z.string(),
    time_to_complete: z.string(),
  }),
  candidate_name: z.string().nullable(),
  status: z.string(),
  start_deadline: z.string(),
  complete_deadline: z.string().nullable(),
  started_at: z.string().nullable(),
  submitted_at: z.string().nullable(),
  final_sha: z.string().nullable(),
  git: z
    .object({
      clone_url: z.string(),
      credential_url: z.string(),
      clone_command: z.string(),
      clone_command_powershell: z.string(),
      /** GitHub mode: the repository's own URL with the same helper, for when our gateway cannot be reached; null otherwise. */
      github_clone_url: z.string().nullable(),
      github_clone_command: z.string().nullable(),
      github_clone_command_powershell: z.string().nullable(),
      /** False when pushes changing `.github/workflows` are refused (GitHub mode, unless the assessment allows them). */
      workflow_changes_allowed: z.boolean(),
    })
    .nullable(),
})

type StartView = Awaited<ReturnType<Services['candidate']['view']>>

const presentStartView = ({ invitation, assessment, repo, git }: StartView): z.input<typeof startViewSchema> => ({
  assessment: {
    title: assessment.title,
    description: assessment.description,
    instructions: assessment.instructions,
    instructions_html: assessment.instructionsHtml,
    time_to_complete: formatDuration(assessment.timeToCompleteSeconds),
  },
  candidate_name: invitation.candidateName,
  status: invitation.status,
  start_deadline: invitation.startDeadline.toISOString(),
  complete_deadline: invitation.completeDeadline?.toISOString() ?? null,
  started_at: invitation.startedAt?.toISOString() ?? null,
  submitted_at: invitation.submittedAt?.toISOString() ?? null,
  final_sha: repo?.finalSha ?? null,
  git: git && {
    clone_url: git.cloneUrl,
    credential_url: git.credentialUrl,
    clone_command: git.cloneCommand,
    clone_command_powershell: git.cloneCommandPowershell,
    github_clone_url: git.remote?.cloneUrl ?? null,
    github_clone_command: git.remote?.cloneCommand ?? null,
    github_clone_command_powershell: git.remote?.cloneCommandPowershell ?? null,
    workflow_changes_allowed: git.workflowChangesAllowed,
  },
})

/** The candidate's side: anonymous, identified only by the start link's token. */
const routes: FastifyPluginAsyncZod<{ services: Services; rateLimit: RateLimit }> = async (app, { services, rateLimit }) => {
  // Personal pages whose URL is a secret: keep them out of caches and referrers.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer')
  })
  const tags = ['candidate']

  app.get(
    '/api/start/:token',
    {
      config: { rateLimit },
      schema: {
        tags,
        summary: 'The start page: the first view marks the invitation accepted; once started, `git` holds the clone commands',
        params: tokenParams,
        response: { 200: startViewSchema, ...errors },
      },
    },
    async (request) => presentStartView(await services.candidate.view(request.params.token)),
  )

  app.post(
    '/api/start/:token',
    {
      config: { rateLimit },
      schema: {
        tags,
        summary: "Start: creates the candidate's private repository at the seed's current commit (once, however often clicked)",
        params: tokenParams,
        response: { 200: startViewSchema, ...errors },
      },
    },
    async (request) => presentStartView(await services.candidate.start(request.params.token)),
  )

  app.post(
    '/api/submit/:token',
    {
      config: { rateLimit },
      schema: {
        tags,
        summary: 'Submit: records main as the final commit and closes the repository; repeating it is harmless',
        params: tokenParams,
        response: {
          200: z.object({ status: z.literal('submitted'), submitted_at: z.string(), final_sha: z.string().nullable() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const submitted = await services.candidate.submit(request.params.token)
      return { status: 'submitted' as const, submitted_at: submitted.submittedAt.toISOString(), final_sha: submitted.finalSha }
    },
  )
}

export default routes
