import { rmSync } from 'node:fs'
import { generateToken, schema } from '@takehome/core'
import { createSourceRepo } from '@takehome/core/testing'
import { and, eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { type BuildOptions, type Built, build, createAssessment, createSeed, expectError, invite, signup } from './helper.ts'

const DAY_MS = 24 * 3600 * 1000
const INSTRUCTIONS = [
  '# Task',
  '',
  'Implement **the thing**.',
  '',
  '<img src=x onerror=alert(1)>',
  '',
  '[x](javascript:alert(1)) and [docs](https://example.com/docs)',
].join('\n')

const source = createSourceRepo()
t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))

/** An app with one assessment and one invitation to Ann; returns her start token. */
async function setup(t: Test, options: BuildOptions = {}) {
  const built = await build(t, options)
  const owner = await signup(built)
  const seed = await createSeed(built, owner.headers, source.dir)
  const assessment = await createAssessment(built, owner.headers, seed.id, {
    description: 'A small HTTP service',
    instructions: INSTRUCTIONS,
  })
  const [invitation] = await invite(built, owner.headers, assessment.id, [{ email: 'ann@example.com', name: 'Ann' }])
  const token = invitation!.token
  return { built, owner, invitation: invitation!, token }
}

const view = (built: Built, token: string) => built.app.inject({ method: 'GET', url: `/api/start/${token}` })

async function adminView(built: Built, headers: Record<string, string>, id: string) {
  const res = await built.app.inject({ method: 'GET', url: `/api/invitations/${id}`, headers })
  if (res.statusCode !== 200) throw new Error(`get invitation failed: ${res.statusCode} ${res.body}`)
  return res.json() as { status: string; accepted_at: string | null; expired_at: string | null }
}

t.test('the start page is anonymous; the first view accepts the invitation, later views change nothing', async (t) => {
  const { built, owner, invitation, token } = await setup(t)
  t.match(token, /^thi_[0-9A-Za-z]{49}$/)
  const openedAt = built.clock.now().toISOString()

  const first = await view(built, token)
  t.equal(first.statusCode, 200, first.body)
  t.equal(first.headers['cache-control'], 'no-store', 'a personal page is never cached')
  t.equal(first.headers['referrer-policy'], 'no-referrer', 'the secret URL never leaks as a referrer')
  t.notOk(first.headers['set-cookie'], 'no cookie is set for the candidate')
  const body = first.json() as { assessment: { instructions_html: string } }
  t.same(Object.keys(body).sort(), [
    'assessment', 'candidate_name', 'complete_deadline', 'final_sha', 'git', 'start_deadline', 'started_at', 'status', 'submitted_at',
  ])
  t.same(body, {
    assessment: {
      title: 'Backend exercise',
      description: 'A small HTTP service',
      instructions: INSTRUCTIONS,
      instructions_html: body.assessment.instructions_html,
      time_to_complete: 'P2D',
    },
    candidate_name: 'Ann',
    status: 'accepted',
    start_deadline: invitation.start_deadline,
    complete_deadline: null,
    started_at: null,
    submitted_at: null,
    final_sha: null,
    git: null,
  })
  t.notOk('candidate_email' in body, 'the page does not echo the email address')

  const afterFirst = await adminView(built, owner.headers, invitation.id)
  t.equal(afterFirst.status, 'accepted', 'opening the page moved sent to accepted')
  t.equal(afterFirst.accepted_at, openedAt)
  const accepted = () =>
    built.db
      .select()
      .from(schema.auditEvents)
      .where(and(eq(schema.auditEvents.kind, 'invitation.accepted'), eq(schema.auditEvents.target, invitation.id)))
  const audits = await accepted()
  t.equal(audits.length, 1, 'the acceptance is audited')
  t.equal(audits[0]!.actor, `candidate:${invitation.id}`)

  built.clock.advance(60_000)
  const second = await view(built, token)
  t.equal(second.statusCode, 200)
  t.equal(second.json().status, 'accepted')
  const afterSecond = await adminView(built, owner.headers, invitation.id)
  t.equal(afterSecond.status, 'accepted')
  t.equal(afterSecond.accepted_at, openedAt, 'a second view does not move accepted_at')
  t.equal((await accepted()).length, 1, 'and is not audited again')
})

t.test('instructions render as safe HTML', async (t) => {
  const { built, token } = await setup(t)
  const html = (await view(built, token)).json().assessment.instructions_html as string
  t.match(html, '<h1>Task</h1>')
  t.match(html, '<strong>the thing</strong>')
  t.match(html, '<a href="https://example.com/docs">docs</a>', 'ordinary links work')
  t.notMatch(html, /<img/i, 'raw HTML is not passed through')
  t.notMatch(html, /<script/i)
  t.notMatch(html, /href\s*=\s*["']?\s*javascript:/i, 'no javascript: link')
  t.notMatch(html, /<a [^>]*>x<\/a>/, 'the javascript: link was not rendered as a link at all')
  t.match(html, '&lt;img src=x onerror=alert(1)&gt;', 'the tag is shown as text')
})

t.test('after the start deadline the link reports expired and the invitation is expired', async (t) => {
  const { built, owner, invitation, token } = await setup(t)
  built.clock.advance(3 * DAY_MS + 1000)
  const res = await view(built, token)
  t.equal(res.statusCode, 200)
  t.match(res.json(), { status: 'expired', start_deadline: invitation.start_deadline, complete_deadline: null, git: null })
  const row = await adminView(built, owner.headers, invitation.id)
  t.equal(row.status, 'expired', 'the expiry is recorded, not only shown')
  t.equal(row.expired_at, built.clock.now().toISOString())
  t.equal(row.accepted_at, null, 'a link first opened too late is never accepted')
  const audits = await built.db
    .select()
    .from(schema.auditEvents)
    .where(and(eq(schema.auditEvents.kind, 'invitation.expired'), eq(schema.auditEvents.target, invitation.id)))
  t.equal(audits.length, 1)
  t.equal(audits[0]!.actor, 'system')
  t.equal((await view(built, token)).json().status, 'expired', 'and stays expired')
})

t.test('an accepted invitation also expires at its start deadline', async (t) => {
  const { built, owner, invitation, token } = await setup(t)
  t.equal((await view(built, token)).json().status, 'accepted')
  built.clock.advance(3 * DAY_MS - 1000)
  t.equal((await view(built, token)).json().status, 'accepted', 'a second before the deadline it is still open')
  built.clock.advance(1000)
  t.equal((await view(built, token)).json().status, 'expired', 'at the deadline it is closed')
  t.equal((await adminView(built, owner.headers, invitation.id)).status, 'expired')
})

t.test('a revoked invitation shows revoked', async (t) => {
  const { built, owner, invitation, token } = await setup(t)
  const revoked = await built.app.inject({ method: 'POST', url: `/api/invitations/${invitation.id}/revoke`, headers: owner.headers })
  t.equal(revoked.statusCode, 200)
  const res = await view(built, token)
  t.equal(res.statusCode, 200)
  t.equal(res.json().status, 'revoked')
  t.equal((await adminView(built, owner.headers, invitation.id)).status, 'revoked', 'viewing does not change it')
  built.clock.advance(4 * DAY_MS)
  t.equal((await view(built, token)).json().status, 'revoked', 'revoked is final, even past the deadline')
})

t.test('unknown, malformed and over-long tokens are refused the same way', async (t) => {
  const { built, token } = await setup(t)
  const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')
  const cases: Array<[string, string]> = [
    ['unknown but well-formed', generateToken('invitation')],
    ['bad checksum', flipped],
    ['a git access token', generateToken('access')],
    ['an API key', generateToken('apiKey')],
    ['garbage', 'garbage'],
    ['the token in another case', token.toLowerCase()],
  ]
  for (const [name, candidate] of cases) {
    const res = await view(built, candidate)
    t.test(name, async (t) => {
      const error = expectError(t, res, 404, 'invitation_not_found')
      t.notMatch(error.message, candidate, 'the token is not echoed')
    })
  }
  const tooLong = await view(built, `thi_${'a'.repeat(196)}`)
  t.match(expectError(t, tooLong, 400, 'validation_failed').message, 'params.token', '200 characters')
  // Past the router's maxParamLength (200) the refusal comes before routing, still in our shape.
  expectError(t, await view(built, `thi_${'a'.repeat(5000)}`), 414, 'url_too_long')
  t.equal((await view(built, token)).statusCode, 200, 'the real token still works')
})

t.test('the start page is rate limited per client', async (t) => {
  const { built, token } = await setup(t, { rateLimits: { start: { max: 3, timeWindow: 60_000 } } })
  const statuses: number[] = []
  for (const candidate of [token, generateToken('invitation'), token, token, generateToken('invitation')]) {
    const res = await view(built, candidate)
    statuses.push(res.statusCode)
    if (res.statusCode === 429) expectError(t, res, 429, 'rate_limited')
  }
  t.same(statuses, [200, 404, 200, 429, 429], 'unknown tokens count against the limit too')
})

t.test('Start after the start deadline is refused, creates nothing and records the expiry; a millisecond before, it starts', async (t) => {
  const start = (built: Built, token: string) => built.app.inject({ method: 'POST', url: `/api/start/${token}` })
  const late = await setup(t)
  // Opened in time (accepted), clicked too late: exactly at the deadline is too late.
  t.equal((await view(late.built, late.token)).json().status, 'accepted')
  late.built.clock.set(new Date(late.invitation.start_deadline))
  const error = expectError(t, await start(late.built, late.token), 409, 'start_deadline_passed')
  t.match(error.message, late.invitation.start_deadline, 'the message names the deadline')
  t.same(await late.built.db.select().from(schema.candidateRepos), [], 'no repository row')
  t.same(await late.built.db.select().from(schema.accessTokens), [], 'no access token')
  const row = await adminView(late.built, late.owner.headers, late.invitation.id)
  t.equal(row.status, 'expired', 'the expiry is recorded')
  expectError(t, await start(late.built, late.token), 409, 'start_deadline_passed')

  // Never opened, first clicked well after the deadline: the same answer.
  const never = await setup(t)
  never.built.clock.advance(3 * DAY_MS + 60_000)
  expectError(t, await start(never.built, never.token), 409, 'start_deadline_passed')
  t.same(await never.built.db.select().from(schema.candidateRepos), [], 'no repository row')

  const inTime = await setup(t)
  inTime.built.clock.set(new Date(Date.parse(inTime.invitation.start_deadline) - 1))
  const res = await start(inTime.built, inTime.token)
  t.equal(res.statusCode, 200, 'a millisecond before the deadline Start works')
  t.equal(res.json().status, 'started')
})
