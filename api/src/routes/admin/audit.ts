import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, type schema, type Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { admin, errors, text, verbatim } from '../common.ts'

const auditEventSchema = z.object({
  id: z.string(),
  action: z.string(),
  actor: z.string(),
  target: z.string().nullable(),
  meta: z.record(z.string(), z.unknown()),
  created_at: z.string(),
})

export const presentAuditEvent = (e: typeof schema.auditEvents.$inferSelect) => ({
  id: String(e.id),
  action: e.kind,
  actor: e.actor,
  target: e.target,
  meta: e.meta,
  created_at: e.createdAt.toISOString(),
})

const instant = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' })

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/api/audit',
    {
      schema: {
        tags: ['audit'],
        security: admin,
        summary: "The org's audit log, newest first (owners and admins); read only",
        description:
          '`action` is an event kind (`invitation.revoked`) or a family of them (`invitation.*`); `since` is inclusive, `until` exclusive. ' +
          'Pass `next_cursor` back as `cursor` for the next page; it is null on the last page. Audit events cannot be changed or deleted through the API.',
        querystring: z.object({
            actor: text(200).optional(),
            action: z
              .string()
              .max(100)
              .regex(/^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$/, { error: 'must be an event kind such as invitation.revoked, or a family such as invitation.*' })
              .optional(),
            target: text(200).optional(),
            since: instant.optional(),
            until: instant.optional(),
            limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(AUDIT_PAGE_DEFAULT),
            // Checked by the service, which knows which ids this org's log holds.
            cursor: verbatim().max(32).optional(),
          }),
        response: { 200: z.object({ events: z.array(auditEventSchema), next_cursor: z.string().nullable() }), ...errors },
      },
    },
    async (request) => {
      const { since, until, ...filter } = request.query
      const page = await services.auditLog.list(actorOf(request), {
        ...filter,
        since: since ? new Date(since) : undefined,
        until: until ? new Date(until) : undefined,
      })
      return { events: page.events.map(presentAuditEvent), next_cursor: page.nextCursor }
    },
  )
}

export default routes
