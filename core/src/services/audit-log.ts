import { and, desc, eq, gte, like, lt, sql } from 'drizzle-orm'
import { type Actor, MANAGE, requireRole } from '../actor.ts'
import type { Db } from '../db/client.ts'
import { auditEvents } from '../db/schema/index.ts'
import { AppError } from '../errors.ts'

export const AUDIT_PAGE_DEFAULT = 50
export const AUDIT_PAGE_MAX = 200

export interface AuditFilter {
  /** Exact actor (`user:<id>`, `api_key:<id>`, `system`, …). */
  actor?: string
  /** Exact kind (`invitation.revoked`), or every kind under a prefix given as `invitation.*`. */
  action?: string
  target?: string
  /** Inclusive lower and exclusive upper bound of `created_at`. */
  since?: Date
  until?: Date
  limit?: number
  /** The `next_cursor` of the page before. */
  cursor?: string
}

const invalidCursor = () => new AppError(400, 'invalid_cursor', 'cursor is not one this list gave out')

/**
 * An org's audit trail, newest first, read only: nothing here (or anywhere in the API)
 * changes or deletes an audit row.
 */
export function createAuditLogService({ db }: { db: Db }) {
  return {
    async list(actor: Actor, filter: AuditFilter) {
      requireRole(actor, MANAGE)
      const limit = Math.min(filter.limit ?? AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX)
      const org = actor.orgId
      if (filter.since && filter.until && filter.since >= filter.until) {
        throw new AppError(400, 'validation_failed', 'querystring.until: must be later than since', {
          details: [{ path: 'querystring.until', message: 'must be later than since' }],
        })
      }
      let after: { createdAt: Date; id: number } | undefined
      if (filter.cursor !== undefined) {
        // The cursor is the id of the last row shown; its created_at is read back at full
        // (microsecond) precision, which a timestamp carried through JavaScript would lose.
        if (!/^[1-9][0-9]{0,15}$/.test(filter.cursor)) throw invalidCursor()
        const [row] = await db
          .select({ createdAt: auditEvents.createdAt, id: auditEvents.id })
          .from(auditEvents)
          .where(and(eq(auditEvents.orgId, org), eq(auditEvents.id, Number(filter.cursor))))
        if (!row) throw invalidCursor()
        after = row
      }
      const action = filter.action?.endsWith('.*')
        ? like(auditEvents.kind, `${filter.action.slice(0, -2).replace(/[\\%_]/g, '\\$&')}.%`)
        : filter.action !== undefined
          ? eq(auditEvents.kind, filter.action)
          : undefined
      const rows = await db
        .select()
        .from(auditEvents)
        .where(
          and(
            eq(auditEvents.orgId, org),
            filter.actor !== undefined ? eq(auditEvents.actor, filter.actor) : undefined,
            action,
            filter.target !== undefined ? eq(auditEvents.target, filter.target) : undefined,
            filter.since ? gte(auditEvents.createdAt, filter.since) : undefined,
            filter.until ? lt(auditEvents.createdAt, filter.until) : undefined,
            after
              ? sql`(${auditEvents.createdAt}, ${auditEvents.id}) < (select a.created_at, a.id from audit_events a where a.id = ${after.id} and a.org_id = ${org})`
              : undefined,
          ),
        )
        .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
        .limit(limit + 1)
      const page = rows.slice(0, limit)
      return { events: page, nextCursor: rows.length > limit ? String(page[page.length - 1]!.id) : null }
    },
  }
}

export type AuditLogService = ReturnType<typeof createAuditLogService>
