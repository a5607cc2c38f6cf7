import type { Services } from '@takehome/core'
import type { Logger } from 'pino'
import { every, type Schedule } from './every.ts'

export { every, type Schedule }

/**
 * The schedules of the embedded default, run inside the one process: the deadline
 * sweeper and the batched write of git access tokens' last use.
 */
export function startSchedules(services: Services, options: { sweepIntervalMs: number; logger: Logger }) {
  const schedules = [
    every('deadline-sweeper', options.sweepIntervalMs, () => services.deadlines.sweep(), options.logger),
    every('access-last-used', 30_000, () => services.access.flushLastUsed(), options.logger),
  ]
  return {
    async stop() {
      await Promise.all(schedules.map((s) => s.stop()))
      // What was collected since the last flush is written before the process ends.
      await services.access.flushLastUsed()
    },
  }
}
