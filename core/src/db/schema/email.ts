import { sql } from 'drizzle-orm'
import { check, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, id, ts } from './columns.ts'
import { invitations } from './invitations.ts'
import { orgRef } from './orgs.ts'

export const EMAIL_KINDS = ['invite', 'reminder', 'follow_up'] as const
export type EmailKind = (typeof EMAIL_KINDS)[number]

export const emailTemplates = pgTable(
  'email_templates',
  {
    id: id(),
    orgId: orgRef(),
    // The plan made `key` globally unique, which would let one org's template name block another's.
    key: text('key').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('email_templates_org_key_idx').on(t.orgId, t.key)],
)

export const emailEvents = pgTable(
  'email_events',
  {
    id: id(),
    orgId: orgRef(),
    invitationId: uuid('invitation_id').references(() => invitations.id, { onDelete: 'cascade' }),
    type: text('type', { enum: EMAIL_KINDS }).notNull(),
    providerId: text('provider_id'),
    toEmail: text('to_email').notNull(),
    status: text('status').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('email_events_invitation_idx').on(t.invitationId, t.createdAt),
    check('email_events_type_check', sql`${t.type} in ('invite','reminder','follow_up')`),
  ],
)

/** The embedded default's mailer: messages are kept here and listed in the admin app. */
export const mailboxMessages = pgTable(
  'mailbox_messages',
  {
    id: id(),
    orgId: orgRef(),
    kind: text('kind', { enum: EMAIL_KINDS }).notNull(),
    to: text('to_email').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('mailbox_messages_org_idx').on(t.orgId, t.createdAt)],
)
