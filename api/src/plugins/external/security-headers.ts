import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** No content of ours is meant to be framed, so framing is refused everywhere. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
})
const ENTRIES = Object.entries(SECURITY_HEADERS)

/**
 * Headers every answer carries: JSON, git's smart HTTP, the API docs, and the web pages
 * mounted here. They go on the raw response, so answers written past Fastify (the git
 * gateway's streamed bodies, the Next.js fallback) carry them too; the credential broker's
 * fast path, which Fastify never sees, sets SECURITY_HEADERS itself.
 */
export default fp(
  async function securityHeaders(app: FastifyInstance) {
    // A callback hook, not an async one: it runs on every request.
    app.addHook('onRequest', (_request, reply, done) => {
      for (const [name, value] of ENTRIES) reply.raw.setHeader(name, value)
      done()
    })
  },
  { name: 'security-headers' },
)
