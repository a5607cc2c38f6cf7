// Retention: the org's retention_days (GET/PATCH /api/org), and the scheduled task that
// erases candidates' personal data once their invitation ended longer ago than that.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { RETENTION_BATCH, schema } from '@takehome/core'
import { createSourceRepo } from '@takehome/core/testing'
import { scheduledTasks } from '@takehome/worker'
import { and, eq, like, sql } from 'drizzle-orm'
import t from 'tap'
import { type Built, build, createAssessment, createSeed, expectError, type Invited, invite, member, rowCounts, signup } from './helper.ts'

const DAY = 86_400_000
type Headers = Record<string, string>

const getOrg = (built: Built, headers: Headers) => built.app.inject({ method: 'GET', url: '/api/org', headers })
const patchOrg = (built: Built, headers: Headers, payload: unknown) => built.app.inject({ method: 'PATCH', url: '/api/org', headers, payload: payload as object })
const row = async (built: Built, id: string) => (await built.db.select().from(schema.invitations).where(eq(schema.invitations.id, id)))[0]!
const retentionTask = (built: Built) => scheduledTasks(built.services, { sweepIntervalMs: 60_000, seedSyncIntervalMs: 60_000 }).find((task) => task.name === 'retention')!

t.test('retention_days: 365 by default, read by every role, changed by owners only, audited', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const admin = await member(built, owner, 'admin')
  const viewer = await member(built, owner, 'viewer')
  const stranger = await signup(built)

  const read = await getOrg(built, viewer.headers)
  t.equal(read.statusCode, 200, read.body)
  t.same(read.json(), { id: owner.org.id, name: (read.json() as { name: string }).name, retention_days: 365, created_at: (read.json() as { created_at: string }).created_at })

  const changed = await patchOrg(built, owner.headers, { retention_days: 30 })
  t.equal(changed.statusCode, 200, changed.body)
  t.match(changed.json(), { id: owner.org.id, retention_days: 30 })
  t.match((await getOrg(built, admin.headers)).json(), { retention_days: 30 }, 'everyone reads the new value')
  t.match((await getOrg(built, stranger.headers)).json(), { id: stranger.org.id, retention_days: 365 }, 'another org keeps its own')
  const [audited] = await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'org.retention_changed'))
  t.match(audited, { orgId: owner.org.id, actor: `user:${owner.user.id}`, target: owner.org.id, meta: { from: 365, to: 30 } })
  t.equal((await patchOrg(built, owner.headers, { retention_days: 30 })).statusCode, 200, 'setting the same value again')
  t.equal((await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'org.retention_changed'))).length, 1, 'records no change')

  const before = await rowCounts(built)
  expectError(t, await patchOrg(built, admin.headers, { retention_days: 10 }), 403, 'forbidden')
  expectError(t, await patchOrg(built, viewer.headers, { retention_days: 10 }), 403, 'forbidden')
  expectError(t, await patchOrg(built, {}, { retention_days: 10 }), 401)
  expectError(t, await getOrg(built, {}), 401)
  const bad: Array<[string, unknown]> = [
    ['zero', { retention_days: 0 }],
    ['negative', { retention_days: -5 }],
    ['over a hundred years', { retention_days: 36_501 }],
    ['a fraction', { retention_days: 1.5 }],
    ['a string', { retention_days: '30' }],
    ['null', { retention_days: null }],
    ['missing', {}],
    ['another field', { retention_days: 30, name: 'Renamed' }],
  ]
  for (const [what, payload] of bad) {
    const res = await patchOrg(built, owner.headers, payload)
    expectError(t, res, 400, 'validation_failed')
    t.pass(`${what} refused`)
  }
  t.same(await rowCounts(built), before, 'refusals wrote nothing')
  t.match((await getOrg(built, owner.headers)).json(), { retention_days: 30 })
})

t.test('the retention task erases only what ended longer ago than its org keeps, once', async (t) => {
  const built = await build(t)
  const post = (url: string, headers: Headers = {}, payload?: object) => built.app.inject({ method: 'POST', url, headers, payload })
  const owner = await signup(built)
  // A session does not last a year; an API key does.
  const made = await post('/api/api-keys', owner.headers, { name: 'retention test' })
  const ownerKey = { authorization: `Bearer ${(made.json() as { key: string }).key}` }
  const seed = await createSeed(built, owner.headers, createSourceRepo().dir)
  const assessment = await createAssessment(built, owner.headers, seed.id)
  const [ann, bob, cat] = (await invite(built, owner.headers, assessment.id, ['ann', 'bob', 'cat'].map((n) => ({ email: `${n}@example.com`, name: n.toUpperCase() })))) as [
    Invited,
    Invited,
    Invited,
  ]
  await built.drain()
  t.equal((await post(`/api/start/${ann.token}`)).statusCode, 200)
  t.equal((await post(`/api/submit/${ann.token}`)).statusCode, 200, 'Ann submits on day 0')
  t.equal((await post(`/api/invitations/${ann.id}/feedback`, owner.headers, { rating: 5, summary: 'ANN did well' })).statusCode, 201)
  t.equal((await post(`/api/invitations/${bob.id}/revoke`, owner.headers)).statusCode, 200, 'Bob is revoked on day 0')
  await built.drain()
  built.clock.advance(4 * DAY)
  t.same(await built.services.deadlines.sweep(), { expired: 1 }, "Cat's start deadline passed on day 3")
  await built.drain()
  const [annRepo] = await built.db.select().from(schema.candidateRepos).where(eq(schema.candidateRepos.invitationId, ann.id))
  const annDir = path.join(built.gitHost.candidatesRoot, `${annRepo!.slug}.git`)

  // Day 100: Eve is invited, starts and submits; Dan starts and never ends (the sweeper does
  // not run again here); Ann is invited again, to a second assessment, and submits.
  built.clock.advance(96 * DAY)
  const second = await createAssessment(built, ownerKey, seed.id, { title: 'Second round' })
  const [eve, dan] = (await invite(built, ownerKey, assessment.id, [{ email: 'eve@example.com' }, { email: 'dan@example.com' }])) as [Invited, Invited]
  const [annAgain] = (await invite(built, ownerKey, second.id, [{ email: 'ann@example.com' }])) as [Invited]
  await built.drain()
  t.equal((await post(`/api/start/${eve.token}`)).statusCode, 200)
  t.equal((await post(`/api/submit/${eve.token}`)).statusCode, 200)
  t.equal((await post(`/api/start/${dan.token}`)).statusCode, 200)
  t.equal((await post(`/api/start/${annAgain.token}`)).statusCode, 200)
  t.equal((await post(`/api/submit/${annAgain.token}`)).statusCode, 200)
  await built.drain()

  // Another org keeps only 10 days; its candidate ended on day 100.
  const other = await signup(built)
  t.equal((await patchOrg(built, other.headers, { retention_days: 10 })).statusCode, 200)
  const theirSeed = await createSeed(built, other.headers, createSourceRepo().dir)
  const theirs = await createAssessment(built, other.headers, theirSeed.id)
  const [zed] = (await invite(built, other.headers, theirs.id, [{ email: 'zed@example.com' }])) as [Invited]
  t.equal((await post(`/api/invitations/${zed.id}/revoke`, other.headers)).statusCode, 200)

  const task = retentionTask(built)
  t.ok(task, 'retention is one of the scheduled tasks, for both runners')
  t.same(await task.run(), { erased: 0, failed: 0 }, 'day 100: nothing is old enough')

  built.clock.advance(11 * DAY)
  t.same(await task.run(), { erased: 1, failed: 0 }, "day 111: the other org's candidate, past its 10 days")
  t.match(await row(built, zed.id), { candidateEmail: /@erased\.invalid$/, status: 'revoked' })
  t.equal((await row(built, ann.id)).candidateEmail, 'ann@example.com', 'our org keeps a year')

  // 364 days after Ann and Bob ended on day 0: nothing of ours yet (Cat ended on day 4, at the sweep). Six days on: all three.
  built.clock.set(new Date((await row(built, ann.id)).submittedAt!.getTime() + 364 * DAY))
  t.same(await task.run(), { erased: 0, failed: 0 }, 'a day short of a year: nothing')
  const mailTo = (email: string) => built.db.select().from(schema.mailboxMessages).where(eq(sql`lower(${schema.mailboxMessages.to})`, email))
  t.ok((await mailTo('cat@example.com')).length >= 1, 'Cat was emailed her invitation')
  built.clock.advance(6 * DAY)
  t.same(await task.run(), { erased: 3, failed: 0 }, 'a year and a day: Ann, Bob and Cat')
  for (const who of [ann, bob, cat]) {
    const erased = await row(built, who.id)
    t.match(erased, { candidateEmail: /^erased-[0-9a-f]{20}@erased\.invalid$/, candidateName: null }, `${who.candidate_email} is a pseudonym`)
  }
  t.equal((await row(built, ann.id)).status, 'submitted', 'statuses stay')
  t.equal((await row(built, cat.id)).status, 'expired')
  t.equal((await row(built, bob.id)).status, 'revoked')
  t.notOk(existsSync(annDir), "Ann's repository is deleted")
  t.match(await built.db.select().from(schema.reviewFeedback).where(eq(schema.reviewFeedback.invitationId, ann.id)), [{ rating: 5, summary: null }])
  t.same(await built.db.select().from(schema.accessTokens).where(eq(schema.accessTokens.invitationId, ann.id)), [])
  t.same(
    await built.db.select().from(schema.emailEvents).where(and(eq(schema.emailEvents.invitationId, ann.id), eq(schema.emailEvents.toEmail, 'ann@example.com'))),
    [],
    'the record of her invitation email names the pseudonym',
  )

  // Dan is still working, Eve and Ann's second invitation ended on day 100: all kept.
  t.match(await row(built, dan.id), { candidateEmail: 'dan@example.com', status: 'started' })
  t.match(await row(built, eve.id), { candidateEmail: 'eve@example.com', candidateName: null })
  t.match(await row(built, annAgain.id), { candidateEmail: 'ann@example.com', status: 'submitted' }, "Ann's later invitation is kept until its own year is up")
  t.ok((await mailTo('ann@example.com')).length >= 2, 'and so is the mail to her address, which names no invitation')
  t.same(await mailTo('cat@example.com'), [], "Cat's last invitation is erased: her mail goes")

  // Audited as the system, with the reason; running again changes nothing.
  const audited = await built.db
    .select()
    .from(schema.auditEvents)
    .where(and(eq(schema.auditEvents.kind, 'invitation.erased'), eq(schema.auditEvents.orgId, owner.org.id)))
  t.same(audited.map((a) => a.target).sort(), [ann.id, bob.id, cat.id].sort())
  t.ok(audited.every((a) => a.actor === 'system' && (a.meta as { reason?: string }).reason === 'retention'))
  const counts = await rowCounts(built)
  t.same(await task.run(), { erased: 0, failed: 0 }, 'a second run finds nothing to do')
  t.same(await rowCounts(built), counts, 'and writes nothing')

  // A year after day 100, the rest that ended goes; the one still working never does.
  built.clock.advance(100 * DAY)
  t.same(await task.run(), { erased: 2, failed: 0 }, "Eve and Ann's second invitation")
  t.match(await row(built, dan.id), { candidateEmail: 'dan@example.com' })
  t.same(await mailTo('ann@example.com'), [], 'with her last invitation, her mail goes')
  t.equal((await row(built, annAgain.id)).candidateEmail, (await row(built, ann.id)).candidateEmail, 'one pseudonym for one address')

  // The dashboard still counts every invitation by status.
  const dashboard = (await built.app.inject({ method: 'GET', url: '/api/dashboard', headers: ownerKey })).json() as {
    assessments: Array<{ id: string; counts: Record<string, number> }>
  }
  t.match(dashboard.assessments.find((a) => a.id === assessment.id)!.counts, { submitted: 2, revoked: 1, expired: 1, started: 1 })
})

t.test('each run erases a bounded batch, oldest first; the next run takes the rest', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const seed = await createSeed(built, owner.headers, createSourceRepo().dir)
  const assessment = await createAssessment(built, owner.headers, seed.id)
  const many = RETENTION_BATCH + 3
  const invited = await invite(built, owner.headers, assessment.id, Array.from({ length: many }, (_, i) => ({ email: `c${i}@example.com` })))
  t.equal(invited.length, many)
  // Revoked on successive days, so "oldest first" has an order to keep.
  for (const [i, inv] of invited.entries()) {
    await built.db
      .update(schema.invitations)
      .set({ status: 'revoked', revokedAt: new Date(built.clock.now().getTime() + i * 1000) })
      .where(eq(schema.invitations.id, inv.id))
  }
  built.clock.advance(400 * DAY)
  t.same(await built.services.privacy.sweepRetention(), { erased: RETENTION_BATCH, failed: 0 }, 'a full batch')
  const left = await built.db.select().from(schema.invitations).where(and(eq(schema.invitations.orgId, owner.org.id), like(schema.invitations.candidateEmail, '%@example.com')))
  t.same(
    left.map((r) => r.candidateEmail).sort(),
    invited.slice(RETENTION_BATCH).map((i) => i.candidate_email).sort(),
    'the ones that ended last are left',
  )
  t.same(await built.services.privacy.sweepRetention(), { erased: 3, failed: 0 }, 'the rest')
  t.same(await built.services.privacy.sweepRetention(), { erased: 0, failed: 0 })
})

t.test('a repository the git host cannot delete is left for the next run, and the others go on', async (t) => {
  const built = await build(t)
  const post = (url: string, headers: Headers = {}, payload?: object) => built.app.inject({ method: 'POST', url, headers, payload })
  const owner = await signup(built)
  const seed = await createSeed(built, owner.headers, createSourceRepo().dir)
  const assessment = await createAssessment(built, owner.headers, seed.id)
  const [ann, bob] = (await invite(built, owner.headers, assessment.id, [{ email: 'ann@example.com' }, { email: 'bob@example.com' }])) as [Invited, Invited]
  for (const who of [ann, bob]) {
    t.equal((await post(`/api/start/${who.token}`)).statusCode, 200)
    t.equal((await post(`/api/submit/${who.token}`)).statusCode, 200)
  }
  await built.drain()
  const [annRepo] = await built.db.select().from(schema.candidateRepos).where(eq(schema.candidateRepos.invitationId, ann.id))
  built.clock.advance(366 * DAY)
  const remove = built.gitHost.removeCandidateRepo
  t.teardown(() => {
    built.gitHost.removeCandidateRepo = remove
  })
  built.gitHost.removeCandidateRepo = async (name) => {
    if (name === annRepo!.repoFullName) throw new Error('the git host is down')
    return remove(name)
  }
  t.same(await built.services.privacy.sweepRetention(), { erased: 1, failed: 1 })
  t.equal((await row(built, ann.id)).candidateEmail, 'ann@example.com', 'Ann is kept whole until her repository can go')
  t.match(await row(built, bob.id), { candidateEmail: /@erased\.invalid$/ })
  t.ok(built.logLines.some((line) => line.includes('retention: erasing an invitation failed')), 'the failure is logged')
  built.gitHost.removeCandidateRepo = remove
  t.same(await built.services.privacy.sweepRetention(), { erased: 1, failed: 0 }, 'the next run erases her')
})
