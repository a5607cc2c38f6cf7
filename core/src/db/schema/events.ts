import { bigserial, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt, id, ts } from './columns.ts'
import { orgs } from './orgs.ts'

export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Null only for events without a tenant, such as a failed login for an unknown email. */
    orgId: uuid('org_id').references(() => orgs.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    /** `user:<id>`, `api_key:<id>`, `candidate:<invitation id>`, `system`, `anonymous`. */
    actor: text('actor').notNull(),
    target: text('target'),
    meta: jsonb('meta').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('audit_events_org_idx').on(t.orgId, t.createdAt), index('audit_events_kind_idx').on(t.kind)],
)

export const OUTBOX_STATUSES = ['pending', 'running', 'done', 'dead'] as const

/** Jobs written in the same transaction as the state change that causes them. */
export const outbox = pgTable(
  'outbox',
  {
    id: id(),
    orgId: uuid('org_id').references(() => orgs.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: OUTBOX_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    runAt: ts('run_at').notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('outbox_pending_idx').on(t.status, t.runAt)],
)

/** Dedupe of GitHub webhook deliveries by `X-GitHub-Delivery`. */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: text('id').primaryKey(),
  event: text('event').notNull(),
  receivedAt: createdAt(),
  processedAt: ts('processed_at'),
})
