import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pino, type Logger } from 'pino'
import type { GitHubPacing } from '../src/adapters/github/client.ts'
import { createGitHubHost, type GitHubHost } from '../src/adapters/github/host.ts'
import { createLocalGitHost } from '../src/adapters/local-git-host.ts'
import { createLocalMailbox } from '../src/adapters/local-mailbox.ts'
import type { Mailer } from '../src/adapters/mailer.ts'
import { createInProcessQueue } from '../src/jobs/in-process.ts'
import type { PasswordHasher } from '../src/passwords.ts'
import { type Config, GIT_LIMIT_DEFAULTS } from '../src/config.ts'
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

const TEST_PEPPER = 'test-pepper-0123456789abcdef0123456789'

/** GitHub pacing for tests: no spacing between writes or creations, retries after milliseconds instead of seconds. */
export const TEST_GITHUB_PACING: GitHubPacing = { creations: { intervalMs: 0, maxInFlight: 4 }, writeIntervalMs: 0, retryAfterBaseMs: 10 }

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
  /** The GitHub App host against this GitHub (a double's `config`) instead of the local git host. */
  github?: NonNullable<Config['github']>
  /** Its pacing; TEST_GITHUB_PACING unless given. */
  githubPacing?: GitHubPacing
}

type LocalGitHost = ReturnType<typeof createLocalGitHost>
type HostFor<O> = O extends { github: NonNullable<Config['github']> } ? GitHubHost : LocalGitHost

/**
 * Core services on a fresh database, a temporary data directory and the local mailbox (or
 * `mailer`), on the local git host, or on the GitHub host when `github` is given.
 */
export async function createTestServices<O extends TestServicesOptions = TestServicesOptions>(options?: O): Promise<TestServicesOn<HostFor<O>>> {
  return (await openTestServices(options ?? {})) as TestServicesOn<HostFor<O>>
}

async function openTestServices(options: TestServicesOptions) {
  const database = await createTestDatabase()
  const dataDir = mkdtempSync(path.join(tmpdir(), 'takehome-data-'))
  const clock = options.clock ?? createTestClock()
  const logger = options.logger ?? pino({ level: 'silent' })
  const { github } = options
  // A replica is another machine: its own data directory, so its own GitHub caches.
  const makeHost = (db: Database['db'], dir: string): GitHubHost | LocalGitHost =>
    github
      ? createGitHubHost({ github, dataDir: dir, db, tokenPepper: TEST_PEPPER, logger, pacing: options.githubPacing ?? TEST_GITHUB_PACING })
      : createLocalGitHost({ root: path.join(dataDir, 'git') })
  const gitHost = makeHost(database.db, dataDir)
  const deps: CoreDeps = {
    database,
    gitHost,
    mailer: options.mailer ?? createLocalMailbox({ logger }),
    tokens: createTokenHasher(TEST_PEPPER),
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
    webhookDeliveries: 'deliveries' in gitHost ? gitHost.deliveries : undefined,
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
      const dir = path.join(dataDir, `replica-${replicas.length}`)
      return createServices(adapt({ ...deps, database: connection, gitHost: makeHost(connection.db, dir) }))
    },
    async close() {
      await Promise.all(replicas.map((r) => r.close()))
      await database.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
/** Test services on a given git host. */
export type TestServicesOn<H> = Omit<Awaited<ReturnType<typeof openTestServices>>, 'gitHost'> & { gitHost: H }
export type TestServices = TestServicesOn<LocalGitHost>
