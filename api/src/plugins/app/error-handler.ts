import { AppError, databaseError } from '@takehome/core'
import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'

// Fastify's own 4xx errors, renamed into our vocabulary.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
}

interface Issue {
  instancePath?: string
  message?: string
  params?: { issue?: { path?: PropertyKey[] } }
}

/**
 * The one error handler: every error leaves as `{ error: { code, message, details?,
 * request_id } }`. A 4xx says what was wrong; anything unexpected is logged in full and
 * answered with a generic 500 that carries only the request id.
 */
export default fp(
  async function errorHandler(app: FastifyInstance) {
    app.setErrorHandler((err: FastifyError, request, reply) => {
      const send = (status: number, code: string, message: string, details?: unknown) =>
        reply.status(status).send({ error: { code, message, details, request_id: request.id } })

      if (hasZodFastifySchemaValidationErrors(err)) {
        const issues = (err.validation as Issue[]).map((i) => {
          const where = [err.validationContext, ...(i.instancePath ?? '').split('/').filter(Boolean)].join('.')
          return { path: where, message: i.message ?? 'is invalid' }
        })
        const first = issues[0]
        return send(400, 'validation_failed', first ? `${first.path}: ${first.message}` : 'the request is invalid', issues)
      }
      if (err instanceof AppError) {
        if (err.statusCode >= 500) request.log.error({ err }, 'request failed')
        const retryAfter = (err.details as { retry_after_seconds?: unknown } | undefined)?.retry_after_seconds
        if (err.statusCode === 429 && typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter))
        return send(err.statusCode, err.code, err.expose ? err.message : 'internal error', err.details)
      }
      const status = err.statusCode ?? 500
      if (status >= 400 && status < 500) {
        return send(status, FASTIFY_CODES[err.code] ?? (status === 404 ? 'not_found' : 'bad_request'), err.message)
      }
      // Logged by hand rather than trusting the logger's serializer: a database error carries
      // the query's parameters (password hashes, token hashes), which never reach a log.
      const db = databaseError(err)
      if (db) request.log.error({ db }, 'database error')
      else request.log.error({ err }, 'unexpected error')
      return send(500, 'internal_error', 'something went wrong on our side; quote the request id when reporting it')
    })
  },
  { name: 'error-handler' },
)
