// Races the lifecycle must win: many Start clicks at once, Start on two replicas, Submit
// against the sweeper. Each race test first proves that its race happened (both sides were
// in flight at once, held there by a gate), then that it left exactly one outcome.
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { AppError, type CoreDeps, schema } from '@takehome/core'
import { createSourceRepo, createTestClock, git } from '@takehome/core/testing'
import { eq, sql } from 'drizzle-orm'
import t from 'tap'
import { gate, gatedTransactions, releaseInOrder } from './gate.ts'
import { build, invited } from './helper.ts'

t.test('50 concurrent Start clicks on one invitation create one repository', async (t) => {
  const built = await build(t)
  const { invitations } = await invited(built, createSourceRepo().dir, ['ada@example.com'])
  const token = invitations[0]!.token
  const responses = await Promise.all(
    Array.from({ length: 50 }, () => built.app.inject({ method: 'POST', url: `/api/start/${token}` })),
  )
  t.same([...new Set(responses.map((r) => r.statusCode))], [200], 'every click answers 200')
  const commands = new Set(responses.map((r) => r.json().git?.clone_command))
  t.equal(commands.size, 1, 'every click gets the same clone command')
  t.notOk(commands.has(undefined), 'and it is there')
  t.equal((await built.db.select().from(schema.candidateRepos)).length, 1, 'one candidate_repos row')
  t.equal((await built.db.select().from(schema.accessTokens)).length, 1, 'one access token')
  const dirs = readdirSync(built.gitHost.candidatesRoot).filter((d) => !d.startsWith('.'))
  t.equal(dirs.length, 1, 'one repository on disk, no staging left behind')
  const started = await built.db
    .select()
    .from(schema.auditEvents)
    .where(eq(schema.auditEvents.kind, 'invitation.started'))
  t.equal(started.length, 1, 'started once')
})

t.test('Start on two replicas at once: both reach repository creation, and one repository with one base commit results', async (t) => {
  const built = await build(t)
  const { invitations } = await invited(built, createSourceRepo().dir, ['ada@example.com'])
  const token = invitations[0]!.token
  const g = gate()
  // Two API processes on one database and one git root, each stopped just before it creates
  // the candidate repository, so neither can see the other's result when it decides to create it.
  const atCreation = (who: string) => (deps: CoreDeps): CoreDeps => {
    const host = deps.gitHost
    return { ...deps, gitHost: { ...host, kind: host.kind, createCandidateRepo: async (input) => (await g.pass(who), host.createCandidateRepo(input)) } }
  }
  const [a, b] = await Promise.all([built.replica(atCreation('a')), built.replica(atCreation('b'))])
  const startA = a.candidate.start(token)
  const startB = b.candidate.start(token)
  await g.reached(['a', 'b'], [startA, startB])
  t.pass('both replicas decided to create the repository before either had created it')
  g.release('a')
  g.release('b')
  const [fromA, fromB] = await Promise.all([startA, startB])

  t.equal(fromA.invitation.status, 'started')
  t.equal(fromB.invitation.status, 'started')
  t.ok(fromA.git, 'replica a answers with clone commands')
  t.same(fromB.git, fromA.git, 'and replica b with the same ones')
  t.equal(fromB.repo?.baseSha, fromA.repo?.baseSha, 'both name the same base commit')
  const repos = await built.db.select().from(schema.candidateRepos)
  t.equal(repos.length, 1, 'one candidate_repos row')
  t.equal(repos[0]!.baseSha, fromA.repo?.baseSha)
  t.equal((await built.db.select().from(schema.accessTokens)).length, 1, 'one access token')
  const dirs = readdirSync(built.gitHost.candidatesRoot).filter((d) => !d.startsWith('.'))
  t.equal(dirs.length, 1, 'one repository on disk, no staging left behind')
  const history = git(path.join(built.gitHost.candidatesRoot, dirs[0]!), 'rev-list', '--all')
  t.same(history.split('\n'), [repos[0]!.baseSha], 'holding one commit: the base both replicas answered with')
  const started = await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'invitation.started'))
  t.equal(started.length, 1, 'started once')
})

t.test('Submit against the sweeper, forced to overlap: each order has its winner, and every race leaves one outcome', async (t) => {
  const built = await build(t)
  const emails = ['c0@example.com', 'c1@example.com', 'c2@example.com', 'c3@example.com']
  const { invitations } = await invited(built, createSourceRepo().dir, emails)
  // Started a minute apart, so each race below involves only its own deadline.
  const deadlines: number[] = []
  for (const i of invitations) {
    built.clock.advance(60_000)
    const res = await built.app.inject({ method: 'POST', url: `/api/start/${i.token}` })
    t.equal(res.statusCode, 200)
    deadlines.push(new Date(res.json().complete_deadline).getTime())
  }

  // The API replica that takes the Submit and the worker that sweeps: separate processes on one
  // database, each with its own clock, the API's a millisecond before the deadline and the
  // worker's a millisecond after it. Both are held at the start of their transactions.
  const g = gate()
  const apiClock = createTestClock()
  const workerClock = createTestClock()
  const api = await built.replica((deps) => ({ ...deps, clock: apiClock, database: gatedTransactions(deps.database, g, 'submit') }))
  const worker = await built.replica((deps) => ({ ...deps, clock: workerClock, database: gatedTransactions(deps.database, g, 'sweep') }))
  const postgres = built.services.database.kind === 'postgres'

  const expected = ['submitted', 'expired', 'submitted', 'expired'] as const
  for (const [n, invitation] of invitations.entries()) {
    const first = expected[n] === 'submitted' ? 'submit' : 'sweep'
    const second = first === 'submit' ? 'sweep' : 'submit'
    apiClock.set(new Date(deadlines[n]! - 1))
    workerClock.set(new Date(deadlines[n]! + 1))
    g.shut()
    const submit = api.candidate.submit(invitation.token).then(
      (r) => r.status,
      (err: unknown) => (err instanceof AppError ? err.code : Promise.reject(err)),
    )
    const sweep = worker.deadlines.sweep()
    // Both have read the invitation as started and fixed their guards: Submit's (deadline not
    // yet passed, by its clock) and the sweeper's (passed, by its clock). Each would win alone.
    await g.reached(['submit', 'sweep'], [submit, sweep])
    // Both in the database at once where it has more than one connection (PostgreSQL).
    const waiting = await releaseInOrder(built, g, [first, second], sql`select id from invitations where id = ${invitation.id} for update`, postgres)
    if (postgres) t.equal(waiting, 2, `round ${n}: both UPDATEs were waiting on the row at once`)
    const [answer, swept] = await Promise.all([submit, sweep])
    if (expected[n] === 'submitted') {
      t.equal(answer, 'submitted', `round ${n}: Submit went first and won`)
      t.same(swept, { expired: 0 }, 'the sweeper, second, ended nothing')
    } else {
      t.equal(answer, 'complete_deadline_passed', `round ${n}: the sweeper went first and won; Submit is refused`)
      t.same(swept, { expired: 1 }, 'the sweeper ended it')
    }
  }

  await built.drain()
  const audits = await built.db.select().from(schema.auditEvents)
  const jobs = await built.db.select().from(schema.outbox)
  const mail = await built.db.select().from(schema.emailEvents)
  for (const [n, invitation] of invitations.entries()) {
    const [row] = await built.db
      .select({ invitation: schema.invitations, repo: schema.candidateRepos })
      .from(schema.invitations)
      .innerJoin(schema.candidateRepos, eq(schema.candidateRepos.invitationId, schema.invitations.id))
      .where(eq(schema.invitations.id, invitation.id))
    const { status } = row!.invitation
    t.equal(status, expected[n], `${invitation.candidate_email}: ${expected[n]}`)
    t.match(row!.repo.finalSha, /^[0-9a-f]{40}$/, 'final_sha set')
    t.equal(row!.repo.archived, true, 'archived')
    const endings = audits.filter((a) => a.target === invitation.id && ['invitation.submitted', 'invitation.expired'].includes(a.kind))
    t.same(endings.map((a) => a.kind), [`invitation.${status}`], 'one ending recorded')
    const finalize = jobs.filter((j) => j.kind === 'repo.finalize' && j.payload['invitationId'] === invitation.id)
    t.same(finalize.map((j) => [j.payload['ending'], j.status]), [[status, 'done']], 'one finalize job, for that ending, done')
    const subs = await built.db.select().from(schema.submissions).where(eq(schema.submissions.invitationId, invitation.id))
    t.equal(subs.length, status === 'submitted' ? 1 : 0, 'a submission row only for a submit')
    const notices = mail.filter((m) => m.invitationId === invitation.id && m.type === 'notice')
    t.equal(notices.length, status === 'expired' ? 1 : 0, 'one "time ran out" email for an expiry, none for a submit')
  }
})
