import { randomUUID } from 'node:crypto'
import { createInProcessQueue, createResendMailer, enqueue, type JobRunner, MailerError, schema, type Outcome, type Services } from '@takehome/core'
import { createTestClock, createTestServices, startResendDouble, type TestServices, underCI } from '@takehome/core/testing'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import t from 'tap'
import { JOB_QUEUE, SCHEDULE_QUEUE, startBullmqJobs } from '../src/bullmq.ts'
import { eventually, FAST_JOBS, logger, notOnce, observeRunner, rowsOf, scriptedMailer, setupOrg } from './helpers.ts'

const LEASE_MS = 60_000
const HOUR = 3_600_000

const emailsOf = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}@example.com`)

async function outboxRow(ts: TestServices, id: string) {
  const row = await ts.services.outbox.get(id)
  if (!row) throw new Error(`outbox row ${id} is gone`)
  return row
}

t.test('in process: a failing job is retried with exponential backoff, then dead-lettered', async (t) => {
  const mailer = scriptedMailer()
  const ts = await createTestServices({ mailer, jobs: FAST_JOBS, logger })
  t.teardown(() => ts.close())
  const { services, clock } = ts
  const org = await setupOrg(t, ts)
  const [invitation] = await org.invite(['ada@example.com'])
  const [job] = await rowsOf.outbox(ts)
  t.match(job, { kind: 'email.invite', status: 'pending', attempts: 0, payload: { invitationId: invitation!.id } })
  mailer.failWhen(() => new Error('connection reset by peer'))

  const outcomes: Outcome[] = []
  /** For each retry: how long after the failure it was scheduled. */
  const waits: number[] = []
  for (let attempt = 1; attempt <= FAST_JOBS.maxAttempts; attempt++) {
    const claimed = await services.outbox.claimDue(10, LEASE_MS)
    t.same(claimed.map((j) => j.id), [job!.id], `attempt ${attempt}: the job is due and claimed`)
    const failedAt = clock.now().getTime()
    const outcome = await services.jobs.execute(job!.id)
    outcomes.push(outcome)
    if (outcome !== 'retry') break
    const row = await outboxRow(ts, job!.id)
    t.match(row, { status: 'pending', attempts: attempt, lastError: 'connection reset by peer' }, `attempt ${attempt} recorded`)
    waits.push(row.runAt.getTime() - failedAt)
    clock.set(new Date(row.runAt.getTime() - 1))
    t.same(await services.outbox.claimDue(10, LEASE_MS), [], `attempt ${attempt + 1} is not due a millisecond early`)
    clock.advance(1)
  }

  t.same(outcomes, ['retry', 'retry', 'retry', 'dead'], 'three retries, then the dead letter')
  t.equal(waits.length, 3)
  waits.forEach((wait, i) => {
    const ceiling = Math.min(FAST_JOBS.maxBackoffMs, FAST_JOBS.backoffMs * 2 ** i)
    t.ok(wait >= ceiling / 2 && wait <= ceiling, `retry ${i + 1} waited ${wait} ms, within [${ceiling / 2}, ${ceiling}]`)
  })
  // Jitter can reorder neighbours, never retries two doublings apart.
  t.ok(waits[2]! > waits[0]!, `the third wait (${waits[2]} ms) is longer than the first (${waits[0]} ms)`)

  const dead = await outboxRow(ts, job!.id)
  t.match(dead, { status: 'dead', attempts: FAST_JOBS.maxAttempts, lastError: 'connection reset by peer' })
  t.same(mailer.attempts, Array(FAST_JOBS.maxAttempts).fill(job!.id), 'one send per attempt, each keyed by the job id')
  t.same((await services.outbox.dead(org.orgId, 10)).map((j) => j.id), [job!.id], 'listed as dead for its org')
  t.same(await services.outbox.counts(), { pending: 0, running: 0, done: 0, dead: 1 })
  t.same(await rowsOf.emailEvents(ts), [], 'no email recorded')
  t.same(await rowsOf.mailbox(ts), [], 'no email stored')

  clock.advance(HOUR)
  t.same(await services.outbox.claimDue(10, LEASE_MS), [], 'a dead job is never due again')
  t.equal(await services.jobs.execute(job!.id), 'skipped', 'and a stray delivery of it does nothing')
  t.equal(mailer.attempts.length, FAST_JOBS.maxAttempts)

  // Retried from the dead letter once the mail server is back: a fresh job, sent once.
  mailer.failWhen(() => undefined)
  t.equal(await services.outbox.retry(org.orgId, job!.id), true)
  await ts.drain()
  t.match(await outboxRow(ts, job!.id), { status: 'done', attempts: 1, lastError: null })
  const mailbox = await rowsOf.mailbox(ts)
  t.equal(mailbox.length, 1)
  t.match(mailbox[0], { to: 'ada@example.com', kind: 'invite' })
  t.ok(mailbox[0]!.text.includes(invitation!.startUrl), 'the email carries the start link')
})

t.test('in process: a failure no retry can fix is dead-lettered at the first attempt', async (t) => {
  const mailer = scriptedMailer()
  const ts = await createTestServices({ mailer, jobs: FAST_JOBS, logger })
  t.teardown(() => ts.close())
  const org = await setupOrg(t, ts)
  mailer.failWhen((email) => {
    if (email.to === 'bounce@example.com') return new MailerError('Resend answered 422 validation_error: Invalid `to` field.', false)
    if (email.to === 'flaky@example.com') return new MailerError('Resend could not be reached: fetch failed', true)
    return undefined
  })
  const [bounce, flaky] = await org.invite(['bounce@example.com', 'flaky@example.com'])
  const [missingField] = await enqueue(ts.db, [{ kind: 'email.follow_up', orgId: org.orgId, payload: {} }])
  const [unknownKind] = await ts.db
    .insert(schema.outbox)
    .values({ kind: 'email.carrier_pigeon', orgId: org.orgId, payload: {}, runAt: new Date(0) })
    .returning()

  await ts.drain()

  const rows = await rowsOf.outbox(ts)
  const byInvitation = (id: string) => rows.find((r) => r.payload['invitationId'] === id)
  t.match(byInvitation(bounce!.id), { status: 'dead', attempts: 1, lastError: 'Resend answered 422 validation_error: Invalid `to` field.' }, 'a MailerError that is not retryable')
  t.match(rows.find((r) => r.id === missingField), { status: 'dead', attempts: 1, lastError: 'job payload has no invitationId' }, 'a PermanentJobError from the handler')
  t.match(rows.find((r) => r.id === unknownKind!.id), { status: 'dead', attempts: 1, lastError: 'no handler for jobs of kind email.carrier_pigeon' }, 'a kind no handler knows')
  t.match(byInvitation(flaky!.id), { status: 'pending', attempts: 1, lastError: 'Resend could not be reached: fetch failed' }, 'while a retryable MailerError is retried')
  t.same(await ts.services.outbox.counts(), { pending: 1, running: 0, done: 0, dead: 3 })
})

t.test('in process: two dispatchers draining 100 jobs at once run each exactly once', async (t) => {
  const ts = await createTestServices({ jobs: FAST_JOBS, logger })
  t.teardown(() => ts.close())
  const org = await setupOrg(t, ts)
  const emails = emailsOf(100, 'candidate')
  await org.invite(emails)
  const ids = (await rowsOf.outbox(ts)).map((r) => r.id)
  t.equal(ids.length, 100)

  const a = observeRunner(ts.services.jobs)
  const b = observeRunner(ts.services.jobs)
  const dispatcher = (runner: typeof a.runner) => createInProcessQueue({ outbox: ts.services.outbox, runner, logger, concurrency: 4, leaseMs: LEASE_MS })
  await Promise.all([dispatcher(a.runner).drain(), dispatcher(b.runner).drain()])

  const runs = [...a.runs, ...b.runs]
  t.same(notOnce(runs, ids), [], 'every job ran exactly once')
  t.equal(runs.length, 100, 'and nothing else ran')
  t.same(runs.filter((r) => r.outcome !== 'done'), [], 'every run succeeded')
  t.ok(a.runs.length > 0 && b.runs.length > 0, `both dispatchers took part (${a.runs.length} and ${b.runs.length} jobs)`)

  const rows = await rowsOf.outbox(ts)
  t.same(rows.filter((r) => r.status !== 'done' || r.attempts !== 1), [], 'every row done at its first attempt')
  const mailbox = await rowsOf.mailbox(ts)
  t.same(mailbox.map((m) => m.to).sort(), [...emails].sort(), 'one invite email per candidate')
  const events = await rowsOf.emailEvents(ts)
  t.same(events.map((e) => e.outboxId).sort(), [...ids].sort(), 'one email event per job')
})

t.test('Resend through the outbox: a 429 then a 500 are retried under one idempotency key', async (t) => {
  const double = await startResendDouble()
  const mailer = createResendMailer({ apiKey: double.apiKey, from: 'Takehome <t@example.com>', baseUrl: double.url, logger })
  const ts = await createTestServices({ mailer, jobs: FAST_JOBS, logger })
  t.teardown(async () => {
    await ts.close()
    await double.close()
  })
  const org = await setupOrg(t, ts)
  const [invitation] = await org.invite(['ada@example.com'])
  const [job] = await rowsOf.outbox(ts)
  double.failNext([429, 500])

  const passes: Array<{ status: string; attempts: number; lastError: string | null; waitMs?: number }> = []
  for (let pass = 1; pass <= FAST_JOBS.maxAttempts; pass++) {
    const before = ts.clock.now().getTime()
    await ts.drain()
    const row = await outboxRow(ts, job!.id)
    const waitMs = row.status === 'pending' ? row.runAt.getTime() - before : undefined
    passes.push({ status: row.status, attempts: row.attempts, lastError: row.lastError, waitMs })
    if (row.status !== 'pending') break
    // drain only runs due jobs: move to the retry's time.
    ts.clock.set(row.runAt)
  }

  t.same(passes.map((p) => [p.status, p.attempts]), [['pending', 1], ['pending', 2], ['done', 3]])
  t.match(passes[0]!.lastError, /^Resend answered 429 rate_limit_exceeded: /)
  t.equal(passes[0]!.waitMs, 1_000, "Resend's retry-after of 1 s outweighs the 20 ms backoff")
  t.match(passes[1]!.lastError, /^Resend answered 500 internal_server_error: /)
  const second = passes[1]!.waitMs!
  t.ok(second >= 20 && second <= 40, `without retry-after, the second retry waits the backoff (${second} ms, within [20, 40])`)
  t.equal(passes[2]!.lastError, null)

  t.same(double.requests.map((r) => r.status), [429, 500, 200], 'three requests: two refused, one accepted')
  t.same(double.requests.map((r) => r.headers['idempotency-key']), [job!.id, job!.id, job!.id], 'all under the outbox id as idempotency key')
  t.equal(double.sent.length, 1, 'one email sent')
  const [sent] = double.sent
  t.match(sent, { to: 'ada@example.com', from: 'Takehome <t@example.com>', subject: /Backend exercise/ })
  t.ok(sent!.text?.includes(invitation!.startUrl), 'the email carries the start link')

  const events = (await rowsOf.emailEvents(ts)).filter((e) => e.invitationId === invitation!.id)
  t.equal(events.length, 1, 'one email event for the invitation')
  t.match(events[0], { providerId: sent!.id, outboxId: job!.id, type: 'invite', status: 'sent', toEmail: 'ada@example.com' })

  t.equal(await ts.services.jobs.execute(job!.id), 'skipped', 'a redelivery of the finished job does nothing')
  t.equal(double.requests.length, 3, 'and asks Resend nothing')
})

t.test('in process: a job whose runner died runs once its lease lapses; release hands jobs back at once', async (t) => {
  const ts = await createTestServices({ jobs: FAST_JOBS, logger })
  t.teardown(() => ts.close())
  const { services, clock } = ts
  const org = await setupOrg(t, ts)
  await org.invite(['first@example.com', 'second@example.com'])
  const ids = (await rowsOf.outbox(ts)).map((r) => r.id)

  // A dispatcher claims a job, and its process dies before running it.
  const [stalled] = await services.outbox.claimDue(1, LEASE_MS)
  const other = ids.find((id) => id !== stalled!.id)!
  const observed = observeRunner(services.jobs)
  const queue = createInProcessQueue({ outbox: services.outbox, runner: observed.runner, logger, leaseMs: LEASE_MS })

  await queue.drain()
  t.same(observed.runs, [{ id: other, outcome: 'done' }], 'another dispatcher runs only the unclaimed job')
  t.match(await outboxRow(ts, stalled!.id), { status: 'running', attempts: 0 }, 'the claimed one stays with its dead runner')

  clock.advance(LEASE_MS - 1)
  await queue.drain()
  t.equal(observed.runs.length, 1, 'not a millisecond before the lease lapses')
  clock.advance(1)
  await queue.drain()
  t.same(observed.runs, [{ id: other, outcome: 'done' }, { id: stalled!.id, outcome: 'done' }], 'then it is claimed again and run')
  t.match(await outboxRow(ts, stalled!.id), { status: 'done', attempts: 1 })
  t.equal(await services.jobs.execute(stalled!.id), 'skipped', 'the dead runner, back to life, does nothing')
  t.same((await rowsOf.mailbox(ts)).map((m) => m.to).sort(), ['first@example.com', 'second@example.com'], 'one email each')

  // release(ids) hands back those jobs at once, release() every running one; no clock moves.
  await org.invite(['third@example.com', 'fourth@example.com'])
  const claimed = await services.outbox.claimDue(2, LEASE_MS)
  t.equal(claimed.length, 2)
  const [handedBack, kept] = claimed
  await services.outbox.release([handedBack!.id])
  t.match(await outboxRow(ts, handedBack!.id), { status: 'pending', runAt: clock.now() })
  t.match(await outboxRow(ts, kept!.id), { status: 'running' })
  await queue.drain()
  t.same(observed.runs.slice(2), [{ id: handedBack!.id, outcome: 'done' }], 'the released job runs at once, the other stays claimed')
  await services.outbox.release()
  await queue.drain()
  t.same(observed.runs.slice(3), [{ id: kept!.id, outcome: 'done' }], 'release() hands back the rest')
  t.same(notOnce(observed.runs, [...ids, handedBack!.id, kept!.id]), [], 'every job ran exactly once')
  t.same(await services.outbox.counts(), { pending: 0, running: 0, done: 4, dead: 0 })
  t.equal((await rowsOf.mailbox(ts)).length, 4)

  // Runners killed after their email went out but before they recorded the job done: the
  // rows are left running, their leases lapse, and the jobs run again, sending nothing more.
  await ts.db.update(schema.outbox).set({ status: 'running', attempts: 0, runAt: clock.now() })
  await queue.drain()
  t.same(observed.runs.slice(4).map((r) => r.outcome), ['done', 'done', 'done', 'done'], 'the four jobs ran again')
  t.equal((await rowsOf.mailbox(ts)).length, 4, 'and no email went out twice')
  t.equal((await rowsOf.emailEvents(ts)).length, 4)
})

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Why Redis cannot be used, or undefined when it can. */
async function redisUnreachable(url: string): Promise<string | undefined> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null })
  // The socket's error (ECONNREFUSED, say) says more than the rejection ("Connection is closed").
  let cause: Error | undefined
  client.on('error', (err: Error) => (cause ??= err))
  try {
    await client.connect()
    await client.ping()
    return undefined
  } catch (err) {
    return (cause ?? (err instanceof Error ? err : new Error(String(err)))).message
  } finally {
    client.disconnect()
  }
}

const redisDown = await redisUnreachable(REDIS_URL)

t.test(
  'hosted mode: jobs through BullMQ',
  { skip: redisDown && !underCI() ? `Redis is unreachable at ${REDIS_URL} (${redisDown}); under CI this fails instead` : false },
  async (t) => {
    if (redisDown) {
      t.fail(`Redis is unreachable at ${REDIS_URL}: ${redisDown} (CI is set, so the BullMQ tests cannot be skipped)`)
      return
    }
    // A key prefix of this run's own: the queues it empties are nobody else's on this Redis.
    const prefix = `takehome-test-${randomUUID()}`
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
    const jobQueue = new Queue(JOB_QUEUE, { connection, prefix })
    const scheduleQueue = new Queue(SCHEDULE_QUEUE, { connection, prefix })
    const obliterate = () => Promise.all([jobQueue.obliterate({ force: true }), scheduleQueue.obliterate({ force: true })])
    t.teardown(async () => {
      await obliterate()
      await Promise.all([jobQueue.close(), scheduleQueue.close()])
      connection.disconnect()
    })
    t.beforeEach(() => obliterate())

    /** A worker process's jobs, with schedules an hour apart so that only their first tick runs. */
    const startHosted = (services: Services) =>
      startBullmqJobs(services, { redisUrl: REDIS_URL, prefix, logger, sweepIntervalMs: HOUR, seedSyncIntervalMs: HOUR, pollMs: 10, concurrency: 4, leaseMs: LEASE_MS })

    /** The outbox, recording the ids each claim took. */
    const recordingClaims = (outbox: Services['outbox']) => {
      const claimed: string[] = []
      const recording: Services['outbox'] = {
        ...outbox,
        async claimDue(limit, leaseMs) {
          const due = await outbox.claimDue(limit, leaseMs)
          claimed.push(...due.map((j) => j.id))
          return due
        },
      }
      return { outbox: recording, claimed }
    }
    const queueEmpty = async () => Object.values(await jobQueue.getJobCounts()).every((n) => n === 0)

    /** Services on a test clock set to the real time: the outbox-prune schedule compares with Date.now(). */
    const hostedServices = (options: Parameters<typeof createTestServices>[0] = {}) =>
      createTestServices({ clock: createTestClock(new Date()), jobs: FAST_JOBS, logger, ...options })

    t.test('a failing job is retried, then dead-lettered', async (t) => {
      const mailer = scriptedMailer()
      mailer.failWhen(() => new Error('connection reset by peer'))
      const ts = await hostedServices({ mailer })
      const observed = observeRunner(ts.services.jobs)
      const hosted = await startHosted({ ...ts.services, jobs: observed.runner })
      t.teardown(async () => {
        await hosted.stop()
        await ts.close()
      })
      const org = await setupOrg(t, ts)
      await org.invite(['ada@example.com'])
      const [job] = await rowsOf.outbox(ts)

      for (let attempt = 1; attempt <= FAST_JOBS.maxAttempts; attempt++) {
        await observed.until((runs) => runs.length >= attempt, `attempt ${attempt}`)
        if (observed.runs[attempt - 1]!.outcome !== 'retry') break
        // BullMQ drops a finished job just after the runner returns; an add with its id
        // before then would be ignored, so the retry is made due only once it is gone.
        await eventually(async () => (await jobQueue.getJob(job!.id)) === undefined, `BullMQ to drop attempt ${attempt}`)
        ts.clock.set((await outboxRow(ts, job!.id)).runAt)
      }

      t.same(observed.runs.map((r) => r.outcome), ['retry', 'retry', 'retry', 'dead'], 'three retries, then the dead letter')
      t.same(observed.runs.map((r) => r.id), Array(FAST_JOBS.maxAttempts).fill(job!.id))
      t.match(await outboxRow(ts, job!.id), { status: 'dead', attempts: FAST_JOBS.maxAttempts, lastError: 'connection reset by peer' })
      t.same(mailer.attempts, Array(FAST_JOBS.maxAttempts).fill(job!.id), 'one send per attempt')
      t.same(await rowsOf.mailbox(ts), [])
    })

    t.test('two worker processes on one database run 100 jobs, each exactly once', async (t) => {
      const ts = await hostedServices()
      const processes = [observeRunner(ts.services.jobs), observeRunner(ts.services.jobs)].map((observed) => {
        const { outbox, claimed } = recordingClaims(ts.services.outbox)
        return { observed, claimed, services: { ...ts.services, outbox, jobs: observed.runner } }
      })
      const started = await Promise.all(processes.map((p) => startHosted(p.services)))
      t.teardown(async () => {
        await Promise.all(started.map((s) => s.stop()))
        await ts.close()
      })
      const org = await setupOrg(t, ts)
      const emails = emailsOf(100, 'hosted')
      await org.invite(emails)
      const ids = (await rowsOf.outbox(ts)).map((r) => r.id)
      t.equal(ids.length, 100)

      await eventually(async () => (await ts.services.outbox.counts()).done === 100, 'all 100 jobs to be done')
      // Nothing left that could still run twice: no row to hand over, no job in Redis.
      await eventually(queueEmpty, 'the BullMQ queue to empty')
      await Promise.all(started.map((s) => s.stop()))

      const [first, second] = processes
      const runs = [...first!.observed.runs, ...second!.observed.runs]
      t.same(notOnce(runs, ids), [], 'every job ran exactly once')
      t.equal(runs.length, 100, 'and nothing else ran')
      t.same(runs.filter((r) => r.outcome !== 'done'), [], 'every run succeeded')
      t.ok(first!.observed.runs.length > 0 && second!.observed.runs.length > 0, `both workers took part (${first!.observed.runs.length} and ${second!.observed.runs.length} jobs)`)
      t.same(first!.claimed.filter((id) => second!.claimed.includes(id)), [], 'the dispatchers never claimed the same row')
      t.same([...first!.claimed, ...second!.claimed].sort(), [...ids].sort(), 'and together claimed each once')
      t.same((await rowsOf.outbox(ts)).filter((r) => r.status !== 'done' || r.attempts !== 1), [], 'every row done at its first attempt')
      t.same((await rowsOf.mailbox(ts)).map((m) => m.to).sort(), [...emails].sort(), 'one invite email per candidate')
    })

    t.test('the real invite job sends each candidate their own start link, once', async (t) => {
      const ts = await hostedServices()
      const observed = observeRunner(ts.services.jobs)
      const hosted = await startHosted({ ...ts.services, jobs: observed.runner })
      t.teardown(async () => {
        await hosted.stop()
        await ts.close()
      })
      const org = await setupOrg(t, ts)
      const invitations = await org.invite(['ada@example.com', 'grace@example.com', 'linus@example.com'])
      await observed.until((runs) => runs.filter((r) => r.outcome === 'done').length >= 3, 'three invite jobs')
      await eventually(queueEmpty, 'the BullMQ queue to empty')
      await hosted.stop()

      const mailbox = await rowsOf.mailbox(ts)
      t.equal(mailbox.length, 3, 'three emails, no duplicates')
      for (const invitation of invitations) {
        const mine = mailbox.filter((m) => m.to === invitation.candidateEmail)
        t.equal(mine.length, 1, `one email to ${invitation.candidateEmail}`)
        t.match(mine[0], { kind: 'invite', orgId: org.orgId, subject: /Backend exercise/ })
        t.ok(mine[0]?.text.includes(invitation.startUrl), `it carries ${invitation.candidateEmail}'s start link`)
        t.ok(mine[0]?.html.includes(invitation.startUrl), 'in the HTML part too')
      }
      const links = invitations.map((i) => i.startUrl)
      t.same(mailbox.filter((m) => links.filter((url) => m.text.includes(url)).length !== 1), [], "no email carries another candidate's link")
      t.same(notOnce(observed.runs, (await rowsOf.outbox(ts)).map((r) => r.id)), [], 'each job ran exactly once')
      t.same((await rowsOf.emailEvents(ts)).map((e) => e.invitationId).sort(), invitations.map((i) => i.id).sort(), 'one email event per invitation')
    })

    t.test('a row handed to BullMQ again while its job still runs is not run twice', async (t) => {
      const ts = await hostedServices()
      // The first delivery is held before it starts, outside any transaction, until the test lets it go.
      let letGo = () => {}
      const heldUntil = new Promise<void>((resolve) => (letGo = resolve))
      let held: () => void = () => {}
      const firstHeld = new Promise<void>((resolve) => (held = resolve))
      let deliveries = 0
      const holding: JobRunner = {
        async execute(id) {
          if (deliveries++ === 0) {
            held()
            await heldUntil
          }
          return ts.services.jobs.execute(id)
        },
      }
      const observed = observeRunner(holding)
      const { outbox, claimed } = recordingClaims(ts.services.outbox)
      const hosted = await startHosted({ ...ts.services, outbox, jobs: observed.runner })
      t.teardown(async () => {
        letGo()
        await hosted.stop()
        await ts.close()
      })
      const org = await setupOrg(t, ts)
      await org.invite(['slow@example.com'])
      const [job] = await rowsOf.outbox(ts)
      await firstHeld

      // The job outlives its lease: the dispatcher claims the row again and hands it over again.
      ts.clock.advance(LEASE_MS)
      await eventually(async () => claimed.length === 2, 'the lapsed row to be claimed again')
      letGo()
      await observed.until((runs) => runs.length >= 1, 'the job to finish')
      await eventually(queueEmpty, 'the BullMQ queue to empty')
      await hosted.stop()

      t.same(claimed, [job!.id, job!.id], 'the row was handed over twice')
      t.equal(deliveries, 1, 'but delivered once: BullMQ knew the job by its outbox id')
      t.same(observed.runs, [{ id: job!.id, outcome: 'done' }])
      t.match(await outboxRow(ts, job!.id), { status: 'done', attempts: 1 })
      t.equal((await rowsOf.mailbox(ts)).length, 1, 'one email')
    })
  },
)

t.test("a job failing on a database error records the SQL code, never the query or its values", async (t) => {
  const mailer = scriptedMailer()
  const ts = await createTestServices({ mailer, jobs: FAST_JOBS, logger })
  t.teardown(() => ts.close())
  const org = await setupOrg(t, ts)
  await org.invite(['ada@example.com'])
  const [job] = await rowsOf.outbox(ts)
  const secret = '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g'
  const dbError = await ts.db.execute(`select '${secret}'::int`).then(
    () => undefined,
    (err: unknown) => err as Error,
  )
  t.ok(dbError, 'the bad cast fails in the database')
  t.match(String(dbError), /argon2id/, "and the driver's message holds the value")
  mailer.failWhen(() => dbError)
  await ts.services.outbox.claimDue(10, LEASE_MS)
  t.equal(await ts.services.jobs.execute(job!.id), 'retry')
  const row = await outboxRow(ts, job!.id)
  t.equal(row.lastError, 'database error 22P02', 'only the SQLSTATE is kept')
})
