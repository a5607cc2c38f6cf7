import { RETENTION_DAYS_MAX, type schema, type Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { admin, errors } from '../common.ts'

const orgSettingsSchema = z.object({ id: z.string(), name: z.string(), retention_days: z.number().int(), created_at: z.string() })

const presentOrgSettings = (o: typeof schema.orgs.$inferSelect) => ({
  id: o.id,
  name: o.name,
  retention_days: o.retentionDays,
  created_at: o.createdAt.toISOString(),
})

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  const tags = ['org']

  app.get(
    '/api/org',
    {
      schema: {
        tags,
        security: admin,
        summary: "The caller's organisation and its settings (every role)",
        response: { 200: orgSettingsSchema, ...errors },
      },
    },
    async (request) => presentOrgSettings(await services.privacy.settings(actorOf(request))),
  )

  app.patch(
    '/api/org',
    {
      schema: {
        tags,
        security: admin,
        summary: "Change the organisation's settings (owners)",
        description:
          "`retention_days`: how many days after an invitation ended (submitted, expired, revoked) the candidate's personal data is kept; " +
          'a scheduled task then erases it. Audited when it changes.',
        body: z.object({ retention_days: z.number().int({ error: 'must be a whole number of days' }).min(1).max(RETENTION_DAYS_MAX) }).strict(),
        response: { 200: orgSettingsSchema, ...errors },
      },
    },
    async (request) => presentOrgSettings(await services.privacy.setRetention(actorOf(request), request.body.retention_days)),
  )
}

export default routes
