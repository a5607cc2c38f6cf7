// Hosted mode's worker process: runs outbox jobs and schedules from BullMQ. Start as many
// as needed (`node --import tsx worker/src/main.ts`). A dedicated API process
// (api/src/server.ts) runs none of this when REDIS_URL is set; the all-in-one start
// (scripts/start.ts) runs the same workers in its own process unless WORKER=off.
import { pathToFileURL } from 'node:url'
import { ConfigError, createLogger, loadConfig, openRuntime } from '@takehome/core'
import { startBullmqJobs } from './bullmq.ts'

export async function startWorker(env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig(env)
  if (!config.redisUrl) throw new ConfigError('REDIS_URL is required for a worker process (without it the API runs jobs itself)')
  const logger = createLogger(config.logLevel).child({ process: 'worker' })
  const { database, gitHost, services } = await openRuntime(config, logger)
  const jobs = await startBullmqJobs(services, {
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    logger,
    sweepIntervalMs: config.sweepIntervalMs,
    seedSyncIntervalMs: config.seedSyncIntervalMs,
  })
  logger.info({ database: database.kind, git_host: gitHost.kind, mailer: config.resend ? 'resend' : 'local mailbox' }, 'worker ready')

  let closing: Promise<void> | undefined
  const stop = (signal: string) => {
    closing ??= (async () => {
      logger.info(`${signal} received: finishing running jobs, taking no new ones`)
      await jobs.stop()
      await database.close()
    })()
    return closing
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      const force = setTimeout(() => process.exit(1), 30_000).unref()
      void stop(signal).then(
        () => (clearTimeout(force), process.exit(0)),
        () => process.exit(1),
      )
    })
  }
  return { stop: () => stop('stop()') }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  startWorker().catch((err: unknown) => {
    console.error(err instanceof ConfigError ? `takehome worker: configuration error: ${err.message}` : err)
    process.exit(1)
  })
}
