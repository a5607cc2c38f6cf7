import type { Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'

export interface CredentialOptions {
  services: Services
  rateLimit: { max: number; timeWindow: number }
}

// git reads this body as credential lines: `quit=1` makes it stop at once instead of
// prompting, and anything that is not `key=value` would print "invalid credential line".
const QUIT = 'quit=1\n'

const NO_RATE_LIMIT_HEADERS = { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false }

/**
 * The credential broker: git's credential helper asks here (`get` only) and gets a
 * short-lived credential for one repository, in git's credential format.
 */
export const credentialBroker: FastifyPluginAsyncZod<CredentialOptions> = async (app, { services, rateLimit }) => {
  app.get(
    '/git/credential',
    {
      config: {
        // git's helper ignores these headers; not building them is measurably cheaper here.
        rateLimit: { ...rateLimit, addHeaders: NO_RATE_LIMIT_HEADERS, addHeadersOnExceeding: NO_RATE_LIMIT_HEADERS },
        quietAccessLog: true,
      },
      schema: {
        tags: ['git'],
        summary: "git's credential helper: `username=…`, `password=…`, `password_expiry_utc=…`, or 403 `quit=1`",
        querystring: z.object({ token: z.string().max(100) }),
        response: { 200: z.string(), 400: z.string(), 403: z.string(), 429: z.string() },
      },
      // Whatever goes wrong, git must read `quit=1`, never a JSON error.
      errorHandler: (err, request, reply) => {
        request.log.info({ code: (err as { code?: string }).code }, 'credential request refused')
        return reply
          .status(err.statusCode === 429 ? 429 : 400)
          .type('text/plain; charset=utf-8')
          .header('x-takehome-refusal', err.statusCode === 429 ? 'rate_limited' : 'bad_request')
          .send(QUIT)
      },
    },
    async (request, reply) => {
      reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store')
      const access = await services.access.check(request.query.token, { context: 'credential' })
      if (!access.ok) {
        request.log.info({ refusal: access.refusal }, 'credential refused')
        return reply.status(403).header('x-takehome-refusal', access.refusal).send(QUIT)
      }
      return [
        'username=takehome',
        `password=${request.query.token}`,
        `password_expiry_utc=${Math.floor(access.expiresAt.getTime() / 1000)}`,
        '',
      ].join('\n')
    },
  )
}

