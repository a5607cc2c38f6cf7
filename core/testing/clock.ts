import type { Clock } from '../src/clock.ts'

/** A clock tests move by hand: deadlines are crossed by advancing it, never by sleeping. */
export function createTestClock(start = new Date('2026-11-01T09:00:00Z')) {
  let now = start.getTime()
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms
    },
    set(date: Date) {
      now = date.getTime()
    },
  } satisfies Clock & Record<string, unknown>
}
export type TestClock = ReturnType<typeof createTestClock>
