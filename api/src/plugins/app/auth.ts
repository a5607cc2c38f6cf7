import { type Actor, AppError, type Services, type SupabaseAuth } from '@takehome/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

export const SESSION_COOKIE = 'takehome_session'
/** Which of a Supabase user's orgs a request acts in (their first when absent). */
export const ORG_HEADER = 'x-takehome-org'

type SupabaseUser = Awaited<ReturnType<Services['supabaseIdentity']['userFor']>>

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null
  }
  interface FastifyInstance {
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>
    /** The Takehome user of the request's Supabase access token, whether or not they belong to an org yet. */
    supabaseUser(request: FastifyRequest): Promise<SupabaseUser>
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Resolves the admin actor from `Authorization: Bearer thk_…` or the session cookie; with
 * Supabase Auth configured, from `Authorization: Bearer <Supabase access token>` instead
 * of the cookie (local sessions cannot be made then, and ones made before do not count).
 * Cookie-authenticated writes must show they come from one of our own origins, by their
 * Origin or, failing that, their Referer: SameSite=Lax already stops most cross-site
 * posts, and this stops the rest, including those from clients that send neither.
 * API-key requests carry no ambient credential and need no such proof.
 */
export default fp(
  async function auth(app: FastifyInstance, opts: { services: Services; trustedOrigins: string[]; supabase?: SupabaseAuth }) {
    app.decorateRequest('actor', null)
    const trusted = new Set(opts.trustedOrigins.map((u) => new URL(u).origin))
    const { supabase } = opts

    app.decorate('supabaseUser', async (request: FastifyRequest) => {
      const token = bearer(request)
      if (!supabase || token === undefined || token.startsWith('thk_')) {
        throw new AppError(401, 'unauthenticated', 'sign in with Supabase and send the access token as `Authorization: Bearer …`')
      }
      const claims = await supabase.verify(token)
      return opts.services.supabaseIdentity.userFor(claims, () => supabase.profile(token))
    })

    app.decorate('authenticate', async (request: FastifyRequest) => {
      const header = request.headers.authorization
      if (header !== undefined) {
        const token = bearer(request)
        // API keys carry their prefix; anything else is a Supabase access token when Supabase is on.
        if (supabase && token !== undefined && !token.startsWith('thk_')) {
          const claims = await supabase.verify(token)
          const orgHeader = request.headers[ORG_HEADER]
          request.actor = await opts.services.supabaseIdentity.actorFor(claims, {
            orgId: typeof orgHeader === 'string' ? orgHeader : undefined,
            profile: () => supabase.profile(token),
          })
          return
        }
        const actor = token ? await opts.services.accounts.actorForApiKey(token) : undefined
        if (!actor) throw new AppError(401, 'invalid_api_key', 'the API key is not valid or has been revoked')
        request.actor = actor
        return
      }
      if (supabase) throw new AppError(401, 'unauthenticated', 'sign in with Supabase and send the access token as `Authorization: Bearer …`, or send an API key')
      const cookie = request.cookies[SESSION_COOKIE]
      const unsigned = cookie ? request.unsignCookie(cookie) : undefined
      const actor = unsigned?.valid && unsigned.value ? await opts.services.accounts.actorForSession(unsigned.value) : undefined
      if (!actor) throw new AppError(401, 'unauthenticated', 'log in, or send an API key as `Authorization: Bearer thk_…`')
      if (!SAFE_METHODS.has(request.method) && !trusted.has(originOf(request))) {
        throw new AppError(403, 'cross_site_request', 'this request came from another site, or did not say where it came from, and was refused')
      }
      request.actor = actor
    })
  },
  { name: 'auth', dependencies: ['@fastify/cookie'] },
)

/** The credential of `Authorization: Bearer X`. Auth schemes are case-insensitive (RFC 9110), and clients differ in spacing. */
function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  return header === undefined ? undefined : /^bearer\s+(\S+)\s*$/i.exec(header)?.[1]
}

/** The origin a request says it was sent from: its Origin header, else its Referer's origin. */
function originOf(request: FastifyRequest): string {
  const { origin, referer } = request.headers
  if (origin !== undefined) return origin
  if (referer === undefined || !URL.canParse(referer)) return ''
  return new URL(referer).origin
}

/** The actor of a route that ran `authenticate`. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError(401, 'unauthenticated', 'log in first')
  return request.actor
}
