import type { Services } from '@takehome/core'

export interface ScheduleIntervals {
  sweepIntervalMs: number
  seedSyncIntervalMs: number
}

export interface ScheduledTask {
  name: string
  everyMs: number
  run(): Promise<unknown>
}

const HOUR = 3_600_000
const WEBHOOK_REDELIVERY_INTERVAL_MS = 10 * 60_000
const KEEP_FINISHED_JOBS_MS = 7 * 24 * HOUR
const RETENTION_INTERVAL_MS = HOUR

/**
 * The periodic work of the product, the same in both modes: timers run it in the embedded
 * default, BullMQ job schedulers in hosted mode (one run per tick across all replicas).
 * Each task is safe to run twice; the schedulers only keep that from being the norm.
 */
export function scheduledTasks(services: Services, intervals: ScheduleIntervals): ScheduledTask[] {
  const redeliver = services.githubEvents.redeliverFailed
  return [
    { name: 'deadline-sweeper', everyMs: intervals.sweepIntervalMs, run: () => services.deadlines.sweep() },
    { name: 'reminders', everyMs: intervals.sweepIntervalMs, run: () => services.reminders.scan() },
    { name: 'seed-sync', everyMs: intervals.seedSyncIntervalMs, run: () => services.seeds.syncAll() },
    // Finished jobs, expired account links (sign-up requests hold password hashes), and
    // webhook deliveries long past GitHub's redelivery window.
    {
      name: 'outbox-prune',
      everyMs: HOUR,
      run: async () => {
        await services.outbox.prune(KEEP_FINISHED_JOBS_MS)
        await services.accounts.pruneExpiredLinks()
        await services.githubEvents.pruneDeliveries(KEEP_FINISHED_JOBS_MS)
      },
    },
    // Candidates' personal data past their org's retention_days: erased in bounded batches.
    { name: 'retention', everyMs: RETENTION_INTERVAL_MS, run: () => services.privacy.sweepRetention() },
    // GitHub does not retry a failed webhook delivery (GitHub App mode only).
    ...(redeliver ? [{ name: 'webhook-redelivery', everyMs: WEBHOOK_REDELIVERY_INTERVAL_MS, run: redeliver }] : []),
  ]
}
