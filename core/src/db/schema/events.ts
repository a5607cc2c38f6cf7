import { bigserial, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
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
    /** Ids only: in hosted mode the job also sits in Redis, in clear text. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    /** Set for jobs that must exist at most once (a reminder): a second insert is a no-op. */
    key: text('key'),
    status: text('status', { enum: OUTBOX_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** When it may run next; while `running`, when its claim lapses (the runner died). */
    runAt: ts('run_at').notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('outbox_pending_idx').on(t.status, t.runAt), uniqueIndex('outbox_key_idx').on(t.key)],
)

/** Dedupe of GitHub webhook deliveries by `X-GitHub-Delivery`. */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: text('id').primaryKey(),
  event: text('event').notNull(),
  action: text('action'),
  receivedAt: createdAt(),
  processedAt: ts('processed_at'),
})
