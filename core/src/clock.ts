/** Injected wherever time matters, so deadlines are tested by moving a clock, not by sleeping. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }
