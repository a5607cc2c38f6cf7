export type Busy = 'overall' | 'per_token'

/** How long a request past the overall cap may wait for a slot, and how many may wait. */
export interface Queueing {
  maxWaitMs: number
  maxWaiting: number
}

/**
 * Many candidates starting at once (a class given the same assessment) make many git
 * requests at once; each is short, so waiting for a slot beats failing. The wait is long
 * enough for a burst on a small machine (200 candidates at once on two cores, in GitHub
 * mode, waited past 30 s), and git itself waits on an answer without a time limit.
 */
export const DEFAULT_QUEUEING = { maxWaitMs: 120_000, waitingPerSlot: 8 }

export type Acquired = { ok: true; release: () => void; /** It waited for its slot. */ queued: boolean } | { ok: false; busy: Busy }

interface Waiter {
  key: string
  grant: (acquired: Acquired) => void
}

/**
 * Counts git requests in flight, overall and per access token. Past the per-token cap a
 * request is refused at once: one candidate cannot take the others' slots. Past the
 * overall cap it waits, first come first served, for at most `maxWaitMs` and behind at
 * most `maxWaiting` others, then is refused; a waiting request counts against its token's
 * cap. The counts change synchronously, so no request slips in between a check and its count.
 */
export function createRequestLimiter({ max, maxPerKey, queueing }: { max: number; maxPerKey: number; queueing?: Partial<Queueing> }) {
  const { maxWaitMs = DEFAULT_QUEUEING.maxWaitMs, maxWaiting = DEFAULT_QUEUEING.waitingPerSlot * max } = queueing ?? {}
  let total = 0
  const perKey = new Map<string, number>()
  const waiting: Waiter[] = []

  function unhold(key: string) {
    const left = perKey.get(key)! - 1
    if (left === 0) perKey.delete(key)
    else perKey.set(key, left)
  }

  function slot(key: string, queued: boolean): Acquired {
    total++
    let released = false
    return {
      ok: true,
      queued,
      release() {
        if (released) return
        released = true
        total--
        unhold(key)
        const next = waiting.shift()
        if (next) next.grant(slot(next.key, true))
      },
    }
  }

  return {
    /**
     * A slot or a refusal at once, or, past the overall cap, a promise of one after waiting;
     * `signal` (the client went away) gives up waiting.
     */
    acquire(key: string, signal?: AbortSignal): Acquired | Promise<Acquired> {
      const held = perKey.get(key) ?? 0
      if (held >= maxPerKey) return { ok: false, busy: 'per_token' }
      if (total < max && waiting.length === 0) {
        perKey.set(key, held + 1)
        return slot(key, false)
      }
      if (waiting.length >= maxWaiting || signal?.aborted) return { ok: false, busy: 'overall' }
      perKey.set(key, held + 1)
      return new Promise<Acquired>((resolve) => {
        const giveUp = () => {
          const at = waiting.indexOf(waiter)
          if (at < 0) return
          waiting.splice(at, 1)
          done({ ok: false, busy: 'overall' })
        }
        const timer = setTimeout(giveUp, maxWaitMs)
        signal?.addEventListener('abort', giveUp, { once: true })
        const done = (acquired: Acquired) => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', giveUp)
          if (!acquired.ok) unhold(key)
          resolve(acquired)
        }
        const waiter: Waiter = { key, grant: done }
        waiting.push(waiter)
      })
    },

    /** Requests waiting for a slot now. */
    waiting: () => waiting.length,
  }
}
