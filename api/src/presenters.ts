import { formatDuration, type schema, type Services } from '@takehome/core'
import { z } from 'zod'

/**
 * Response schemas are allow-lists (what is not here is not sent) and the presenters
 * map rows to them, in the API's snake_case.
 */
const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null)
const when = z.string().nullable()

export const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
    request_id: z.string().optional(),
  }),
})

export const userSchema = z.object({ id: z.string(), email: z.string(), name: z.string().nullable(), created_at: z.string() })
export const orgSchema = z.object({ id: z.string(), name: z.string(), created_at: z.string() })
export const sessionSchema = z.object({ user: userSchema, org: orgSchema, role: z.string() })

export const presentUser = (u: typeof schema.users.$inferSelect) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  created_at: u.createdAt.toISOString(),
})
export const presentOrg = (o: typeof schema.orgs.$inferSelect) => ({ id: o.id, name: o.name, created_at: o.createdAt.toISOString() })
export const presentSession = (s: { user: typeof schema.users.$inferSelect; org: typeof schema.orgs.$inferSelect; role: string }) => ({
  user: presentUser(s.user),
  org: presentOrg(s.org),
  role: s.role,
})

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  hint: z.string(),
  created_at: z.string(),
  last_used_at: when,
  revoked_at: when,
})
export const presentApiKey = (k: typeof schema.apiKeys.$inferSelect) => ({
  id: k.id,
  name: k.name,
  hint: k.hint,
  created_at: k.createdAt.toISOString(),
  last_used_at: iso(k.lastUsedAt),
  revoked_at: iso(k.revokedAt),
})

export const memberSchema = z.object({ user: userSchema, role: z.string(), joined_at: z.string() })

/** A member invitation as the inviter is answered: the same whether or not the address has an account. */
export const newMemberInvitationSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: z.string(),
  status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
  expires_at: z.string(),
})
export const memberInvitationSchema = newMemberInvitationSchema.extend({ created_at: z.string() })
type MemberInvitationRow = typeof schema.memberInvitations.$inferSelect & { status: z.infer<typeof memberInvitationSchema>['status'] }
export const presentNewMemberInvitation = (i: MemberInvitationRow) => ({
  id: i.id,
  email: i.email,
  role: i.role,
  status: i.status,
  expires_at: i.expiresAt.toISOString(),
})
export const presentMemberInvitation = (i: MemberInvitationRow) => ({ ...presentNewMemberInvitation(i), created_at: i.createdAt.toISOString() })

export const seedSchema = z.object({
  id: z.string(),
  source_url: z.string(),
  default_branch: z.string(),
  source_default_branch: z.string(),
  latest_main_sha: z.string().nullable(),
  synced_at: when,
  created_at: z.string(),
})
export const presentSeed = (s: typeof schema.seeds.$inferSelect) => ({
  id: s.id,
  source_url: s.sourceRepoUrl,
  default_branch: s.defaultBranch,
  source_default_branch: s.sourceDefaultBranch,
  latest_main_sha: s.latestMainSha,
  synced_at: iso(s.syncedAt),
  created_at: s.createdAt.toISOString(),
})

export const assessmentSchema = z.object({
  id: z.string(),
  seed_id: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  instructions: z.string().nullable(),
  candidate_email_subject: z.string().nullable(),
  candidate_email_body: z.string().nullable(),
  time_to_start: z.string(),
  time_to_complete: z.string(),
  /** null: the server's default (PUSH_DEFAULT_MAX_BYTES). */
  max_push_bytes: z.number().nullable(),
  /** Whether pushes may change `.github/workflows`; GitHub refuses them otherwise. */
  allow_workflow_changes: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
})
export const presentAssessment = (a: typeof schema.assessments.$inferSelect) => ({
  id: a.id,
  seed_id: a.seedId,
  title: a.title,
  description: a.description,
  instructions: a.instructions,
  candidate_email_subject: a.candidateEmailSubject,
  candidate_email_body: a.candidateEmailBody,
  time_to_start: formatDuration(a.timeToStartSeconds),
  time_to_complete: formatDuration(a.timeToCompleteSeconds),
  max_push_bytes: a.maxPushBytes,
  allow_workflow_changes: a.allowWorkflowChanges,
  created_at: a.createdAt.toISOString(),
  updated_at: a.updatedAt.toISOString(),
})

export const invitationSchema = z.object({
  id: z.string(),
  assessment_id: z.string(),
  candidate_email: z.string(),
  candidate_name: z.string().nullable(),
  status: z.string(),
  start_deadline: z.string(),
  complete_deadline: when,
  sent_at: z.string(),
  accepted_at: when,
  started_at: when,
  submitted_at: when,
  expired_at: when,
  revoked_at: when,
})
export const presentInvitation = (i: typeof schema.invitations.$inferSelect) => ({
  id: i.id,
  assessment_id: i.assessmentId,
  candidate_email: i.candidateEmail,
  candidate_name: i.candidateName,
  status: i.status,
  start_deadline: i.startDeadline.toISOString(),
  complete_deadline: iso(i.completeDeadline),
  sent_at: i.sentAt.toISOString(),
  accepted_at: iso(i.acceptedAt),
  started_at: iso(i.startedAt),
  submitted_at: iso(i.submittedAt),
  expired_at: iso(i.expiredAt),
  revoked_at: iso(i.revokedAt),
})

const repoSchema = z.object({
  id: z.string(),
  slug: z.string(),
  html_url: z.string().nullable().describe("the repository's page on GitHub (GitHub App mode); null on the local git host"),
  seed_sha_pinned: z.string(),
  base_sha: z.string(),
  final_sha: z.string().nullable(),
  archived: z.boolean(),
  created_at: z.string(),
  archived_at: when,
})
export const commentSchema = z.object({
  id: z.string(),
  path: z.string().nullable(),
  line: z.number().nullable(),
  body: z.string(),
  created_by: z.string().nullable(),
  created_at: z.string(),
})
export const feedbackSchema = z.object({
  id: z.string(),
  summary: z.string().nullable(),
  rating: z.number().nullable(),
  created_by: z.string().nullable(),
  created_at: z.string(),
})
export const timeTakenSchema = z.number().nullable().describe('from Start to submit, expiry or revoke; null while not started or still working')
export const invitationDetailSchema = invitationSchema.extend({
  time_taken_seconds: timeTakenSchema,
  repo: repoSchema.nullable(),
  comments: z.array(commentSchema),
  feedback: z.array(feedbackSchema),
})
type InvitationDetail = typeof schema.invitations.$inferSelect & {
  timeTakenSeconds: number | null
  repo: typeof schema.candidateRepos.$inferSelect | null
  comments: Array<typeof schema.reviewComments.$inferSelect>
  feedback: Array<typeof schema.reviewFeedback.$inferSelect>
}
export const presentInvitationDetail = (d: InvitationDetail) => ({
  ...presentInvitation(d),
  time_taken_seconds: d.timeTakenSeconds,
  repo: d.repo && {
    id: d.repo.id,
    slug: d.repo.slug,
    html_url: d.repo.repoHtmlUrl,
    seed_sha_pinned: d.repo.seedShaPinned,
    base_sha: d.repo.baseSha,
    final_sha: d.repo.finalSha,
    archived: d.repo.archived,
    created_at: d.repo.createdAt.toISOString(),
    archived_at: iso(d.repo.archivedAt),
  },
  comments: d.comments.map(presentComment),
  feedback: d.feedback.map(presentFeedback),
})

export const presentComment = (c: typeof schema.reviewComments.$inferSelect) => ({
  id: c.id,
  path: c.path,
  line: c.line,
  body: c.body,
  created_by: c.createdBy,
  created_at: c.createdAt.toISOString(),
})

export const presentFeedback = (f: typeof schema.reviewFeedback.$inferSelect) => ({
  id: f.id,
  summary: f.summary,
  rating: f.rating,
  created_by: f.createdBy,
  created_at: f.createdAt.toISOString(),
})

export const mailMessageSchema = z.object({
  id: z.string(),
  kind: z.string(),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  html: z.string(),
  created_at: z.string(),
})
export const presentMailMessage = (m: typeof schema.mailboxMessages.$inferSelect) => ({
  id: m.id,
  kind: m.kind,
  to: m.to,
  subject: m.subject,
  text: m.text,
  html: m.html,
  created_at: m.createdAt.toISOString(),
})

export const emailTemplateSchema = z.object({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  subject: z.string(),
  body: z.string(),
  is_default: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
})
export const presentEmailTemplate = (t: typeof schema.emailTemplates.$inferSelect) => ({
  id: t.id,
  kind: t.kind,
  name: t.key,
  subject: t.subject,
  body: t.body,
  is_default: t.isDefault,
  created_at: t.createdAt.toISOString(),
  updated_at: t.updatedAt.toISOString(),
})

export const jobSchema = z.object({
  id: z.string(),
  kind: z.string(),
  payload: z.record(z.string(), z.unknown()),
  attempts: z.number(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  failed_at: z.string(),
})

export const presentJob = (j: typeof schema.outbox.$inferSelect) => ({
  id: j.id,
  kind: j.kind,
  payload: j.payload,
  attempts: j.attempts,
  last_error: j.lastError,
  created_at: j.createdAt.toISOString(),
  failed_at: j.updatedAt.toISOString(),
})

export const reviewedRange = {
  repo_id: z.string(),
  base_sha: z.string(),
  head_sha: z.string(),
  in_progress: z.boolean().describe('true while the candidate works: head is main as it is now'),
  html_url: z.string().nullable().describe("the repository's page on GitHub (GitHub App mode); null on the local git host"),
  compare_url: z.string().nullable().describe('base_sha...head_sha on GitHub (GitHub App mode); null on the local git host'),
}
type Range = Pick<Diff, 'repo' | 'head' | 'inProgress' | 'htmlUrl' | 'compareUrl'>
const presentRange = (r: Range) => ({
  repo_id: r.repo.id,
  base_sha: r.repo.baseSha,
  head_sha: r.head,
  in_progress: r.inProgress,
  html_url: r.htmlUrl,
  compare_url: r.compareUrl,
})
type Diff = Awaited<ReturnType<Services['review']['diff']>>
type Commits = Awaited<ReturnType<Services['review']['commits']>>

export const commitsSchema = z.object({
  ...reviewedRange,
  commits: z.array(
    z.object({
      sha: z.string(),
      message: z.string(),
      author_name: z.string(),
      author_email: z.string(),
      authored_at: z.string().describe("the commit's own date: the candidate's to set"),
    }),
  ),
  pushes: z
    .array(
      z.object({
        received_at: z.string().describe('when GitHub told us of the push: when the work actually arrived'),
        ref: z.string(),
        before: z.string(),
        after: z.string(),
        forced: z.boolean(),
        commit_count: z.number().describe('commits GitHub listed for the push (it lists at most 2048)'),
      }),
    )
    .describe("GitHub App mode: the repository's pushes as GitHub's push webhooks reported them, oldest first; empty on the local git host"),
})

export const presentCommits = (log: Commits): z.infer<typeof commitsSchema> => ({
  ...presentRange(log),
  commits: log.commits.map((c) => ({
    sha: c.sha,
    message: c.message,
    author_name: c.authorName,
    author_email: c.authorEmail,
    authored_at: c.authoredAt.toISOString(),
  })),
  pushes: log.pushes.map((p) => ({
    received_at: p.receivedAt.toISOString(),
    ref: p.ref,
    before: p.before,
    after: p.after,
    forced: p.forced,
    commit_count: p.commitCount,
  })),
})

export const diffSchema = z.object({
  ...reviewedRange,
  truncated: z.boolean().describe('true when some patches were left out; `truncation` says how much'),
  truncation: z.object({
    files: z.number().describe('files listed without a patch'),
    additions: z.number().describe('counted lines of those files'),
    deletions: z.number(),
    uncounted_files: z.number().describe('files whose lines were not counted (reading them would pass the scan limit): `totals` leaves them out'),
    limits: z.object({ file_lines: z.number(), file_bytes: z.number(), total_lines: z.number(), total_bytes: z.number(), files: z.number() }),
  }),
  totals: z.object({ files: z.number(), additions: z.number().describe('of the counted files'), deletions: z.number() }),
  files: z.array(
    z.object({
      path: z.string(),
      old_path: z.string(),
      status: z.enum(['added', 'deleted', 'modified', 'renamed']),
      old_mode: z.string().nullable().describe('100644, 100755, 120000 (symlink), 160000 (submodule); null when added'),
      new_mode: z.string().nullable().describe('null when deleted'),
      additions: z.number().nullable().describe('null for a binary file, or one not counted (then patch_truncated is true)'),
      deletions: z.number().nullable(),
      binary: z.boolean(),
      patch: z.string().nullable(),
      patch_truncated: z.boolean(),
      patch_truncated_reason: z
        .enum(['file_too_large', 'diff_too_large', 'path_too_long', 'patch_unavailable'])
        .nullable()
        .describe(
          'file_too_large: this file alone is over the per-file limit; diff_too_large: the whole diff reached its limit before this file; ' +
            'path_too_long: a path over 4096 bytes; patch_unavailable: git gave no patch that could be told to be this file’s (a name that is not UTF-8)',
        ),
    }),
  ),
})

export const presentDiff = (diff: Diff): z.infer<typeof diffSchema> => {
  const { limits } = diff.truncation
  return {
    ...presentRange(diff),
    truncated: diff.truncated,
    truncation: {
      files: diff.truncation.files,
      additions: diff.truncation.additions,
      deletions: diff.truncation.deletions,
      uncounted_files: diff.truncation.uncountedFiles,
      limits: { file_lines: limits.fileLines, file_bytes: limits.fileBytes, total_lines: limits.totalLines, total_bytes: limits.totalBytes, files: limits.files },
    },
    totals: diff.totals,
    files: diff.files.map((f) => ({
      path: f.path,
      old_path: f.oldPath,
      status: f.status,
      old_mode: f.oldMode,
      new_mode: f.newMode,
      additions: f.additions,
      deletions: f.deletions,
      binary: f.binary,
      patch: f.patch,
      patch_truncated: f.patchOmitted !== null,
      patch_truncated_reason: f.patchOmitted,
    })),
  }
}
