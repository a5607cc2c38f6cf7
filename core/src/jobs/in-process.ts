import type { Logger } from 'pino'
import type { Outbox } from './outbox.ts'
import type { JobRunner } from './runner.ts'

export interface InProcessOptions {
  outbox: Outbox
  runner: JobRunner
  logger: Logger
  /** Jobs run at once. */
  concurrency?: number
  /** How often due jobs are looked for. */
  pollMs?: number
  /** A claimed job not finished by then is taken by another dispatcher (its runner died). */
  leaseMs?: number
}

/**
 * The embedded default's job queue: pending outbox rows are claimed and run inside this
 * process. Several such processes on one PostgreSQL share the work without sharing a job.
 */
export function createInProcessQueue({ outbox, runner, logger, concurrency = 4, pollMs = 250, leaseMs = 5 * 60_000 }: InProcessOptions) {
  const active = new Map<Promise<unknown>, string>()
  let timer: NodeJS.Timeout | undefined
  let polling = false
  let closed = false
  let pass: Promise<unknown> = Promise.resolve()

  /** Claims what fits beside the running jobs and starts it; the number claimed. */
  async function fill(): Promise<number> {
    const free = concurrency - active.size
    if (free <= 0 || closed) return 0
    const jobs = await outbox.claimDue(free, leaseMs)
    for (const job of jobs) {
      const run: Promise<unknown> = runner
        .execute(job.id)
        .catch((err: unknown) => logger.error({ err, job_id: job.id }, 'job runner error'))
        .finally(() => active.delete(run))
      active.set(run, job.id)
    }
    return jobs.length
  }

  const poll = () => {
    pass = fill()
      .catch((err: unknown) => logger.error({ err }, 'claiming jobs failed'))
      .finally(() => {
        if (!closed) timer = setTimeout(poll, pollMs).unref()
      })
  }

  return {
    kind: 'in-process' as const,

    start() {
      if (polling) return
      polling = true
      poll()
    },

    /** Runs every due job, and what those enqueue, until none is left. For tests and one-off scripts. */
    async drain() {
      for (;;) {
        const claimed = await fill()
        await Promise.all(active.keys())
        if (claimed === 0 && active.size === 0) return
      }
    },

    /**
     * Takes no new work and lets running jobs finish within `graceMs`; those still running
     * then are handed back, so another runner takes them now rather than when the lease lapses.
     */
    async stop(graceMs = 10_000) {
      closed = true
      clearTimeout(timer)
      await pass
      const grace = new Promise((resolve) => setTimeout(resolve, graceMs).unref())
      await Promise.race([Promise.all(active.keys()), grace])
      if (active.size > 0) await outbox.release([...active.values()])
    },
  }
}

export type InProcessQueue = ReturnType<typeof createInProcessQueue>
