import type { Logger } from 'pino'
import { MailerError } from '../adapters/mailer.ts'
import type { Clock } from '../clock.ts'
import { outsideOrgScope } from '../db/org-scope.ts'
import { AppError, databaseError } from '../errors.ts'
import { type Job, JOB_KINDS, type JobKind, type Outbox } from './outbox.ts'

/** Runs one job. Must be idempotent: read current state first, act only if still needed. */
export type JobHandler = (job: Job) => Promise<void>
export type JobHandlers = Record<JobKind, JobHandler>

/** A failure that no retry can fix (the input itself is wrong): dead-lettered at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError'
}

export type Outcome = 'done' | 'retry' | 'dead' | 'skipped'

export interface RunnerOptions {
  outbox: Outbox
  handlers: JobHandlers
  clock: Clock
  logger: Logger
  /** Tries before a job is dead-lettered. */
  maxAttempts?: number
  /** The first retry waits about this long; each next one twice as long, up to `maxBackoffMs`. */
  backoffMs?: number
  maxBackoffMs?: number
}

export const JOB_DEFAULTS = { maxAttempts: 8, backoffMs: 2_000, maxBackoffMs: 15 * 60_000 }

const isKnownKind = (kind: string): kind is JobKind => (JOB_KINDS as readonly string[]).includes(kind)
// A refused input (a template deleted since the job was queued, say) fails the same way every time.
const isPermanent = (err: unknown) =>
  err instanceof PermanentJobError ||
  (err instanceof MailerError && !err.retryable) ||
  (err instanceof AppError && err.statusCode < 500)

/**
 * Executes outbox jobs: the same code whichever transport delivered the id (the in-process
 * dispatcher, or a BullMQ worker). The outbox row is the record of truth: attempts,
 * last error, next try and the dead letter all live there, in both modes.
 */
export function createJobRunner({ outbox, handlers, clock, logger, ...options }: RunnerOptions) {
  const { maxAttempts, backoffMs, maxBackoffMs } = { ...JOB_DEFAULTS, ...options }

  /** Exponential, with jitter so that jobs failing together do not retry together. */
  const backoff = (attempts: number) => {
    const ceiling = Math.min(maxBackoffMs, backoffMs * 2 ** (attempts - 1))
    return ceiling / 2 + (Math.random() * ceiling) / 2
  }

  return {
    // Jobs are system work (org-scope.ts), also when a request's own code awaits one.
    execute: (id: string): Promise<Outcome> => outsideOrgScope(() => execute(id)),
  }

  async function execute(id: string): Promise<Outcome> {
    const job = await outbox.get(id)
    // Gone, or finished by another runner (a lapsed lease, a redelivery): nothing to do.
    if (!job || job.status === 'done' || job.status === 'dead') return 'skipped'
    const attempts = job.attempts + 1
    const log = logger.child({ job_id: job.id, job_kind: job.kind, attempt: attempts })
    const started = performance.now()
    try {
      if (!isKnownKind(job.kind)) throw new PermanentJobError(`no handler for jobs of kind ${job.kind}`)
      await handlers[job.kind](job)
      await outbox.succeeded(id, attempts)
      log.info({ ms: Math.round(performance.now() - started) }, 'job done')
      return 'done'
    } catch (err) {
      // A database error's own message holds the query and its parameters: keep only its code.
      const message = databaseError(err)?.message ?? (err instanceof Error ? err.message : String(err))
      const final = isPermanent(err) || attempts >= maxAttempts
      const asked = err instanceof MailerError ? (err.retryAfterMs ?? 0) : 0
      const retryAt = final ? undefined : new Date(clock.now().getTime() + Math.max(backoff(attempts), asked))
      await outbox.failed(id, attempts, { message, retryAt })
      if (final) log.error({ err }, 'job failed for the last time; dead-lettered')
      else log.warn({ err, retry_at: retryAt }, 'job failed; will retry')
      return final ? 'dead' : 'retry'
    }
  }
}

export type JobRunner = ReturnType<typeof createJobRunner>
