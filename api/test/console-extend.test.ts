// Moving a deadline later (audited, with a reason) and sending the invite again: who may,
// in which states, and that the broker, the gateway and the sweeper follow the new deadline.
import { schema } from '@takehome/core'
import { createSourceRepo } from '@takehome/core/testing'
import { and, eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { type Built, build, expectError, type Invited, invited, mailbox, member, rowCounts, signup } from './helper.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR

async function setUp(t: Test, emails = ['ada@example.com']) {
  const built = await build(t)
  const { owner, invitations, assessment } = await invited(built, createSourceRepo().dir, emails)
  const extend = (id: string, headers: Record<string, string>, payload: object) =>
    built.app.inject({ method: 'POST', url: `/api/invitations/${id}/extend`, headers, payload })
  const resend = (id: string, headers: Record<string, string>) =>
    built.app.inject({ method: 'POST', url: `/api/invitations/${id}/resend`, headers })
  return { built, owner, invitations, assessment, extend, resend }
}

const at = (built: Built, ms: number) => new Date(built.clock.now().getTime() + ms).toISOString()

async function startAs(t: Test, built: Built, token: string) {
  const res = await built.app.inject({ method: 'POST', url: `/api/start/${token}` })
  t.equal(res.statusCode, 200, `Start answers 200: ${res.body}`)
  return res.json() as { status: string; complete_deadline: string; git: { credential_url: string } }
}

const audits = (built: Built, kind: string, target: string) =>
  built.db.select().from(schema.auditEvents).where(and(eq(schema.auditEvents.kind, kind), eq(schema.auditEvents.target, target)))

t.test('the start deadline moves later before Start; the start page and the sweeper follow it', async (t) => {
  const { built, owner, invitations, extend } = await setUp(t)
  const invitation = invitations[0]!
  const until = at(built, 5 * DAY)
  const res = await extend(invitation.id, owner.headers, { deadline: 'start', until, reason: 'Candidate is travelling this week' })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { id: invitation.id, status: 'sent', start_deadline: until, complete_deadline: null })
  const [audit] = await audits(built, 'invitation.deadline_extended', invitation.id)
  t.match(audit, {
    actor: `user:${owner.user.id}`,
    meta: { deadline: 'start', from: invitation.start_deadline, to: until, reason: 'Candidate is travelling this week' },
  })

  built.clock.advance(4 * DAY)
  t.same(await built.services.deadlines.sweep(), { expired: 0 }, 'past the old deadline the sweeper leaves it be')
  const started = await startAs(t, built, invitation.token)
  t.equal(started.status, 'started', 'the candidate starts after the old deadline')
})

t.test('the complete deadline moves later while the candidate works, and git access with it at once', async (t) => {
  const { built, owner, invitations, extend } = await setUp(t)
  const invitation = invitations[0]!
  const started = await startAs(t, built, invitation.token)
  const accessToken = started.git.credential_url.split('token=')[1]!
  const check = () => built.services.access.check(accessToken, { context: 'git' })
  t.equal((await check()).ok, true, 'access works, and is remembered')

  const until = new Date(new Date(started.complete_deadline).getTime() + DAY).toISOString()
  const res = await extend(invitation.id, owner.headers, { deadline: 'complete', until, reason: 'Power cut at home' })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { status: 'started', complete_deadline: until })
  const tokens = await built.db.select().from(schema.accessTokens).where(eq(schema.accessTokens.invitationId, invitation.id))
  t.same(tokens.map((a) => a.expiresAt.toISOString()), [until], 'the access token expires with the new deadline')

  built.clock.set(new Date(new Date(started.complete_deadline).getTime() + HOUR))
  const later = await check()
  t.match(later, { ok: true }, 'past the old deadline git still works: nothing remembered the old one')
  t.same(await built.services.deadlines.sweep(), { expired: 0 }, 'the sweeper leaves it be')
  built.clock.set(new Date(new Date(until).getTime() + 1000))
  t.match(await check(), { ok: false, refusal: 'deadline_passed' }, 'past the new deadline git is refused')
  t.same(await built.services.deadlines.sweep(), { expired: 1 }, 'and the sweeper records the expiry')
})

t.test('extending is refused in the wrong state, past the deadline, backwards and too far ahead', async (t) => {
  const { built, owner, invitations, extend } = await setUp(t, ['ada@example.com', 'bob@example.com', 'cy@example.com', 'dee@example.com'])
  const [sent, working, revoked, late] = invitations as [Invited, Invited, Invited, Invited]
  const started = await startAs(t, built, working.token)
  t.equal((await built.app.inject({ method: 'POST', url: `/api/invitations/${revoked.id}/revoke`, headers: owner.headers })).statusCode, 200)
  const reason = 'Asked for more time'

  expectError(t, await extend(working.id, owner.headers, { deadline: 'start', until: at(built, 5 * DAY), reason }), 409, 'start_deadline_not_extendable')
  expectError(t, await extend(sent.id, owner.headers, { deadline: 'complete', until: at(built, 5 * DAY), reason }), 409, 'complete_deadline_not_extendable')
  expectError(t, await extend(revoked.id, owner.headers, { deadline: 'start', until: at(built, 5 * DAY), reason }), 409, 'start_deadline_not_extendable')
  expectError(t, await extend(sent.id, owner.headers, { deadline: 'start', until: at(built, 2 * DAY), reason }), 422, 'deadline_not_later')
  expectError(t, await extend(sent.id, owner.headers, { deadline: 'start', until: at(built, -HOUR), reason }), 422, 'deadline_not_later')
  expectError(t, await extend(working.id, owner.headers, { deadline: 'complete', until: started.complete_deadline, reason }), 422, 'deadline_not_later')
  expectError(t, await extend(sent.id, owner.headers, { deadline: 'start', until: at(built, 91 * DAY), reason }), 422, 'deadline_too_far')
  t.equal((await extend(sent.id, owner.headers, { deadline: 'start', until: at(built, 90 * DAY), reason })).statusCode, 200, '90 days is the most')

  // Past both deadlines, before the sweeper has recorded anything.
  built.clock.advance(3 * DAY + 60_000)
  expectError(t, await extend(late.id, owner.headers, { deadline: 'start', until: at(built, DAY), reason }), 409, 'deadline_passed')
  expectError(t, await extend(working.id, owner.headers, { deadline: 'complete', until: at(built, DAY), reason }), 409, 'deadline_passed')
  t.equal((await audits(built, 'invitation.deadline_extended', sent.id)).length, 1, 'only the extension that happened is audited')
})

t.test('bad input is a 400 in the error shape', async (t) => {
  const { built, owner, invitations, extend } = await setUp(t)
  const id = invitations[0]!.id
  const until = at(built, 5 * DAY)
  const before = await rowCounts(built)
  for (const [payload, why] of [
    [{ deadline: 'finish', until, reason: 'More time' }, 'an unknown deadline'],
    [{ deadline: 'start', until: 'next tuesday', reason: 'More time' }, 'a date that is not ISO 8601'],
    [{ deadline: 'start', until: '2026-11-05', reason: 'More time' }, 'a date without a time'],
    [{ deadline: 'start', until }, 'no reason'],
    [{ deadline: 'start', until, reason: '   ' }, 'a blank reason'],
    [{ deadline: 'start', until, reason: '?!…' }, 'a reason without words'],
    [{ deadline: 'start', until, reason: 'x'.repeat(501) }, 'a reason over 500 characters'],
    [{ deadline: 'start', until, reason: 'two\nlines' }, 'a reason of two lines'],
  ] as const) {
    expectError(t, await extend(id, owner.headers, payload), 400, 'validation_failed')
    t.pass(`refused: ${why}`)
  }
  expectError(t, await extend('not-a-uuid', owner.headers, { deadline: 'start', until, reason: 'More time' }), 400, 'validation_failed')
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test('only owners and admins extend and resend; another org finds nothing', async (t) => {
  const { built, owner, invitations, extend, resend } = await setUp(t)
  const id = invitations[0]!.id
  const payload = { deadline: 'start', until: at(built, 5 * DAY), reason: 'More time' }
  const viewer = await member(built, owner, 'viewer')
  const reviewer = await member(built, owner, 'reviewer')
  const admin = await member(built, owner, 'admin')
  const stranger = await signup(built)
  built.clock.advance(2 * 60_000)
  const before = await rowCounts(built)
  for (const who of [viewer, reviewer]) {
    expectError(t, await extend(id, who.headers, payload), 403, 'forbidden')
    expectError(t, await resend(id, who.headers), 403, 'forbidden')
  }
  expectError(t, await extend(id, stranger.headers, payload), 404, 'invitation_not_found')
  expectError(t, await resend(id, stranger.headers), 404, 'invitation_not_found')
  expectError(t, await built.app.inject({ method: 'POST', url: `/api/invitations/${id}/extend`, payload }), 401)
  t.same(await rowCounts(built), before, 'nothing was written')
  t.equal((await extend(id, admin.headers, payload)).statusCode, 200, 'an admin extends')
  t.equal((await resend(id, admin.headers)).statusCode, 202, 'an admin resends')
})

t.test('resend: the same start link again, once a minute at most, only before Start and the deadline', async (t) => {
  const { built, owner, invitations, resend } = await setUp(t, ['ada@example.com', 'bob@example.com'])
  const [ada, bob] = invitations as [Invited, Invited]
  t.equal((await mailbox(built, owner.headers, { kind: 'invite' })).filter((m) => m.to === ada.candidate_email).length, 1)

  const early = await resend(ada.id, owner.headers)
  const tooSoon = expectError(t, early, 429, 'resend_too_soon')
  t.match(tooSoon.details, { retry_after_seconds: 60 })
  t.equal(early.headers['retry-after'], '60', 'and says when again in Retry-After')
  built.clock.advance(61_000)
  const res = await resend(ada.id, owner.headers)
  t.equal(res.statusCode, 202, res.body)
  t.match(res.json(), { id: ada.id, status: 'sent', sent_at: built.clock.now().toISOString() })
  const invites = (await mailbox(built, owner.headers, { kind: 'invite' })).filter((m) => m.to === ada.candidate_email)
  t.equal(invites.length, 2, 'a second invite email')
  t.ok(invites.every((m) => m.text.includes(ada.start_url)), 'both carry the start link')
  t.match(await audits(built, 'invitation.resent', ada.id), [{ actor: `user:${owner.user.id}`, meta: { job_id: String } }])
  expectError(t, await resend(ada.id, owner.headers), 429, 'resend_too_soon')

  built.clock.advance(61_000)
  await startAs(t, built, ada.token)
  expectError(t, await resend(ada.id, owner.headers), 409, 'invitation_not_resendable')
  built.clock.advance(3 * DAY)
  expectError(t, await resend(bob.id, owner.headers), 409, 'deadline_passed')
  t.equal((await audits(built, 'invitation.resent', bob.id)).length, 0)
})
