import { and, eq, inArray, isNull, type SQL } from 'drizzle-orm'
import type { GitHost } from '../adapters/git-host.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import { accessTokens, candidateRepos, type InvitationStatus, invitations, submissions } from '../db/schema/index.ts'
import { enqueue } from '../jobs/outbox.ts'
import type { AccessService } from './access.ts'

type Invitation = typeof invitations.$inferSelect
export type Ending = 'submitted' | 'expired' | 'revoked'

const ENDED_AT = { submitted: 'submittedAt', expired: 'expiredAt', revoked: 'revokedAt' } as const

/**
 * The invitation state machine (DESIGN section 4). Every transition is one guarded UPDATE,
 * so double clicks, retries and races (Submit against the sweeper) have exactly one winner;
 * what an ending implies (tokens revoked, repository archived) commits with it.
 */
export function createLifecycle({ db, gitHost, clock, access }: { db: Db; gitHost: GitHost; clock: Clock; access: AccessService }) {
  return {
    /**
     * Moves an invitation from one of `from` to the state in `set`, if `guard` holds.
     * Returns the row as the winner left it, and whether this call was the winner.
     */
    async transition(
      id: string,
      from: InvitationStatus[],
      set: Partial<typeof invitations.$inferInsert> & { status: InvitationStatus },
      options: { actor: string; guard?: SQL },
    ): Promise<{ invitation: Invitation; won: boolean }> {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(invitations)
          .set(set)
          .where(and(eq(invitations.id, id), inArray(invitations.status, from), options.guard))
          .returning()
        if (!row) return { invitation: (await tx.select().from(invitations).where(eq(invitations.id, id)))[0]!, won: false }
        await recordAudit(tx, { orgId: row.orgId, kind: `invitation.${row.status}`, actor: options.actor, target: id })
        return { invitation: row, won: true }
      })
    },

    /**
     * Ends an invitation: its access tokens are revoked and its repository marked archived
     * in the same transaction, which also enqueues the job that records the final commit
     * and closes the repository on the git host. Undefined when another caller ended it
     * first or `guard` failed.
     */
    async end(
      id: string,
      ending: Ending,
      options: { from: InvitationStatus[]; actor: string; orgId?: string; guard?: SQL },
    ): Promise<Invitation | undefined> {
      const now = clock.now()
      const ended = await db.transaction(async (tx) => {
        const [row] = await tx
          .update(invitations)
          .set({ status: ending, [ENDED_AT[ending]]: now })
          .where(
            and(
              eq(invitations.id, id),
              inArray(invitations.status, options.from),
              options.orgId ? eq(invitations.orgId, options.orgId) : undefined,
              options.guard,
            ),
          )
          .returning()
        if (!row) return undefined
        const revoked = await tx
          .update(accessTokens)
          .set({ revokedAt: now })
          .where(and(eq(accessTokens.invitationId, id), isNull(accessTokens.revokedAt)))
          .returning({ id: accessTokens.id })
        const [repo] = await tx
          .update(candidateRepos)
          .set({ archived: true, active: false, archivedAt: now })
          .where(and(eq(candidateRepos.invitationId, id), eq(candidateRepos.archived, false)))
          .returning()
        await recordAudit(tx, { orgId: row.orgId, kind: `invitation.${ending}`, actor: options.actor, target: id })
        if (revoked.length > 0) {
          await recordAudit(tx, {
            orgId: row.orgId,
            kind: 'access_token.revoked',
            actor: 'system',
            target: id,
            meta: { access_token_ids: revoked.map((r) => r.id), reason: ending },
          })
        }
        if (repo) {
          await recordAudit(tx, { orgId: row.orgId, kind: 'repo.archived', actor: 'system', target: repo.id, meta: { slug: repo.slug } })
          await enqueue(tx, [{ kind: 'repo.finalize', orgId: row.orgId, payload: { invitationId: id, ending } }])
        }
        return row
      })
      if (ended) access.forget(id)
      return ended
    },

    /**
     * Records where `main` stood when the invitation ended, once; and for a submit, the
     * submission. Safe to run again and from several places (Submit, the sweeper).
     */
    async captureFinal(id: string): Promise<string | null> {
      const [row] = await db
        .select({ invitation: invitations, repo: candidateRepos })
        .from(invitations)
        .innerJoin(candidateRepos, eq(candidateRepos.invitationId, invitations.id))
        .where(eq(invitations.id, id))
      if (!row || row.invitation.status === 'started') return null
      if (row.repo.finalSha) return row.repo.finalSha
      const finalSha = (await gitHost.headOf(row.repo.repoFullName)) ?? row.repo.baseSha
      return db.transaction(async (tx) => {
        const [captured] = await tx
          .update(candidateRepos)
          .set({ finalSha })
          .where(and(eq(candidateRepos.id, row.repo.id), isNull(candidateRepos.finalSha)))
          .returning()
        if (!captured) {
          return (await tx.select().from(candidateRepos).where(eq(candidateRepos.id, row.repo.id)))[0]!.finalSha
        }
        if (row.invitation.status === 'submitted') {
          await tx
            .insert(submissions)
            .values({ orgId: row.invitation.orgId, invitationId: id, finalSha, repoHtmlUrl: row.repo.repoHtmlUrl })
            .onConflictDoNothing()
        }
        await recordAudit(tx, {
          orgId: row.invitation.orgId,
          kind: 'repo.final_sha_recorded',
          actor: 'system',
          target: row.repo.id,
          meta: { final_sha: finalSha, status: row.invitation.status },
        })
        return finalSha
      })
    },
  }
}

export type Lifecycle = ReturnType<typeof createLifecycle>
