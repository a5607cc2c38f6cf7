import { and, asc, eq } from 'drizzle-orm'
import { type Actor, actorRef, REVIEW, requireRole } from '../actor.ts'
import type { DiffLimits, GitHost } from '../adapters/git-host.ts'
import { recordAudit } from '../audit.ts'
import type { Db } from '../db/client.ts'
import { candidateRepos, invitations, pushLedger, reviewComments, reviewFeedback } from '../db/schema/index.ts'
import { AppError, conflict, notFound } from '../errors.ts'

const KiB = 1024
const MiB = 1024 * KiB

/**
 * How much of a change the JSON diff shows as patches: enough for any change a person
 * reviews line by line, and little enough that a push of a few KiB that expands to
 * hundreds of MB (one blob behind many paths) costs a bounded answer. Every file is still
 * listed; its lines are counted unless that would read more than `scanBytes` of blobs, and
 * the totals say how many files went uncounted. The raw diff has the rest.
 */
export const DIFF_LIMITS: DiffLimits = {
  fileLines: 1_000,
  fileBytes: 256 * KiB,
  totalLines: 20_000,
  totalBytes: 2 * MiB,
  files: 1_000,
  scanBytes: 32 * MiB,
}
/** The raw diff streams; past this it ends with a line saying it was cut. */
export const RAW_DIFF_MAX_BYTES = 64 * MiB
/** The zip of a candidate's final commit streams; past this the download is aborted. */
export const ARCHIVE_MAX_BYTES = 512 * MiB

export function createReviewService({ db, gitHost }: { db: Db; gitHost: GitHost }) {
  async function repoOf(actor: Actor, id: string) {
    const [repo] = await db
      .select()
      .from(candidateRepos)
      .where(and(eq(candidateRepos.id, id), eq(candidateRepos.orgId, actor.orgId)))
    if (!repo) throw notFound('repo')
    // While the candidate works, compare against main as it is now.
    const head = repo.finalSha ?? (await gitHost.headOf(repo.repoFullName)) ?? repo.baseSha
    return {
      repo,
      head,
      inProgress: repo.finalSha === null,
      /** The repository and this comparison on the host's own pages (GitHub); null on the local host. */
      htmlUrl: repo.repoHtmlUrl,
      compareUrl: gitHost.remote ? gitHost.remote.compareUrl(repo.repoFullName, repo.baseSha, head) : null,
    }
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
      const range = await repoOf(actor, repoId)
      const { files } = await gitHost.diff(range.repo.repoFullName, range.repo.baseSha, range.head, DIFF_LIMITS)
      const sum = (list: typeof files) => ({
        files: list.length,
        additions: list.reduce((n, f) => n + (f.additions ?? 0), 0),
        deletions: list.reduce((n, f) => n + (f.deletions ?? 0), 0),
      })
      const omitted = files.filter((f) => f.patchOmitted !== null)
      return {
        ...range,
        files,
        /** Changed lines of the files that were counted: partial when `uncountedFiles` is not 0. */
        totals: sum(files),
        truncated: omitted.length > 0,
        /** What was left out: files listed without a patch, their counted lines, and files whose lines were not counted. */
        truncation: { ...sum(omitted), uncountedFiles: files.filter((f) => f.additions === null && !f.binary).length, limits: DIFF_LIMITS },
      }
    },

    /** The whole unified diff as a stream (bounded by RAW_DIFF_MAX_BYTES). */
    async rawDiff(actor: Actor, repoId: string) {
      const { repo, head } = await repoOf(actor, repoId)
      return gitHost.rawDiff(repo.repoFullName, repo.baseSha, head, RAW_DIFF_MAX_BYTES)
    },

    /**
     * The commits, and the pushes that brought them as the host reported them when they
     * arrived (GitHub's push webhooks, oldest first): commit dates are the candidate's to
     * set, the time a push reached the host is not.
     */
    async commits(actor: Actor, repoId: string) {
      const range = await repoOf(actor, repoId)
      const [commits, pushes] = await Promise.all([
        gitHost.commits(range.repo.repoFullName, range.repo.baseSha, range.head),
        db
          .select({
            receivedAt: pushLedger.receivedAt,
            ref: pushLedger.ref,
            before: pushLedger.beforeSha,
            after: pushLedger.afterSha,
            forced: pushLedger.forced,
            commitCount: pushLedger.commitCount,
          })
          .from(pushLedger)
          .where(and(eq(pushLedger.candidateRepoId, range.repo.id), eq(pushLedger.orgId, actor.orgId)))
          .orderBy(asc(pushLedger.receivedAt), asc(pushLedger.id)),
      ])
      return { ...range, commits, pushes }
    },

    /**
     * The candidate repository at its final commit as a zip, streamed, and the name to
     * save it under. Only once the work has ended: before that there is no final commit.
     */
    async archive(actor: Actor, invitationId: string) {
      const [row] = await db
        .select({ invitation: invitations, repo: candidateRepos })
        .from(invitations)
        .leftJoin(candidateRepos, eq(candidateRepos.invitationId, invitations.id))
        .where(and(eq(invitations.id, invitationId), eq(invitations.orgId, actor.orgId)))
      if (!row) throw notFound('invitation')
      const { repo } = row
      if (!repo?.finalSha) {
        throw conflict(
          'no_final_commit',
          repo
            ? 'the candidate is still working; the repository can be downloaded once it is submitted or the time is over'
            : 'the candidate never started: there is no repository to download',
        )
      }
      const stream = await gitHost.zipArchive(repo.repoFullName, repo.finalSha, ARCHIVE_MAX_BYTES)
      try {
        await recordAudit(db, {
          orgId: actor.orgId,
          kind: 'repo.downloaded',
          actor: actorRef(actor),
          target: repo.id,
          meta: { invitation_id: invitationId, sha: repo.finalSha },
        })
      } catch (err) {
        stream.destroy()
        throw err
      }
      return { stream, filename: `${repo.slug}-${repo.finalSha.slice(0, 7)}.zip` }
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
