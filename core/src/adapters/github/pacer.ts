/** How often and how many at once; `Infinity` in flight leaves only the spacing. */
export interface Pace {
  /** Least time between two starts. */
  intervalMs: number
  maxInFlight: number
}

/**
 * A first-in first-out queue that starts tasks at most once per `intervalMs`, with at most
 * `maxInFlight` running. Callers past the limits wait their turn instead of failing: many
 * candidates pressing Start at once queue for GitHub's content-creation limits.
 */
export function createPacer({ intervalMs, maxInFlight }: Pace) {
  const waiting: Array<() => void> = []
  let inFlight = 0
  let nextStart = 0
  let timer: NodeJS.Timeout | undefined

  function pump() {
    if (timer) return
    while (waiting.length > 0 && inFlight < maxInFlight) {
      const wait = nextStart - Date.now()
      if (wait > 0) {
        timer = setTimeout(() => {
          timer = undefined
          pump()
        }, wait)
        return
      }
      nextStart = Date.now() + intervalMs
      inFlight++
      waiting.shift()!()
    }
  }

  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      return new Promise<void>((resolve) => {
        waiting.push(resolve)
        pump()
      })
        .then(task)
        .finally(() => {
          inFlight--
          pump()
        })
    },
  }
}

export type Pacer = ReturnType<typeof createPacer>
