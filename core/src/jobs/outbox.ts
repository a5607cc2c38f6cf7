import { and, count, desc, eq, inArray, lte, sql } from 'drizzle-orm'
import type { Clock } from '../clock.ts'
import type { Db, Executor } from '../db/client.ts'
import { outbox } from '../db/schema/index.ts'

/** Every side effect that must happen once, in effect, whatever crashes in between. */
export const JOB_KINDS = [
  'email.invite',
  'email.reminder',
  'email.follow_up',
  'email.expiry_notice',
  'email.member_invite',
  'email.password_reset',
  'email.signup_confirm',
  'repo.finalize',
  'seed.follow_head',
] as const
export type JobKind = (typeof JOB_KINDS)[number]

/** Ids and small enums only: in hosted mode the job also sits in Redis, in clear text. */
export type JobPayload = Record<string, string>

export interface NewJob {
  kind: JobKind
  orgId: string | null
  payload: JobPayload
  /** A job with a key exists at most once: enqueueing the same key again does nothing. */
  key?: string
  /** Not before this time; unset: as soon as a runner is free. */
  runAt?: Date
}

// "Due since forever": services and tests run on their own clock, which the database's now() is not.
const IMMEDIATELY = new Date(0)

export type Job = typeof outbox.$inferSelect

/**
 * Writes jobs (returning the ids of those written) with the caller's executor: called inside the transaction of the state
 * change that causes them, so the change and its follow-up commit together or not at all.
 */
export async function enqueue(exec: Executor, jobs: NewJob[]): Promise<string[]> {
  if (jobs.length === 0) return []
  const rows = await exec
    .insert(outbox)
    .values(jobs.map((j) => ({ kind: j.kind, orgId: j.orgId, payload: j.payload, key: j.key, runAt: j.runAt ?? IMMEDIATELY })))
    .onConflictDoNothing({ target: outbox.key })
    .returning({ id: outbox.id })
  return rows.map((r) => r.id)
}

export interface Failure {
  message: string
  /** When to try again; undefined: never (dead-lettered). */
  retryAt?: Date
}

/** The outbox table as a work queue: claims with leases, so dispatchers in many processes never share a job. */
export function createOutbox({ db, clock }: { db: Db; clock: Clock }) {
  return {
    /**
     * Claims up to `limit` jobs that are due (or whose claim lapsed because their runner
     * died) and leases them for `leaseMs`. SKIP LOCKED lets concurrent dispatchers take
     * disjoint sets instead of waiting on each other.
     */
    async claimDue(limit: number, leaseMs: number): Promise<Job[]> {
      const now = clock.now()
      const due = db
        .select({ id: outbox.id })
        .from(outbox)
        .where(and(inArray(outbox.status, ['pending', 'running']), lte(outbox.runAt, now)))
        .orderBy(outbox.runAt, outbox.createdAt)
        .limit(limit)
        .for('update', { skipLocked: true })
      return db
        .update(outbox)
        .set({ status: 'running', runAt: new Date(now.getTime() + leaseMs), updatedAt: now })
        .where(inArray(outbox.id, due))
        .returning()
    },

    async get(id: string): Promise<Job | undefined> {
      const [job] = await db.select().from(outbox).where(eq(outbox.id, id))
      return job
    },

    async succeeded(id: string, attempts: number) {
      await db.update(outbox).set({ status: 'done', attempts, lastError: null, updatedAt: clock.now() }).where(eq(outbox.id, id))
    },

    async failed(id: string, attempts: number, failure: Failure) {
      const now = clock.now()
      await db
        .update(outbox)
        .set({
          status: failure.retryAt ? 'pending' : 'dead',
          attempts,
          lastError: failure.message.slice(0, 2000),
          runAt: failure.retryAt ?? now,
          updatedAt: now,
        })
        .where(eq(outbox.id, id))
    },

    /**
     * Hands claimed-but-unfinished jobs back at once. Only for a process that knows no
     * other runner shares its database (the embedded default, behind its data-dir lock),
     * or for jobs it claimed itself and will not run (shutdown).
     */
    async release(ids?: string[]) {
      await db
        .update(outbox)
        .set({ status: 'pending', runAt: clock.now() })
        .where(and(eq(outbox.status, 'running'), ids ? inArray(outbox.id, ids) : undefined))
    },

    /** Job counts by state, for /metrics. */
    async counts(): Promise<Record<(typeof outbox.$inferSelect)['status'], number>> {
      const rows = await db.select({ status: outbox.status, n: count() }).from(outbox).groupBy(outbox.status)
      const counts = { pending: 0, running: 0, done: 0, dead: 0 }
      for (const row of rows) counts[row.status] = Number(row.n)
      return counts
    },

    /** Dead-lettered jobs of one org, newest first. */
    dead(orgId: string, limit: number) {
      return db
        .select()
        .from(outbox)
        .where(and(eq(outbox.orgId, orgId), eq(outbox.status, 'dead')))
        .orderBy(desc(outbox.updatedAt))
        .limit(limit)
    },

    /** Puts a dead job back in the queue, as if new. */
    async retry(orgId: string, id: string): Promise<boolean> {
      const rows = await db
        .update(outbox)
        .set({ status: 'pending', attempts: 0, runAt: clock.now(), updatedAt: clock.now() })
        .where(and(eq(outbox.id, id), eq(outbox.orgId, orgId), eq(outbox.status, 'dead')))
        .returning({ id: outbox.id })
      return rows.length > 0
    },

    /** Drops jobs finished more than `ageMs` ago, so the table stays small. Keyed jobs stay: they are what keeps a reminder from being sent twice. */
    async prune(ageMs: number) {
      const before = new Date(clock.now().getTime() - ageMs)
      await db.delete(outbox).where(and(eq(outbox.status, 'done'), lte(outbox.updatedAt, before), sql`${outbox.key} is null`))
    },
  }
}

export type Outbox = ReturnType<typeof createOutbox>
