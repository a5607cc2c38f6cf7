import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pino, type Logger } from 'pino'
import { createLocalGitHost } from '../src/adapters/local-git-host.ts'
import { createLocalMailbox } from '../src/adapters/local-mailbox.ts'
import type { Mailer } from '../src/adapters/mailer.ts'
import { createInProcessQueue } from '../src/jobs/in-process.ts'
import type { PasswordHasher } from '../src/passwords.ts'
import { GIT_LIMIT_DEFAULTS } from '../src/config.ts'
import { type CoreDeps, createServices } from '../src/services/index.ts'
import { createTokenHasher } from '../src/tokens.ts'
import { createTestClock, type TestClock } from './clock.ts'
import { createTestDatabase } from './database.ts'
import type { Database } from '../src/db/client.ts'

/** Real argon2 is for production; tests need a hasher with the same contract that costs nothing. */
export const fastPasswordHasher: PasswordHasher = {
  hash: async (password) => `test$${Buffer.from(password).toString('base64')}`,
  verify: async (hash, password) => hash === `test$${Buffer.from(password).toString('base64')}`,
}

export interface TestServicesOptions {
  clock?: TestClock
  logger?: Logger
  passwords?: PasswordHasher
  appBaseUrl?: string
  publicUrl?: string
  mailer?: Mailer
  jobs?: CoreDeps['jobs']
  /** Where seeds may come from; every source is allowed unless given. */
  seedSources?: CoreDeps['seedSources']
  gitLimits?: Partial<NonNullable<CoreDeps['gitLimits']>>
  /** Sign-up mode (`SIGNUP`); the product's default, `first-user`, unless given. */
  signup?: CoreDeps['signup']
}

/** Core services on a fresh database, a temporary git root and the local mailbox (or `mailer`). */
export async function createTestServices(options: TestServicesOptions = {}) {
  const database = await createTestDatabase()
  const dataDir = mkdtempSync(path.join(tmpdir(), 'takehome-data-'))
  const clock = options.clock ?? createTestClock()
  const logger = options.logger ?? pino({ level: 'silent' })
  const gitHost = createLocalGitHost({ root: path.join(dataDir, 'git') })
  const deps: CoreDeps = {
    database,
    gitHost,
    mailer: options.mailer ?? createLocalMailbox({ logger }),
    tokens: createTokenHasher('test-pepper-0123456789abcdef0123456789'),
    passwords: options.passwords ?? fastPasswordHasher,
    clock,
    appBaseUrl: options.appBaseUrl ?? 'http://takehome.test',
    publicUrl: options.publicUrl ?? options.appBaseUrl ?? 'http://takehome.test',
    logger,
    jobs: options.jobs,
    signup: options.signup,
    // Tests seed from local repositories; tests of the policy pass their own.
    seedSources: options.seedSources ?? { localSeeds: 'allowed', allowPrivateHosts: true },
    gitLimits: { ...GIT_LIMIT_DEFAULTS, ...options.gitLimits },
  }
  const services = createServices(deps)
  const replicas: Database[] = []
  // Tests run jobs when they choose to (`drain`), so what they assert never races a timer.
  const queue = createInProcessQueue({ outbox: services.outbox, runner: services.jobs, logger })
  // Drains run one after another: a drain called while another runs waits for it, then runs
  // what is left, so when it returns every job due at its call has run (none is held elsewhere).
  let draining: Promise<void> = Promise.resolve()
  return {
    services,
    clock,
    dataDir,
    gitHost,
    db: database.db,
    /** Runs every due job, and the jobs those enqueue, to the end. */
    drain: () => (draining = draining.then(queue.drain, queue.drain)),
    /**
     * Services of a second process on this same database and git root (another API replica,
     * a worker), with its own connections and in-memory state; `adapt` may swap or wrap its
     * deps (its own clock, a gate on its transactions).
     */
    async replica(adapt: (deps: CoreDeps) => CoreDeps = (d) => d) {
      const connection = await database.connectAgain()
      replicas.push(connection)
      return createServices(adapt({ ...deps, database: connection, gitHost: createLocalGitHost({ root: path.join(dataDir, 'git') }) }))
    },
    async close() {
      await Promise.all(replicas.map((r) => r.close()))
      await database.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
export type TestServices = Awaited<ReturnType<typeof createTestServices>>
