import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, id, ts } from './columns.ts'
import { candidateRepos } from './invitations.ts'
import { orgRef } from './orgs.ts'

/** The GitHub App's installations, as its `installation` webhooks and start-up lookup last saw them. */
export const githubInstallations = pgTable('github_installations', {
  /** GitHub's installation id. */
  id: bigint('id', { mode: 'number' }).primaryKey(),
  accountLogin: text('account_login').notNull(),
  /** What the installation granted, e.g. `{ "contents": "write", "administration": "write" }`. */
  permissions: jsonb('permissions').$type<Record<string, string>>().notNull().default({}),
  events: jsonb('events').$type<string[]>().notNull().default([]),
  suspendedAt: ts('suspended_at'),
  /** Set when the app was uninstalled: nothing can be created or reached through it any more. */
  deletedAt: ts('deleted_at'),
  createdAt: createdAt(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})

/**
 * When work actually reached a candidate repository, from GitHub's `push` webhooks: the
 * reviewer's timeline does not rest on commit dates, which the candidate sets.
 */
export const pushLedger = pgTable(
  'push_ledger',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orgId: orgRef(),
    candidateRepoId: uuid('candidate_repo_id')
      .notNull()
      .references(() => candidateRepos.id, { onDelete: 'cascade' }),
    /** `X-GitHub-Delivery` of the webhook that told us: one ledger row per delivery. */
    deliveryId: text('delivery_id').notNull(),
    ref: text('ref').notNull(),
    beforeSha: text('before_sha').notNull(),
    afterSha: text('after_sha').notNull(),
    forced: boolean('forced').notNull(),
    commitCount: integer('commit_count').notNull(),
    receivedAt: ts('received_at').notNull(),
  },
  (t) => [uniqueIndex('push_ledger_delivery_idx').on(t.deliveryId), index('push_ledger_repo_idx').on(t.candidateRepoId, t.receivedAt)],
)

/**
 * Installation tokens minted for one repository, kept (encrypted with a key derived from
 * TOKEN_PEPPER) only so that ending an invitation can revoke every one of them: GitHub
 * revokes a token only when called with that token.
 */
export const githubRepoTokens = pgTable(
  'github_repo_tokens',
  {
    id: id(),
    repoFullName: text('repo_full_name').notNull(),
    tokenCiphertext: text('token_ciphertext').notNull(),
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [index('github_repo_tokens_repo_idx').on(t.repoFullName, t.expiresAt)],
)
