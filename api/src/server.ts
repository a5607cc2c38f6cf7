import { pathToFileURL } from 'node:url'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type Config, ConfigError, createLogger, DataDirLockedError, loadConfig, openRuntime, type Services } from '@takehome/core'
import type { Logger } from 'pino'
import { every, openJobQueue, startEmbeddedJobs } from '@takehome/worker'
import { buildApp } from './app.ts'

export interface StartOptions {
  env?: NodeJS.ProcessEnv
  /** The web app's request handler, mounted for every path the API does not own. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => Promise<void>
  /**
   * Starts BullMQ job workers in this process, when REDIS_URL is set and WORKER is not off:
   * the all-in-one start (scripts/start.ts) passes one, so that one command runs every part.
   * A dedicated API process passes none and leaves jobs to worker processes.
   */
  worker?: (runtime: { services: Services; config: Config; redisUrl: string; logger: Logger }) => Promise<{ stop(): Promise<void> }>
}

/**
 * Composition root: config → logger → runtime (database, adapters, services) → Fastify →
 * listen. Without REDIS_URL the jobs and schedules run in this process; with it, they run
 * in BullMQ workers: the caller's `worker` in this process, and any worker processes
 * (worker/src/main.ts). This one reports their queue either way.
 */
export async function startServer(options: StartOptions = {}) {
  const startedAt = performance.now()
  const config = loadConfig(options.env)
  const logger = createLogger(config.logLevel)
  const { database, gitHost, services } = await openRuntime(config, logger)
  const queue = config.redisUrl ? openJobQueue(config.redisUrl, config.queuePrefix) : undefined
  const worker =
    config.redisUrl && config.worker && options.worker
      ? await options.worker({ services, config, redisUrl: config.redisUrl, logger })
      : undefined
  const jobs = queue
    ? undefined
    : await startEmbeddedJobs(services, {
        logger,
        sweepIntervalMs: config.sweepIntervalMs,
        seedSyncIntervalMs: config.seedSyncIntervalMs,
        soleRunner: database.kind === 'pglite',
      })
  // Last use of git access tokens is collected by this process's broker, so it writes it.
  const lastUsed = every('access-last-used', 30_000, () => services.access.flushLastUsed(), logger)
  const app = await buildApp({
    services,
    config,
    logger,
    gitHost,
    queueCounts: queue?.counts,
    fallback: options.fallback,
  })
  app.addHook('onClose', async () => {
    await Promise.all([jobs?.stop(), worker?.stop(), lastUsed.stop(), queue?.close()])
    await services.access.flushLastUsed()
    await database.close()
  })
  await app.listen({ port: config.port, host: config.host })
  logger.info(
    {
      url: config.publicUrl,
      database: database.kind,
      git_host: gitHost.kind,
      mailer: config.resend ? 'resend' : 'local mailbox',
      jobs: queue ? (worker ? 'bullmq (a worker in this process)' : 'bullmq (worker processes)') : 'in-process',
      ready_in_ms: Math.round(performance.now() - startedAt),
    },
    'Takehome is ready',
  )
  // Not a reason to refuse to start: the app can be installed, or its permissions accepted, afterwards.
  void gitHost.readiness().then((readiness) => {
    if (!readiness.ok) logger.warn(`the git host is not ready (/readyz says so until it is): ${readiness.reason}`)
  })
  closeOnSignals(app, logger)
  return { app, config }
}

function closeOnSignals(app: { close(): Promise<unknown> }, logger: { info(msg: string): void }) {
  let closing = false
  const close = (signal: string) => {
    if (closing) return
    closing = true
    logger.info(`${signal} received, closing`)
    // Running jobs get 10 s to finish (then they are released for the next start).
    const force = setTimeout(() => process.exit(1), 20_000).unref()
    app.close().then(
      () => {
        clearTimeout(force)
        process.exit(0)
      },
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', () => close('SIGTERM'))
  process.once('SIGINT', () => close('SIGINT'))
}

/** Start-up failures we can explain get one clear line, not a stack trace. */
export function explainStartupFailure(err: unknown): never {
  if (err instanceof ConfigError) console.error(`takehome: configuration error: ${err.message}`)
  else if (err instanceof DataDirLockedError) console.error(`takehome: ${err.message}`)
  else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`takehome: port already in use (${(err as Error).message}); set PORT to another port`)
  } else console.error('takehome: failed to start:', err)
  process.exit(1)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  startServer().catch(explainStartupFailure)
}
