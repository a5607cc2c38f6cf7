import type { Services } from '@takehome/core'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { every } from './every.ts'
import { type ScheduleIntervals, scheduledTasks } from './schedules.ts'

export const JOB_QUEUE = 'takehome-jobs'
export const SCHEDULE_QUEUE = 'takehome-schedules'

export interface BullmqJobOptions extends ScheduleIntervals {
  redisUrl: string
  /** Redis key prefix of the queues (BullMQ's own by default); one per deployment sharing a Redis. */
  prefix?: string
  logger: Logger
  /** Jobs one worker process runs at once. */
  concurrency?: number
  /** How often the dispatcher moves due outbox rows onto the queue. */
  pollMs?: number
  /** A claimed row not finished by then is handed to the queue again (its jobId keeps that from doubling). */
  leaseMs?: number
}

// BullMQ's workers block on Redis; ioredis must not give up on their commands.
const connect = (url: string) => new Redis(url, { maxRetriesPerRequest: null })

/** Queue counts for operators (/metrics), readable from any process that can reach Redis. */
export function openJobQueue(redisUrl: string, prefix?: string) {
  const connection = connect(redisUrl)
  const queue = new Queue(JOB_QUEUE, { connection, prefix })
  return {
    counts: () => queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized'),
    async close() {
      await queue.close()
      connection.disconnect()
    },
  }
}

/**
 * Hosted mode's worker process: a dispatcher hands due outbox rows to BullMQ (jobId = the
 * outbox id, so a row handed over twice is one job), workers run them through the same
 * runner as the embedded default, and BullMQ job schedulers tick the schedules once per
 * interval across every replica.
 */
export async function startBullmqJobs(services: Services, options: BullmqJobOptions) {
  const { logger, prefix, concurrency = 8, pollMs = 500, leaseMs = 5 * 60_000 } = options
  const connection = connect(options.redisUrl)
  const jobs = new Queue(JOB_QUEUE, { connection, prefix })
  const schedules = new Queue(SCHEDULE_QUEUE, { connection, prefix })

  const dispatcher = every(
    'outbox-dispatch',
    pollMs,
    async () => {
      const due = await services.outbox.claimDue(100, leaseMs)
      if (due.length === 0) return 0
      // Ids only: a BullMQ payload sits in Redis in clear text.
      await jobs.addBulk(
        due.map((row) => ({
          name: row.kind,
          data: { outboxId: row.id },
          opts: { jobId: row.id, removeOnComplete: true, removeOnFail: true },
        })),
      )
      return due.length
    },
    logger,
  )

  // Retries and the dead letter are the outbox's (the runner records them there), so a
  // BullMQ job is one attempt; a retry is handed over again when the outbox says it is due.
  const jobWorker = new Worker<{ outboxId: string }>(JOB_QUEUE, (job) => services.jobs.execute(job.data.outboxId), {
    connection,
    prefix,
    concurrency,
  })

  const tasks = scheduledTasks(services, options)
  for (const task of tasks) {
    await schedules.upsertJobScheduler(task.name, { every: task.everyMs }, { name: task.name, opts: { removeOnComplete: true, removeOnFail: 100 } })
  }
  const byName = new Map(tasks.map((t) => [t.name, t]))
  const scheduleWorker = new Worker(
    SCHEDULE_QUEUE,
    async (job) => {
      const task = byName.get(job.name)
      if (!task) throw new Error(`unknown schedule ${job.name}`)
      return task.run()
    },
    { connection, prefix, concurrency: 1 },
  )
  for (const worker of [jobWorker, scheduleWorker]) {
    worker.on('failed', (job, err) => logger.error({ err, queue: worker.name, job: job?.name }, 'queue job failed'))
    worker.on('error', (err) => logger.error({ err, queue: worker.name }, 'queue worker error'))
  }

  return {
    kind: 'bullmq' as const,
    /** Stops taking work, waits for running jobs (BullMQ's close does), closes Redis. */
    async stop() {
      await dispatcher.stop()
      await Promise.all([jobWorker.close(), scheduleWorker.close()])
      await Promise.all([jobs.close(), schedules.close()])
      connection.disconnect()
    },
  }
}
