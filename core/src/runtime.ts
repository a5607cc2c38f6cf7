import path from 'node:path'
import type { Logger } from 'pino'
import type { GitHost } from './adapters/git-host.ts'
import { createGitHubHost } from './adapters/github/host.ts'
import { createLocalGitHost } from './adapters/local-git-host.ts'
import { createLocalMailbox } from './adapters/local-mailbox.ts'
import { createResendMailer } from './adapters/resend-mailer.ts'
import { systemClock } from './clock.ts'
import type { Config } from './config.ts'
import { openPglite, openPostgres } from './db/client.ts'
import { createPasswordHasher } from './passwords.ts'
import { createServices } from './services/index.ts'
import { createTokenHasher } from './tokens.ts'

/**
 * Picks each adapter from configuration and wires the services: the one composition the
 * API process and the worker process share, so both run the same domain on the same adapters.
 */
export async function openRuntime(config: Config, logger: Logger) {
  const database = config.databaseUrl ? await openPostgres(config.databaseUrl) : await openPglite(path.join(config.dataDir, 'pg'))
  const github = config.github
    ? createGitHubHost({ github: config.github, dataDir: config.dataDir, db: database.db, tokenPepper: config.tokenPepper, logger })
    : undefined
  const gitHost: GitHost & { candidatesRoot?: string } = github ?? createLocalGitHost({ root: path.join(config.dataDir, 'git') })
  const mailer = config.resend
    ? createResendMailer({ apiKey: config.resend.apiKey, from: config.resend.from, baseUrl: config.resend.apiUrl, logger })
    : createLocalMailbox({ logger })
  const services = createServices({
    database,
    gitHost,
    mailer,
    tokens: createTokenHasher(config.tokenPepper),
    passwords: createPasswordHasher(),
    clock: systemClock,
    logger,
    appBaseUrl: config.appBaseUrl,
    publicUrl: config.publicUrl,
    reminders: config.reminders,
    signup: config.signup,
    seedSources: { localSeeds: config.localSeeds, allowPrivateHosts: config.allowPrivateSeedHosts },
    gitLimits: config.git,
    webhookDeliveries: github?.deliveries,
  })
  return { database, gitHost, mailer, services }
}
