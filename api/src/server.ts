import { pathToFileURL } from 'node:url'
import path from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  ConfigError,
  createLocalGitHost,
  createLocalMailbox,
  createPasswordHasher,
  createServices,
  createTokenHasher,
  DataDirLockedError,
  loadConfig,
  openPglite,
  openPostgres,
  systemClock,
} from '@takehome/core'
import { startSchedules } from '@takehome/worker'
import { buildApp } from './app.ts'
import { createLogger } from './logger.ts'

export interface StartOptions {
  env?: NodeJS.ProcessEnv
  /** The web app's request handler, mounted for every path the API does not own. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => Promise<void>
}

/** Composition root: config → logger → database → adapters → services → Fastify → listen. */
export async function startServer(options: StartOptions = {}) {
  const startedAt = performance.now()
  const config = loadConfig(options.env)
  const logger = createLogger(config.logLevel)
  const database = config.databaseUrl
    ? await openPostgres(config.databaseUrl)
    : await openPglite(path.join(config.dataDir, 'pg'))
  const gitHost = createLocalGitHost({ root: path.join(config.dataDir, 'git') })
  const services = createServices({
    database,
    gitHost,
    mailer: createLocalMailbox({ logger }),
    tokens: createTokenHasher(config.tokenPepper),
    passwords: createPasswordHasher(),
    clock: systemClock,
    appBaseUrl: config.appBaseUrl,
    publicUrl: config.publicUrl,
  })
  const app = await buildApp({ services, config, logger, gitProjectRoot: gitHost.candidatesRoot, fallback: options.fallback })
  const schedules = startSchedules(services, { sweepIntervalMs: config.sweepIntervalMs, logger })
  app.addHook('onClose', async () => {
    await schedules.stop()
    await database.close()
  })
  await app.listen({ port: config.port, host: config.host })
  logger.info(
    {
      url: config.publicUrl,
      database: database.kind,
      git_host: 'local',
      mailer: 'local mailbox',
      ready_in_ms: Math.round(performance.now() - startedAt),
    },
    'Takehome is ready',
  )
  closeOnSignals(app, logger)
  return { app, config }
}

function closeOnSignals(app: { close(): Promise<unknown> }, logger: { info(msg: string): void }) {
  let closing = false
  const close = (signal: string) => {
    if (closing) return
    closing = true
    logger.info(`${signal} received, closing`)
    const force = setTimeout(() => process.exit(1), 10_000).unref()
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
