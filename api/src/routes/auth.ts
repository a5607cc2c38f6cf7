import type { Config, Services } from '@takehome/core'
import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf, SESSION_COOKIE } from '../plugins/app/auth.ts'
import { presentOrg, presentUser, sessionSchema } from '../presenters.ts'
import { admin, emailField, errors, text, verbatim } from './common.ts'

export interface AuthRouteOptions {
  services: Services
  config: Pick<Config, 'secureCookies'>
  rateLimit: { max: number; timeWindow: number }
}

const password = verbatim()
  .min(10, { error: 'must be at least 10 characters' })
  .max(200, { error: 'must be at most 200 characters' })

/** Signup and login: public, rate limited per client address. */
const routes: FastifyPluginAsyncZod<AuthRouteOptions> = async (app, { services, config, rateLimit }) => {
  const startSession = (reply: FastifyReply, session: { token: string; expiresAt: Date }) =>
    reply.setCookie(SESSION_COOKIE, session.token, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: config.secureCookies,
      signed: true,
      expires: session.expiresAt,
    })

  app.post(
    '/api/auth/signup',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Create an account and its organisation (you become its owner)',
        body: z.object({ email: emailField, password, name: text(200).optional(), org_name: text(200) }),
        response: { 201: sessionSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { email, password, name, org_name } = request.body
      const result = await services.accounts.signup({ email, password, name, orgName: org_name })
      startSession(reply, result.session)
      return reply.status(201).send({ user: presentUser(result.user), org: presentOrg(result.org), role: result.role })
    },
  )

  app.post(
    '/api/auth/login',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Log in; sets the session cookie',
        body: z.object({ email: emailField, password: verbatim().min(1).max(200), org_id: z.uuid().optional() }),
        response: { 200: sessionSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { email, password, org_id } = request.body
      const result = await services.accounts.login({ email, password, orgId: org_id })
      startSession(reply, result.session)
      return { user: presentUser(result.user), org: presentOrg(result.org), role: result.role }
    },
  )

  app.post(
    '/api/auth/logout',
    {
      onRequest: app.authenticate,
      schema: { tags: ['auth'], summary: 'End this session', security: admin, response: { 204: z.null(), ...errors } },
    },
    async (request, reply) => {
      await services.accounts.logout(actorOf(request))
      reply.clearCookie(SESSION_COOKIE, { path: '/' })
      return reply.status(204).send(null)
    },
  )

  app.get(
    '/api/auth/me',
    {
      onRequest: app.authenticate,
      schema: { tags: ['auth'], summary: 'Who is calling', security: admin, response: { 200: sessionSchema, ...errors } },
    },
    async (request) => {
      const me = await services.accounts.me(actorOf(request))
      return { user: presentUser(me.user), org: presentOrg(me.org), role: me.role }
    },
  )
}

export default routes
