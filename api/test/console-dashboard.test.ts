// The dashboard: every assessment of the caller's org with its invitations by status,
// deadlines in the next 48 hours by the service's clock, and work nobody has reviewed yet.
import { createSourceRepo } from '@takehome/core/testing'
import t from 'tap'
import { build, createAssessment, createSeed, expectError, type Invited, invite, member, signup } from './helper.ts'

const HOUR = 3_600_000

interface Dashboard {
  now: string
  window_hours: number
  assessments: Array<{ id: string; title: string; counts: Record<string, number> }>
  deadlines: Array<{ invitation_id: string; assessment_title: string; candidate_email: string; deadline: string; at: string }>
  awaiting_review: Array<{ invitation_id: string; candidate_email: string; status: string; final_sha: string; ended_at: string }>
}

t.test('counts by status, deadlines coming up and work awaiting review, for this org only', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const seed = await createSeed(built, owner.headers, createSourceRepo().dir)
  // Three days to start, two to complete (created first, listed last); one day to start, one hour to complete.
  const slow = await createAssessment(built, owner.headers, seed.id, { title: 'Slow one' })
  built.clock.advance(1000)
  const quick = await createAssessment(built, owner.headers, seed.id, { title: 'Quick one', time_to_start: 'P1D', time_to_complete: 'PT1H' })
  built.clock.advance(1000)
  const empty = await createAssessment(built, owner.headers, seed.id, { title: 'Nobody invited' })
  const slowInvites = await invite(built, owner.headers, slow.id, [{ email: 'ann@example.com' }, { email: 'ben@example.com' }])
  const quickInvites = await invite(built, owner.headers, quick.id, ['cat', 'dan', 'eli', 'fay', 'gus'].map((n) => ({ email: `${n}@example.com` })))
  const [cat, dan, eli, fay, gus] = quickInvites as [Invited, Invited, Invited, Invited, Invited]
  const post = (url: string, headers: Record<string, string> = {}, payload?: object) => built.app.inject({ method: 'POST', url, headers, payload })
  for (const who of [cat, dan, eli, fay]) t.equal((await post(`/api/start/${who.token}`)).statusCode, 200, 'started')
  t.equal((await post(`/api/submit/${cat.token}`)).statusCode, 200, 'cat submits')
  t.equal((await post(`/api/submit/${dan.token}`)).statusCode, 200, 'dan submits')
  t.equal((await post(`/api/invitations/${gus.id}/revoke`, owner.headers)).statusCode, 200, 'gus is revoked')
  t.equal((await post(`/api/invitations/${dan.id}/feedback`, owner.headers, { rating: 4 })).statusCode, 201, 'dan is reviewed')
  built.clock.advance(2 * HOUR)
  t.same(await built.services.deadlines.sweep(), { expired: 2 }, "eli and fay's time ran out")
  await built.drain()

  // Someone else's org, with deadlines of its own in the window.
  const stranger = await signup(built)
  const theirSeed = await createSeed(built, stranger.headers, createSourceRepo().dir)
  const theirs = await createAssessment(built, stranger.headers, theirSeed.id, { title: 'Theirs', time_to_start: 'PT5H' })
  await invite(built, stranger.headers, theirs.id, [{ email: 'zed@example.com' }])

  const res = await built.app.inject({ method: 'GET', url: '/api/dashboard', headers: owner.headers })
  t.equal(res.statusCode, 200, res.body)
  const dashboard = res.json() as Dashboard
  t.equal(dashboard.now, built.clock.now().toISOString())
  t.equal(dashboard.window_hours, 48)
  const zero = { sent: 0, accepted: 0, started: 0, submitted: 0, expired: 0, revoked: 0 }
  t.same(dashboard.assessments, [
    { id: empty.id, title: 'Nobody invited', counts: zero },
    { id: quick.id, title: 'Quick one', counts: { ...zero, submitted: 2, expired: 2, revoked: 1 } },
    { id: slow.id, title: 'Slow one', counts: { ...zero, sent: 2 } },
  ], 'every assessment, newest first, counted by status')

  // Quick's start deadline (22 h left) was for invitations that all started or were revoked; Slow's (70 h) is past the window.
  t.same(dashboard.deadlines, [], 'nothing due within 48 hours yet')
  const waiting = dashboard.awaiting_review.map((r) => [r.candidate_email, r.status])
  t.same(waiting[0], ['cat@example.com', 'submitted'], 'longest waiting first')
  t.same(
    waiting.sort(),
    [['cat@example.com', 'submitted'], ['eli@example.com', 'expired'], ['fay@example.com', 'expired']],
    'submitted and expired work without feedback; none reviewed, none of the other org',
  )
  t.ok(dashboard.awaiting_review.every((r) => /^[0-9a-f]{40}$/.test(r.final_sha)), 'each with its final commit')

  built.clock.advance(24 * HOUR)
  const later = (await built.app.inject({ method: 'GET', url: '/api/dashboard', headers: owner.headers })).json() as Dashboard
  t.same(
    later.deadlines.map((d) => [d.candidate_email, d.deadline, d.at]).sort(),
    slowInvites.map((i) => [i.candidate_email, 'start', i.start_deadline]).sort(),
    "a day later Slow's start deadlines are within 48 hours",
  )
  t.equal(later.deadlines[0]!.assessment_title, 'Slow one')
})

t.test('a started candidate shows with the complete deadline; a passed deadline does not show', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const seed = await createSeed(built, owner.headers, createSourceRepo().dir)
  const assessment = await createAssessment(built, owner.headers, seed.id, { time_to_start: 'PT1H', time_to_complete: 'PT30H' })
  const [ann] = await invite(built, owner.headers, assessment.id, [{ email: 'ann@example.com' }, { email: 'ben@example.com' }])
  t.equal((await built.app.inject({ method: 'POST', url: `/api/start/${ann!.token}` })).statusCode, 200)
  const dashboard = async () => (await built.app.inject({ method: 'GET', url: '/api/dashboard', headers: owner.headers })).json() as Dashboard
  const now = (await dashboard()).deadlines.map((d) => [d.candidate_email, d.deadline])
  t.same(now, [['ben@example.com', 'start'], ['ann@example.com', 'complete']], 'soonest first')
  built.clock.advance(2 * HOUR)
  t.same((await dashboard()).deadlines.map((d) => [d.candidate_email, d.deadline]), [['ann@example.com', 'complete']], "ben's passed start deadline is gone, recorded or not")
})

t.test('every member reads the dashboard; without a session it is refused', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  for (const role of ['viewer', 'reviewer', 'admin']) {
    const who = await member(built, owner, role)
    const res = await built.app.inject({ method: 'GET', url: '/api/dashboard', headers: who.headers })
    t.equal(res.statusCode, 200, `a ${role} reads it`)
    t.same(res.json().assessments, [])
  }
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/dashboard' }), 401)
})
