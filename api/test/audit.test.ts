// GET /api/audit: the org's audit trail for owners and admins, filtered and paged, read only;
// and the sensitive actions of the product each leave an event there.
import { createSourceRepo } from '@takehome/core/testing'
import t, { type Test } from 'tap'
import { type Built, build, expectError, invited, member, signup } from './helper.ts'

interface AuditEvent {
  id: string
  action: string
  actor: string
  target: string | null
  meta: Record<string, unknown>
  created_at: string
}
interface Page {
  events: AuditEvent[]
  next_cursor: string | null
}

const audit = (built: Built, headers: Record<string, string>, query = '') => built.app.inject({ method: 'GET', url: `/api/audit${query}`, headers })

async function page(t: Test, built: Built, headers: Record<string, string>, query = ''): Promise<Page> {
  const res = await audit(built, headers, query)
  t.equal(res.statusCode, 200, `GET /api/audit${query}: ${res.body.slice(0, 300)}`)
  return res.json() as Page
}

/** Every event matching `query`, following the cursor `limit` at a time. */
async function all(t: Test, built: Built, headers: Record<string, string>, query: string, limit: number) {
  const events: AuditEvent[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const sep = query ? '&' : '?'
    const p: Page = await page(t, built, headers, `${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)
    t.ok(p.events.length <= limit, 'a page holds at most limit events')
    events.push(...p.events)
    cursor = p.next_cursor
    pages++
  } while (cursor && pages < 100)
  return { events, pages }
}

const apiKey = async (built: Built, headers: Record<string, string>, name: string) => {
  const res = await built.app.inject({ method: 'POST', url: '/api/api-keys', headers, payload: { name } })
  if (res.statusCode !== 201) throw new Error(`api key: ${res.statusCode} ${res.body}`)
  return res.json() as { id: string; key: string }
}

t.test('owners and admins read the audit log of their own org; other roles and strangers cannot', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const admin = await member(built, owner, 'admin')
  const reviewer = await member(built, owner, 'reviewer')
  const viewer = await member(built, owner, 'viewer')
  const stranger = await signup(built, {})
  const key = await apiKey(built, owner.headers, 'audit reader')
  await apiKey(built, stranger.headers, 'their key')

  const mine = await page(t, built, owner.headers)
  t.ok(mine.events.length > 0, 'the owner sees events')
  t.ok(
    mine.events.some((e) => e.action === 'api_key.created' && e.target === key.id),
    'including the key just made',
  )
  t.match(mine.events[0], { id: /^\d+$/, action: String, actor: String, created_at: /^\d{4}-\d\d-\d\dT/ })
  t.same(Object.keys(mine.events[0]!).sort(), ['action', 'actor', 'created_at', 'id', 'meta', 'target'], 'the fields of an event, no more')

  const byAdmin = await page(t, built, admin.headers)
  t.same(
    byAdmin.events.map((e) => e.id),
    (await page(t, built, owner.headers)).events.map((e) => e.id),
    'an admin sees the same log',
  )
  const byKey = await page(t, built, { authorization: `Bearer ${key.key}` })
  t.ok(byKey.events.length > 0, "an owner's API key reads it too")

  expectError(t, await audit(built, reviewer.headers), 403, 'forbidden')
  expectError(t, await audit(built, viewer.headers), 403, 'forbidden')
  expectError(t, await audit(built, {}), 401)

  const theirs = await page(t, built, stranger.headers)
  const ourIds = new Set((await all(t, built, owner.headers, '', 200)).events.map((e) => e.id))
  t.ok(theirs.events.length > 0, 'the other org has its own events')
  t.notOk(
    theirs.events.some((e) => ourIds.has(e.id)),
    "no event of one org is in the other's log",
  )
  t.notOk(
    theirs.events.some((e) => e.target === key.id),
    "the other org does not see our key's creation",
  )

  // A cursor is an id of this org's log: another org's id is refused, not used.
  const foreign = theirs.events[0]!.id
  expectError(t, await audit(built, owner.headers, `?cursor=${foreign}`), 400, 'invalid_cursor')
})

t.test('filters by action (exact or a family), actor, target and time; pages are stable and complete', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const admin = await member(built, owner, 'admin')
  const keys = []
  for (let i = 0; i < 7; i++) keys.push(await apiKey(built, owner.headers, `key ${i}`))
  const adminKey = await apiKey(built, admin.headers, 'admin key')
  const revoked = await built.app.inject({ method: 'DELETE', url: `/api/api-keys/${keys[0]!.id}`, headers: owner.headers })
  t.equal(revoked.statusCode, 200, revoked.body)

  const created = await page(t, built, owner.headers, '?action=api_key.created')
  t.equal(created.events.length, 8, 'eight keys made')
  t.ok(created.events.every((e) => e.action === 'api_key.created'))
  const family = await page(t, built, owner.headers, '?action=api_key.*')
  t.equal(family.events.length, 9, 'made and revoked')
  t.same(new Set(family.events.map((e) => e.action)), new Set(['api_key.created', 'api_key.revoked']))
  t.equal((await page(t, built, owner.headers, '?action=api_key')).events.length, 0, 'a family needs its .*: api_key alone is no kind')

  const byAdmin = await page(t, built, owner.headers, `?actor=user:${admin.user.id}&action=api_key.created`)
  t.same(
    byAdmin.events.map((e) => e.target),
    [adminKey.id],
    "the admin's one key",
  )
  const onKey = await page(t, built, owner.headers, `?target=${keys[0]!.id}`)
  t.same(onKey.events.map((e) => e.action), ['api_key.revoked', 'api_key.created'], 'everything about one key, newest first')

  // Pages of two, following the cursor, give the whole list once, in order.
  const whole = (await page(t, built, owner.headers, '?limit=200')).events
  const paged = await all(t, built, owner.headers, '', 2)
  t.same(
    paged.events.map((e) => e.id),
    whole.map((e) => e.id),
    'paging neither skips nor repeats',
  )
  t.equal(paged.pages, Math.ceil(whole.length / 2), 'and ends on the last page')
  for (let i = 1; i < whole.length; i++) {
    const [a, b] = [whole[i - 1]!, whole[i]!]
    const ordered = a.created_at > b.created_at || (a.created_at === b.created_at && Number(a.id) > Number(b.id))
    if (!ordered) t.fail(`events ${a.id} and ${b.id} are out of order`)
  }
  const filteredPaged = await all(t, built, owner.headers, '?action=api_key.created', 3)
  t.same(filteredPaged.events.map((e) => e.id), created.events.map((e) => e.id), 'paging keeps the filter')

  // Time: since is inclusive, until exclusive.
  const pivot = created.events[3]!
  const since = await page(t, built, owner.headers, `?action=api_key.created&since=${encodeURIComponent(pivot.created_at)}`)
  t.ok(since.events.some((e) => e.id === pivot.id), 'since includes its own instant')
  t.ok(
    since.events.every((e) => e.created_at >= pivot.created_at),
    'and nothing earlier',
  )
  const later = new Date(Date.parse(pivot.created_at) + 1).toISOString()
  const until = await page(t, built, owner.headers, `?action=api_key.created&until=${encodeURIComponent(later)}`)
  t.ok(until.events.some((e) => e.id === pivot.id), 'until after it includes it')
  t.ok(until.events.every((e) => e.created_at <= pivot.created_at), 'and nothing later')
  const offset = await page(t, built, owner.headers, `?action=api_key.created&until=${encodeURIComponent('2000-01-01T02:00:00+02:00')}`)
  t.same(offset.events, [], 'an offset is understood; nothing that old')
  t.same((await page(t, built, owner.headers, '?actor=user:00000000-0000-4000-8000-000000000000')).events, [], 'an unknown actor: an empty page')
})

t.test('bad queries are 400s with the error shape', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const cases: Array<[string, string, string]> = [
    ['limit 0', '?limit=0', 'validation_failed'],
    ['limit over the maximum', '?limit=201', 'validation_failed'],
    ['limit not a number', '?limit=many', 'validation_failed'],
    ['since not a date', '?since=yesterday', 'validation_failed'],
    ['until a date without time', '?until=2026-01-01', 'validation_failed'],
    ['since not before until', '?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'validation_failed'],
    ['an action that is no kind', '?action=DROP%20TABLE', 'validation_failed'],
    ['an action with a wildcard inside', '?action=%25.created', 'validation_failed'],
    ['an empty actor', '?actor=', 'validation_failed'],
    ['a cursor that is not ours', '?cursor=abc', 'invalid_cursor'],
    ['a cursor of no event', '?cursor=999999999', 'invalid_cursor'],
    ['a cursor too long', `?cursor=${'9'.repeat(40)}`, 'validation_failed'],
  ]
  for (const [what, query, code] of cases) {
    t.test(what, async (t) => {
      expectError(t, await audit(built, owner.headers, query), 400, code)
    })
  }
})

t.test('no route changes or deletes audit events', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const before = (await page(t, built, owner.headers)).events
  const id = before[0]!.id
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    for (const url of ['/api/audit', `/api/audit/${id}`]) {
      const res = await built.app.inject({ method, url, headers: owner.headers, payload: { action: 'forged', meta: {} } })
      t.ok([404, 405].includes(res.statusCode), `${method} ${url} is not a route (${res.statusCode})`)
      t.type((res.json() as { error?: { code?: unknown } }).error?.code, 'string', 'answered with the error shape')
    }
  }
  const after = (await page(t, built, owner.headers)).events
  t.same(after, before, 'the log is as it was')
})

t.test('the sensitive actions of the product each leave an event', async (t) => {
  const built = await build(t)
  const src = createSourceRepo()
  const { owner, invitations } = await invited(built, src.dir, ['ann@example.com', 'ben@example.com', 'cat@example.com'])
  const [ann, ben, cat] = invitations as [(typeof invitations)[0], (typeof invitations)[0], (typeof invitations)[0]]
  const post = (url: string, headers: Record<string, string> = {}, payload?: object) => built.app.inject({ method: 'POST', url, headers, payload })

  // Members: invited, joined, role changed, removed; API keys: made, revoked.
  const reviewer = await member(built, owner, 'reviewer')
  t.equal((await built.app.inject({ method: 'PATCH', url: `/api/members/${reviewer.user.id}`, headers: owner.headers, payload: { role: 'viewer' } })).statusCode, 200)
  t.equal((await built.app.inject({ method: 'DELETE', url: `/api/members/${reviewer.user.id}`, headers: owner.headers })).statusCode, 200)
  const key = await apiKey(built, owner.headers, 'ci')
  t.equal((await built.app.inject({ method: 'DELETE', url: `/api/api-keys/${key.id}`, headers: owner.headers })).statusCode, 200)

  // A candidate: start (a git token issued), deadline extended, submit (token revoked, repository archived), follow-up.
  t.equal((await post(`/api/start/${ann.token}`)).statusCode, 200, 'Ann starts')
  const detail = (await built.app.inject({ method: 'GET', url: `/api/invitations/${ann.id}`, headers: owner.headers })).json() as { complete_deadline: string }
  const until = new Date(Date.parse(detail.complete_deadline) + 3_600_000).toISOString()
  const extended = await post(`/api/invitations/${ann.id}/extend`, owner.headers, { deadline: 'complete', until, reason: 'train strike' })
  t.equal(extended.statusCode, 200, extended.body)
  t.equal((await post(`/api/submit/${ann.token}`)).statusCode, 200, 'Ann submits')
  await built.drain()
  t.equal((await post('/api/followup', owner.headers, { invitation_id: ann.id })).statusCode, 202, 'follow-up')
  t.equal((await post(`/api/invitations/${ben.id}/revoke`, owner.headers)).statusCode, 200, 'Ben revoked')
  const erased = await post('/api/candidates/erase', owner.headers, { email: cat.candidate_email })
  t.equal(erased.statusCode, 200, erased.body)
  await built.drain()

  const events = (await all(t, built, owner.headers, '', 200)).events
  const has = (action: string, target?: string) => events.some((e) => e.action === action && (target === undefined || e.target === target))
  const expected: Array<[string, string | undefined]> = [
    ['member.invited', undefined],
    ['member.joined', reviewer.user.id],
    ['member.role_changed', reviewer.user.id],
    ['member.removed', reviewer.user.id],
    ['api_key.created', key.id],
    ['api_key.revoked', key.id],
    ['invitation.created', undefined],
    ['invitation.started', ann.id],
    ['access_token.issued', ann.id],
    ['invitation.deadline_extended', ann.id],
    ['invitation.submitted', ann.id],
    ['access_token.revoked', ann.id],
    ['repo.archived', undefined],
    ['invitation.follow_up_queued', ann.id],
    ['invitation.follow_up_sent', ann.id],
    ['invitation.revoked', ben.id],
    ['invitation.revoked', cat.id],
    ['invitation.erased', cat.id],
    ['candidate.erased', undefined],
  ]
  for (const [action, target] of expected) t.ok(has(action, target), `${action}${target ? ` on ${target}` : ''} is in the log`)
  const sent = events.filter((e) => e.action === 'invitation.follow_up_sent')
  t.equal(sent.length, 1, 'the follow-up was sent once, recorded once')
  t.match(sent[0], { actor: 'system', meta: { job_id: String, email_event_id: String } })
  t.notOk(JSON.stringify(sent).includes('ann@example.com'), 'without the address')
  const revokedToken = events.find((e) => e.action === 'access_token.revoked' && e.target === ann.id)!
  t.match(revokedToken, { actor: 'system', meta: { reason: 'submitted', access_token_ids: [String] } })
  t.equal(events.filter((e) => e.action === 'access_token.revoked' && e.target === ben.id).length, 0, 'Ben never had a git token: nothing to revoke, nothing recorded')
})

t.test('the audit, privacy and org routes are in the OpenAPI document', async (t) => {
  const built = await build(t)
  const res = await built.app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json() as { paths: Record<string, Record<string, { description?: string }>> }
  for (const [path, method] of [
    ['/api/audit', 'get'],
    ['/api/candidates/erase', 'post'],
    ['/api/candidates/export', 'get'],
    ['/api/org', 'get'],
    ['/api/org', 'patch'],
  ] as const) {
    t.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`)
  }
  t.match(doc.paths['/api/candidates/erase']!.post!.description, /answers 200 with zero counts/, 'the answer to an unknown address is documented')
  t.notOk(doc.paths['/api/audit']?.delete ?? doc.paths['/api/audit']?.patch, 'no way to change the log')
})
