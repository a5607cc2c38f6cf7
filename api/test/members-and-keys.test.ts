import { type Actor, AppError, schema } from '@takehome/core'
import { and, eq, sql } from 'drizzle-orm'
import t from 'tap'
import { gate, gatedTransactions, releaseInOrder } from './gate.ts'
import { type Built, build, emailedToken, expectError, mailbox, member, rowCounts, signup } from './helper.ts'

type Headers = Record<string, string>
interface ApiKeyBody {
  id: string
  name: string
  hint: string
  created_at: string
  last_used_at: string | null
  revoked_at: string | null
}
interface MemberBody {
  user: { id: string; email: string; name: string | null; created_at: string }
  role: string
  joined_at: string
}

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000'
const KEY = /^thk_[0-9A-Za-z]{49}$/

async function createKey(built: Built, headers: Headers, name = 'CI') {
  const res = await built.app.inject({ method: 'POST', url: '/api/api-keys', headers, payload: { name } })
  if (res.statusCode !== 201) throw new Error(`api key create failed: ${res.statusCode} ${res.body}`)
  return res.json() as ApiKeyBody & { key: string }
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

async function members(built: Built, headers: Headers) {
  const res = await built.app.inject({ method: 'GET', url: '/api/members', headers })
  if (res.statusCode !== 200) throw new Error(`members failed: ${res.statusCode} ${res.body}`)
  return (res.json() as { members: MemberBody[] }).members
}

async function userIdOf(built: Built, headers: Headers, email: string) {
  const found = (await members(built, headers)).find((m) => m.user.email === email)
  if (!found) throw new Error(`${email} is not a member`)
  return found.user.id
}

/** Every api_keys row as text, to search for a secret. */
async function apiKeyRowsText(built: Built) {
  const result = await built.db.execute(sql`select k::text as row from api_keys k`)
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ row: string }>
  return rows.map((r) => r.row)
}

t.test('an API key is shown once, stored hashed, and authenticates as its creator', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const res = await built.app.inject({ method: 'POST', url: '/api/api-keys', headers: owner.headers, payload: { name: ' CI ' } })
  t.equal(res.statusCode, 201)
  const created = res.json() as ApiKeyBody & { key: string }
  t.match(created.key, KEY)
  t.same(Object.keys(created).sort(), ['created_at', 'hint', 'id', 'key', 'last_used_at', 'name', 'revoked_at'])
  t.match(created, { name: 'CI', last_used_at: null, revoked_at: null })
  t.equal(created.hint, `${created.key.slice(0, 8)}…${created.key.slice(-4)}`)

  const list = await built.app.inject({ method: 'GET', url: '/api/api-keys', headers: owner.headers })
  t.equal(list.statusCode, 200)
  t.notOk(list.body.includes(created.key), 'the list never shows the key')
  t.notOk(list.body.includes(created.key.slice(4, 40)), 'nor a large part of it')
  const { key: _key, ...withoutKey } = created
  t.same(list.json(), { api_keys: [withoutKey] })

  const rows = await apiKeyRowsText(built)
  t.equal(rows.length, 1)
  t.notOk(rows.some((row) => row.includes(created.key)), 'no api_keys row contains the key')
  t.notOk(rows.some((row) => row.includes(created.key.slice(4, 47))), 'nor its random part')
  const [stored] = await built.db.select().from(schema.apiKeys).where(eq(schema.apiKeys.id, created.id))
  t.match(stored?.keyHash, /^[0-9a-f]{64}$/, 'an HMAC-SHA256 in hex')
  const audit = await built.db.select().from(schema.auditEvents)
  t.notOk(JSON.stringify(audit).includes(created.key), 'not in the audit trail')

  built.clock.advance(120_000)
  const seeds = await built.app.inject({ method: 'GET', url: '/api/seeds', headers: bearer(created.key) })
  t.equal(seeds.statusCode, 200)
  t.same(seeds.json(), { seeds: [] })
  for (const authorization of [`bearer ${created.key}`, `BEARER  ${created.key} `]) {
    const res = await built.app.inject({ method: 'GET', url: '/api/seeds', headers: { authorization } })
    t.equal(res.statusCode, 200, `scheme and spacing are not significant: ${JSON.stringify(authorization.replace(created.key, 'thk_…'))}`)
  }
  const write = await built.app.inject({
    method: 'POST',
    url: '/api/api-keys',
    headers: { ...bearer(created.key), origin: 'https://elsewhere.example' },
    payload: { name: 'made by a key' },
  })
  t.equal(write.statusCode, 201, 'a key writes with the role of its creator, from anywhere')
  const made = await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.target, write.json().id))
  t.equal(made[0]?.actor, `api_key:${created.id}`, 'audited as the key')

  const after = await built.app.inject({ method: 'GET', url: '/api/api-keys', headers: owner.headers })
  const used = (after.json() as { api_keys: ApiKeyBody[] }).api_keys.find((k) => k.id === created.id)
  t.equal(used?.last_used_at, built.clock.now().toISOString(), 'last use is recorded')
  t.notOk(built.logLines.join('').includes(created.key), 'the key is never logged')
})

t.test('a revoked key is refused', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const created = await createKey(built, owner.headers)
  const kept = await createKey(built, owner.headers, 'kept')
  const res = await built.app.inject({ method: 'DELETE', url: `/api/api-keys/${created.id}`, headers: owner.headers })
  t.equal(res.statusCode, 200)
  t.equal(res.json().id, created.id)
  t.equal(res.json().revoked_at, built.clock.now().toISOString())

  const refused = await built.app.inject({ method: 'GET', url: '/api/seeds', headers: bearer(created.key) })
  expectError(t, refused, 401, 'invalid_api_key')
  const again = await built.app.inject({ method: 'DELETE', url: `/api/api-keys/${created.id}`, headers: owner.headers })
  expectError(t, again, 404, 'api_key_not_found')
  const other = await built.app.inject({ method: 'GET', url: '/api/seeds', headers: bearer(kept.key) })
  t.equal(other.statusCode, 200, 'other keys keep working')
  const list = await built.app.inject({ method: 'GET', url: '/api/api-keys', headers: owner.headers })
  t.same(
    (list.json() as { api_keys: ApiKeyBody[] }).api_keys.map((k) => [k.name, k.revoked_at !== null]),
    [
      ['CI', true],
      ['kept', false],
    ],
  )
})

t.test('garbage, tampered and wrongly-schemed credentials are refused with 401', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const { key } = await createKey(built, owner.headers)
  const last = key.at(-1)!
  const flipped = `${key.slice(0, -1)}${last === 'a' ? 'b' : 'a'}`
  const invitationShaped = `thi_${key.slice(4)}`
  const cases: Array<[string, string]> = [
    ['garbage bearer', 'Bearer garbage'],
    ['bad checksum', `Bearer ${flipped}`],
    ['another kind of token', `Bearer ${invitationShaped}`],
    ['key without a scheme', key],
    ['Basic scheme', `Basic ${Buffer.from(`user:${key}`).toString('base64')}`],
    ['Token scheme', `Token ${key}`],
    ['empty bearer', 'Bearer '],
    ['empty header', ''],
  ]
  for (const [name, authorization] of cases) {
    const res = await built.app.inject({ method: 'GET', url: '/api/seeds', headers: { authorization } })
    t.test(name, async (t) => void expectError(t, res, 401, 'invalid_api_key'))
  }
  // A bad Authorization header is not rescued by a good session cookie.
  const both = await built.app.inject({
    method: 'GET',
    url: '/api/seeds',
    headers: { ...owner.headers, authorization: `Bearer ${flipped}` },
  })
  expectError(t, both, 401, 'invalid_api_key')
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/api-keys' }), 401, 'unauthenticated')
})

t.test('only owners and admins manage keys; bad input is refused', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const admin = await member(built, owner, 'admin')
  const viewer = await member(built, owner, 'viewer')
  const reviewer = await member(built, owner, 'reviewer')
  const ownerKey = await createKey(built, owner.headers)
  const adminKey = await createKey(built, admin.headers, 'admin key')
  t.match(adminKey.key, KEY)
  const before = await rowCounts(built)

  for (const [role, who] of [['viewer', viewer], ['reviewer', reviewer]] as const) {
    await t.test(role, async (t) => {
      const create = await built.app.inject({ method: 'POST', url: '/api/api-keys', headers: who.headers, payload: { name: 'x' } })
      expectError(t, create, 403, 'forbidden')
      expectError(t, await built.app.inject({ method: 'GET', url: '/api/api-keys', headers: who.headers }), 403, 'forbidden')
      const revoke = await built.app.inject({ method: 'DELETE', url: `/api/api-keys/${ownerKey.id}`, headers: who.headers })
      expectError(t, revoke, 403, 'forbidden')
    })
  }
  for (const [name, payload] of [
    ['missing name', {}],
    ['blank name', { name: '  ' }],
    ['name too long', { name: 'x'.repeat(101) }],
    ['name a number', { name: 5 }],
  ] as const) {
    const res = await built.app.inject({ method: 'POST', url: '/api/api-keys', headers: owner.headers, payload })
    await t.test(name, async (t) => t.match(expectError(t, res, 400, 'validation_failed').message, /name/))
  }
  const badId = await built.app.inject({ method: 'DELETE', url: '/api/api-keys/nope', headers: owner.headers })
  expectError(t, badId, 400, 'validation_failed')
  const unknown = await built.app.inject({ method: 'DELETE', url: `/api/api-keys/${UNKNOWN_ID}`, headers: owner.headers })
  expectError(t, unknown, 404, 'api_key_not_found')
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test("another org's key cannot be listed or revoked", async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const stranger = await signup(built)
  const created = await createKey(built, owner.headers)
  const before = await rowCounts(built)
  const res = await built.app.inject({ method: 'DELETE', url: `/api/api-keys/${created.id}`, headers: stranger.headers })
  expectError(t, res, 404, 'api_key_not_found')
  const list = await built.app.inject({ method: 'GET', url: '/api/api-keys', headers: stranger.headers })
  t.same(list.json(), { api_keys: [] })
  t.same(await rowCounts(built), before, 'nothing was written')
  const [row] = await built.db.select().from(schema.apiKeys).where(eq(schema.apiKeys.id, created.id))
  t.equal(row?.revokedAt, null, 'the key is not revoked')
  const still = await built.app.inject({ method: 'GET', url: '/api/seeds', headers: bearer(created.key) })
  t.equal(still.statusCode, 200, 'and still works')
})

t.test("a key acts with its creator's current role", async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const admin = await member(built, owner, 'admin')
  const { key } = await createKey(built, admin.headers)
  const adminId = await userIdOf(built, owner.headers, admin.email)
  const asAdmin = await built.app.inject({ method: 'POST', url: '/api/api-keys', headers: bearer(key), payload: { name: 'second' } })
  t.equal(asAdmin.statusCode, 201, 'an admin key can create keys')

  const demote = await built.app.inject({
    method: 'PATCH',
    url: `/api/members/${adminId}`,
    headers: owner.headers,
    payload: { role: 'viewer' },
  })
  t.equal(demote.statusCode, 200)
  t.same(demote.json(), { user_id: adminId, role: 'viewer' })
  const before = await rowCounts(built)

  const read = await built.app.inject({ method: 'GET', url: '/api/seeds', headers: bearer(key) })
  t.equal(read.statusCode, 200, 'a viewer reads')
  const newKey = await built.app.inject({ method: 'POST', url: '/api/api-keys', headers: bearer(key), payload: { name: 'x' } })
  expectError(t, newKey, 403, 'forbidden')
  const seed = await built.app.inject({
    method: 'POST',
    url: '/api/seeds',
    headers: bearer(key),
    payload: { source_url: '/nonexistent' },
  })
  t.match(expectError(t, seed, 403, 'forbidden').message, /you are viewer/)
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test('members: invite, join through the emailed link, list, refuse duplicates', async (t) => {
  const built = await build(t)
  const owner = await signup(built, { email: 'owner@example.com' })
  const viewer = await member(built, owner, 'viewer')

  const invited = await built.app.inject({
    method: 'POST',
    url: '/api/members',
    headers: owner.headers,
    payload: { email: 'Rita@Example.com', role: 'reviewer' },
  })
  t.equal(invited.statusCode, 201)
  const body = invited.json()
  t.same(Object.keys(body).sort(), ['email', 'expires_at', 'id', 'role', 'status'])
  t.match(body, { email: 'Rita@Example.com', role: 'reviewer', status: 'pending' })
  t.equal(body.expires_at, new Date(built.clock.now().getTime() + 7 * 24 * 3600 * 1000).toISOString(), 'valid for 7 days')
  t.notOk(JSON.stringify(body).includes('thm_'), 'the link is only in the email')
  const [mail] = await mailbox(built, owner.headers, { kind: 'member_invite' })
  t.equal(mail?.to, 'Rita@Example.com')
  t.match(mail?.text, /http:\/\/takehome\.test\/join\/thm_[0-9A-Za-z]{49}/)
  t.equal((await members(built, owner.headers)).length, 2, 'not a member before accepting')

  const token = await emailedToken(built, 'rita@example.com', 'member_invite')
  const joined = await built.app.inject({
    method: 'POST',
    url: '/api/auth/signup',
    payload: { invitation_token: token, email: 'rita@example.com', name: 'Rita', password: 'correct horse battery' },
  })
  t.equal(joined.statusCode, 201)
  t.equal(joined.json().role, 'reviewer')

  const list = await members(built, viewer.headers)
  t.same(
    list.map((m) => [m.user.email, m.role]),
    [
      ['owner@example.com', 'owner'],
      [viewer.email, 'viewer'],
      ['Rita@Example.com', 'reviewer'],
    ],
    'every member can see who is in the org, oldest first',
  )
  t.notOk(JSON.stringify(list).includes('password'), 'no password (hash) in the list')

  const before = await rowCounts(built)
  for (const email of ['rita@example.com', 'OWNER@example.com', viewer.email]) {
    const res = await built.app.inject({
      method: 'POST',
      url: '/api/members',
      headers: owner.headers,
      payload: { email, role: 'viewer' },
    })
    await t.test(`again: ${email}`, async (t) => void expectError(t, res, 409, 'already_a_member'))
  }
  for (const [name, payload] of [
    ['bad email', { email: 'nope', role: 'viewer' }],
    ['bad role', { email: 'x@example.com', role: 'superuser' }],
    ['missing role', { email: 'x@example.com' }],
  ] as const) {
    const res = await built.app.inject({ method: 'POST', url: '/api/members', headers: owner.headers, payload })
    await t.test(name, async (t) => void expectError(t, res, 400, 'validation_failed'))
  }
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test('an invitation answers the same for an address with an account and one without', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  await signup(built, { email: 'has-account@example.com' })
  const invite = (email: string) => built.app.inject({ method: 'POST', url: '/api/members', headers: owner.headers, payload: { email, role: 'viewer' } })
  const existing = await invite('has-account@example.com')
  const fresh = await invite('no-account@example.com')
  t.equal(existing.statusCode, 201)
  t.equal(fresh.statusCode, 201)
  const shape = (res: typeof existing) => {
    const { id: _id, email: _email, ...rest } = res.json()
    return { keys: Object.keys(res.json()).sort(), rest }
  }
  t.same(shape(existing), shape(fresh), 'same status, keys, role, status and expiry')
  const [audit] = await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'member.invited'))
  t.match(audit, { orgId: owner.org.id, actor: `user:${owner.user.id}` }, 'inviting is audited')
})

t.test('the old attack: an account pre-registered for a colleague stays out of the org after the owner invites that email', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  // Mallory registered colleague@example.com (before email checks existed, or any other way) and knows its password.
  const mallory = await signup(built, { email: 'colleague@example.com', password: 'mallory knows this' })
  const invited = await built.app.inject({
    method: 'POST',
    url: '/api/members',
    headers: owner.headers,
    payload: { email: 'colleague@example.com', role: 'admin' },
  })
  t.equal(invited.statusCode, 201)
  await built.drain()

  const login = await built.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { email: 'colleague@example.com', password: 'mallory knows this', org_id: owner.org.id },
  })
  expectError(t, login, 403, 'not_a_member')
  const plain = await built.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'colleague@example.com', password: 'mallory knows this' } })
  t.equal(plain.json().org.id, mallory.org.id, 'only their own org')
  t.notOk((await members(built, owner.headers)).some((m) => m.user.email === 'colleague@example.com'), 'not a member')
  const seeds = await built.app.inject({ method: 'GET', url: '/api/members', headers: mallory.headers })
  t.notOk(seeds.body.includes(owner.user.email), "cannot see the owner's org")
  const pending = await built.app.inject({ method: 'GET', url: '/api/members/invitations', headers: mallory.headers })
  t.same(pending.json(), { invitations: [] }, "nor its invitations")

  const before = await rowCounts(built)
  for (const token of ['', 'garbage', `thm_${'A'.repeat(49)}`, invited.json().id]) {
    const res = await built.app.inject({ method: 'POST', url: '/api/auth/join', headers: mallory.headers, payload: { token } })
    t.ok([400, 404].includes(res.statusCode), `join without the emailed token is refused (${res.statusCode})`)
  }
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test('join: the invited address only, once, before it lapses or is withdrawn; the session moves to the org', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const ada = await signup(built, { email: 'ada@example.com' })
  const grace = await signup(built, { email: 'grace@example.com' })
  const invite = async (email: string, role = 'reviewer') => {
    const res = await built.app.inject({ method: 'POST', url: '/api/members', headers: owner.headers, payload: { email, role } })
    t.equal(res.statusCode, 201)
    return { id: res.json().id as string, token: await emailedToken(built, email, 'member_invite') }
  }
  const join = (headers: Headers, token: string) => built.app.inject({ method: 'POST', url: '/api/auth/join', headers, payload: { token } })

  const forAda = await invite('ADA@example.com')
  const before = await rowCounts(built)
  expectError(t, await join(grace.headers, forAda.token), 403, 'invitation_for_another_email')
  t.same(await rowCounts(built), before, 'a refused join writes nothing')
  const { key } = await createKey(built, ada.headers)
  expectError(t, await join(bearer(key), forAda.token), 403, 'forbidden')

  const joined = await join(ada.headers, forAda.token)
  t.equal(joined.statusCode, 200)
  t.match(joined.json(), { user: { email: 'ada@example.com' }, org: { id: owner.org.id }, role: 'reviewer' })
  const cookie = joined.cookies.find((c) => c.name === 'takehome_session')!
  const moved = { cookie: `takehome_session=${cookie.value}`, origin: built.origin }
  t.equal((await built.app.inject({ method: 'GET', url: '/api/auth/me', headers: moved })).json().org.id, owner.org.id)
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/auth/me', headers: ada.headers }), 401, 'unauthenticated')
  expectError(t, await join(moved, forAda.token), 409, 'link_used')
  const [audit] = await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'member.joined'))
  t.match(audit, { orgId: owner.org.id, target: ada.user.id, meta: { invitation_id: forAda.id, role: 'reviewer' } })

  const lapsed = await invite('grace@example.com')
  built.clock.advance(7 * 24 * 3600 * 1000 + 1)
  expectError(t, await join(grace.headers, lapsed.token), 410, 'link_expired')
  const withdrawn = await invite('grace@example.com')
  const revoked = await built.app.inject({ method: 'DELETE', url: `/api/members/invitations/${withdrawn.id}`, headers: owner.headers })
  t.equal(revoked.statusCode, 200)
  t.equal(revoked.json().status, 'revoked')
  expectError(t, await join(grace.headers, withdrawn.token), 410, 'link_revoked')
  const replaced = await invite('grace@example.com')
  const newer = await invite('grace@example.com')
  expectError(t, await join(grace.headers, replaced.token), 410, 'link_revoked')
  t.equal((await join(grace.headers, newer.token)).statusCode, 200, 'inviting again replaces the earlier link')
})

t.test('pending invitations: listed for owners and admins, withdrawn once', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const admin = await member(built, owner, 'admin')
  const viewer = await member(built, owner, 'viewer')
  const stranger = await signup(built)
  const toOwner = await built.app.inject({ method: 'POST', url: '/api/members', headers: owner.headers, payload: { email: 'boss@example.com', role: 'owner' } })
  const toViewer = await built.app.inject({ method: 'POST', url: '/api/members', headers: admin.headers, payload: { email: 'v@example.com', role: 'viewer' } })
  const list = await built.app.inject({ method: 'GET', url: '/api/members/invitations', headers: admin.headers })
  t.same(
    (list.json() as { invitations: Array<{ email: string; status: string }> }).invitations.map((i) => [i.email, i.status]),
    [
      ['boss@example.com', 'pending'],
      ['v@example.com', 'pending'],
    ],
  )
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/members/invitations', headers: viewer.headers }), 403, 'forbidden')
  // In the local mailbox, an admin who could read the owner invitation's link could sign up as that address and become an owner.
  t.same((await mailbox(built, admin.headers, { kind: 'member_invite' })).map((m) => m.to), [], 'admins do not see invitation links')
  t.same((await mailbox(built, owner.headers, { kind: 'member_invite' })).map((m) => m.to).sort(), [admin.email, 'boss@example.com', 'v@example.com', viewer.email].sort(), 'owners do')
  const before = await rowCounts(built)
  const del = (id: string, headers: Headers) => built.app.inject({ method: 'DELETE', url: `/api/members/invitations/${id}`, headers })
  expectError(t, await del(toOwner.json().id, admin.headers), 403, 'forbidden')
  expectError(t, await del(toViewer.json().id, viewer.headers), 403, 'forbidden')
  expectError(t, await del(toViewer.json().id, stranger.headers), 404, 'member_invitation_not_found')
  expectError(t, await del(UNKNOWN_ID, owner.headers), 404, 'member_invitation_not_found')
  t.same(await rowCounts(built), before, 'nothing was written')
  t.equal((await del(toViewer.json().id, admin.headers)).statusCode, 200)
  expectError(t, await del(toViewer.json().id, admin.headers), 409, 'invitation_not_revocable')
  const after = await built.app.inject({ method: 'GET', url: '/api/members/invitations', headers: owner.headers })
  t.same((after.json() as { invitations: Array<{ email: string }> }).invitations.map((i) => i.email), ['boss@example.com'])
  const audit = await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'member.invitation_revoked'))
  t.equal(audit.length, 1)
})

t.test('removing a member ends their sessions and revokes their API keys in the org; admins cannot remove owners', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const admin = await member(built, owner, 'admin')
  const reviewer = await member(built, owner, 'reviewer')
  const coOwner = await member(built, owner, 'owner')
  const { key, id: keyId } = await createKey(built, admin.headers)
  const ownerKey = await createKey(built, owner.headers, 'kept')
  const remove = (userId: string, headers: Headers) => built.app.inject({ method: 'DELETE', url: `/api/members/${userId}`, headers })

  const before = await rowCounts(built)
  expectError(t, await remove(coOwner.user.id, admin.headers), 403, 'forbidden')
  expectError(t, await remove(admin.user.id, reviewer.headers), 403, 'forbidden')
  expectError(t, await remove(UNKNOWN_ID, owner.headers), 404, 'member_not_found')
  t.same(await rowCounts(built), before, 'nothing was written')

  const removed = await remove(admin.user.id, owner.headers)
  t.equal(removed.statusCode, 200)
  t.same(removed.json(), { user_id: admin.user.id, role: 'admin' })
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/auth/me', headers: admin.headers }), 401, 'unauthenticated')
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/seeds', headers: bearer(key) }), 401, 'invalid_api_key')
  const sessions = await built.db.select().from(schema.sessions).where(eq(schema.sessions.userId, admin.user.id))
  t.same(sessions, [], 'their sessions are gone')
  const [audit] = await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'member.removed'))
  t.match(audit, { orgId: owner.org.id, target: admin.user.id, meta: { role: 'admin', sessions_ended: 1, api_keys_revoked: [keyId] } })
  const relogin = await built.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: admin.password } })
  expectError(t, relogin, 403, 'not_a_member')

  // Invited back: a key works through its creator's membership, so only a revoked one stays dead.
  const reinvited = await built.app.inject({ method: 'POST', url: '/api/members', headers: owner.headers, payload: { email: admin.email, role: 'admin' } })
  t.equal(reinvited.statusCode, 201)
  const token = await emailedToken(built, admin.email, 'member_invite')
  const back = await built.app.inject({ method: 'POST', url: '/api/auth/join', payload: { token, email: admin.email, password: admin.password } })
  t.equal(back.statusCode, 200, 'a member again')
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/seeds', headers: bearer(key) }), 401, 'invalid_api_key')
  const keys = (await built.app.inject({ method: 'GET', url: '/api/api-keys', headers: owner.headers })).json() as { api_keys: ApiKeyBody[] }
  t.same(
    keys.api_keys.map((k) => [k.id, k.revoked_at !== null]),
    [
      [keyId, true],
      [ownerKey.id, false],
    ],
    "the removed member's key is revoked, the others' are not",
  )

  t.equal((await remove(reviewer.user.id, coOwner.headers)).statusCode, 200, 'owners remove anyone')
  t.equal((await remove(coOwner.user.id, owner.headers)).statusCode, 200, 'an owner removes another owner')
  expectError(t, await remove(owner.user.id, owner.headers), 409, 'last_owner')
  t.same((await members(built, owner.headers)).map((m) => m.role), ['owner', 'admin'], 'the owner, and the admin invited back')
})

t.test('owners removing each other at once, forced to overlap: exactly one removal wins and an owner is left', async (t) => {
  const built = await build(t)
  // Two API replicas on one database, each holding its removal at the start of its transaction,
  // after the role check its caller passed as an owner: neither has seen the other's change.
  const g = gate()
  const replicaA = await built.replica((deps) => ({ ...deps, database: gatedTransactions(deps.database, g, 'a') }))
  const replicaB = await built.replica((deps) => ({ ...deps, database: gatedTransactions(deps.database, g, 'b') }))
  const postgres = built.services.database.kind === 'postgres'
  const outcome = (removal: Promise<unknown>) =>
    removal.then(
      () => 'removed',
      (err: unknown) => (err instanceof AppError ? err.code : Promise.reject(err)),
    )

  for (const first of ['a', 'b'] as const) {
    const second = first === 'a' ? 'b' : 'a'
    const a = await signup(built)
    const b = await member(built, a, 'owner')
    const asOwner = (userId: string): Actor => ({ userId, orgId: a.org.id, role: 'owner', via: 'session' })
    g.shut()
    const results = {
      a: outcome(replicaA.members.remove(asOwner(a.user.id), b.user.id)),
      b: outcome(replicaB.members.remove(asOwner(b.user.id), a.user.id)),
    }
    await g.reached(['a', 'b'], [results.a, results.b])
    t.pass(`${first} first: both removals passed their role check as owners before either changed anything`)
    // Both in the database at once where it has more than one connection (PostgreSQL).
    const waiting = await releaseInOrder(built, g, [first, second], sql`select id from orgs where id = ${a.org.id} for update`, postgres)
    if (postgres) t.equal(waiting, 2, 'both removals were waiting on the org at once')
    t.equal(await results[first], 'removed', `${first}, first, removes the other`)
    t.equal(await results[second], 'forbidden', `${second}, second, is no longer a member and removes no one`)
    const winner = first === 'a' ? a : b
    const left = await built.db.select().from(schema.orgMembers).where(eq(schema.orgMembers.orgId, a.org.id))
    t.same(left.map((m) => [m.userId, m.role]), [[winner.user.id, 'owner']], 'the winner is left, an owner')
    const removals = await built.db
      .select()
      .from(schema.auditEvents)
      .where(and(eq(schema.auditEvents.kind, 'member.removed'), eq(schema.auditEvents.orgId, a.org.id)))
    t.equal(removals.length, 1, 'one removal recorded')
  }
})

t.test('an admin cannot withdraw an invitation to become an owner by inviting the address again', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const admin = await member(built, owner, 'admin')
  const invite = (headers: Headers, email: string, role: string) => built.app.inject({ method: 'POST', url: '/api/members', headers, payload: { email, role } })
  t.equal((await invite(owner.headers, 'boss@example.com', 'owner')).statusCode, 201)
  const before = await rowCounts(built)
  for (const role of ['viewer', 'admin']) expectError(t, await invite(admin.headers, 'BOSS@example.com', role), 403, 'forbidden')
  t.same(await rowCounts(built), before, 'nothing was written')
  const pending = await built.app.inject({ method: 'GET', url: '/api/members/invitations', headers: owner.headers })
  t.same((pending.json() as { invitations: Array<{ email: string; role: string; status: string }> }).invitations.map((i) => [i.email, i.role, i.status]), [['boss@example.com', 'owner', 'pending']])
  const token = await emailedToken(built, 'boss@example.com', 'member_invite')
  const joined = await built.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { invitation_token: token, password: 'correct horse battery' } })
  t.equal(joined.statusCode, 201, "the owner's invitation still works")
  t.equal(joined.json().role, 'owner')
  t.equal((await invite(admin.headers, 'other@example.com', 'viewer')).statusCode, 201, 'admins still invite, and replace, the rest')
  t.equal((await invite(admin.headers, 'other@example.com', 'reviewer')).statusCode, 201)
})

t.test('a request that began before its caller was removed or demoted acts with what they are now', async (t) => {
  const built = await build(t)
  const a = await signup(built)
  const b = await member(built, a, 'owner')
  const c = await member(built, a, 'viewer')
  // b's request was authenticated as an owner just before a removed b.
  const stale: Actor = { userId: b.user.id, orgId: a.org.id, role: 'owner', via: 'session' }
  t.equal((await built.app.inject({ method: 'DELETE', url: `/api/members/${b.user.id}`, headers: a.headers })).statusCode, 200)
  await t.rejects(built.services.members.remove(stale, c.user.id), { code: 'forbidden' })
  await t.rejects(built.services.members.changeRole(stale, c.user.id, 'owner'), { code: 'forbidden' })
  const demoted = await member(built, a, 'owner')
  await built.services.members.changeRole({ userId: a.user.id, orgId: a.org.id, role: 'owner', via: 'session' }, demoted.user.id, 'viewer')
  const staleOwner: Actor = { userId: demoted.user.id, orgId: a.org.id, role: 'owner', via: 'session' }
  await t.rejects(built.services.members.remove(staleOwner, c.user.id), { code: 'forbidden' })
  t.same((await members(built, a.headers)).map((m) => m.user.id).sort(), [a.user.id, c.user.id, demoted.user.id].sort(), 'nobody else was removed')
})

t.test('who may add and change members', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const admin = await member(built, owner, 'admin')
  const viewer = await member(built, owner, 'viewer')
  const reviewer = await member(built, owner, 'reviewer')
  const viewerId = await userIdOf(built, owner.headers, viewer.email)
  const stranger = await signup(built)
  const before = await rowCounts(built)

  const ownerByAdmin = await built.app.inject({
    method: 'POST',
    url: '/api/members',
    headers: admin.headers,
    payload: { email: 'boss@example.com', role: 'owner' },
  })
  expectError(t, ownerByAdmin, 403, 'forbidden')
  for (const who of [viewer, reviewer]) {
    const res = await built.app.inject({
      method: 'POST',
      url: '/api/members',
      headers: who.headers,
      payload: { email: 'someone@example.com', role: 'viewer' },
    })
    expectError(t, res, 403, 'forbidden')
  }
  for (const who of [admin, viewer]) {
    const res = await built.app.inject({
      method: 'PATCH',
      url: `/api/members/${viewerId}`,
      headers: who.headers,
      payload: { role: 'admin' },
    })
    expectError(t, res, 403, 'forbidden')
  }
  const unknown = await built.app.inject({
    method: 'PATCH',
    url: `/api/members/${UNKNOWN_ID}`,
    headers: owner.headers,
    payload: { role: 'admin' },
  })
  expectError(t, unknown, 404, 'member_not_found')
  const strangerByOwner = await built.app.inject({
    method: 'PATCH',
    url: `/api/members/${stranger.user.id}`,
    headers: owner.headers,
    payload: { role: 'viewer' },
  })
  expectError(t, strangerByOwner, 404, 'member_not_found')
  const badRole = await built.app.inject({
    method: 'PATCH',
    url: `/api/members/${viewerId}`,
    headers: owner.headers,
    payload: { role: 'root' },
  })
  expectError(t, badRole, 400, 'validation_failed')
  const badId = await built.app.inject({
    method: 'PATCH',
    url: '/api/members/nope',
    headers: owner.headers,
    payload: { role: 'admin' },
  })
  expectError(t, badId, 400, 'validation_failed')
  t.same(await rowCounts(built), before, 'nothing was written')
  t.same(
    (await members(built, owner.headers)).map((m) => m.role),
    ['owner', 'admin', 'viewer', 'reviewer'],
    'no role changed',
  )

  const ownerAddsOwner = await built.app.inject({
    method: 'POST',
    url: '/api/members',
    headers: owner.headers,
    payload: { email: 'co-owner@example.com', role: 'owner' },
  })
  t.equal(ownerAddsOwner.statusCode, 201, 'an owner may add an owner')
  t.equal(ownerAddsOwner.json().role, 'owner')
})

t.test('the last owner cannot step down; with a second owner they can', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const before = await rowCounts(built)
  for (const role of ['admin', 'viewer'] as const) {
    const res = await built.app.inject({
      method: 'PATCH',
      url: `/api/members/${owner.user.id}`,
      headers: owner.headers,
      payload: { role },
    })
    expectError(t, res, 409, 'last_owner')
  }
  t.same(await rowCounts(built), before, 'nothing was written')
  t.same(
    (await members(built, owner.headers)).map((m) => m.role),
    ['owner'],
    'still the owner',
  )
  const same = await built.app.inject({
    method: 'PATCH',
    url: `/api/members/${owner.user.id}`,
    headers: owner.headers,
    payload: { role: 'owner' },
  })
  t.equal(same.statusCode, 200, 'staying owner is fine')

  const second = await member(built, owner, 'owner')
  const stepDown = await built.app.inject({
    method: 'PATCH',
    url: `/api/members/${owner.user.id}`,
    headers: owner.headers,
    payload: { role: 'admin' },
  })
  t.equal(stepDown.statusCode, 200)
  t.same(stepDown.json(), { user_id: owner.user.id, role: 'admin' })
  const secondId = await userIdOf(built, second.headers, second.email)
  const last = await built.app.inject({
    method: 'PATCH',
    url: `/api/members/${secondId}`,
    headers: second.headers,
    payload: { role: 'viewer' },
  })
  expectError(t, last, 409, 'last_owner')
})

t.test('two owners stepping down at once leave one owner', async (t) => {
  const built = await build(t)
  // Several orgs at once, so the two requests of a pair really overlap in the database.
  const pairs = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const first = await signup(built)
      const second = await member(built, first, 'owner')
      return { first, second, secondId: await userIdOf(built, first.headers, second.email) }
    }),
  )
  const results = await Promise.all(
    pairs.map(({ first, second, secondId }) =>
      Promise.all([
        built.app.inject({
          method: 'PATCH',
          url: `/api/members/${first.user.id}`,
          headers: first.headers,
          payload: { role: 'admin' },
        }),
        built.app.inject({ method: 'PATCH', url: `/api/members/${secondId}`, headers: second.headers, payload: { role: 'admin' } }),
      ]),
    ),
  )
  for (const [i, { first }] of pairs.entries()) {
    t.same(results[i]!.map((r) => r.statusCode).sort(), [200, 409], `org ${i}: one step-down wins`)
    const owners = await built.db.select().from(schema.orgMembers).where(eq(schema.orgMembers.orgId, first.org.id))
    t.equal(owners.filter((m) => m.role === 'owner').length, 1, `org ${i}: exactly one owner is left`)
  }
})
