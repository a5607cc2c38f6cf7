import { sql } from 'drizzle-orm'
import { boolean, check, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, id, ts } from './columns.ts'
import { invitations } from './invitations.ts'
import { orgRef, orgs } from './orgs.ts'

/** Kinds a template can have. */
export const TEMPLATE_KINDS = ['invite', 'reminder', 'follow_up'] as const
export type TemplateKind = (typeof TEMPLATE_KINDS)[number]
/**
 * Kinds of email sent: a template kind, a notice to the org's admins (an invitation
 * expired), or an account email (joining an org, resetting a password, confirming a sign-up).
 */
export const EMAIL_KINDS = [...TEMPLATE_KINDS, 'notice', 'member_invite', 'password_reset', 'signup_confirm'] as const
export type EmailKind = (typeof EMAIL_KINDS)[number]

export const emailTemplates = pgTable(
  'email_templates',
  {
    id: id(),
    orgId: orgRef(),
    kind: text('kind', { enum: TEMPLATE_KINDS }).notNull(),
    /**
     * The template's name (`name` in the API). The plan made `key` globally unique, which
     * would let one org's template name block another's: it is unique per org here.
     */
    key: text('key').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    /** The one template of its kind the org sends when none is named. */
    isDefault: boolean('is_default').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('email_templates_org_key_idx').on(t.orgId, t.key),
    uniqueIndex('email_templates_default_idx').on(t.orgId, t.kind).where(sql`${t.isDefault}`),
    check('email_templates_kind_check', sql`${t.kind} in ('invite','reminder','follow_up')`),
  ],
)

export const emailEvents = pgTable(
  'email_events',
  {
    id: id(),
    /** Null for account emails sent before there is an org (sign-up confirmation, password reset). */
    orgId: uuid('org_id').references(() => orgs.id, { onDelete: 'cascade' }),
    invitationId: uuid('invitation_id').references(() => invitations.id, { onDelete: 'cascade' }),
    type: text('type', { enum: EMAIL_KINDS }).notNull(),
    providerId: text('provider_id'),
    toEmail: text('to_email').notNull(),
    status: text('status').notNull(),
    /** The outbox job that sent it: one job sends at most one email, however often it runs. */
    outboxId: uuid('outbox_id'),
    createdAt: createdAt(),
  },
  (t) => [
    index('email_events_invitation_idx').on(t.invitationId, t.createdAt),
    uniqueIndex('email_events_outbox_idx').on(t.outboxId),
    check('email_events_type_check', sql`${t.type} in ('invite','reminder','follow_up','notice','member_invite','password_reset','signup_confirm')`),
  ],
)

/** The embedded default's mailer: messages are kept here and listed in the admin app. */
export const mailboxMessages = pgTable(
  'mailbox_messages',
  {
    id: id(),
    /** Null for account emails sent before there is an org; those are only logged. */
    orgId: uuid('org_id').references(() => orgs.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: EMAIL_KINDS }).notNull(),
    to: text('to_email').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('mailbox_messages_org_idx').on(t.orgId, t.createdAt)],
)
