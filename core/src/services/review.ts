import { pipeline, Transform } from 'node:stream'
import { and, asc, eq } from 'drizzle-orm'
import type { Logger } from 'pino'
import { type Actor, actorRef, REVIEW, requireRole } from '../actor.ts'
import type { Diff, DiffLimits, GitHost } from '../adapters/git-host.ts'
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
/**
 * Diffs kept in memory by repository and pair of commits: what git prints for two commits
 * never changes, and a submission's review page is opened again and again. Every git call
 * stops this process while it forks (tens of milliseconds for a process of this size, more
 * on a busy machine: the page's other requests wait meanwhile), so a diff asked for again
 * costs none. Bounded by the characters of its paths and patches; the least recently read go first.
 */
const DIFF_CACHE_BYTES = 32 * MiB
/** The raw diff streams; past this it ends with a line saying it was cut. */
export const RAW_DIFF_MAX_BYTES = 64 * MiB
/** The zip of a candidate's final commit streams; past this the download is aborted. */
export const ARCHIVE_MAX_BYTES = 512 * MiB

/**
 * Which submission is reviewed: by its repository's id, or by its invitation's (what the
 * review page has from its URL, so it need not read the invitation before the diff).
 */
export type ReviewedRepo = { repoId: string } | { invitationId: string }

/** Least recently read out first, by the characters each diff holds; a diff being made is shared by those asking meanwhile. */
function createDiffCache(maxBytes: number) {
  const entries = new Map<string, { diff: Promise<Diff>; bytes: number }>()
  let total = 0
  const sizeOf = (diff: Diff) => diff.files.reduce((n, f) => n + (f.patch?.length ?? 0) + f.path.length + f.oldPath.length + 128, 0)
  return async (key: string, compute: () => Promise<Diff>): Promise<Diff> => {
    const hit = entries.get(key)
    if (hit) {
      entries.delete(key)
      entries.set(key, hit)
      return hit.diff
    }
    const entry = { diff: compute(), bytes: 0 }
    entries.set(key, entry)
    let diff: Diff
    try {
      diff = await entry.diff
    } catch (err) {
      if (entries.get(key) === entry) entries.delete(key)
      throw err
    }
    if (entries.get(key) !== entry) return diff
    entry.bytes = sizeOf(diff)
    if (entry.bytes > maxBytes) entries.delete(key)
    else {
      total += entry.bytes
      for (const [oldest, e] of entries) {
        if (total <= maxBytes) break
        entries.delete(oldest)
        total -= e.bytes
      }
    }
    return diff
  }
}

export function createReviewService({ db, gitHost, logger }: { db: Db; gitHost: GitHost; logger: Logger }) {
  const cachedDiff = createDiffCache(DIFF_CACHE_BYTES)

  /** The invitation of this org and its repository, null until the candidate has started. */
  async function submissionOf(actor: Actor, invitationId: string) {
    const [row] = await db
      .select({ id: invitations.id, repo: candidateRepos })
      .from(invitations)
      .leftJoin(candidateRepos, eq(candidateRepos.invitationId, invitations.id))
      .where(and(eq(invitations.id, invitationId), eq(invitations.orgId, actor.orgId)))
    if (!row) throw notFound('invitation')
    return row.repo
  }

  async function repoOf(actor: Actor, key: ReviewedRepo) {
    if ('invitationId' in key) {
      const repo = await submissionOf(actor, key.invitationId)
      if (!repo) throw conflict('not_started', 'the candidate never started: there is no repository to review')
      return repo
    }
    const [repo] = await db
      .select()
      .from(candidateRepos)
      .where(and(eq(candidateRepos.id, key.repoId), eq(candidateRepos.orgId, actor.orgId)))
    if (!repo) throw notFound('repo')
    return repo
  }

  async function rangeOf(actor: Actor, key: ReviewedRepo) {
    const repo = await repoOf(actor, key)
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

  return {
    /** base_sha..final_sha, or ..main while the candidate is still working. */
    async diff(actor: Actor, key: ReviewedRepo) {
      const range = await rangeOf(actor, key)
      const { repoFullName, baseSha } = range.repo
      const { files } = await cachedDiff(`${repoFullName}\0${baseSha}\0${range.head}`, () => gitHost.diff(repoFullName, baseSha, range.head, DIFF_LIMITS))
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
    async rawDiff(actor: Actor, key: ReviewedRepo) {
      const { repo, head } = await rangeOf(actor, key)
      return gitHost.rawDiff(repo.repoFullName, repo.baseSha, head, RAW_DIFF_MAX_BYTES)
    },

    /**
     * The commits, and the pushes that brought them as the host reported them when they
     * arrived (GitHub's push webhooks, oldest first): commit dates are the candidate's to
     * set, the time a push reached the host is not.
     */
    async commits(actor: Actor, key: ReviewedRepo) {
      const range = await rangeOf(actor, key)
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
     * Each download that git started is on record with whether it was sent whole: the end
     * of the zip reaches the reader only once its record is written, and a download cut
     * short (the byte or time cap, git failing, the reader gone) is recorded as incomplete.
     */
    async archive(actor: Actor, invitationId: string) {
      const repo = await submissionOf(actor, invitationId)
      if (!repo?.finalSha) {
        throw conflict(
          'no_final_commit',
          repo
            ? 'the candidate is still working; the repository can be downloaded once it is submitted or the time is over'
            : 'the candidate never started: there is no repository to download',
        )
      }
      const sha = repo.finalSha
      const zip = await gitHost.zipArchive(repo.repoFullName, sha, ARCHIVE_MAX_BYTES)
      let recorded = false
      const record = (complete: boolean) => {
        recorded = true
        return recordAudit(db, {
          orgId: actor.orgId,
          kind: 'repo.downloaded',
          actor: actorRef(actor),
          target: repo.id,
          meta: { invitation_id: invitationId, sha, complete },
        })
      }
      const stream = new Transform({
        transform: (chunk: Buffer, _encoding, callback) => callback(null, chunk),
        flush: (callback) => void record(true).then(() => callback(), callback),
      })
      pipeline(zip, stream, (err) => {
        if (!err || recorded) return
        record(false).catch((failure: unknown) => logger.error({ err: failure, invitation_id: invitationId }, 'an incomplete download was not recorded'))
      })
      return { stream, filename: `${repo.slug}-${sha.slice(0, 7)}.zip` }
    },

    async comment(actor: Actor, invitationId: string, input: { path?: string; line?: number; body: string }) {
      requireRole(actor, REVIEW)
      await submissionOf(actor, invitationId)
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
      await submissionOf(actor, invitationId)
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
