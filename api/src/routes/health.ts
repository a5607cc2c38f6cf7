import { createHash, timingSafeEqual } from 'node:crypto'
import { AppError, type Config, forbidden, type GitHost, type Services } from '@takehome/core'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errorSchema } from '../presenters.ts'

export interface HealthOptions {
  services: Services
  /** Whether the git host can work (GitHub: the app installed on the org with its permissions). */
  gitHost: Pick<GitHost, 'kind' | 'readiness'>
  /** BullMQ's counts, in hosted mode. */
  queueCounts?: () => Promise<Record<string, number>>
  /** Bearer token for /metrics; without one, only loopback callers may read it. */
  metricsToken?: string
  /** Set when proxies stand in front: then a loopback socket may be one of them. */
  trustProxy: Config['trustProxy']
}

const digest = (value: string) => createHash('sha256').update(value).digest()

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/
/** Headers a reverse proxy adds: their presence says the caller is behind one, wherever it is. */
const PROXY_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip']

/**
 * Without a token, only a caller on this host that came through no proxy: a reverse proxy
 * on the same host connects from loopback on behalf of everyone outside. So the socket must
 * be loopback, the request must carry no proxy header, and no proxy may be configured
 * (a proxy that adds no header is still one).
 */
function checkMetricsAccess(request: FastifyRequest, token: string | undefined, trustProxy: Config['trustProxy']) {
  if (token === undefined) {
    const local = LOOPBACK.test(request.socket.remoteAddress ?? '') && trustProxy === false && !PROXY_HEADERS.some((name) => name in request.headers)
    if (!local) {
      throw forbidden('/metrics answers only loopback callers that come through no proxy; behind a proxy, set METRICS_TOKEN and send it as a bearer token')
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

const routes: FastifyPluginAsyncZod<HealthOptions> = async (app, { services, gitHost, queueCounts, metricsToken, trustProxy }) => {
  app.get(
    '/healthz',
    { schema: { hide: true, response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  )

  app.get(
    '/readyz',
    {
      schema: {
        hide: true,
        response: { 200: z.object({ status: z.literal('ready'), database: z.string(), git_host: z.enum(['local', 'github']) }), 503: errorSchema },
      },
    },
    async (request, reply) => {
      try {
        await services.database.ping()
      } catch (err) {
        request.log.warn({ err }, 'readiness check failed')
        return reply.status(503).send({ error: { code: 'not_ready', message: 'the database does not answer' } })
      }
      // Cached by the host for a few seconds: polling this does not mean polling GitHub.
      const host = await gitHost.readiness()
      if (!host.ok) return reply.status(503).send({ error: { code: 'git_host_not_ready', message: host.reason } })
      return { status: 'ready' as const, database: services.database.kind, git_host: gitHost.kind }
    },
  )

  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    checkMetricsAccess(request, metricsToken, trustProxy)
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
