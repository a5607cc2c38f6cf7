import { rmSync } from 'node:fs'
import { schema } from '@takehome/core'
import { createSourceRepo } from '@takehome/core/testing'
import { and, eq, inArray } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { type Built, build, createAssessment, createSeed, expectError, mailbox, member, rowCounts, signup } from './helper.ts'

type Headers = Record<string, string>
interface CreatedInvitation {
  id: string
  candidate_email: string
  candidate_name: string | null
  status: string
  start_url: string
  start_deadline: string
}

const DAY_MS = 24 * 3600 * 1000
const START_URL = /^http:\/\/takehome\.test\/start\/thi_[0-9A-Za-z]{49}$/

// One template repository serves every seed in this file.
const source = createSourceRepo()
t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))

async function newAssessment(built: Built, headers: Headers, title = 'Backend exercise') {
  const seed = await createSeed(built, headers, source.dir)
  return createAssessment(built, headers, seed.id, { title })
}

/** An owner with one assessment on a fresh app. */
async function setup(t: Test) {
  const built = await build(t)
  const owner = await signup(built)
  const assessment = await newAssessment(built, owner.headers)
  return { built, owner, assessment }
}

function invite(built: Built, headers: Headers, assessmentId: string, candidates: unknown) {
  return built.app.inject({
    method: 'POST',
    url: '/api/invitations',
    headers,
    payload: { assessment_id: assessmentId, candidates } as object,
  })
}

const mail = (built: Built, headers: Headers, limit = 100) => mailbox(built, headers, { limit })

t.test('inviting candidates merges repeated emails, returns start links and sends one invite each', async (t) => {
  const { built, owner, assessment } = await setup(t)
  const evilName = '<script>alert(1)</script>'
  const now = built.clock.now()
  const res = await invite(built, owner.headers, assessment.id, [
    { email: 'Ann@Example.com', name: 'Ann' },
    { email: 'bob@example.com', name: evilName },
    { email: 'ann@example.COM', name: 'Someone else' },
  ])
  t.equal(res.statusCode, 201, res.body)
  const body = res.json() as { invitations: CreatedInvitation[] }
  t.equal(body.invitations.length, 2, 'two addresses that differ only in case are one candidate')
  const expectedDeadline = new Date(now.getTime() + 3 * DAY_MS).toISOString()
  const [ann, bob] = body.invitations as [CreatedInvitation, CreatedInvitation]
  t.same(Object.keys(ann).sort(), ['candidate_email', 'candidate_name', 'id', 'start_deadline', 'start_url', 'status'])
  t.match(ann, { candidate_email: 'Ann@Example.com', candidate_name: 'Ann', status: 'sent', start_deadline: expectedDeadline })
  t.match(bob, { candidate_email: 'bob@example.com', candidate_name: evilName, status: 'sent', start_deadline: expectedDeadline })
  for (const inv of body.invitations) {
    t.match(inv.id, /^[0-9a-f-]{36}$/)
    t.match(inv.start_url, START_URL, 'start_url is the app origin, /start/ and a thi_ token')
  }
  t.not(ann.start_url, bob.start_url, 'every candidate gets their own link')

  const messages = await mail(built, owner.headers)
  t.equal(messages.length, 2, 'one email per candidate')
  for (const inv of body.invitations) {
    const sent = messages.filter((m) => m.to === inv.candidate_email)
    t.equal(sent.length, 1, `one email to ${inv.candidate_email}`)
    const m = sent[0]!
    t.equal(m.kind, 'invite')
    t.match(m.subject, 'Backend exercise')
    t.match(m.text, inv.start_url, 'the text carries this candidate’s own link')
    t.match(m.html, `href="${inv.start_url}"`, 'the HTML has the link as a clickable link')
    const other = body.invitations.find((i) => i.id !== inv.id)!
    t.notMatch(m.text, other.start_url, 'and not the other candidate’s link')
  }
  const bobMail = messages.find((m) => m.to === 'bob@example.com')!
  t.match(bobMail.text, evilName, 'the text version is plain text')
  t.notMatch(bobMail.html, '<script', 'the name is never markup in the HTML')
  t.match(bobMail.html, '&lt;script&gt;alert(1)&lt;/script&gt;')
  t.match(messages.find((m) => m.to === 'Ann@Example.com')!.text, 'Hi Ann,')

  const events = await built.db
    .select()
    .from(schema.emailEvents)
    .where(inArray(schema.emailEvents.invitationId, body.invitations.map((i) => i.id)))
  t.equal(events.length, 2)
  t.same(events.map((e) => e.type), ['invite', 'invite'])
  t.same(
    events.map((e) => `${e.invitationId}:${e.toEmail}`).sort(),
    body.invitations.map((i) => `${i.id}:${i.candidate_email}`).sort(),
    'one invite event per invitation, to its candidate',
  )

  const rows = await built.db.select().from(schema.invitations).where(eq(schema.invitations.assessmentId, assessment.id))
  t.equal(rows.length, 2)
  for (const row of rows) {
    t.equal(row.startDeadline.toISOString(), expectedDeadline)
    t.equal(row.sentAt.toISOString(), now.toISOString())
    t.match(row.startLinkTokenHash, /^[0-9a-f]{64}$/, 'only a hash of the token is stored')
  }
})

t.test('a candidate with a live invitation cannot be invited again until it is revoked', async (t) => {
  const { built, owner, assessment } = await setup(t)
  const first = await invite(built, owner.headers, assessment.id, [{ email: 'ann@example.com' }])
  t.equal(first.statusCode, 201)
  const annId = (first.json() as { invitations: CreatedInvitation[] }).invitations[0]!.id
  const before = await rowCounts(built)

  const again = await invite(built, owner.headers, assessment.id, [{ email: 'new@example.com' }, { email: 'ANN@example.com' }])
  const error = expectError(t, again, 409, 'duplicate_invitation')
  t.match(error.message, 'ann@example.com')
  t.same(error.details, { emails: ['ann@example.com'] })
  t.same(await rowCounts(built), before, 'nothing written, not even for the other candidate')
  t.equal((await mail(built, owner.headers)).length, 1, 'no new mail')

  const revoked = await built.app.inject({ method: 'POST', url: `/api/invitations/${annId}/revoke`, headers: owner.headers })
  t.equal(revoked.statusCode, 200, revoked.body)
  t.match(revoked.json(), { id: annId, status: 'revoked', revoked_at: built.clock.now().toISOString() })
  const audit = await built.db
    .select()
    .from(schema.auditEvents)
    .where(and(eq(schema.auditEvents.kind, 'invitation.revoked'), eq(schema.auditEvents.target, annId)))
  t.equal(audit.length, 1, 'the revocation is audited')

  const reinvite = await invite(built, owner.headers, assessment.id, [{ email: 'Ann@example.com' }])
  t.equal(reinvite.statusCode, 201, 'a revoked invitation does not block a new one')
  const newId = (reinvite.json() as { invitations: CreatedInvitation[] }).invitations[0]!.id
  t.not(newId, annId)

  const twice = await built.app.inject({ method: 'POST', url: `/api/invitations/${annId}/revoke`, headers: owner.headers })
  const twiceError = expectError(t, twice, 409, 'invitation_not_revocable')
  t.match(twiceError.message, 'revoked')
  const list = await built.app.inject({ method: 'GET', url: `/api/invitations?assessment_id=${assessment.id}`, headers: owner.headers })
  t.same(
    (list.json() as { invitations: Array<{ id: string; status: string }> }).invitations
      .map((i) => `${i.id}:${i.status}`)
      .sort(),
    [`${annId}:revoked`, `${newId}:sent`].sort(),
  )
})

t.test('a candidate whose invitation lapsed unstarted can be invited again', async (t) => {
  const { built, owner, assessment } = await setup(t)
  const first = await invite(built, owner.headers, assessment.id, [{ email: 'ann@example.com' }, { email: 'bob@example.com' }])
  const [ann, bob] = (first.json() as { invitations: CreatedInvitation[] }).invitations as [CreatedInvitation, CreatedInvitation]

  built.clock.advance(3 * DAY_MS - 1000)
  expectError(t, await invite(built, owner.headers, assessment.id, [{ email: 'ann@example.com' }]), 409, 'duplicate_invitation')
  built.clock.advance(1000)
  // No sweeper has run and nobody opened the link: the deadline alone ends the invitation.
  const again = await invite(built, owner.headers, assessment.id, [{ email: 'Ann@example.com' }])
  t.equal(again.statusCode, 201, again.body)
  const [old] = await built.db.select().from(schema.invitations).where(eq(schema.invitations.id, ann.id))
  t.equal(old!.status, 'expired', 'the lapsed invitation is recorded as expired, not revoked')
  t.equal(old!.expiredAt?.toISOString(), built.clock.now().toISOString())
  const [untouched] = await built.db.select().from(schema.invitations).where(eq(schema.invitations.id, bob.id))
  t.equal(untouched!.status, 'sent', 'other candidates are left to the sweeper')
  const audit = await built.db
    .select()
    .from(schema.auditEvents)
    .where(and(eq(schema.auditEvents.kind, 'invitation.expired'), eq(schema.auditEvents.target, ann.id)))
  t.equal(audit.length, 1)
  t.equal(audit[0]!.actor, 'system')
})

t.test('500 candidates in one call are invited; 501 are refused', async (t) => {
  const { built, owner, assessment } = await setup(t)
  const candidates = Array.from({ length: 500 }, (_, i) => ({ email: `candidate${i}@example.com`, name: `Candidate ${i}` }))
  const started = performance.now()
  const res = await invite(built, owner.headers, assessment.id, candidates)
  const ms = performance.now() - started
  t.comment(`500 invitations in one call took ${ms.toFixed(0)} ms (${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`)
  t.equal(res.statusCode, 201)
  const body = res.json() as { invitations: CreatedInvitation[] }
  t.equal(body.invitations.length, 500)
  t.equal(new Set(body.invitations.map((i) => i.start_url)).size, 500, '500 distinct links')
  t.same(
    body.invitations.map((i) => i.candidate_email).sort(),
    candidates.map((c) => c.email).sort(),
  )
  t.equal((await rowCounts(built)).mailbox_messages, 0, 'the emails are queued, not sent inside the request')
  await built.drain()
  const counts = await rowCounts(built)
  t.equal(counts.invitations, 500)
  t.equal(counts.outbox, 500, 'one job per email')
  t.equal(counts.mailbox_messages, 500)
  t.equal(counts.email_events, 500)
  const messages = await mail(built, owner.headers, 500)
  t.equal(messages.length, 500)
  t.equal(new Set(messages.map((m) => m.to)).size, 500, 'one email to each candidate')

  const before = await rowCounts(built)
  const tooMany = await invite(
    built,
    owner.headers,
    assessment.id,
    Array.from({ length: 501 }, (_, i) => ({ email: `other${i}@example.com` })),
  )
  const error = expectError(t, tooMany, 400, 'validation_failed')
  t.match(error.message, 'candidates')
  t.match(error.message, '500')
  t.same(await rowCounts(built), before, 'nothing written')
})

t.test('bad input is refused with 4xx and writes nothing', async (t) => {
  const { built, owner, assessment } = await setup(t)
  const other = await signup(built)
  const foreign = await newAssessment(built, other.headers, 'Their exercise')
  const before = await rowCounts(built)

  const none = await invite(built, owner.headers, assessment.id, [])
  t.match(expectError(t, none, 400, 'validation_failed').message, 'candidates')

  const badEmail = await invite(built, owner.headers, assessment.id, [{ email: 'ok@example.com' }, { email: 'not-an-email' }])
  const badEmailError = expectError(t, badEmail, 400, 'validation_failed')
  t.match(badEmailError.message, 'candidates.1.email', 'the message names the field')
  t.match(badEmailError.message, 'email address')

  const missing = await built.app.inject({ method: 'POST', url: '/api/invitations', headers: owner.headers, payload: {} })
  expectError(t, missing, 400, 'validation_failed')

  const notUuid = await invite(built, owner.headers, 'nope', [{ email: 'a@example.com' }])
  t.match(expectError(t, notUuid, 400, 'validation_failed').message, 'assessment_id')

  const unknown = await invite(built, owner.headers, crypto.randomUUID(), [{ email: 'a@example.com' }])
  expectError(t, unknown, 422, 'assessment_not_found')
  const theirs = await invite(built, owner.headers, foreign.id, [{ email: 'a@example.com' }])
  expectError(t, theirs, 422, 'assessment_not_found')

  const malformed = await built.app.inject({
    method: 'POST',
    url: '/api/invitations',
    headers: { ...owner.headers, 'content-type': 'application/json' },
    payload: '{"assessment_id": ',
  })
  expectError(t, malformed, 400, 'invalid_json')

  const anonymous = await built.app.inject({
    method: 'POST',
    url: '/api/invitations',
    payload: { assessment_id: assessment.id, candidates: [{ email: 'a@example.com' }] },
  })
  expectError(t, anonymous, 401, 'unauthenticated')

  t.same(await rowCounts(built), before, 'nothing was written')
  t.equal((await mail(built, owner.headers)).length, 0)
})

t.test('listing filters by assessment; an invitation reads with its repo, comments and feedback', async (t) => {
  const { built, owner, assessment } = await setup(t)
  const second = await newAssessment(built, owner.headers, 'Frontend exercise')
  const a = await invite(built, owner.headers, assessment.id, [{ email: 'a1@example.com' }, { email: 'a2@example.com' }])
  const b = await invite(built, owner.headers, second.id, [{ email: 'b1@example.com', name: 'Bea' }])
  const aIds = (a.json() as { invitations: CreatedInvitation[] }).invitations.map((i) => i.id).sort()
  const bInvitation = (b.json() as { invitations: CreatedInvitation[] }).invitations[0]!

  const all = await built.app.inject({ method: 'GET', url: '/api/invitations', headers: owner.headers })
  t.equal(all.statusCode, 200)
  t.same((all.json() as { invitations: Array<{ id: string }> }).invitations.map((i) => i.id).sort(), [...aIds, bInvitation.id].sort())

  const onlyA = await built.app.inject({ method: 'GET', url: `/api/invitations?assessment_id=${assessment.id}`, headers: owner.headers })
  t.equal(onlyA.statusCode, 200)
  const listed = (onlyA.json() as { invitations: Array<Record<string, unknown>> }).invitations
  t.same(listed.map((i) => i.id).sort(), aIds)
  for (const i of listed) {
    t.equal(i.assessment_id, assessment.id)
    t.notOk('start_url' in i, 'the start link is shown only once, when created')
  }
  const onlyB = await built.app.inject({ method: 'GET', url: `/api/invitations?assessment_id=${second.id}`, headers: owner.headers })
  t.same((onlyB.json() as { invitations: Array<{ id: string }> }).invitations.map((i) => i.id), [bInvitation.id])
  const noneYet = await built.app.inject({
    method: 'GET',
    url: `/api/invitations?assessment_id=${crypto.randomUUID()}`,
    headers: owner.headers,
  })
  t.same(noneYet.json(), { invitations: [] })
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/invitations?assessment_id=x', headers: owner.headers }), 400, 'validation_failed')

  const one = await built.app.inject({ method: 'GET', url: `/api/invitations/${bInvitation.id}`, headers: owner.headers })
  t.equal(one.statusCode, 200)
  t.same(one.json(), {
    id: bInvitation.id,
    assessment_id: second.id,
    candidate_email: 'b1@example.com',
    candidate_name: 'Bea',
    status: 'sent',
    start_deadline: bInvitation.start_deadline,
    complete_deadline: null,
    sent_at: built.clock.now().toISOString(),
    accepted_at: null,
    started_at: null,
    submitted_at: null,
    expired_at: null,
    revoked_at: null,
    time_taken_seconds: null,
    repo: null,
    comments: [],
    feedback: [],
  })
  expectError(t, await built.app.inject({ method: 'GET', url: `/api/invitations/${crypto.randomUUID()}`, headers: owner.headers }), 404, 'invitation_not_found')
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/invitations/not-a-uuid', headers: owner.headers }), 400, 'validation_failed')
})

t.test("another organisation's invitations are invisible and cannot be revoked", async (t) => {
  const { built, owner, assessment } = await setup(t)
  const created = await invite(built, owner.headers, assessment.id, [{ email: 'ann@example.com' }])
  const id = (created.json() as { invitations: CreatedInvitation[] }).invitations[0]!.id
  const stranger = await signup(built)

  expectError(t, await built.app.inject({ method: 'GET', url: `/api/invitations/${id}`, headers: stranger.headers }), 404, 'invitation_not_found')
  expectError(
    t,
    await built.app.inject({ method: 'POST', url: `/api/invitations/${id}/revoke`, headers: stranger.headers }),
    404,
    'invitation_not_found',
  )
  const list = await built.app.inject({ method: 'GET', url: '/api/invitations', headers: stranger.headers })
  t.same(list.json(), { invitations: [] })
  const filtered = await built.app.inject({ method: 'GET', url: `/api/invitations?assessment_id=${assessment.id}`, headers: stranger.headers })
  t.same(filtered.json(), { invitations: [] })
  t.same(await mail(built, stranger.headers), [], "nor can they read the owner's mailbox")

  const [row] = await built.db.select().from(schema.invitations).where(eq(schema.invitations.id, id))
  t.equal(row!.status, 'sent', 'the invitation is untouched')
})

t.test('viewers and reviewers read invitations but cannot create or revoke them', async (t) => {
  const { built, owner, assessment } = await setup(t)
  const created = await invite(built, owner.headers, assessment.id, [{ email: 'ann@example.com' }])
  const id = (created.json() as { invitations: CreatedInvitation[] }).invitations[0]!.id

  for (const role of ['viewer', 'reviewer']) {
    t.test(role, async (t) => {
      const who = await member(built, owner, role)
      const before = await rowCounts(built)
      const create = await invite(built, who.headers, assessment.id, [{ email: `${role}-pick@example.com` }])
      expectError(t, create, 403, 'forbidden')
      const revoke = await built.app.inject({ method: 'POST', url: `/api/invitations/${id}/revoke`, headers: who.headers })
      expectError(t, revoke, 403, 'forbidden')
      t.same(await rowCounts(built), before, 'nothing written')

      const list = await built.app.inject({ method: 'GET', url: '/api/invitations', headers: who.headers })
      t.equal(list.statusCode, 200)
      t.same((list.json() as { invitations: Array<{ id: string }> }).invitations.map((i) => i.id), [id])
      const one = await built.app.inject({ method: 'GET', url: `/api/invitations/${id}`, headers: who.headers })
      t.equal(one.statusCode, 200)
      t.match(one.json(), { id, status: 'sent' })
    })
  }
})
