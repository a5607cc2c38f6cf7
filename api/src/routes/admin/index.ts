import type { Services } from '@takehome/core'
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

/** Every admin route authenticates first (cookie or API key); role checks live in core. */
const adminRoutes: FastifyPluginAsync<{ services: Services }> = async (app, opts) => {
  app.addHook('onRequest', app.authenticate)
  for (const routes of [apiKeys, members, seeds, assessments, emailTemplates, invitations, review, archive, dashboard, mail, jobs, audit, candidates, org]) {
    await app.register(routes, opts)
  }
}

export default adminRoutes
