import type { GitHost } from '../adapters/git-host.ts'
import type { Mailer } from '../adapters/mailer.ts'
import type { Clock } from '../clock.ts'
import type { Database } from '../db/client.ts'
import type { PasswordHasher } from '../passwords.ts'
import type { TokenHasher } from '../tokens.ts'
import { createAccessService } from './access.ts'
import { createAccountService } from './accounts.ts'
import { createAssessmentService } from './assessments.ts'
import { createCandidateService } from './candidate.ts'
import { createDeadlineService } from './deadlines.ts'
import { createInvitationService } from './invitations.ts'
import { createLifecycle } from './lifecycle.ts'
import { createMailboxService } from './mailbox.ts'
import { createReviewService } from './review.ts'
import { createSeedService } from './seeds.ts'

export interface CoreDeps {
  database: Database
  gitHost: GitHost
  mailer: Mailer
  tokens: TokenHasher
  passwords: PasswordHasher
  clock: Clock
  /** Origin of the pages candidates open (`APP_BASE_URL`). */
  appBaseUrl: string
  /** Origin git talks to (`PUBLIC_URL`). */
  publicUrl: string
}

/** Every domain service, wired to one set of adapters. */
export function createServices(deps: CoreDeps) {
  const { database, gitHost, mailer, tokens, passwords, clock, appBaseUrl, publicUrl } = deps
  const db = database.db
  const access = createAccessService({ db, tokens, clock })
  const lifecycle = createLifecycle({ db, gitHost, clock, access })
  return {
    database,
    access,
    accounts: createAccountService({ db, tokens, passwords, clock }),
    seeds: createSeedService({ db, gitHost, clock }),
    assessments: createAssessmentService({ db, clock }),
    invitations: createInvitationService({ db, tokens, mailer, clock, lifecycle, appBaseUrl }),
    candidate: createCandidateService({ db, gitHost, tokens, clock, lifecycle, publicUrl }),
    deadlines: createDeadlineService({ db, clock, lifecycle }),
    review: createReviewService({ db, gitHost }),
    mailbox: createMailboxService({ db, mailer }),
  }
}

export type Services = ReturnType<typeof createServices>
