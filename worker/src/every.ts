import type { Logger } from 'pino'

export interface Schedule {
  /** Stops the schedule and waits for a run in progress to finish. */
  stop(): Promise<void>
  /** Runs the task now (the next run is timed from its end). */
  runNow(): Promise<void>
}

/**
 * Runs `task` every `intervalMs`, never two at once: the next run is timed from the end
 * of the last, so a slow run delays the next instead of piling up behind it.
 */
export function every(name: string, intervalMs: number, task: () => Promise<unknown>, logger: Logger): Schedule {
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  let stopped = false

  const run = () => {
    running = running.then(async () => {
      if (stopped) return
      const started = performance.now()
      try {
        const result = await task()
        logger.debug({ schedule: name, ms: Math.round(performance.now() - started), result }, 'scheduled run finished')
      } catch (err) {
        logger.error({ err, schedule: name }, 'scheduled run failed')
      }
    })
    return running
  }
  const arm = () => {
    if (!stopped) timer = setTimeout(() => void run().then(arm), intervalMs).unref()
  }
  arm()

  return {
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
    runNow: async () => {
      clearTimeout(timer)
      await run()
      arm()
    },
  }
}
