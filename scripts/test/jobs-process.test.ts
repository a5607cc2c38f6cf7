// The job system as an operator meets it: the real embedded-default process (scripts/start.ts)
// killed, left alone and stopped, seen only through HTTP. Work the product acknowledged
// must be done exactly once, whatever happened to the process after it answered.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { openPglite, schema } from '@takehome/core'
import { candidateMachine, createSourceRepo, startResendDouble } from '@takehome/core/testing'
import t, { type Test } from 'tap'
import type { MailMessage } from '../../api/test/helper.ts'
import { freePort, jobCounts, launch, productClient, ready, requireWebBuild, type Running, waitFor } from './helpers.ts'

requireWebBuild()

// Six start-ups of the real product (a fresh DATA_DIR takes about 15 s on two idle cores,
// twice that on busy ones) and a real clone and push: minutes, not the default two.
t.setTimeout(10 * 60_000)

const OWNER = { email: 'owner@example.com', password: 'a long password', org_name: 'Acme' }
// Generous caps on waiting, so that a loaded machine fails only what is really broken.
const MAIL_CAP_MS = 60_000
const SWEEP_CAP_MS = 30_000

/**
 * One product installation: a DATA_DIR and a port that outlive its processes, so that a
 * restart is the same installation (the start links in emails carry the origin).
 */
async function installation(t: Test, env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'takehome-jobs-'))
  const port = await freePort()
  const base = `http://localhost:${port}`
  const runs: Running[] = []
  t.teardown(async () => {
    for (const run of runs) {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL')
      await run.exited
    }
    rmSync(dataDir, { recursive: true, force: true })
  })

  /** Starts a process on this installation. */
  const launchHere = () => {
    const run = launch({ PORT: String(port), DATA_DIR: dataDir, ...env })
    runs.push(run)
    return run
  }

  const request = productClient(base)

  return {
    dataDir,
    base,
    request,

    launch: launchHere,

    /** Starts a process on this installation and resolves once it is ready. */
    async start() {
      const started = Date.now()
      const run = launchHere()
      return { run, ms: await ready(run, started) }
    },

    /** Signs up the owner (or logs in again) and returns the session cookie. */
    async session(how: 'signup' | 'login') {
      const res = await request('POST', `/api/auth/${how}`, {
        body: how === 'signup' ? OWNER : { email: OWNER.email, password: OWNER.password },
      })
      if (res.status !== (how === 'signup' ? 201 : 200)) throw new Error(`${how} answered ${res.status}: ${JSON.stringify(res.body)}`)
      return res.headers.getSetCookie()[0]!.split(';')[0]!
    },

    async mail(cookie: string): Promise<MailMessage[]> {
      const res = await request('GET', '/api/mail?limit=200', { cookie })
      if (res.status !== 200) throw new Error(`GET /api/mail answered ${res.status}`)
      return res.body.messages
    },

    jobs: () => jobCounts(base),

    /** A seed from a fresh local repository (one commit on main) and an assessment on it. */
    async assessment(cookie: string, durations: { time_to_start: string; time_to_complete: string }) {
      const source = createSourceRepo()
      t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))
      const seed = await request('POST', '/api/seeds', { cookie, body: { source_url: source.dir } })
      if (seed.status !== 201) throw new Error(`POST /api/seeds answered ${seed.status}: ${JSON.stringify(seed.body)}`)
      const assessment = await request('POST', '/api/assessments', {
        cookie,
        body: { seed_id: seed.body.id, title: 'Backend exercise', ...durations },
      })
      if (assessment.status !== 201) throw new Error(`POST /api/assessments answered ${assessment.status}: ${JSON.stringify(assessment.body)}`)
      return assessment.body as { id: string }
    },
  }
}

type Installation = Awaited<ReturnType<typeof installation>>

/** Polls `probe` until it returns a value, or returns undefined once `capMs` has passed. */
/** Every invite email, once the job queue has nothing left to do (or the cap has passed). */
async function settledMail(product: Installation, cookie: string, expected: number) {
  return waitFor(MAIL_CAP_MS, async () => {
    const messages = await product.mail(cookie)
    const jobs = await product.jobs()
    return messages.length >= expected && !jobs['pending'] && !jobs['running'] ? messages : undefined
  })
}

/** Anything left that looks meant as a placeholder: `{start_link}`, `{{name}}`, `%7Bstart_link%7D`. */
const PLACEHOLDER = /\{+\s*[A-Za-z_][\w.-]*\s*\}+|%7B[A-Za-z_]+%7D/i
const START_URL = /https?:\/\/[^\s<>"')]+\/start\/thi_[0-9A-Za-z]+/g

/** Each candidate got exactly one invite, carrying their own start link and no unfilled variable. */
function checkInvites(t: Test, messages: MailMessage[], invitations: Array<{ candidate_email: string; start_url: string }>) {
  t.equal(messages.length, invitations.length, `exactly ${invitations.length} emails`)
  t.same(messages.filter((m) => m.kind !== 'invite'), [], 'all of them invites')
  const byRecipient = new Map<string, MailMessage[]>()
  for (const m of messages) byRecipient.set(m.to, [...(byRecipient.get(m.to) ?? []), m])
  const duplicated = [...byRecipient].filter(([, sent]) => sent.length > 1).map(([to]) => to)
  t.same(duplicated, [], 'nobody got two')
  const missing = invitations.filter((i) => !byRecipient.has(i.candidate_email)).map((i) => i.candidate_email)
  t.same(missing, [], 'nobody was left out')
  const wrongLink = invitations
    .filter((i) => {
      const links = new Set(byRecipient.get(i.candidate_email)?.flatMap((m) => m.text.match(START_URL) ?? []))
      return links.size !== 1 || !links.has(i.start_url)
    })
    .map((i) => i.candidate_email)
  t.same(wrongLink, [], "each email carries its candidate's own start link, and no other")
  const unfilled = messages.filter((m) => [m.subject, m.text, m.html].some((part) => PLACEHOLDER.test(part)))
  t.same(unfilled.map((m) => m.to), [], 'no email has an unfilled {variable}')
}

t.test('SIGKILL right after the 201, and again mid-sending: no invite email lost, none sent twice', async (t) => {
  const product = await installation(t)
  const first = await product.start()
  t.comment(`start-up, fresh DATA_DIR: ${first.ms} ms`)
  const cookie = await product.session('signup')
  const assessment = await product.assessment(cookie, { time_to_start: 'P3D', time_to_complete: 'P2D' })
  const candidates = Array.from({ length: 50 }, (_, i) => ({ email: `candidate-${String(i).padStart(2, '0')}@example.com`, name: `Candidate ${i}` }))

  const res = await fetch(`${product.base}/api/invitations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: product.base, cookie },
    body: JSON.stringify({ assessment_id: assessment.id, candidates }),
  })
  // In the tick the response arrives: the jobs are committed, and (almost) none has run.
  first.run.child.kill('SIGKILL')
  const killedAt = Date.now()
  t.equal(res.status, 201, 'the invitations were accepted')
  const { invitations } = (await res.json()) as { invitations: Array<{ candidate_email: string; start_url: string }> }
  t.equal(invitations.length, 50)
  t.equal(await first.run.exited, null, 'the process died of the signal')

  // Killed again in the middle of sending: when it logs the first email stored, the rest of
  // that batch is in flight, its jobs claimed under a lease of minutes. The next start must
  // hand them back at once (no other process can run them), and none may be sent twice.
  const second = product.launch()
  const killedAgainAt = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      if (!chunk.toString().includes('email stored in the local mailbox')) return
      second.child.kill('SIGKILL')
      second.child.stdout!.off('data', onData)
      resolve(Date.now())
    }
    second.child.stdout!.on('data', onData)
    void second.exited.then(() => reject(new Error(`the restarted process exited before it sent anything: ${second.stderr.join('\n')}`)))
  })
  await second.exited
  const storedBySecond = second.stdout.filter((l) => l.includes('email stored in the local mailbox')).length
  const doneBySecond = second.stdout.filter((l) => l.includes('"job done"')).length
  t.comment(`the restarted process logged ${storedBySecond} email(s) stored and ${doneBySecond} job(s) done before the second kill`)

  const third = await product.start()
  t.comment(`second restart: ${third.ms} ms`)
  const again = await product.session('login')
  const atRestart = await product.mail(again)
  const beforeKill = atRestart.filter((m) => Date.parse(m.created_at) < killedAt).length
  const beforeSecondKill = atRestart.filter((m) => Date.parse(m.created_at) < killedAgainAt).length
  t.comment(
    `emails sent before the first kill: ${beforeKill} of 50; before the second: ${beforeSecondKill}; ` +
      `in the mailbox when the third process was first asked: ${atRestart.length}`,
  )
  t.ok(beforeKill < 50, 'the first kill interrupted the sending')

  const waited = Date.now()
  const messages = await settledMail(product, again, 50)
  t.comment(`the rest arrived ${Date.now() - waited} ms after the third process was asked`)
  t.ok(messages, `the job queue settled within ${MAIL_CAP_MS / 1000} s`)
  checkInvites(t, messages ?? (await product.mail(again)), invitations)
  const failed = await product.request('GET', '/api/jobs/failed', { cookie: again })
  t.equal(failed.status, 200)
  t.same(failed.body.jobs, [], 'no job was dead-lettered')
})

t.test('the sweeper ends an overdue invitation, records its final commit and archives it, with no request', async (t) => {
  const product = await installation(t, { SWEEP_INTERVAL_MS: '1000' })
  const { ms } = await product.start()
  t.comment(`start-up, fresh DATA_DIR: ${ms} ms`)
  const cookie = await product.session('signup')
  // Long enough for a clone and a push before the deadline; short enough to wait out.
  const assessment = await product.assessment(cookie, { time_to_start: 'P3D', time_to_complete: 'PT15S' })
  const invited = await product.request('POST', '/api/invitations', {
    cookie,
    body: { assessment_id: assessment.id, candidates: [{ email: 'ada@example.com', name: 'Ada' }] },
  })
  t.equal(invited.status, 201)
  const invitation = invited.body.invitations[0] as { id: string; start_url: string }
  const token = invitation.start_url.split('/start/')[1]!

  const started = await product.request('POST', `/api/start/${token}`)
  t.equal(started.status, 200, 'Start answers 200')
  t.equal(started.body.status, 'started')
  const completeDeadline = Date.parse(started.body.complete_deadline)

  const ada = candidateMachine()
  t.teardown(() => rmSync(ada.home, { recursive: true, force: true }))
  const clone = await ada.shell(started.body.git.clone_command)
  t.equal(clone.code, 0, `the clone command works: ${clone.stderr}`)
  const work = path.join(ada.home, path.basename(started.body.git.clone_url, '.git'))
  await ada.shell(`printf 'done\\n' > ANSWER.md`, work)
  t.equal((await ada.git(work, ['add', 'ANSWER.md'])).code, 0)
  t.equal((await ada.git(work, ['commit', '-qm', 'Answer'])).code, 0)
  const push = await ada.git(work, ['push', 'origin', 'main'])
  t.equal(push.code, 0, `the push before the deadline works: ${push.stderr}`)
  const pushedSha = (await ada.git(work, ['rev-parse', 'HEAD'])).stdout.trim()
  t.comment(`Start, clone, commit and push: ${Date.now() - Date.parse(started.body.started_at)} ms of the 15 s`)

  // From here on, only the admin looks: nothing on the candidate's side settles the deadline.
  const detail = await waitFor(Math.max(0, completeDeadline - Date.now()) + SWEEP_CAP_MS, async () => {
    const res = await product.request('GET', `/api/invitations/${invitation.id}`, { cookie })
    return res.body.status === 'expired' && res.body.repo?.final_sha ? res.body : undefined
  })
  t.ok(detail, `expired and finalised within ${SWEEP_CAP_MS / 1000} s of the deadline`)
  if (!detail) return
  t.comment(`recorded ${Date.parse(detail.expired_at) - completeDeadline} ms after the deadline (sweep every 1000 ms)`)
  t.ok(Date.parse(detail.expired_at) >= completeDeadline, 'not before the deadline')
  t.equal(detail.repo.final_sha, pushedSha, 'final_sha is the pushed commit')
  t.not(detail.repo.final_sha, detail.repo.base_sha)
  t.equal(detail.repo.archived, true, 'the repository is archived')
  t.ok(detail.repo.archived_at, 'with the time it was archived')

  // The finalize job tells the admins once it has recorded the commit and closed the repository.
  const notice = await waitFor(SWEEP_CAP_MS, async () => (await product.mail(cookie)).find((m) => m.kind === 'notice'))
  t.ok(notice, 'the owner is told that time ran out')
  t.equal(notice?.to, OWNER.email)
  t.match(notice?.text, `captured at commit ${pushedSha} and the repository archived`)
})

t.test('SIGTERM with an email send in flight: a clean close hands that job back, and the next start sends it once', async (t) => {
  // Resend's stand-in holds one send unanswered, so a job is certainly running when the signal arrives.
  const resend = await startResendDouble()
  t.teardown(() => resend.close())
  const product = await installation(t, { RESEND_API_KEY: resend.apiKey, RESEND_API_URL: resend.url, EMAIL_FROM: 'Takehome <hiring@example.com>' })
  const first = await product.start()
  t.comment(`start-up, fresh DATA_DIR: ${first.ms} ms`)
  const cookie = await product.session('signup')
  const assessment = await product.assessment(cookie, { time_to_start: 'P3D', time_to_complete: 'P2D' })
  const held = resend.holdNext()
  const candidates = Array.from({ length: 20 }, (_, i) => ({ email: `term-${i}@example.com` }))
  const invited = await product.request('POST', '/api/invitations', { cookie, body: { assessment_id: assessment.id, candidates } })
  t.equal(invited.status, 201)
  const inFlight = await held
  // The job id is the send's idempotency key: this is the job the process is running now.
  const jobId = inFlight.headers['idempotency-key']
  t.match(jobId, /^[0-9a-f-]{36}$/, 'the send in flight carries its job id')
  const recipient = (inFlight.body as { to: string }).to

  const sentBeforeSignal = resend.sent.length
  const signalled = Date.now()
  first.run.child.kill('SIGTERM')
  const code = await first.run.exited
  const closeMs = Date.now() - signalled
  t.comment(`SIGTERM to exit, with a send hanging: ${closeMs} ms`)
  t.equal(code, 0, 'exit 0: closed, not forced')
  t.ok(closeMs < 20_000, 'within the 20 s force-exit window')
  t.ok(first.run.stdout.some((l) => l.includes('SIGTERM received, closing')), 'it said why it closed')
  t.same(readdirSync(product.dataDir).filter((f) => f.endsWith('.lock')), [], 'the database lock was released')
  t.equal(resend.sent.filter((e) => e.idempotencyKey === jobId).length, 0, 'the held send never completed')

  // Between the processes, the database as the closed one left it (a start hands back whatever
  // is claimed, so only this look can tell a handback at shutdown from one at the next start).
  const database = await openPglite(path.join(product.dataDir, 'pg'))
  const jobs = await database.db.select().from(schema.outbox)
  await database.close()
  const job = jobs.find((j) => j.id === jobId)
  t.equal(job?.kind, 'email.invite', 'the job in flight is an invite')
  t.equal(job?.status, 'pending', 'it was handed back at shutdown, not left claimed under its lease')
  t.same(jobs.filter((j) => j.status === 'running').map((j) => j.id), [], 'no job is left claimed')

  const second = await product.start()
  t.comment(`restart after a clean close: ${second.ms} ms`)
  const health = await fetch(`${product.base}/healthz`)
  t.equal(health.status, 200)
  t.same(await health.json(), { status: 'ok' })
  const sent = await waitFor(MAIL_CAP_MS, async () => (resend.sent.length >= candidates.length ? resend.sent : undefined))
  t.ok(sent, `every invite was sent within ${MAIL_CAP_MS / 1000} s of the restart`)
  const again = resend.sent.filter((e) => e.idempotencyKey === jobId)
  t.same(again.map((e) => e.to), [recipient], 'the handed-back job ran after the restart and sent its email, once')
  t.equal(resend.requests.filter((r) => r.headers['idempotency-key'] === jobId).length, 2, 'in two attempts: the one cut off and the one after the restart')
  t.same(resend.sent.map((e) => e.to).sort(), candidates.map((c) => c.email).sort(), 'each candidate got exactly one invite')
  t.comment(`emails sent when the signal arrived: ${sentBeforeSignal} of ${candidates.length}`)

  second.run.child.kill('SIGTERM')
  t.equal(await second.run.exited, 0, 'and it closes cleanly again')
})
