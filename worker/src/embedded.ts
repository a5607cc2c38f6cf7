import { createInProcessQueue, type Services } from '@takehome/core'
import type { Logger } from 'pino'
import { every } from './every.ts'
import { type ScheduleIntervals, scheduledTasks } from './schedules.ts'

export interface EmbeddedJobOptions extends ScheduleIntervals {
  logger: Logger
  /** Set when no other process can share this database (PGlite behind its lock). */
  soleRunner: boolean
  pollMs?: number
}

/**
 * Jobs and schedules inside the one process of the embedded default: the in-process queue
 * runs outbox jobs, timers run the schedules.
 */
export async function startEmbeddedJobs(services: Services, options: EmbeddedJobOptions) {
  const { logger } = options
  // Jobs a killed process had claimed are ours to run again now, rather than when their lease lapses.
  if (options.soleRunner) await services.outbox.release()
  const queue = createInProcessQueue({ outbox: services.outbox, runner: services.jobs, logger, pollMs: options.pollMs })
  queue.start()
  const schedules = scheduledTasks(services, options).map((task) => every(task.name, task.everyMs, task.run, logger))
  return {
    kind: 'in-process' as const,
    queue,
    /** Stops taking work and lets running jobs and schedules finish. */
    async stop() {
      await Promise.all([queue.stop(), ...schedules.map((s) => s.stop())])
    },
  }
}
