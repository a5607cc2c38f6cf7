import { DASHBOARD_LIST_MAX, DASHBOARD_WINDOW_HOURS, type schema, type Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { admin, errors } from '../common.ts'

const count = z.number().int()
const candidate = {
  invitation_id: z.string(),
  assessment_id: z.string(),
  assessment_title: z.string(),
  candidate_email: z.string(),
  candidate_name: z.string().nullable(),
  status: z.string(),
}
const dashboardSchema = z.object({
  now: z.string().describe("the service's clock, which the window is counted from"),
  window_hours: z.number(),
  assessments: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      counts: z.object({ sent: count, accepted: count, started: count, submitted: count, expired: count, revoked: count }),
    }),
  ),
  deadlines: z.array(z.object({ ...candidate, deadline: z.enum(['start', 'complete']), at: z.string() })),
  awaiting_review: z.array(z.object({ ...candidate, final_sha: z.string(), ended_at: z.string() })),
})

const who = (i: typeof schema.invitations.$inferSelect, assessmentTitle: string) => ({
  invitation_id: i.id,
  assessment_id: i.assessmentId,
  assessment_title: assessmentTitle,
  candidate_email: i.candidateEmail,
  candidate_name: i.candidateName,
  status: i.status,
})

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/api/dashboard',
    {
      schema: {
        tags: ['dashboard'],
        security: admin,
        summary: "The org at a glance: invitations by status per assessment, deadlines coming up, work not yet reviewed",
        description:
          `\`deadlines\`: start deadlines of invitations not started and complete deadlines of candidates at work, in the next ${DASHBOARD_WINDOW_HOURS} hours, soonest first. ` +
          '`awaiting_review`: submitted or expired work with a final commit and no feedback yet, longest waiting first. ' +
          `Each list holds at most ${DASHBOARD_LIST_MAX}.`,
        response: { 200: dashboardSchema, ...errors },
      },
    },
    async (request) => {
      const overview = await services.dashboard.overview(actorOf(request))
      return {
        now: overview.now.toISOString(),
        window_hours: overview.windowHours,
        assessments: overview.assessments,
        deadlines: overview.deadlines.map((d) => ({ ...who(d.invitation, d.assessmentTitle), deadline: d.deadline, at: d.at.toISOString() })),
        awaiting_review: overview.awaitingReview.map((r) => ({
          ...who(r.invitation, r.assessmentTitle),
          final_sha: r.finalSha,
          ended_at: r.endedAt.toISOString(),
        })),
      }
    },
  )
}

export default routes
