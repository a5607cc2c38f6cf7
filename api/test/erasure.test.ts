// POST /api/candidates/erase and GET /api/candidates/export: a candidate's erasure and
// subject access requests, for owners only, within their org.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { schema } from '@takehome/core'
import { createSourceRepo, startGitHubDouble } from '@takehome/core/testing'
import { and, eq, inArray, sql } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { type Built, build, createAssessment, createSeed, expectError, type Invited, invite, invited, member, rowCounts, serve, signup } from './helper.ts'

type Headers = Record<string, string>
const ANN = 'ann@example.com'

const erase = (built: Built, headers: Headers, payload: unknown) => built.app.inject({ method: 'POST', url: '/api/candidates/erase', headers, payload: payload as object })
const exportOf = (built: Built, headers: Headers, email: string) =>
  built.app.inject({ method: 'GET', url: `/api/candidates/export?email=${encodeURIComponent(email)}`, headers })

/**
 * Org A: Ann submitted one assessment (a comment, a rating with a summary, a follow-up) and
 * was invited to a second she has not started; Bob started and stays. Org B invited Ann too.
 */
async function setup(t: Test) {
  const built = await build(t)
  const post = (url: string, headers: Headers = {}, payload?: object) => built.app.inject({ method: 'POST', url, headers, payload })
  const owner = await signup(built)
  const seed = await createSeed(built, owner.headers, createSourceRepo().dir)
  const first = await createAssessment(built, owner.headers, seed.id, { title: 'First' })
  const second = await createAssessment(built, owner.headers, seed.id, { title: 'Second' })
  const [ann, bob] = (await invite(built, owner.headers, first.id, [
    { email: 'Ann@Example.com', name: 'Ann Lovelace' },
    { email: 'bob@example.com', name: 'Bob' },
  ])) as [Invited, Invited]
  const [annAgain] = (await invite(built, owner.headers, second.id, [{ email: ANN, name: 'Ann L.' }])) as [Invited]
  // The invitation emails go before anyone starts (an invitation started first is never emailed).
  await built.drain()
  t.equal((await post(`/api/start/${ann.token}`)).statusCode, 200, 'Ann starts')
  t.equal((await post(`/api/start/${bob.token}`)).statusCode, 200, 'Bob starts')
  t.equal((await post(`/api/submit/${ann.token}`)).statusCode, 200, 'Ann submits')
  await built.drain()
  t.equal((await post(`/api/invitations/${ann.id}/comments`, owner.headers, { path: 'README.md', line: 1, body: 'Ann wrote this well' })).statusCode, 201)
  t.equal((await post(`/api/invitations/${bob.id}/comments`, owner.headers, { body: 'Bob is still going' })).statusCode, 201)
  t.equal((await post(`/api/invitations/${ann.id}/feedback`, owner.headers, { rating: 4, summary: 'Ann: strong tests' })).statusCode, 201)
  t.equal((await post('/api/followup', owner.headers, { invitation_id: ann.id })).statusCode, 202)
  await built.drain()

  const other = await signup(built)
  const theirSeed = await createSeed(built, other.headers, createSourceRepo().dir)
  const theirs = await createAssessment(built, other.headers, theirSeed.id, { title: 'Theirs' })
  const [annThere] = (await invite(built, other.headers, theirs.id, [{ email: ANN, name: 'Ann Lovelace' }])) as [Invited]
  await built.drain()
  return { built, owner, other, ann, bob, annAgain, annThere, first }
}

const invitationRow = async (built: Built, id: string) => (await built.db.select().from(schema.invitations).where(eq(schema.invitations.id, id)))[0]!

t.test("an owner erases a candidate across the org at once, and only that candidate of that org", async (t) => {
  const { built, owner, other, ann, bob, annAgain, annThere, first } = await setup(t)
  const [repo] = await built.db.select().from(schema.candidateRepos).where(eq(schema.candidateRepos.invitationId, ann.id))
  const repoDir = path.join(built.gitHost.candidatesRoot, `${repo!.slug}.git`)
  t.ok(existsSync(repoDir), "Ann's repository is on the local git host")
  const dashboardBefore = (await built.app.inject({ method: 'GET', url: '/api/dashboard', headers: owner.headers })).json() as {
    assessments: Array<{ id: string; counts: Record<string, number> }>
  }
  const bobBefore = await invitationRow(built, bob.id)
  const theirsBefore = await invitationRow(built, annThere.id)

  const res = await erase(built, owner.headers, { email: 'ANN@example.com' })
  t.equal(res.statusCode, 200, res.body)
  const { erased } = res.json() as { erased: Record<string, number> }
  t.match(erased, { invitations: 2, repositories: 1, comments: 1, feedback: 1 })
  t.ok(erased.access_tokens! >= 1, 'her git token went')
  t.ok(erased.emails! >= 3, 'her emails went: two invitations and a follow-up')

  const pseudonym = built.services.privacy.pseudonym(ANN)
  t.match(pseudonym, /^erased-[0-9a-f]{20}@erased\.invalid$/)
  t.equal(built.services.privacy.pseudonym(' Ann@EXAMPLE.com'), pseudonym, 'stable per address, whatever its case')
  t.not(built.services.privacy.pseudonym('bob@example.com'), pseudonym, 'and different for another')

  const submitted = await invitationRow(built, ann.id)
  t.match(submitted, { candidateEmail: pseudonym, candidateName: null, status: 'submitted' }, 'her submitted invitation keeps its status')
  t.ok(submitted.submittedAt && submitted.startedAt, 'and its times')
  const second = await invitationRow(built, annAgain.id)
  t.match(second, { candidateEmail: pseudonym, candidateName: null, status: 'revoked' }, 'her live invitation was revoked, then erased')
  t.notOk(existsSync(repoDir), 'her repository is deleted from the git host')
  t.same(await built.db.select().from(schema.candidateRepos).where(eq(schema.candidateRepos.invitationId, ann.id)), [])
  t.same(await built.db.select().from(schema.accessTokens).where(eq(schema.accessTokens.invitationId, ann.id)), [])
  t.same(await built.db.select().from(schema.reviewComments).where(eq(schema.reviewComments.invitationId, ann.id)), [])
  t.match(await built.db.select().from(schema.reviewFeedback).where(eq(schema.reviewFeedback.invitationId, ann.id)), [{ rating: 4, summary: null }], 'the rating stays, the words go')
  const events = await built.db.select().from(schema.emailEvents).where(inArray(schema.emailEvents.invitationId, [ann.id, annAgain.id]))
  t.ok(events.length >= 3 && events.every((e) => e.toEmail === pseudonym), 'the record of emails sent names the pseudonym only')
  const mail = await built.db.select().from(schema.mailboxMessages).where(eq(sql`lower(${schema.mailboxMessages.to})`, ANN))
  t.same(
    mail.map((m) => m.orgId),
    mail.map(() => other.org.id),
    "the mailbox keeps no message to her in this org; the other org's invitation stays",
  )
  t.equal(mail.length, 1)

  // Everyone else is as they were.
  t.same(await invitationRow(built, bob.id), bobBefore, 'Bob is untouched')
  t.equal((await built.db.select().from(schema.reviewComments).where(eq(schema.reviewComments.invitationId, bob.id))).length, 1, "Bob's comment stays")
  t.same(await invitationRow(built, annThere.id), theirsBefore, "the other org's invitation of the same address is untouched")

  // The dashboard's numbers still add up.
  const dashboardAfter = (await built.app.inject({ method: 'GET', url: '/api/dashboard', headers: owner.headers })).json() as typeof dashboardBefore
  const countsOf = (d: typeof dashboardBefore) => d.assessments.find((a) => a.id === first.id)!.counts
  t.same(countsOf(dashboardAfter), countsOf(dashboardBefore), 'the first assessment counts the same invitations by status')

  // The audit row names a keyed hash of the address, never the address.
  const [audited] = await built.db
    .select()
    .from(schema.auditEvents)
    .where(and(eq(schema.auditEvents.kind, 'candidate.erased'), eq(schema.auditEvents.orgId, owner.org.id)))
  t.match(audited, { actor: `user:${owner.user.id}`, meta: { email_hash: /^[0-9a-f]{64}$/, revoked: 1, counts: erased } })
  t.equal((audited!.meta as { email_hash: string }).email_hash, built.services.privacy.emailHash('ann@EXAMPLE.com'))
  const everything = JSON.stringify(await built.db.select().from(schema.auditEvents)).toLowerCase()
  t.notOk(everything.includes(ANN), 'no audit row holds the address')
  t.notOk(everything.includes('ann lovelace'), 'nor her name')
  const ours = JSON.stringify(
    await built.db.select().from(schema.invitations).where(eq(schema.invitations.orgId, owner.org.id)),
  ).toLowerCase()
  t.notOk(ours.includes('ann'), 'no invitation of this org names her')

  // Asking again is harmless: nothing left, zero counts, audited again.
  const again = await erase(built, owner.headers, { email: ANN })
  t.equal(again.statusCode, 200, again.body)
  t.same(again.json(), { erased: { invitations: 0, repositories: 0, access_tokens: 0, comments: 0, feedback: 0, emails: 0 } })
  const requests = await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'candidate.erased'))
  t.equal(requests.length, 2, 'each request is recorded')

  // An address never seen: the same answer.
  const unknown = await erase(built, owner.headers, { email: 'nobody@example.com' })
  t.same(unknown.json(), again.json(), 'an unknown address answers zero counts')

  // The export has nothing more to say about her.
  const exported = await exportOf(built, owner.headers, ANN)
  t.equal(exported.statusCode, 200, exported.body)
  t.match(exported.json(), { invitations: [], repositories: [], comments: [], feedback: [], emails: [], audit_events: [] })
})

t.test("erasing a candidate who is working ends their access first", async (t) => {
  const { built, owner, bob } = await setup(t)
  const [repo] = await built.db.select().from(schema.candidateRepos).where(eq(schema.candidateRepos.invitationId, bob.id))
  const res = await erase(built, owner.headers, { email: 'bob@example.com' })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { erased: { invitations: 1, repositories: 1, comments: 1 } })
  t.equal((await invitationRow(built, bob.id)).status, 'revoked')
  t.notOk(existsSync(path.join(built.gitHost.candidatesRoot, `${repo!.slug}.git`)), 'the repository is gone')
  const revoked = await built.db
    .select()
    .from(schema.auditEvents)
    .where(and(eq(schema.auditEvents.kind, 'invitation.revoked'), eq(schema.auditEvents.target, bob.id)))
  t.match(revoked, [{ actor: `user:${owner.user.id}` }], 'the revocation is recorded as the owner’s')
  // The job the revocation queued (finalize the repository) was withdrawn with the repository.
  await built.drain()
  const dead = await built.db.select().from(schema.outbox).where(eq(schema.outbox.status, 'dead'))
  t.same(dead, [], 'no job fails over the erased repository')
  const submit = await built.app.inject({ method: 'POST', url: `/api/submit/${bob.token}` })
  t.ok(submit.statusCode >= 400 && submit.statusCode < 500, `his start link no longer submits (${submit.statusCode})`)
})

t.test('only owners erase and export; others are refused and nothing changes', async (t) => {
  const { built, owner } = await setup(t)
  const admin = await member(built, owner, 'admin')
  const reviewer = await member(built, owner, 'reviewer')
  const viewer = await member(built, owner, 'viewer')
  const before = await rowCounts(built)
  for (const [who, headers] of [
    ['admin', admin.headers],
    ['reviewer', reviewer.headers],
    ['viewer', viewer.headers],
  ] as const) {
    expectError(t, await erase(built, headers, { email: ANN }), 403, 'forbidden')
    expectError(t, await exportOf(built, headers, ANN), 403, 'forbidden')
    t.pass(`${who} refused`)
  }
  expectError(t, await erase(built, {}, { email: ANN }), 401)
  expectError(t, await exportOf(built, {}, ANN), 401)
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test('bad input is a 400 with the error shape', async (t) => {
  const { built, owner } = await setup(t)
  const before = await rowCounts(built)
  const cases: Array<[string, unknown]> = [
    ['no email', {}],
    ['not an email', { email: 'ann' }],
    ['an email that is a number', { email: 42 }],
    ['an email too long', { email: `${'a'.repeat(250)}@example.com` }],
    ['a field more', { email: ANN, also: 'bob@example.com' }],
    ['an array', [ANN]],
  ]
  for (const [what, payload] of cases) {
    t.test(what, async (t) => {
      expectError(t, await erase(built, owner.headers, payload), 400, 'validation_failed')
    })
  }
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/candidates/export', headers: owner.headers }), 400, 'validation_failed')
  expectError(t, await exportOf(built, owner.headers, 'not-an-address'), 400, 'validation_failed')
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test("one org cannot see or erase another org's candidate", async (t) => {
  const { built, owner, other, ann, annThere } = await setup(t)
  const ours = await exportOf(built, owner.headers, ANN)
  const theirs = await exportOf(built, other.headers, ANN)
  t.same(
    (theirs.json() as { invitations: Array<{ id: string }> }).invitations.map((i) => i.id),
    [annThere.id],
    'the other org exports only its own invitation',
  )
  t.notOk(theirs.body.includes(ann.id), 'and nothing of ours')
  t.notOk(theirs.body.includes('Ann wrote this well'), 'not our comment either')

  const res = await erase(built, other.headers, { email: ANN })
  t.match(res.json(), { erased: { invitations: 1, repositories: 0, comments: 0 } }, 'the other org erases only its own')
  t.equal((await invitationRow(built, ann.id)).candidateEmail, 'Ann@Example.com', 'ours is untouched')
  t.equal((await exportOf(built, owner.headers, ANN)).body.replace(/"exported_at":"[^"]*"/, ''), ours.body.replace(/"exported_at":"[^"]*"/, ''), 'our export is the same')
})

t.test('the export holds everything about the candidate, and nothing about anyone else', async (t) => {
  const { built, owner, ann, bob, annAgain } = await setup(t)
  const res = await exportOf(built, owner.headers, 'ANN@example.com')
  t.equal(res.statusCode, 200, res.body)
  t.match(res.headers['cache-control'], /no-store/)
  const body = res.json() as {
    email: string
    exported_at: string
    invitations: Array<Record<string, unknown>>
    repositories: Array<Record<string, unknown>>
    comments: Array<Record<string, unknown>>
    feedback: Array<Record<string, unknown>>
    emails: Array<Record<string, unknown>>
    audit_events: Array<Record<string, unknown>>
  }
  t.equal(body.email, 'ANN@example.com')
  t.equal(body.exported_at, built.clock.now().toISOString())
  t.same(body.invitations.map((i) => i.id).sort(), [ann.id, annAgain.id].sort(), 'both her invitations')
  t.match(body.invitations.find((i) => i.id === ann.id), {
    assessment_title: 'First',
    candidate_email: 'Ann@Example.com',
    candidate_name: 'Ann Lovelace',
    status: 'submitted',
    started_at: String,
    submitted_at: String,
  })
  t.match(body.repositories, [{ invitation_id: ann.id, slug: String, base_sha: /^[0-9a-f]{40}$/, final_sha: /^[0-9a-f]{40}$/, archived: true }])
  t.match(body.comments, [{ invitation_id: ann.id, path: 'README.md', line: 1, body: 'Ann wrote this well' }])
  t.match(body.feedback, [{ invitation_id: ann.id, rating: 4, summary: 'Ann: strong tests' }])
  const kinds = body.emails.filter((e) => e.invitation_id).map((e) => e.kind).sort()
  t.same(kinds, ['follow_up', 'invite', 'invite'], 'the record of every email sent to her')
  t.ok(
    body.emails.some((e) => e.kind === 'follow_up' && typeof e.text === 'string' && e.subject),
    'with the whole message where the local mailbox kept it',
  )
  t.ok(body.emails.every((e) => String(e.to).toLowerCase() === ANN), 'all to her')
  const actions = new Set(body.audit_events.map((e) => e.action))
  for (const action of ['invitation.started', 'invitation.submitted', 'access_token.issued', 'review.commented', 'invitation.follow_up_queued']) {
    t.ok(actions.has(action), `the audit event ${action} about her`)
  }
  t.notOk(res.body.includes(bob.id), 'nothing about Bob')
  t.notOk(res.body.includes('Bob is still going'))

  const nobody = await exportOf(built, owner.headers, 'nobody@example.com')
  t.equal(nobody.statusCode, 200)
  t.match(nobody.json(), { email: 'nobody@example.com', invitations: [], repositories: [], comments: [], feedback: [], emails: [], audit_events: [] })

  // The address asked for in the query string never reaches the request log.
  const requests = built.logLines.filter((line) => line.includes('/api/candidates/export'))
  t.ok(requests.length >= 2, 'the requests were logged')
  t.notOk(
    requests.some((line) => line.toLowerCase().includes(ANN) || line.includes('nobody@example.com') || line.includes('example.com')),
    'without the address',
  )
})

t.test('on the GitHub host, erasure deletes the repository on GitHub', async (t) => {
  const double = await startGitHubDouble()
  t.teardown(() => double.close())
  const built = await serve(t, { github: double.config })
  const { owner, invitations } = await invited(built, createSourceRepo().dir, [ANN, 'bob@example.com'])
  const [ann, bob] = invitations as [Invited, Invited]
  for (const who of [ann, bob]) {
    t.equal((await built.app.inject({ method: 'POST', url: `/api/start/${who.token}` })).statusCode, 200, 'started on GitHub')
  }
  t.equal((await built.app.inject({ method: 'POST', url: `/api/submit/${ann.token}` })).statusCode, 200)
  await built.drain()
  const repoOf = async (id: string) => (await built.db.select().from(schema.candidateRepos).where(eq(schema.candidateRepos.invitationId, id)))[0]!
  const [annRepo, bobRepo] = [await repoOf(ann.id), await repoOf(bob.id)]
  t.ok(double.repo(annRepo.repoFullName), "Ann's repository is on GitHub")

  const res = await erase(built, owner.headers, { email: ANN })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { erased: { invitations: 1, repositories: 1 } })
  t.notOk(double.repo(annRepo.repoFullName), 'deleted on GitHub')
  t.ok(double.repo(bobRepo.repoFullName), "Bob's stays")
  const deletes = double.requests().filter((r) => r.method === 'DELETE' && r.path.endsWith(`/repos/${annRepo.repoFullName}`))
  t.equal(deletes.length, 1, 'one DELETE of that repository')
  await built.drain()
  const again = await erase(built, owner.headers, { email: ANN })
  t.match(again.json(), { erased: { invitations: 0, repositories: 0 } }, 'asking again touches GitHub no more')
  t.equal(double.requests().filter((r) => r.method === 'DELETE' && r.path.endsWith(`/repos/${annRepo.repoFullName}`)).length, 1)
})
