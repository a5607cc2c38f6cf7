import type { Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errorSchema } from '../presenters.ts'

export interface HealthOptions {
  services: Services
  /** BullMQ's counts, in hosted mode. */
  queueCounts?: () => Promise<Record<string, number>>
}

const gauge = (name: string, help: string, values: Record<string, number>) => [
  `# HELP ${name} ${help}`,
  `# TYPE ${name} gauge`,
  ...Object.entries(values).map(([state, n]) => `${name}{state="${state}"} ${n}`),
]

const routes: FastifyPluginAsyncZod<HealthOptions> = async (app, { services, queueCounts }) => {
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
    const [jobs, queue] = await Promise.all([services.outbox.counts(), queueCounts?.()])
    reply.type('text/plain; version=0.0.4')
    return [
      ...gauge('takehome_jobs', 'Outbox jobs by state (dead: failed on every try).', jobs),
      ...(queue ? gauge('takehome_queue_jobs', 'BullMQ jobs by state.', queue) : []),
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
