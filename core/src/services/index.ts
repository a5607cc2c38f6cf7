import type { Logger } from 'pino'
import type { GitHost } from '../adapters/git-host.ts'
import type { Mailer } from '../adapters/mailer.ts'
import type { WebhookDeliveryLog } from '../adapters/webhook-deliveries.ts'
import type { Clock } from '../clock.ts'
import { type Config, GIT_LIMIT_DEFAULTS } from '../config.ts'
import type { Database } from '../db/client.ts'
import { createJobHandlers } from '../jobs/handlers.ts'
import { createOutbox } from '../jobs/outbox.ts'
import { createJobRunner, type RunnerOptions } from '../jobs/runner.ts'
import type { PasswordHasher } from '../passwords.ts'
import type { TokenHasher } from '../tokens.ts'
import { createAccessService } from './access.ts'
import { createAccountService } from './accounts.ts'
import { createAssessmentService } from './assessments.ts'
import { createAuditLogService } from './audit-log.ts'
import { createCandidateService } from './candidate.ts'
import { createDashboardService } from './dashboard.ts'
import { createDeadlineService } from './deadlines.ts'
import { createEmailTemplateService } from './email-templates.ts'
import { createGitHubEventService } from './github-events.ts'
import { createJobAdminService } from './job-admin.ts'
import { createInvitationService } from './invitations.ts'
import { createLifecycle } from './lifecycle.ts'
import { createMailboxService } from './mailbox.ts'
import { createMemberService } from './members.ts'
import { createPrivacyService } from './privacy.ts'
import { createReminderService } from './reminders.ts'
import { createReviewService } from './review.ts'
import { createSeedService } from './seeds.ts'
import { createSupabaseIdentityService } from './supabase-identity.ts'

export interface CoreDeps {
  database: Database
  gitHost: GitHost
  mailer: Mailer
  tokens: TokenHasher
  passwords: PasswordHasher
  clock: Clock
  logger: Logger
  /** Origin of the pages candidates open (`APP_BASE_URL`). */
  appBaseUrl: string
  /** Origin git talks to (`PUBLIC_URL`). */
  publicUrl: string
  reminders?: { hoursBeforeStart: number; hoursBeforeComplete: number }
  /** Who may sign up (`SIGNUP`); tests that make many orgs use `open`. */
  signup?: Config['signup']
  /** Where seeds may come from (`ALLOW_LOCAL_SEEDS`, `ALLOW_PRIVATE_SEED_HOSTS`). */
  seedSources?: { localSeeds: Config['localSeeds']; allowPrivateHosts: boolean }
  /** Push size, disk and request limits of candidate repositories. */
  gitLimits?: Config['git']
  /** Retry policy of jobs (tests shorten it). */
  jobs?: Pick<RunnerOptions, 'maxAttempts' | 'backoffMs' | 'maxBackoffMs'>
  /** The GitHub App's record of its webhook deliveries, for redelivering failed ones (GitHub App mode). */
  webhookDeliveries?: WebhookDeliveryLog
}

export const DEFAULT_REMINDERS = { hoursBeforeStart: 24, hoursBeforeComplete: 24 }

/** Every domain service, wired to one set of adapters. */
export function createServices(deps: CoreDeps) {
  const { database, gitHost, mailer, tokens, passwords, clock, logger, appBaseUrl, publicUrl } = deps
  const db = database.db
  const gitLimits = { ...GIT_LIMIT_DEFAULTS, ...deps.gitLimits }
  const access = createAccessService({ db, tokens, clock })
  const lifecycle = createLifecycle({ db, gitHost, clock, access })
  const templates = createEmailTemplateService({ db, clock })
  const outbox = createOutbox({ db, clock })
  // A caller that says nothing gets the strict policy: reading local paths or internal hosts is opted into.
  const seeds = createSeedService({ db, gitHost, clock, sources: deps.seedSources ?? { localSeeds: 'refused', allowPrivateHosts: false } })
  const handlers = createJobHandlers({ db, mailer, gitHost, lifecycle, seeds, templates, tokens, clock, appBaseUrl })
  return {
    database,
    /** What the git gateway enforces; the API process serves git with these. */
    gitLimits,
    access,
    accounts: createAccountService({ db, tokens, passwords, clock, signup: deps.signup ?? 'first-user' }),
    members: createMemberService({ db, tokens, clock }),
    /** Users signing in with Supabase access tokens (hosted mode); unused with local accounts. */
    supabaseIdentity: createSupabaseIdentityService({ db, tokens, clock, signup: deps.signup ?? 'first-user' }),
    seeds,
    assessments: createAssessmentService({ db, clock, pushMaxBytes: gitLimits.pushMaxBytes }),
    invitations: createInvitationService({ db, tokens, clock, lifecycle, templates, access, appBaseUrl }),
    candidate: createCandidateService({ db, gitHost, tokens, clock, lifecycle, publicUrl }),
    deadlines: createDeadlineService({ db, clock, lifecycle }),
    reminders: createReminderService({ db, clock, ...DEFAULT_REMINDERS, ...deps.reminders }),
    review: createReviewService({ db, gitHost, logger }),
    dashboard: createDashboardService({ db, clock }),
    mailbox: createMailboxService({ db, mailer }),
    githubEvents: createGitHubEventService({ db, clock, seeds, access, logger, deliveries: deps.webhookDeliveries }),
    emailTemplates: templates,
    auditLog: createAuditLogService({ db }),
    privacy: createPrivacyService({ db, gitHost, tokens, clock, lifecycle, access, logger }),
    outbox,
    jobAdmin: createJobAdminService({ db, outbox }),
    jobs: createJobRunner({ outbox, handlers, clock, logger, ...deps.jobs }),
  }
}

export type Services = ReturnType<typeof createServices>
