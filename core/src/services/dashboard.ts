import { and, asc, desc, eq, gt, inArray, isNotNull, lte, notExists, or, sql } from 'drizzle-orm'
import type { Actor } from '../actor.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import { assessments, candidateRepos, INVITATION_STATUSES, type InvitationStatus, invitations, reviewFeedback } from '../db/schema/index.ts'

/** Deadlines this close (by the service's clock) are listed as coming up. */
export const DASHBOARD_WINDOW_HOURS = 48
/** Each list shows at most this many, soonest deadline or longest waiting first. */
export const DASHBOARD_LIST_MAX = 200

/** What an org's members see first: where every assessment stands and what needs attention. */
export function createDashboardService({ db, clock }: { db: Db; clock: Clock }) {
  return {
    async overview(actor: Actor) {
      const now = clock.now()
      const horizon = new Date(now.getTime() + DASHBOARD_WINDOW_HOURS * 3_600_000)
      const org = actor.orgId
      const ended = sql<Date>`coalesce(${invitations.submittedAt}, ${invitations.expiredAt})`

      const [counted, upcoming, unreviewed] = await Promise.all([
        db
          .select({ id: assessments.id, title: assessments.title, status: invitations.status, n: sql<number>`count(${invitations.id})::int` })
          .from(assessments)
          .leftJoin(invitations, and(eq(invitations.assessmentId, assessments.id), eq(invitations.orgId, org)))
          .where(eq(assessments.orgId, org))
          .groupBy(assessments.id, invitations.status)
          .orderBy(desc(assessments.createdAt), asc(assessments.id)),
        db
          .select({ invitation: invitations, assessmentTitle: assessments.title })
          .from(invitations)
          .innerJoin(assessments, eq(assessments.id, invitations.assessmentId))
          .where(
            and(
              eq(invitations.orgId, org),
              or(
                and(inArray(invitations.status, ['sent', 'accepted']), gt(invitations.startDeadline, now), lte(invitations.startDeadline, horizon)),
                and(eq(invitations.status, 'started'), gt(invitations.completeDeadline, now), lte(invitations.completeDeadline, horizon)),
              ),
            ),
          )
          .orderBy(sql`case when ${invitations.status} = 'started' then ${invitations.completeDeadline} else ${invitations.startDeadline} end`, asc(invitations.id))
          .limit(DASHBOARD_LIST_MAX),
        db
          .select({ invitation: invitations, assessmentTitle: assessments.title, finalSha: candidateRepos.finalSha })
          .from(invitations)
          .innerJoin(assessments, eq(assessments.id, invitations.assessmentId))
          .innerJoin(candidateRepos, eq(candidateRepos.invitationId, invitations.id))
          .where(
            and(
              eq(invitations.orgId, org),
              inArray(invitations.status, ['submitted', 'expired']),
              isNotNull(candidateRepos.finalSha),
              notExists(
                db
                  .select({ one: sql`1` })
                  .from(reviewFeedback)
                  .where(and(eq(reviewFeedback.invitationId, invitations.id), eq(reviewFeedback.orgId, org))),
              ),
            ),
          )
          .orderBy(asc(ended), asc(invitations.id))
          .limit(DASHBOARD_LIST_MAX),
      ])

      // One row per assessment and status; an assessment without invitations has one, of no status.
      const byAssessment = new Map<string, { id: string; title: string; counts: Record<InvitationStatus, number> }>()
      for (const row of counted) {
        let entry = byAssessment.get(row.id)
        if (!entry) {
          const counts = Object.fromEntries(INVITATION_STATUSES.map((s) => [s, 0])) as Record<InvitationStatus, number>
          entry = { id: row.id, title: row.title, counts }
          byAssessment.set(row.id, entry)
        }
        if (row.status) entry.counts[row.status] = row.n
      }

      return {
        now,
        windowHours: DASHBOARD_WINDOW_HOURS,
        assessments: [...byAssessment.values()],
        deadlines: upcoming.map(({ invitation, assessmentTitle }) => {
          const deadline = invitation.status === 'started' ? ('complete' as const) : ('start' as const)
          return {
            invitation,
            assessmentTitle,
            deadline,
            at: deadline === 'complete' ? invitation.completeDeadline! : invitation.startDeadline,
          }
        }),
        awaitingReview: unreviewed.map(({ invitation, assessmentTitle, finalSha }) => ({
          invitation,
          assessmentTitle,
          finalSha: finalSha!,
          endedAt: (invitation.submittedAt ?? invitation.expiredAt)!,
        })),
      }
    },
  }
}

export type DashboardService = ReturnType<typeof createDashboardService>
