import { and, eq, inArray, isNull, lte } from 'drizzle-orm'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import { candidateRepos, invitations } from '../db/schema/index.ts'
import type { Lifecycle } from './lifecycle.ts'

/**
 * The deadline sweeper records what deadlines did: it never decides access (the API, the
 * broker and the gateway check deadlines on every request). Each step is idempotent, so
 * several sweepers, or a sweeper racing a Submit, leave exactly one outcome.
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
      // Ended with no final commit recorded: just ended above, or a capture cut short by a crash.
      const uncaptured = await db
        .select({ id: invitations.id })
        .from(invitations)
        .innerJoin(candidateRepos, eq(candidateRepos.invitationId, invitations.id))
        .where(and(inArray(invitations.status, ['submitted', 'expired', 'revoked']), isNull(candidateRepos.finalSha)))
      for (const { id } of uncaptured) await lifecycle.captureFinal(id)
      return { expired, captured: uncaptured.length }
    },
  }
}

export type DeadlineService = ReturnType<typeof createDeadlineService>
