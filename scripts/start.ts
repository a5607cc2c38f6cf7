// The whole product in one process: API, git gateway, web app and jobs on one origin. With
// REDIS_URL the jobs run in a BullMQ worker here (WORKER=off leaves them to worker
// processes). Scaled deployments run api/src/server.ts, worker/src/main.ts and `next start` apart.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { explainStartupFailure, type StartOptions, startServer } from '@takehome/api/server'
import { startBullmqJobs } from '@takehome/worker'

type WebHandler = NonNullable<StartOptions['fallback']>

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'web')

async function main() {
  // handler.mjs is plain JavaScript so that `next` is only loaded here, never by the API.
  const { createWebHandler } = (await import(path.join(webDir, 'handler.mjs'))) as {
    createWebHandler(options: { dir: string }): Promise<WebHandler>
  }
  const fallback = await createWebHandler({ dir: webDir })
  const { config } = await startServer({
    fallback,
    worker: ({ services, config, redisUrl, logger }) =>
      startBullmqJobs(services, {
        redisUrl,
        prefix: config.queuePrefix,
        logger: logger.child({ process: 'worker' }),
        sweepIntervalMs: config.sweepIntervalMs,
        seedSyncIntervalMs: config.seedSyncIntervalMs,
      }),
  })
  console.log(`\n  Takehome is running at ${config.publicUrl}  ·  API docs ${config.publicUrl}/docs  ·  Ctrl-C stops it\n`)
}

main().catch(explainStartupFailure)
