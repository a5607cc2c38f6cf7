import type { Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errorSchema } from '../presenters.ts'

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/healthz',
    { schema: { hide: true, response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  )

  app.get(
    '/readyz',
    { schema: { hide: true, response: { 200: z.object({ status: z.literal('ready'), database: z.string() }), 503: errorSchema } } },
    async (request, reply) => {
      try {
        await services.database.ping()
        return { status: 'ready' as const, database: services.database.kind }
      } catch (err) {
        request.log.warn({ err }, 'readiness check failed')
        return reply.status(503).send({ error: { code: 'not_ready', message: 'the database does not answer' } })
      }
    },
  )

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const memory = process.memoryUsage()
    reply.type('text/plain; version=0.0.4')
    return [
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${memory.rss}`,
      '# HELP process_uptime_seconds Seconds since the process started.',
      '# TYPE process_uptime_seconds gauge',
      `process_uptime_seconds ${process.uptime().toFixed(0)}`,
      '',
    ].join('\n')
  })
}

export default routes
