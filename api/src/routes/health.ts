import { createHash, timingSafeEqual } from 'node:crypto'
import { AppError, forbidden, type Services } from '@takehome/core'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errorSchema } from '../presenters.ts'

export interface HealthOptions {
  services: Services
  /** BullMQ's counts, in hosted mode. */
  queueCounts?: () => Promise<Record<string, number>>
  /** Bearer token for /metrics; without one, only loopback callers may read it. */
  metricsToken?: string
}

const digest = (value: string) => createHash('sha256').update(value).digest()

/** The socket's own address, never X-Forwarded-For: a proxy on this host is not a loopback caller. */
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/

function checkMetricsAccess(request: FastifyRequest, token: string | undefined) {
  if (token === undefined) {
    if (!LOOPBACK.test(request.socket.remoteAddress ?? '')) {
      throw forbidden('/metrics answers loopback callers only; set METRICS_TOKEN to read it from elsewhere')
    }
    return
  }
  const given = /^bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1]
  // Compared as digests: equal lengths, and the comparison says nothing about the token.
  if (given === undefined || !timingSafeEqual(digest(given), digest(token))) {
    throw new AppError(401, 'unauthenticated', '/metrics needs `Authorization: Bearer <METRICS_TOKEN>`')
  }
}

const gauge = (name: string, help: string, values: Record<string, number>) => [
  `# HELP ${name} ${help}`,
  `# TYPE ${name} gauge`,
  ...Object.entries(values).map(([state, n]) => `${name}{state="${state}"} ${n}`),
]

const routes: FastifyPluginAsyncZod<HealthOptions> = async (app, { services, queueCounts, metricsToken }) => {
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

  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    checkMetricsAccess(request, metricsToken)
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
