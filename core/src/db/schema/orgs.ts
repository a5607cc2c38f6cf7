import { relations, sql } from 'drizzle-orm'
import { check, index, integer, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, id, ts } from './columns.ts'

export const ROLES = ['owner', 'admin', 'reviewer', 'viewer'] as const
export type Role = (typeof ROLES)[number]

export const DEFAULT_RETENTION_DAYS = 365

export const orgs = pgTable(
  'orgs',
  {
    id: id(),
    name: text('name').notNull(),
    /**
     * Days a candidate's personal data is kept after their invitation ended (submitted,
     * expired, revoked); then the retention task erases it and keeps anonymous counts.
     */
    retentionDays: integer('retention_days').notNull().default(DEFAULT_RETENTION_DAYS),
    createdAt: createdAt(),
  },
  (t) => [check('orgs_retention_days_check', sql`${t.retentionDays} between 1 and 36500`)],
)

/** The tenant column every org-owned row carries. */
export const orgRef = () =>
  uuid('org_id')
    .notNull()
    .references(() => orgs.id, { onDelete: 'cascade' })

export const users = pgTable(
  'users',
  {
    id: id(),
    email: text('email').notNull(),
    name: text('name'),
    /** argon2id; null for users who sign in through an identity provider. */
    passwordHash: text('password_hash'),
    /** The Supabase Auth user (the access token's `sub`) this user signs in as, in hosted mode. */
    supabaseUserId: uuid('supabase_user_id'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('users_email_lower_idx').on(sql`lower(${t.email})`), uniqueIndex('users_supabase_user_id_idx').on(t.supabaseUserId)],
)

export const orgMembers = pgTable(
  'org_members',
  {
    orgId: orgRef(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ROLES }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.userId] }),
    index('org_members_user_idx').on(t.userId),
    check('org_members_role_check', sql`${t.role} in ('owner','admin','reviewer','viewer')`),
  ],
)

export const sessions = pgTable(
  'sessions',
  {
    id: id(),
    tokenHash: text('token_hash').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    orgId: orgRef(),
    expiresAt: ts('expires_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('sessions_token_hash_idx').on(t.tokenHash), index('sessions_expires_idx').on(t.expiresAt)],
)

export const apiKeys = pgTable(
  'api_keys',
  {
    id: id(),
    orgId: orgRef(),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull(),
    /** Non-secret hint (`thk_Ab12…xY9z`) so people can tell keys apart. */
    hint: text('hint').notNull(),
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [uniqueIndex('api_keys_key_hash_idx').on(t.keyHash), index('api_keys_org_idx').on(t.orgId)],
)

/**
 * A pending membership: an emailed link that the person accepts while logged in as that
 * email, or by signing up through it. Until then the account (if any) is not a member.
 * The link's token is derived from the row id with the server key (like start links),
 * so jobs carry the id only; the hash is kept for the look-up.
 */
export const memberInvitations = pgTable(
  'member_invitations',
  {
    id: id(),
    orgId: orgRef(),
    email: text('email').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    tokenHash: text('token_hash').notNull(),
    invitedBy: uuid('invited_by').references(() => users.id, { onDelete: 'set null' }),
    expiresAt: ts('expires_at').notNull(),
    acceptedAt: ts('accepted_at'),
    acceptedBy: uuid('accepted_by').references(() => users.id, { onDelete: 'set null' }),
    revokedAt: ts('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('member_invitations_token_hash_idx').on(t.tokenHash),
    index('member_invitations_org_idx').on(t.orgId, t.createdAt),
    check('member_invitations_role_check', sql`${t.role} in ('owner','admin','reviewer','viewer')`),
  ],
)

/** Password reset by email: single use, short-lived; only the token's hash is stored. */
export const passwordResets = pgTable(
  'password_resets',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('password_resets_token_hash_idx').on(t.tokenHash), index('password_resets_user_idx').on(t.userId)],
)

/**
 * A sign-up waiting for its emailed confirmation (`SIGNUP=open`): nothing is created until
 * the link is followed, so the answer to a sign-up never tells whether the email has an account.
 */
export const signupRequests = pgTable(
  'signup_requests',
  {
    id: id(),
    email: text('email').notNull(),
    name: text('name'),
    orgName: text('org_name').notNull(),
    passwordHash: text('password_hash').notNull(),
    tokenHash: text('token_hash').notNull(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('signup_requests_token_hash_idx').on(t.tokenHash), index('signup_requests_expires_idx').on(t.expiresAt)],
)

export const orgsRelations = relations(orgs, ({ many }) => ({ members: many(orgMembers) }))
export const orgMembersRelations = relations(orgMembers, ({ one }) => ({
  org: one(orgs, { fields: [orgMembers.orgId], references: [orgs.id] }),
  user: one(users, { fields: [orgMembers.userId], references: [users.id] }),
}))
