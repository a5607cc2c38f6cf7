// Forcing a race instead of hoping for one: replicas held at a point until the test lets each
// go, in the order it chooses. The same technique as api/test/concurrency.test.ts.
import { EventEmitter, once } from 'node:events'
import type { Database } from '@takehome/core'
import { type SQL, sql } from 'drizzle-orm'
import type { Built } from './helper.ts'

/**
 * Holds callers at a point until the test lets each go. Arrivals are announced, so a test
 * waits for them as events, never for time.
 */
export function gate() {
  const held = new Map<string, () => void>()
  const events = new EventEmitter()
  let shut = true
  return {
    /** Called by the wrapped code: waits here while the gate is shut. */
    async pass(who: string) {
      if (!shut) return
      await new Promise<void>((resolve) => {
        held.set(who, resolve)
        events.emit('arrived')
      })
    },
    /**
     * Resolves once every one of `who` is held; rejects if one of `racers` settles first, which
     * means it finished without reaching the gate (the race did not happen).
     */
    async reached(who: string[], racers: Array<Promise<unknown>>) {
      const noShow = Promise.race(racers.map((r) => r.then(() => {}, () => {}))).then(() => {
        throw new Error(`finished without reaching the gate; held: ${[...held.keys()].join(', ') || 'none'}`)
      })
      const all = (async () => {
        while (!who.every((w) => held.has(w))) await once(events, 'arrived')
      })()
      await Promise.race([all, noShow])
    },
    /** Lets `who` go; from the first release on, nobody else is held. */
    release(who: string) {
      shut = false
      held.get(who)!()
      held.delete(who)
    },
    shut() {
      shut = true
    },
  }
}
export type Gate = ReturnType<typeof gate>

/** `database` whose transactions pass `g` as `who` before they begin. */
export function gatedTransactions(database: Database, g: Gate, who: string): Database {
  const db = new Proxy(database.db, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target)
      if (prop !== 'transaction') return typeof value === 'function' ? value.bind(target) : value
      return async (...args: Parameters<Database['db']['transaction']>) => {
        await g.pass(who)
        return target.transaction(...args)
      }
    },
  })
  return { ...database, db }
}

const rowsOf = <T,>(result: unknown) => (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[]

/** On PostgreSQL: backends of this database waiting for a lock, polled until there are `n` (bounded). */
export async function lockWaiters(built: Pick<Built, 'db'>, n: number) {
  for (let i = 0; i < 2_000; i++) {
    const [row] = rowsOf<{ n: number }>(
      await built.db.execute(sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`),
    )
    if (row!.n >= n) return row!.n
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error(`fewer than ${n} backends ever waited for a lock`)
}

/**
 * Lets `first`, then `second`, through `g` so that both are in the database at once. On
 * PostgreSQL a third session holds a row (`lockRow`, a `select … for update`) until both are
 * seen waiting for it, then frees it; PGlite has one connection, so there they simply run one
 * after the other, in that order. Answers how many were seen waiting at once (0 on PGlite).
 */
export async function releaseInOrder(built: Pick<Built, 'db'>, g: Gate, [first, second]: [string, string], lockRow: SQL, postgres: boolean) {
  if (!postgres) {
    g.release(first)
    g.release(second)
    return 0
  }
  let free!: () => void
  const freed = new Promise<void>((resolve) => (free = resolve))
  let holding!: () => void
  const held = new Promise<void>((resolve) => (holding = resolve))
  const holder = built.db.transaction(async (tx) => {
    await tx.execute(lockRow)
    holding()
    await freed
  })
  await held
  g.release(first)
  await lockWaiters(built, 1)
  g.release(second)
  const waiting = await lockWaiters(built, 2)
  free()
  await holder
  return waiting
}
