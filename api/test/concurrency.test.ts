// Races the lifecycle must win: many Start clicks at once, Submit against the sweeper.
import { readdirSync } from 'node:fs'
import { schema } from '@takehome/core'
import { createSourceRepo } from '@takehome/core/testing'
import { eq, inArray } from 'drizzle-orm'
import t from 'tap'
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

t.test('Submit racing the sweeper at the deadline leaves exactly one terminal state with final_sha set', async (t) => {
  const built = await build(t)
  const emails = Array.from({ length: 8 }, (_, i) => `c${i}@example.com`)
  const { invitations } = await invited(built, createSourceRepo().dir, emails)
  // Started a minute apart, so each race below involves only its own deadline.
  const deadlines: number[] = []
  for (const i of invitations) {
    built.clock.advance(60_000)
    const res = await built.app.inject({ method: 'POST', url: `/api/start/${i.token}` })
    t.equal(res.statusCode, 200)
    deadlines.push(new Date(res.json().complete_deadline).getTime())
  }
  // Each Submit starts a millisecond before its deadline; the clock crosses it a little
  // later each time, and the sweeper runs at once: who wins varies, the invariant must not.
  const outcomes: number[] = []
  for (const [n, i] of invitations.entries()) {
    const deadline = deadlines[n]!
    built.clock.set(new Date(deadline - 1))
    const submit = built.app.inject({ method: 'POST', url: `/api/submit/${i.token}` })
    // Not a wait for anything: a varying head start, so the interleavings differ.
    await new Promise((resolve) => setTimeout(resolve, n))
    built.clock.set(new Date(deadline + 1))
    const [res] = await Promise.all([submit, built.services.deadlines.sweep()])
    outcomes.push(res.statusCode)
  }
  t.ok(outcomes.every((s) => s === 200 || s === 409), `submit answered 200 or 409: ${outcomes.join(",")}`)
  await built.services.deadlines.sweep()
  await built.drain()
  const ids = invitations.map((i) => i.id)
  const rows = await built.db
    .select({ invitation: schema.invitations, repo: schema.candidateRepos })
    .from(schema.invitations)
    .innerJoin(schema.candidateRepos, eq(schema.candidateRepos.invitationId, schema.invitations.id))
    .where(inArray(schema.invitations.id, ids))
  const audits = await built.db.select().from(schema.auditEvents).where(inArray(schema.auditEvents.target, ids))
  const subs = await built.db.select().from(schema.submissions).where(inArray(schema.submissions.invitationId, ids))
  for (const { invitation, repo } of rows) {
    t.ok(['submitted', 'expired'].includes(invitation.status), `${invitation.candidateEmail}: ${invitation.status}`)
    t.match(repo.finalSha, /^[0-9a-f]{40}$/, 'final_sha set')
    t.equal(repo.archived, true, 'archived')
    const endings = audits.filter((a) => a.target === invitation.id && ['invitation.submitted', 'invitation.expired'].includes(a.kind))
    t.equal(endings.length, 1, 'one ending recorded')
    t.equal(subs.filter((s) => s.invitationId === invitation.id).length, invitation.status === 'submitted' ? 1 : 0, 'a submission row only for a submit')
  }
  t.comment(`outcomes: ${rows.map((r) => r.invitation.status).join(', ')}`)
})
