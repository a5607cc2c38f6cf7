import { and, eq, gt, inArray, sql } from 'drizzle-orm'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import { invitations } from '../db/schema/index.ts'
import { enqueue } from '../jobs/outbox.ts'

export interface ReminderOptions {
  db: Db
  clock: Clock
  /** Hours before the start deadline to remind a candidate who has not started; 0: never. */
  hoursBeforeStart: number
  /** Hours before the complete deadline to remind a candidate who has not submitted; 0: never. */
  hoursBeforeComplete: number
}

/**
 * Finds invitations whose reminder is due and enqueues one email job each. The job key
 * makes each reminder exist once, however many schedulers or replicas scan.
 */
export function createReminderService({ db, clock, hoursBeforeStart, hoursBeforeComplete }: ReminderOptions) {
  return {
    async scan() {
      const now = clock.now()
      const at = sql`${now.toISOString()}::timestamptz`
      const found: Array<{ id: string; orgId: string; deadline: 'start' | 'complete' }> = []
      if (hoursBeforeStart > 0) {
        const window = sql`${invitations.startDeadline} - make_interval(hours => ${hoursBeforeStart})`
        const rows = await db
          .select({ id: invitations.id, orgId: invitations.orgId })
          .from(invitations)
          .where(
            and(
              inArray(invitations.status, ['sent', 'accepted']),
              gt(invitations.startDeadline, now),
              sql`${window} <= ${at}`,
              // Invited inside the window already (a short time to start): the invite is reminder enough.
              sql`${invitations.sentAt} < ${window}`,
            ),
          )
        found.push(...rows.map((r) => ({ ...r, deadline: 'start' as const })))
      }
      if (hoursBeforeComplete > 0) {
        const window = sql`${invitations.completeDeadline} - make_interval(hours => ${hoursBeforeComplete})`
        const rows = await db
          .select({ id: invitations.id, orgId: invitations.orgId })
          .from(invitations)
          .where(and(
              eq(invitations.status, 'started'),
              gt(invitations.completeDeadline, now),
              sql`${window} <= ${at}`,
              sql`${invitations.startedAt} < ${window}`,
            ),)
        found.push(...rows.map((r) => ({ ...r, deadline: 'complete' as const })))
      }
      await enqueue(
        db,
        found.map(({ id, orgId, deadline }) => ({
          kind: 'email.reminder' as const,
          orgId,
          payload: { invitationId: id, deadline },
          key: `reminder:${deadline}:${id}`,
        })),
      )
      return { due: found.length }
    },
  }
}

export type ReminderService = ReturnType<typeof createReminderService>
