import rateLimit from '@fastify/rate-limit'
import { AppError } from '@takehome/core'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** Off by default; public routes opt in with `config.rateLimit`. */
export default fp(
  async function rateLimits(app: FastifyInstance) {
    await app.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) =>
        new AppError(429, 'rate_limited', `too many requests; try again in ${context.after}`, {
          details: { retry_after_ms: context.ttl },
        }),
    })
  },
  { name: 'rate-limit' },
)
