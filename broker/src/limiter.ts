export type Busy = 'overall' | 'per_token'

/**
 * Counts git requests in flight, overall and per access token. `acquire` is synchronous,
 * so no other request can slip in between the check and the count.
 */
export function createRequestLimiter({ max, maxPerKey }: { max: number; maxPerKey: number }) {
  let total = 0
  const perKey = new Map<string, number>()
  return {
    acquire(key: string): { ok: true; release: () => void } | { ok: false; busy: Busy } {
      const held = perKey.get(key) ?? 0
      if (held >= maxPerKey) return { ok: false, busy: 'per_token' }
      if (total >= max) return { ok: false, busy: 'overall' }
      total++
      perKey.set(key, held + 1)
      let released = false
      return {
        ok: true,
        release() {
          if (released) return
          released = true
          total--
          const left = perKey.get(key)! - 1
          if (left === 0) perKey.delete(key)
          else perKey.set(key, left)
        },
      }
    },
  }
}
