import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Headers every answer carries: JSON, git's smart HTTP, the API docs, and the web pages
 * mounted here. They go on the raw response, so answers written past Fastify (the git
 * gateway's streamed bodies, the Next.js fallback) carry them too. No content of ours is
 * meant to be framed, so framing is refused everywhere.
 */
export default fp(
  async function securityHeaders(app: FastifyInstance) {
    // A callback hook, not an async one: it runs on every request, the broker's included.
    app.addHook('onRequest', (_request, reply, done) => {
      reply.raw.setHeader('x-content-type-options', 'nosniff')
      reply.raw.setHeader('x-frame-options', 'DENY')
      reply.raw.setHeader('content-security-policy', "frame-ancestors 'none'")
      done()
    })
  },
  { name: 'security-headers' },
)
