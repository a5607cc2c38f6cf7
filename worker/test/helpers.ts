import { rmSync } from 'node:fs'
import { type Actor, createLocalMailbox, type JobRunner, type Mailer, type OutgoingEmail, type Outcome, schema } from '@takehome/core'
import { createSourceRepo, type TestServices } from '@takehome/core/testing'
import { pino } from 'pino'
import type { Test } from 'tap'

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })

/** A retry policy short enough for tests: ceilings of 20, 40, 80 ms before the fourth, last try. */
export const FAST_JOBS = { backoffMs: 20, maxBackoffMs: 200, maxAttempts: 4 }

/** A week to start: nothing in these tests comes near a start deadline or its reminder. */
const WEEK_SECONDS = 7 * 24 * 3600

let orgs = 0

/** An owner, their org, a seed mirrored from a fresh local repository and an assessment on it. */
export async function setupOrg(t: Test, ts: TestServices) {
  orgs++
  const { services } = ts
  const signup = await services.accounts.signup({
    email: `owner${orgs}@example.com`,
    password: 'correct horse battery',
    orgName: `Org ${orgs}`,
  })
  if (signup.status !== 'created') throw new Error('the first sign-up of a fresh database creates the org')
  const actor: Actor = { userId: signup.user.id, orgId: signup.org.id, role: 'owner', via: 'session' }
  const source = createSourceRepo()
  t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))
  const seed = await services.seeds.create(actor, { sourceUrl: source.dir })
  const assessment = await services.assessments.create(actor, {
    seedId: seed.id,
    title: 'Backend exercise',
    timeToStartSeconds: WEEK_SECONDS,
    timeToCompleteSeconds: 4 * 3600,
  })
  return {
    actor,
    orgId: actor.orgId,
    assessment,
    /** Invites one candidate per email; each invitation enqueues one `email.invite` job. */
    invite: (emails: string[]) =>
      services.invitations.create(actor, { assessmentId: assessment.id, candidates: emails.map((email) => ({ email })) }),
  }
}

/** Every row of a table (the test databases are fresh and small). */
export const rowsOf = {
  outbox: (ts: TestServices) => ts.db.select().from(schema.outbox),
  emailEvents: (ts: TestServices) => ts.db.select().from(schema.emailEvents),
  mailbox: (ts: TestServices) => ts.db.select().from(schema.mailboxMessages),
}

export interface Run {
  id: string
  outcome: Outcome | 'threw'
}

/** Job ids that ran other than exactly once among `ids`, with their run counts (expected: none). */
export function notOnce(runs: Run[], ids: string[]) {
  const counts = new Map<string, number>()
  for (const run of runs) counts.set(run.id, (counts.get(run.id) ?? 0) + 1)
  return ids.filter((id) => counts.get(id) !== 1).map((id) => ({ id, runs: counts.get(id) ?? 0 }))
}

/**
 * Wraps a runner to record every execution and its outcome, and to let a test wait for
 * the executions it expects (woken by each one, never by a timer).
 */
export function observeRunner(inner: JobRunner) {
  const runs: Run[] = []
  const waiters = new Set<() => void>()
  const runner: JobRunner = {
    async execute(id) {
      try {
        const outcome = await inner.execute(id)
        runs.push({ id, outcome })
        return outcome
      } catch (err) {
        runs.push({ id, outcome: 'threw' })
        throw err
      } finally {
        for (const wake of waiters) wake()
      }
    },
  }
  return {
    runner,
    runs,
    /** Resolves once `done(runs)` holds; rejects after `timeoutMs` saying what it waited for. */
    until(done: (runs: Run[]) => boolean, what: string, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!done(runs)) return
          cleanup()
          resolve()
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`timed out waiting for ${what}; runs so far: ${JSON.stringify(runs)}`))
        }, timeoutMs)
        const cleanup = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      })
    },
  }
}

/**
 * Polls a condition on a system that cannot tell us when it changes (Redis), until it
 * holds; fails with `what` after `timeoutMs`. The wait is never asserted on.
 */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * The local mailbox, failing the sends `failWhen` picks (every send, or some recipients).
 * Records the idempotency key of every attempt. Typed against the interface it replaces.
 */
export function scriptedMailer(): Mailer & { attempts: string[]; failWhen(pick: (email: OutgoingEmail) => Error | undefined): void } {
  const local = createLocalMailbox({ logger })
  let pick: (email: OutgoingEmail) => Error | undefined = () => undefined
  const attempts: string[] = []
  return {
    kind: 'local',
    attempts,
    async send(exec, email) {
      attempts.push(email.idempotencyKey ?? '(no key)')
      const failure = pick(email)
      if (failure) throw failure
      return local.send(exec, email)
    },
    failWhen: (next) => void (pick = next),
  }
}
