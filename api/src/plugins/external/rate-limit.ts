import { isIPv6 } from 'node:net'
import rateLimit from '@fastify/rate-limit'
import { AppError } from '@takehome/core'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** One IPv6 host usually holds a whole /64, so that is what counts (as @fastify/rate-limit's own key does). */
export function rateKey(address: string): string {
  if (!isIPv6(address)) return address
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1]!
  const [head = '', tail] = address.toLowerCase().split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`
}

/**
 * Off by default; public routes opt in with `config.rateLimit`. Counted per client: the
 * signed address the web passes on for the start page, the socket's (or the trusted
 * proxy's word for it) otherwise, so one caller's requests never use up another's.
 */
export default fp(
  async function rateLimits(app: FastifyInstance) {
    await app.register(rateLimit, {
      global: false,
      keyGenerator: (request) => rateKey(request.clientAddress),
      errorResponseBuilder: (_request, context) =>
        new AppError(429, 'rate_limited', `too many requests; try again in ${context.after}`, {
          details: { retry_after_ms: context.ttl },
        }),
    })
  },
  { name: 'rate-limit', dependencies: ['client-address'] },
)
