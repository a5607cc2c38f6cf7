// `npm start` with REDIS_URL is still the whole product: the one process runs a BullMQ
// worker too, so an invitation is emailed with no other process started. WORKER=off makes
// it an API-only replica whose jobs wait for a dedicated worker process.
import { spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createScratchPostgres, createSourceRepo } from '@takehome/core/testing'
import { JOB_QUEUE, SCHEDULE_QUEUE } from '@takehome/worker'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import type { MailMessage } from '../../api/test/helper.ts'
import { underCI } from '../tap-report.mjs'
import { freePort, jobCounts, launch, productClient, ready, requireWebBuild, root, type Running, waitFor } from './helpers.ts'

requireWebBuild()

// Each test starts the real product on a fresh PostgreSQL database (migrations, then Next).
t.setTimeout(5 * 60_000)
const MAIL_CAP_MS = 60_000

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const PG_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'

/** Why a server cannot be used, or undefined when it can. */
async function unreachable(): Promise<string | undefined> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
  } catch (err) {
    return `Redis is unreachable at ${REDIS_URL} (${(err as Error).message})`
  } finally {
    client.disconnect()
  }
  try {
    await (await createScratchPostgres(PG_URL)).drop()
  } catch (err) {
    return `PostgreSQL is unreachable at ${new URL(PG_URL).host} (${(err as Error).message})`
  }
  return undefined
}

/** A hosted-mode installation: its own PostgreSQL database and BullMQ key prefix, removed afterwards. */
async function hosted(t: Test, extraEnv: Record<string, string> = {}) {
  const database = await createScratchPostgres(PG_URL)
  const prefix = `takehome-test-${randomUUID()}`
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
  const jobQueue = new Queue(JOB_QUEUE, { connection, prefix })
  const scheduleQueue = new Queue(SCHEDULE_QUEUE, { connection, prefix })
  const dataDir = mkdtempSync(path.join(tmpdir(), 'takehome-all-in-one-'))
  const source = createSourceRepo()
  const port = await freePort()
  const base = `http://localhost:${port}`
  const env = {
    PORT: String(port),
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    TOKEN_PEPPER: randomBytes(32).toString('hex'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    // The seed below is a local repository.
    ALLOW_LOCAL_SEEDS: 'true',
    ...extraEnv,
  }
  const runs: Running[] = []
  t.teardown(async () => {
    for (const run of runs) {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL')
      await run.exited
    }
    await Promise.all([jobQueue.obliterate({ force: true }), scheduleQueue.obliterate({ force: true })])
    await Promise.all([jobQueue.close(), scheduleQueue.close()])
    connection.disconnect()
    await database.drop()
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(source.dir, { recursive: true, force: true })
  })

  const request = productClient(base)
  const created = async (url: string, cookie: string, body: unknown) => {
    const res = await request('POST', url, { cookie, body })
    if (res.status !== 201) throw new Error(`POST ${url} answered ${res.status}: ${JSON.stringify(res.body)}`)
    return res.body
  }

  return {
    jobQueue,
    /** `npm start`'s process (scripts/start.ts), once it is ready. */
    async start() {
      const run = launch(env)
      runs.push(run)
      await ready(run, Date.now())
      return run
    },
    /** A dedicated worker process (worker/src/main.ts), as scaled deployments run it. */
    startWorker() {
      const child = spawn(process.execPath, ['--import', 'tsx', 'worker/src/main.ts'], {
        cwd: root,
        env: { ...process.env, LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      const run: Running = { child, stdout: [], stderr: [], exited: new Promise((resolve) => child.once('exit', resolve)) }
      child.stdout!.on('data', (b: Buffer) => run.stdout.push(b.toString()))
      child.stderr!.on('data', (b: Buffer) => run.stderr.push(b.toString()))
      runs.push(run)
      return run
    },
    /** Signs up the first owner, and invites one candidate to an assessment on a local seed. */
    async invite() {
      const signup = await request('POST', '/api/auth/signup', {
        body: { email: 'owner@example.com', password: 'a long password', org_name: 'Acme' },
      })
      if (signup.status !== 201) throw new Error(`signup answered ${signup.status}: ${JSON.stringify(signup.body)}`)
      const cookie = signup.headers.getSetCookie()[0]!.split(';')[0]!
      const seed = await created('/api/seeds', cookie, { source_url: source.dir })
      const assessment = await created('/api/assessments', cookie, { seed_id: seed.id, title: 'Backend exercise', time_to_start: 'P3D', time_to_complete: 'P2D' })
      await created('/api/invitations', cookie, { assessment_id: assessment.id, candidates: [{ email: 'candidate@example.com' }] })
      return cookie
    },
    async mail(cookie: string): Promise<MailMessage[]> {
      const res = await request('GET', '/api/mail', { cookie })
      if (res.status !== 200) throw new Error(`GET /api/mail answered ${res.status}`)
      return res.body.messages
    },
    jobs: () => jobCounts(base),
  }
}

const down = await unreachable()

t.test(
  'with REDIS_URL, one process runs the worker too',
  { skip: down && !underCI() ? `${down}; under CI this fails instead` : false },
  async (t) => {
    if (down) {
      t.fail(`${down} (CI is set, so these tests cannot be skipped)`)
      return
    }

    t.test('npm start sends the invitation email with no other process', async (t) => {
      const product = await hosted(t)
      const run = await product.start()
      t.ok(run.stdout.some((l) => l.includes('"jobs":"bullmq (a worker in this process)"')), 'it says where jobs run')
      t.equal((await product.jobQueue.getWorkers()).length, 1, 'one BullMQ worker serves the queue: this process')
      const cookie = await product.invite()
      const mail = await waitFor(MAIL_CAP_MS, async () => {
        const messages = await product.mail(cookie)
        return messages.length > 0 ? messages : undefined
      })
      t.same(mail?.map((m) => [m.kind, m.to]), [['invite', 'candidate@example.com']], 'the invitation was emailed')
    })

    t.test('WORKER=off: an API-only replica; the invitation waits for a worker process', async (t) => {
      const product = await hosted(t, { WORKER: 'off' })
      const run = await product.start()
      t.ok(run.stdout.some((l) => l.includes('"jobs":"bullmq (worker processes)"')), 'it says jobs run elsewhere')
      t.equal((await product.jobQueue.getWorkers()).length, 0, 'no BullMQ worker serves the queue')
      const cookie = await product.invite()
      const jobs = await product.jobs()
      t.equal(jobs['pending'], 1, 'the email job is recorded')
      t.notOk(jobs['running'] || jobs['done'], 'and nobody has taken it')
      t.same(await product.mail(cookie), [], 'no email sent')

      const worker = product.startWorker()
      const mail = await waitFor(MAIL_CAP_MS, async () => {
        const messages = await product.mail(cookie)
        return messages.length > 0 ? messages : undefined
      })
      t.same(mail?.map((m) => [m.kind, m.to]), [['invite', 'candidate@example.com']], 'a dedicated worker process sends it')
      t.equal(worker.child.exitCode, null, 'the worker process is still running')
    })
  },
)
