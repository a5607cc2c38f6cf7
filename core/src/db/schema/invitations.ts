import { relations, sql } from 'drizzle-orm'
import { bigint, boolean, check, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, id, ts } from './columns.ts'
import { orgRef, users } from './orgs.ts'
import { assessments } from './seeds.ts'

export const INVITATION_STATUSES = ['sent', 'accepted', 'started', 'submitted', 'expired', 'revoked'] as const
export type InvitationStatus = (typeof INVITATION_STATUSES)[number]

export const invitations = pgTable(
  'invitations',
  {
    id: id(),
    orgId: orgRef(),
    assessmentId: uuid('assessment_id')
      .notNull()
      .references(() => assessments.id, { onDelete: 'cascade' }),
    candidateEmail: text('candidate_email').notNull(),
    candidateName: text('candidate_name'),
    status: text('status', { enum: INVITATION_STATUSES }).notNull().default('sent'),
    startDeadline: ts('start_deadline').notNull(),
    completeDeadline: ts('complete_deadline'),
    startLinkTokenHash: text('start_link_token_hash').notNull(),
    sentAt: ts('sent_at').notNull().defaultNow(),
    acceptedAt: ts('accepted_at'),
    startedAt: ts('started_at'),
    submittedAt: ts('submitted_at'),
    expiredAt: ts('expired_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [
    uniqueIndex('invitations_start_link_token_hash_idx').on(t.startLinkTokenHash),
    // One live invitation per candidate and assessment; a revoked or expired one may be re-sent.
    uniqueIndex('invitations_live_candidate_idx')
      .on(t.assessmentId, sql`lower(${t.candidateEmail})`)
      .where(sql`${t.status} not in ('revoked', 'expired')`),
    index('invitations_org_assessment_idx').on(t.orgId, t.assessmentId, t.sentAt),
    index('invitations_deadlines_idx').on(t.status, t.startDeadline),
    check(
      'invitations_status_check',
      sql`${t.status} in ('sent','accepted','started','submitted','expired','revoked')`,
    ),
  ],
)

const invitationRef = () =>
  uuid('invitation_id')
    .notNull()
    .references(() => invitations.id, { onDelete: 'cascade' })

export const candidateRepos = pgTable(
  'candidate_repos',
  {
    id: id(),
    orgId: orgRef(),
    invitationId: invitationRef(),
    slug: text('slug').notNull(),
    seedShaPinned: text('seed_sha_pinned').notNull(),
    /** Root commit of the candidate repo; its tree equals the seed's tree at seed_sha_pinned. */
    baseSha: text('base_sha').notNull(),
    finalSha: text('final_sha'),
    repoFullName: text('repo_full_name').notNull(),
    repoHtmlUrl: text('repo_html_url'),
    githubRepoId: bigint('github_repo_id', { mode: 'number' }),
    active: boolean('active').notNull().default(true),
    archived: boolean('archived').notNull().default(false),
    createdAt: createdAt(),
    archivedAt: ts('archived_at'),
  },
  (t) => [
    uniqueIndex('candidate_repos_invitation_idx').on(t.invitationId),
    uniqueIndex('candidate_repos_slug_idx').on(t.slug),
    uniqueIndex('candidate_repos_full_name_idx').on(t.repoFullName),
    // Webhooks find a candidate repository by GitHub's id: one row per id, found by index.
    uniqueIndex('candidate_repos_github_repo_id_idx').on(t.githubRepoId).where(sql`${t.githubRepoId} is not null`),
  ],
)

export const ACCESS_SCOPES = ['clone', 'push', 'clone+push'] as const

export const accessTokens = pgTable(
  'access_tokens',
  {
    id: id(),
    orgId: orgRef(),
    invitationId: invitationRef(),
    candidateRepoId: uuid('candidate_repo_id')
      .notNull()
      .references(() => candidateRepos.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    scope: text('scope', { enum: ACCESS_SCOPES }).notNull().default('clone+push'),
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at'),
    createdAt: createdAt(),
    lastUsedAt: ts('last_used_at'),
  },
  (t) => [
    uniqueIndex('access_tokens_token_hash_idx').on(t.tokenHash),
    index('access_tokens_invitation_idx').on(t.invitationId),
    check('access_tokens_scope_check', sql`${t.scope} in ('clone','push','clone+push')`),
  ],
)

export const submissions = pgTable(
  'submissions',
  {
    id: id(),
    orgId: orgRef(),
    invitationId: invitationRef(),
    finalSha: text('final_sha').notNull(),
    repoHtmlUrl: text('repo_html_url'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('submissions_invitation_idx').on(t.invitationId)],
)

export const reviewComments = pgTable(
  'review_comments',
  {
    id: id(),
    orgId: orgRef(),
    invitationId: invitationRef(),
    path: text('path'),
    line: integer('line'),
    body: text('body').notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [index('review_comments_invitation_idx').on(t.invitationId, t.createdAt)],
)

export const reviewFeedback = pgTable(
  'review_feedback',
  {
    id: id(),
    orgId: orgRef(),
    invitationId: invitationRef(),
    summary: text('summary'),
    rating: integer('rating'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [
    index('review_feedback_invitation_idx').on(t.invitationId, t.createdAt),
    check('review_feedback_rating_check', sql`${t.rating} between 1 and 5`),
  ],
)

export const invitationsRelations = relations(invitations, ({ one, many }) => ({
  assessment: one(assessments, { fields: [invitations.assessmentId], references: [assessments.id] }),
  repo: one(candidateRepos, { fields: [invitations.id], references: [candidateRepos.invitationId] }),
  comments: many(reviewComments),
  feedback: many(reviewFeedback),
}))
export const reviewCommentsRelations = relations(reviewComments, ({ one }) => ({
  invitation: one(invitations, { fields: [reviewComments.invitationId], references: [invitations.id] }),
}))
export const reviewFeedbackRelations = relations(reviewFeedback, ({ one }) => ({
  invitation: one(invitations, { fields: [reviewFeedback.invitationId], references: [invitations.id] }),
}))
