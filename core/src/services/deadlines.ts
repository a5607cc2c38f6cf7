import { and, eq, inArray, lte } from 'drizzle-orm'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import { invitations } from '../db/schema/index.ts'
import type { Lifecycle } from './lifecycle.ts'

/**
 * The deadline sweeper records what deadlines did: it never decides access (the API, the
 * broker and the gateway check deadlines on every request). Each ending is one guarded
 * transition that enqueues its follow-up (final commit, archive, notice), so several
 * sweepers, or a sweeper racing a Submit, leave exactly one outcome.
 */
export function createDeadlineService({ db, clock, lifecycle }: { db: Db; clock: Clock; lifecycle: Lifecycle }) {
  return {
    async sweep() {
      const now = clock.now()
      const notStarted = await db
        .select({ id: invitations.id })
        .from(invitations)
        .where(and(inArray(invitations.status, ['sent', 'accepted']), lte(invitations.startDeadline, now)))
      const overdue = await db
        .select({ id: invitations.id })
        .from(invitations)
        .where(and(eq(invitations.status, 'started'), lte(invitations.completeDeadline, now)))
      let expired = 0
      for (const { id } of notStarted) {
        const ended = await lifecycle.end(id, 'expired', {
          from: ['sent', 'accepted'],
          actor: 'system',
          guard: lte(invitations.startDeadline, now),
        })
        if (ended) expired++
      }
      for (const { id } of overdue) {
        const ended = await lifecycle.end(id, 'expired', {
          from: ['started'],
          actor: 'system',
          guard: lte(invitations.completeDeadline, now),
        })
        if (ended) expired++
      }
      return { expired }
    },
  }
}

export type DeadlineService = ReturnType<typeof createDeadlineService>
