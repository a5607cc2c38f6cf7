import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

/**
 * One access line per request instead of Fastify's two ("incoming request", "request
 * completed"): git and its credential helper make many small requests, and a log line is
 * a large share of what each of them costs.
 */
export class AccessLog extends LogController {
  override incomingRequest() {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply) {
    const fields = { req: request, res: reply, ms: Math.round(reply.elapsedTime) }
    if (error) return reply.log.error({ ...fields, err: error }, 'request errored')
    const quiet = reply.statusCode < 400 && request.routeOptions.config.quietAccessLog === true
    reply.log[quiet ? 'debug' : 'info'](fields, 'request')
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Successful answers log at debug rather than info. Meant for the credential broker:
     * git asks it before every fetch and push, each use is kept as the token's last use,
     * and refusals still log at info.
     */
    quietAccessLog?: boolean
  }
}
