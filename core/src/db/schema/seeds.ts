import { relations, sql } from 'drizzle-orm'
import { bigint, boolean, check, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt, id, ts } from './columns.ts'
import { orgRef, users } from './orgs.ts'

export const seeds = pgTable(
  'seeds',
  {
    id: id(),
    orgId: orgRef(),
    /** As given, with any credentials removed: credentials are used for one fetch and never stored. */
    sourceRepoUrl: text('source_repo_url').notNull(),
    /** `seeds/<id>` on the local git host, `org/name` on GitHub. */
    seedRepoFullName: text('seed_repo_full_name').notNull(),
    defaultBranch: text('default_branch').notNull().default('main'),
    /** The source's default branch that the seed's `main` follows. */
    sourceDefaultBranch: text('source_default_branch').notNull(),
    isTemplate: boolean('is_template').notNull().default(true),
    latestMainSha: text('latest_main_sha'),
    syncedAt: ts('synced_at'),
    createdAt: createdAt(),
  },
  (t) => [index('seeds_org_idx').on(t.orgId, t.createdAt)],
)

export const assessments = pgTable(
  'assessments',
  {
    id: id(),
    orgId: orgRef(),
    seedId: uuid('seed_id')
      .notNull()
      .references(() => seeds.id, { onDelete: 'restrict' }),
    title: text('title').notNull(),
    description: text('description'),
    /** Markdown, rendered with raw HTML disabled. */
    instructions: text('instructions'),
    candidateEmailSubject: text('candidate_email_subject'),
    candidateEmailBody: text('candidate_email_body'),
    /** ISO 8601 durations are accepted at the edge; fixed lengths in seconds are stored. */
    timeToStartSeconds: integer('time_to_start_seconds').notNull(),
    timeToCompleteSeconds: integer('time_to_complete_seconds').notNull(),
    /** git's `receive.maxInputSize` for one push; null takes the server's default. */
    maxPushBytes: bigint('max_push_bytes', { mode: 'number' }),
    /** Whether candidates may change `.github/workflows` (on GitHub this needs the `workflows` permission). */
    allowWorkflowChanges: boolean('allow_workflow_changes').notNull().default(false),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('assessments_org_idx').on(t.orgId, t.createdAt),
    check('assessments_durations_positive', sql`${t.timeToStartSeconds} > 0 and ${t.timeToCompleteSeconds} > 0`),
  ],
)

export const assessmentsRelations = relations(assessments, ({ one }) => ({
  seed: one(seeds, { fields: [assessments.seedId], references: [seeds.id] }),
}))
