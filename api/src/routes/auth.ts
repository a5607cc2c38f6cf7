import { AppError, type Config, type Services } from '@takehome/core'
import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf, SESSION_COOKIE } from '../plugins/app/auth.ts'
import { errorSchema, presentSession, sessionSchema } from '../presenters.ts'
import { admin, emailField, errors, text, verbatim } from './common.ts'

export interface AuthRouteOptions {
  services: Services
  config: Pick<Config, 'secureCookies'> & Partial<Pick<Config, 'supabase'>>
  rateLimit: { max: number; timeWindow: number }
}

const password = verbatim()
  .min(10, { error: 'must be at least 10 characters' })
  .max(200, { error: 'must be at most 200 characters' })

// Emailed link tokens; their own checks (prefix, checksum) come in the service.
const token = verbatim().min(1).max(100)
const passwordChanged = z.object({ status: z.literal('password_changed') })
// A login's password: any length, since it was chosen under whatever rules held then.
const currentPassword = verbatim().min(1).max(200)

/** Accounts: sign-up, login, invitations and passwords. The public ones are rate limited per client address. */
const routes: FastifyPluginAsyncZod<AuthRouteOptions> = async (app, { services, config, rateLimit }) => {
  const supabase = config.supabase
  // Passwords, sign-up and reset links belong to Supabase when it is configured; API keys still work.
  const localOnly = async () => {
    if (supabase) {
      throw new AppError(409, 'local_accounts_disabled', 'this server signs people in with Supabase Auth: local passwords, sign-up and password resets are off; sign in on the login page')
    }
  }
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
      onRequest: localOnly,
      schema: {
        tags: ['auth'],
        summary: 'Sign up: a new organisation (you become its owner), or through a member invitation',
        description:
          'The first sign-up of the instance creates the account, its organisation and a session at once (201). ' +
          'Later ones: with SIGNUP=open, 202 and an emailed confirmation link, whether or not the email has an account; ' +
          'otherwise 403 signup_closed. With `invitation_token` (any mode) the account is created for the invited ' +
          'address and joins that organisation (201).',
        body: z
          .object({
            email: emailField.optional(),
            password,
            name: text(200).optional(),
            org_name: text(200).optional(),
            invitation_token: verbatim().max(100).optional(),
          })
          .superRefine((body, ctx) => {
            if (body.invitation_token !== undefined) return
            for (const key of ['email', 'org_name'] as const) {
              if (body[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is required without an invitation_token' })
            }
          }),
        response: { 201: sessionSchema, 202: z.object({ status: z.literal('confirmation_sent') }), ...errors, 410: errorSchema },
      },
    },
    async (request, reply) => {
      const { email, password, name, org_name, invitation_token } = request.body
      const result =
        invitation_token !== undefined
          ? await services.accounts.signupByInvitation({ token: invitation_token, email, password, name })
          : await services.accounts.signup({ email: email!, password, name, orgName: org_name! })
      if (result.status === 'confirmation_sent') return reply.status(202).send({ status: result.status })
      startSession(reply, result.session)
      return reply.status(201).send(presentSession(result))
    },
  )

  app.post(
    '/api/auth/signup/confirm',
    {
      config: { rateLimit },
      onRequest: localOnly,
      schema: {
        tags: ['auth'],
        summary: 'Follow the emailed sign-up link: creates the account, its organisation and a session (once)',
        body: z.object({ token }),
        response: { 201: sessionSchema, ...errors, 410: errorSchema },
      },
    },
    async (request, reply) => {
      const result = await services.accounts.confirmSignup(request.body.token)
      startSession(reply, result.session)
      return reply.status(201).send(presentSession(result))
    },
  )

  app.post(
    '/api/auth/join',
    {
      config: { rateLimit },
      // With email and password the body is the credential, as at login; otherwise the caller's session is.
      preHandler: async (request, reply) => {
        if (supabase) {
          if (request.body.password !== undefined) await localOnly()
          return
        }
        if (request.body.password === undefined) await app.authenticate(request, reply)
      },
      schema: {
        tags: ['auth'],
        summary: 'Accept a member invitation sent to your email; the session moves to that organisation',
        description:
          'Logged in as the invited address: send `{token}`. Not logged in (for example an account that belongs ' +
          'to no organisation, which cannot log in): send `{token, email, password}`; a wrong email or password ' +
          'gets the same 401 as login.',
        security: admin,
        body: z
          .object({ token, email: emailField.optional(), password: currentPassword.optional() })
          .superRefine((body, ctx) => {
            if ((body.email === undefined) === (body.password === undefined)) return
            const missing = body.email === undefined ? 'email' : 'password'
            ctx.addIssue({ code: 'custom', path: [missing], message: 'email and password go together' })
          }),
        response: { 200: sessionSchema, ...errors, 410: errorSchema },
      },
    },
    async (request, reply) => {
      const { token, email, password } = request.body
      if (supabase) {
        // No session to move: the caller keeps their Supabase token and acts in the new org with X-Takehome-Org.
        return presentSession(await services.supabaseIdentity.acceptInvitation(await app.supabaseUser(request), token))
      }
      const result =
        email !== undefined && password !== undefined
          ? await services.accounts.joinWithPassword({ token, email, password })
          : await services.members.accept(actorOf(request), token)
      startSession(reply, result.session)
      return presentSession(result)
    },
  )

  app.post(
    '/api/auth/password',
    {
      config: { rateLimit },
      onRequest: [localOnly, app.authenticate],
      schema: {
        tags: ['auth'],
        summary: 'Change your password; your other sessions end',
        security: admin,
        body: z.object({ current_password: currentPassword, new_password: password }),
        response: { 200: passwordChanged, ...errors },
      },
    },
    async (request) => {
      const { current_password, new_password } = request.body
      await services.accounts.changePassword(actorOf(request), { currentPassword: current_password, newPassword: new_password })
      return { status: 'password_changed' as const }
    },
  )

  app.post(
    '/api/auth/password-reset',
    {
      config: { rateLimit },
      onRequest: localOnly,
      schema: {
        tags: ['auth'],
        summary: 'Email a password reset link (valid 1 hour, once); the answer is the same for every address',
        body: z.object({ email: emailField }),
        response: { 202: z.object({ status: z.literal('sent') }), ...errors },
      },
    },
    async (request, reply) => reply.status(202).send(await services.accounts.requestPasswordReset(request.body.email)),
  )

  app.post(
    '/api/auth/password-reset/confirm',
    {
      config: { rateLimit },
      onRequest: localOnly,
      schema: {
        tags: ['auth'],
        summary: 'Set a new password with the emailed reset link; every session of the account ends and every API key it made is revoked',
        description: 'Keys are revoked in every organisation, since whoever had taken the account over may have made them; `api_keys_revoked` says how many.',
        body: z.object({ token, new_password: password }),
        response: { 200: passwordChanged.extend({ api_keys_revoked: z.number().int() }), ...errors, 410: errorSchema },
      },
    },
    async (request) => {
      const result = await services.accounts.resetPassword({ token: request.body.token, newPassword: request.body.new_password })
      return { status: result.status, api_keys_revoked: result.apiKeysRevoked }
    },
  )

  app.post(
    '/api/auth/login',
    {
      config: { rateLimit },
      onRequest: localOnly,
      schema: {
        tags: ['auth'],
        summary: 'Log in; sets the session cookie',
        body: z.object({ email: emailField, password: currentPassword, org_id: z.uuid().optional() }),
        response: { 200: sessionSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { email, password, org_id } = request.body
      const result = await services.accounts.login({ email, password, orgId: org_id })
      startSession(reply, result.session)
      return presentSession(result)
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

  app.post(
    '/api/auth/logout-all',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'End every session of your account, in every organisation (a session only: an API key gets 403; with Supabase Auth, 409: its sign-out does this)',
        security: admin,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.accounts.logoutAll(actorOf(request))
      reply.clearCookie(SESSION_COOKIE, { path: '/' })
      return reply.status(204).send(null)
    },
  )

  app.get(
    '/api/auth/config',
    {
      schema: {
        tags: ['auth'],
        summary: 'How people sign in here: local accounts, or Supabase Auth (with the project URL and its public anon key)',
        response: {
          200: z.object({ mode: z.enum(['local', 'supabase']), supabase_url: z.string().optional(), supabase_anon_key: z.string().optional() }),
        },
      },
    },
    // The anon key is public by design: the browser needs it to talk to Supabase Auth.
    async () => (supabase ? { mode: 'supabase' as const, supabase_url: supabase.url, supabase_anon_key: supabase.anonKey } : { mode: 'local' as const }),
  )

  app.post(
    '/api/auth/supabase/onboard',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Create your organisation (you become its owner), signed in with Supabase and a member of none',
        description:
          'Allowed for the instance\'s first user under SIGNUP=first-user, for anyone under SIGNUP=open, for nobody under ' +
          'SIGNUP=invite (403 signup_closed: ask for an invitation). 409 already_a_member when you belong to an organisation. ' +
          'Send the Supabase access token as `Authorization: Bearer …`.',
        security: admin,
        body: z.object({ org_name: text(200) }),
        response: { 201: sessionSchema, ...errors },
      },
    },
    async (request, reply) => {
      if (!supabase) throw new AppError(409, 'supabase_not_configured', 'this server uses local accounts: sign up with POST /api/auth/signup')
      const user = await app.supabaseUser(request)
      return reply.status(201).send(presentSession(await services.supabaseIdentity.onboard(user, { orgName: request.body.org_name })))
    },
  )

  app.get(
    '/api/auth/me',
    {
      onRequest: app.authenticate,
      schema: { tags: ['auth'], summary: 'Who is calling', security: admin, response: { 200: sessionSchema, ...errors } },
    },
    async (request) => {
      return presentSession(await services.accounts.me(actorOf(request)))
    },
  )
}

export default routes
