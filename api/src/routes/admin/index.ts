import { type Services, withOrgScope } from '@takehome/core'
import type { FastifyPluginAsync } from 'fastify'
import apiKeys from './api-keys.ts'
import archive from './archive.ts'
import assessments from './assessments.ts'
import audit from './audit.ts'
import candidates from './candidates.ts'
import dashboard from './dashboard.ts'
import emailTemplates from './email-templates.ts'
import invitations from './invitations.ts'
import jobs from './jobs.ts'
import mail from './mail.ts'
import members from './members.ts'
import org from './org.ts'
import review from './review.ts'
import seeds from './seeds.ts'
import { actorOf } from '../../plugins/app/auth.ts'

/**
 * Every admin route authenticates first (cookie, API key or Supabase token); role checks
 * live in core. Its handler then runs in the actor's org scope: on PostgreSQL, row-level
 * security then holds each of its statements to that org, whatever filter a query forgot.
 */
const adminRoutes: FastifyPluginAsync<{ services: Services }> = async (app, opts) => {
  app.addHook('onRequest', app.authenticate)
  // A callback hook: the rest of the request (the handler, its hooks) runs inside the scope.
  app.addHook('preHandler', (request, _reply, done) => withOrgScope(actorOf(request).orgId, done))
  for (const routes of [apiKeys, members, seeds, assessments, emailTemplates, invitations, review, archive, dashboard, mail, jobs, audit, candidates, org]) {
    await app.register(routes, opts)
  }
}

export default adminRoutes
