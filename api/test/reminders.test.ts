import { rmSync } from 'node:fs'
import { createSourceRepo } from '@takehome/core/testing'
import t, { type Test } from 'tap'
import { type Built, build, invited, mailbox, member } from './helper.ts'

const HOUR = 3_600_000

async function setup(t: Test, emails: string[], assessment: object = {}) {
  const built = await build(t)
  const src = createSourceRepo()
  t.teardown(() => rmSync(src.dir, { recursive: true, force: true }))
  const result = await invited(built, src.dir, emails, { time_to_start: 'P3D', time_to_complete: 'PT48H', ...assessment })
  await built.drain()
  return { built, ...result }
}

/** What the reminder schedule does on each tick. */
const tick = async (built: Built) => (await built.services.reminders.scan()).due

t.test('a candidate who has not started is reminded once, a day before the start deadline', async (t) => {
  const { built, owner, invitations } = await setup(t, ['ann@example.com'])
  t.equal(await tick(built), 0, 'nothing due right after the invite')
  built.clock.advance(47 * HOUR)
  t.equal(await tick(built), 0, 'not yet: 25 hours before the deadline')
  built.clock.advance(2 * HOUR)
  t.equal(await tick(built), 1, 'due 23 hours before the deadline')
  t.equal(await tick(built), 1, 'still due on the next tick…')
  const sent = await mailbox(built, owner.headers, { kind: 'reminder' })
  t.equal(sent.length, 1, '…but sent once')
  t.match(sent[0], { to: 'ann@example.com', subject: 'Reminder: your take-home assessment Backend exercise' })
  t.match(sent[0]!.text, invitations[0]!.start_url, 'with the start link again')
  t.match(sent[0]!.text, 'Deadline to submit: set when you start')
  await tick(built)
  t.equal((await mailbox(built, owner.headers, { kind: 'reminder' })).length, 1, 'and never again')
})

t.test("the org's default reminder template is used; no reminder for someone invited inside the window", async (t) => {
  const { built, owner } = await setup(t, ['ann@example.com'], { time_to_start: 'PT12H' })
  const template = await built.app.inject({
    method: 'POST',
    url: '/api/email-templates',
    headers: owner.headers,
    payload: { kind: 'reminder', name: 'Nudge', subject: 'Still there, {candidate_name}?', body: 'Start by {start_deadline}.', is_default: true },
  })
  t.equal(template.statusCode, 201, template.body)
  built.clock.advance(HOUR)
  t.equal(await tick(built), 0, 'twelve hours to start is inside the 24-hour window from the start: the invite is reminder enough')

  const later = await setup(t, ['bob@example.com'], { time_to_start: 'P2D' })
  const own = await later.built.app.inject({
    method: 'POST',
    url: '/api/email-templates',
    headers: later.owner.headers,
    payload: { kind: 'reminder', name: 'Nudge', subject: 'Still there, {candidate_name}?', body: 'Start by {start_deadline}.', is_default: true },
  })
  t.equal(own.statusCode, 201)
  later.built.clock.advance(25 * HOUR)
  t.equal(await tick(later.built), 1)
  const [sent] = await mailbox(later.built, later.owner.headers, { kind: 'reminder' })
  t.match(sent, { to: 'bob@example.com', subject: 'Still there, there?', text: /^Start by 2026-11-03 09:00 UTC\.$/ })
})

t.test('a started candidate is reminded before the complete deadline; one who submitted is not', async (t) => {
  const { built, owner, invitations } = await setup(t, ['ann@example.com', 'bob@example.com'])
  for (const invitation of invitations) {
    const started = await built.app.inject({ method: 'POST', url: `/api/start/${invitation.token}` })
    t.equal(started.statusCode, 200, started.body)
  }
  t.equal((await built.app.inject({ method: 'POST', url: `/api/submit/${invitations[1]!.token}` })).statusCode, 200)
  built.clock.advance(25 * HOUR)
  t.equal(await tick(built), 1, 'only the candidate still working')
  const sent = await mailbox(built, owner.headers, { kind: 'reminder' })
  t.equal(sent.length, 1)
  t.match(sent[0], { to: 'ann@example.com', text: /Deadline to submit: 2026-11-03 09:00 UTC/ })
})

t.test('when time runs out the sweeper records the final commit, archives, and tells owners and admins', async (t) => {
  const { built, owner, invitations } = await setup(t, ['ann@example.com'])
  const admin = await member(built, owner, 'admin')
  await member(built, owner, 'reviewer')
  const started = await built.app.inject({ method: 'POST', url: `/api/start/${invitations[0]!.token}` })
  t.equal(started.statusCode, 200)
  built.clock.advance(48 * HOUR + 1)
  t.same(await built.services.deadlines.sweep(), { expired: 1 })
  const notices = await mailbox(built, owner.headers, { kind: 'notice' })
  const detail = (await built.app.inject({ method: 'GET', url: `/api/invitations/${invitations[0]!.id}`, headers: owner.headers })).json()
  t.match(detail, { status: 'expired', repo: { archived: true, final_sha: /^[0-9a-f]{40}$/ } })
  t.same(notices.map((n) => n.to).sort(), [admin.email, owner.user.email].sort(), 'one notice each to the owner and the admin, none to the reviewer')
  t.match(notices[0]!.text, `captured at commit ${detail.repo.final_sha}`)
  t.same(await built.services.deadlines.sweep(), { expired: 0 }, 'a second sweep finds nothing')
  t.equal((await mailbox(built, owner.headers, { kind: 'notice' })).length, 2, 'and sends nothing more')
})
