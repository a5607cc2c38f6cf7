import { and, eq } from 'drizzle-orm'
import { type Actor, actorRef, REVIEW, requireRole } from '../actor.ts'
import type { GitHost } from '../adapters/git-host.ts'
import { recordAudit } from '../audit.ts'
import type { Db } from '../db/client.ts'
import { candidateRepos, invitations, reviewComments, reviewFeedback } from '../db/schema/index.ts'
import { AppError, notFound } from '../errors.ts'

/** Diffs cost git time and bytes on the wire; past this the JSON leaves patches out. */
const MAX_PATCH_BYTES = 5 * 1024 * 1024

export function createReviewService({ db, gitHost }: { db: Db; gitHost: GitHost }) {
  async function repoOf(actor: Actor, id: string) {
    const [repo] = await db
      .select()
      .from(candidateRepos)
      .where(and(eq(candidateRepos.id, id), eq(candidateRepos.orgId, actor.orgId)))
    if (!repo) throw notFound('repo')
    // While the candidate works, compare against main as it is now.
    const head = repo.finalSha ?? (await gitHost.headOf(repo.repoFullName)) ?? repo.baseSha
    return { repo, head, inProgress: repo.finalSha === null }
  }

  async function invitationOf(actor: Actor, id: string) {
    const [row] = await db
      .select({ id: invitations.id })
      .from(invitations)
      .where(and(eq(invitations.id, id), eq(invitations.orgId, actor.orgId)))
    if (!row) throw notFound('invitation')
  }

  return {
    /** base_sha..final_sha, or ..main while the candidate is still working. */
    async diff(actor: Actor, repoId: string) {
      const { repo, head, inProgress } = await repoOf(actor, repoId)
      const diff = await gitHost.diff(repo.repoFullName, repo.baseSha, head)
      const truncated = Buffer.byteLength(diff.patch) > MAX_PATCH_BYTES
      return { repo, head, inProgress, truncated, ...diff }
    },

    async commits(actor: Actor, repoId: string) {
      const { repo, head, inProgress } = await repoOf(actor, repoId)
      return { repo, head, inProgress, commits: await gitHost.commits(repo.repoFullName, repo.baseSha, head) }
    },

    async comment(actor: Actor, invitationId: string, input: { path?: string; line?: number; body: string }) {
      requireRole(actor, REVIEW)
      await invitationOf(actor, invitationId)
      if (input.line !== undefined && input.path === undefined) {
        throw new AppError(422, 'line_without_path', 'a comment on a line needs the path of its file')
      }
      return db.transaction(async (tx) => {
        const [row] = await tx
          .insert(reviewComments)
          .values({ ...input, orgId: actor.orgId, invitationId, createdBy: actor.userId })
          .returning()
        await recordAudit(tx, { orgId: actor.orgId, kind: 'review.commented', actor: actorRef(actor), target: invitationId })
        return row!
      })
    },

    async feedback(actor: Actor, invitationId: string, input: { summary?: string; rating: number }) {
      requireRole(actor, REVIEW)
      await invitationOf(actor, invitationId)
      return db.transaction(async (tx) => {
        const [row] = await tx
          .insert(reviewFeedback)
          .values({ ...input, orgId: actor.orgId, invitationId, createdBy: actor.userId })
          .returning()
        await recordAudit(tx, {
          orgId: actor.orgId,
          kind: 'review.feedback',
          actor: actorRef(actor),
          target: invitationId,
          meta: { rating: input.rating },
        })
        return row!
      })
    },
  }
}

export type ReviewService = ReturnType<typeof createReviewService>
