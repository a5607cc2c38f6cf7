import { createPasswordHasher, schema } from '@takehome/core'
import { scheduledTasks } from '@takehome/worker'
import { eq } from 'drizzle-orm'
import t from 'tap'
import { type Built, build, emailedToken, expectError, member, rowCounts, signup } from './helper.ts'

t.test('signup creates a user, an org with them as owner, and a session cookie', async (t) => {
  const built = await build(t)
  const res = await built.app.inject({
    method: 'POST',
    url: '/api/auth/signup',
    payload: { email: 'Ada@Example.com', password: 'correct horse battery', name: 'Ada', org_name: 'Acme' },
  })
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.match(body, { user: { email: 'Ada@Example.com', name: 'Ada' }, org: { name: 'Acme' }, role: 'owner' })
  t.notOk('password_hash' in body.user, 'no password hash in the response')
  const cookie = res.cookies.find((c) => c.name === 'takehome_session')
  t.ok(cookie, 'session cookie set')
  t.equal(cookie?.httpOnly, true)
  t.equal(cookie?.sameSite, 'Lax')
  t.notOk(cookie?.secure, 'not Secure on plain http')

  const me = await built.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: `takehome_session=${cookie!.value}` } })
  t.equal(me.statusCode, 200)
  t.equal(me.json().user.email, 'Ada@Example.com')
})

t.test('the session cookie is Secure when the public URL is https', async (t) => {
  const built = await build(t, { publicUrl: 'https://takehome.example.com' })
  const res = await built.app.inject({
    method: 'POST',
    url: '/api/auth/signup',
    payload: { email: 'a@example.com', password: 'correct horse battery', org_name: 'Acme' },
  })
  t.equal(res.cookies.find((c) => c.name === 'takehome_session')?.secure, true)
})

t.test('signup refuses bad input with 4xx and writes nothing', async (t) => {
  const built = await build(t)
  await signup(built, { email: 'taken@example.com' })
  const before = await rowCounts(built)
  const cases: Array<[string, unknown, number, string]> = [
    ['missing fields', {}, 400, 'validation_failed'],
    ['wrong types', { email: 42, password: true, org_name: [] }, 400, 'validation_failed'],
    ['bad email', { email: 'not-an-email', password: 'correct horse battery', org_name: 'X' }, 400, 'validation_failed'],
    ['short password', { email: 'new@example.com', password: 'short', org_name: 'X' }, 400, 'validation_failed'],
    ['blank org name', { email: 'new@example.com', password: 'correct horse battery', org_name: '   ' }, 400, 'validation_failed'],
    ['no org name', { email: 'new@example.com', password: 'correct horse battery' }, 400, 'validation_failed'],
    ['no email', { password: 'correct horse battery', org_name: 'X' }, 400, 'validation_failed'],
  ]
  for (const [name, payload, status, code] of cases) {
    const res = await built.app.inject({ method: 'POST', url: '/api/auth/signup', payload: payload as object })
    t.test(name, async (t) => void expectError(t, res, status, code))
  }
  const malformed = await built.app.inject({
    method: 'POST',
    url: '/api/auth/signup',
    headers: { 'content-type': 'application/json' },
    payload: '{"email": ',
  })
  expectError(t, malformed, 400, 'invalid_json')
  const wrongType = await built.app.inject({
    method: 'POST',
    url: '/api/auth/signup',
    headers: { 'content-type': 'text/xml' },
    payload: '<signup/>',
  })
  expectError(t, wrongType, 415)
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test('login with the right password opens a session; a wrong one is audited and refused', async (t) => {
  const built = await build(t, { passwords: createPasswordHasher() })
  const owner = await signup(built, { email: 'grace@example.com' })
  const ok = await built.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { email: 'GRACE@example.com', password: owner.password },
  })
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().org.id, owner.org.id)

  for (const payload of [
    { email: 'grace@example.com', password: 'wrong password!' },
    { email: 'nobody@example.com', password: 'wrong password!' },
  ]) {
    const res = await built.app.inject({ method: 'POST', url: '/api/auth/login', payload })
    expectError(t, res, 401, 'invalid_credentials')
    t.notOk(res.cookies.length, 'no cookie on failure')
  }
  const failures = await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'auth.login_failed'))
  t.equal(failures.length, 2, 'each failure is audited')
  t.same(failures.map((f) => f.meta.reason).sort(), ['unknown_email', 'wrong_password'])
})

t.test('logout ends the session', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const out = await built.app.inject({ method: 'POST', url: '/api/auth/logout', headers: owner.headers })
  t.equal(out.statusCode, 204)
  const me = await built.app.inject({ method: 'GET', url: '/api/auth/me', headers: owner.headers })
  expectError(t, me, 401, 'unauthenticated')
})

t.test('forged, unsigned or expired session cookies are refused', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const raw = owner.headers.cookie.split('=')[1]!.split('.')[0]!
  for (const cookie of ['takehome_session=garbage', `takehome_session=${raw}`, `${owner.headers.cookie}x`]) {
    const res = await built.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })
    expectError(t, res, 401, 'unauthenticated')
  }
  built.clock.advance(15 * 24 * 3600 * 1000)
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/auth/me', headers: owner.headers }), 401)
})

t.test('cookie-authenticated writes from another site are refused', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const res = await built.app.inject({
    method: 'POST',
    url: '/api/api-keys',
    headers: { ...owner.headers, origin: 'https://evil.example' },
    payload: { name: 'x' },
  })
  expectError(t, res, 403, 'cross_site_request')
  const same = await built.app.inject({
    method: 'POST',
    url: '/api/api-keys',
    headers: { ...owner.headers, origin: 'http://takehome.test' },
    payload: { name: 'x' },
  })
  t.equal(same.statusCode, 201)
})

t.test('signup and login are rate limited per client', async (t) => {
  const built = await build(t, { rateLimits: { auth: { max: 3, timeWindow: 60_000 } } })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) {
    const res = await built.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'x@example.com', password: 'whatever!!' } })
    statuses.push(res.statusCode)
    if (res.statusCode === 429) expectError(t, res, 429, 'rate_limited')
  }
  t.same(statuses, [401, 401, 401, 429, 429])
})

const PASSWORD = 'correct horse battery'
type Headers = Record<string, string>

const me = (built: Built, headers: Headers) => built.app.inject({ method: 'GET', url: '/api/auth/me', headers })
const post = (built: Built, url: string, payload: object, headers: Headers = {}) => built.app.inject({ method: 'POST', url, payload, headers })

async function login(built: Built, email: string, password = PASSWORD) {
  const res = await post(built, '/api/auth/login', { email, password })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  const cookie = res.cookies.find((c) => c.name === 'takehome_session')!
  return { cookie: `${cookie.name}=${cookie.value}`, origin: built.origin }
}

async function auditKinds(built: Built, kind: string) {
  return built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, kind))
}

/** The newest mail of `kind` to `to` in the local mailbox table, after running the jobs. */
async function mailTo(built: Built, to: string, kind: 'signup_confirm' | 'password_reset') {
  await built.drain()
  const rows = await built.db.select().from(schema.mailboxMessages).where(eq(schema.mailboxMessages.kind, kind))
  return rows.filter((m) => m.to.toLowerCase() === to.toLowerCase())
}

t.test('first-user mode: the first sign-up creates the org at once; every later one is closed, whatever the email', async (t) => {
  const built = await build(t, { signup: 'first-user' })
  const first = await post(built, '/api/auth/signup', { email: 'first@example.com', password: PASSWORD, org_name: 'Acme' })
  t.equal(first.statusCode, 201, 'the README demo signs up its first user directly')
  t.match(first.json(), { user: { email: 'first@example.com' }, org: { name: 'Acme' }, role: 'owner' })
  const before = await rowCounts(built)
  const existing = await post(built, '/api/auth/signup', { email: 'FIRST@example.com', password: PASSWORD, org_name: 'Mine' })
  const fresh = await post(built, '/api/auth/signup', { email: 'new@example.com', password: PASSWORD, org_name: 'Mine' })
  const closed = expectError(t, existing, 403, 'signup_closed')
  t.match(closed.message, /invitation/)
  expectError(t, fresh, 403, 'signup_closed')
  const { request_id: _a, ...existingError } = existing.json().error
  const { request_id: _b, ...freshError } = fresh.json().error
  t.same(existingError, freshError, 'the same answer for an existing and a new email')
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test('invite mode: sign-up without an invitation is closed, even the first', async (t) => {
  const built = await build(t, { signup: 'invite' })
  const res = await post(built, '/api/auth/signup', { email: 'first@example.com', password: PASSWORD, org_name: 'Acme' })
  expectError(t, res, 403, 'signup_closed')
  t.equal((await rowCounts(built)).orgs, 0)
})

t.test('concurrent first sign-ups: exactly one creates an org, the others get the closed answer', async (t) => {
  const built = await build(t, { signup: 'first-user' })
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) => post(built, '/api/auth/signup', { email: `racer${i}@example.com`, password: PASSWORD, org_name: `Org ${i}` })),
  )
  t.same(results.map((r) => r.statusCode).sort(), [201, 403, 403, 403, 403, 403])
  for (const res of results.filter((r) => r.statusCode === 403)) expectError(t, res, 403, 'signup_closed')
  const counts = await rowCounts(built)
  t.equal(counts.orgs, 1, 'one org')
  t.equal(counts.users, 1, 'one account')
})

t.test('open mode: later sign-ups answer the same for new and existing emails and create nothing until confirmed', async (t) => {
  const built = await build(t, { signup: 'open' })
  await signup(built, { email: 'taken@example.com' })
  const before = await rowCounts(built)
  const existing = await post(built, '/api/auth/signup', { email: 'TAKEN@example.com', password: PASSWORD, org_name: 'Second' })
  const fresh = await post(built, '/api/auth/signup', { email: 'new@example.com', password: PASSWORD, name: 'New', org_name: 'Second' })
  for (const res of [existing, fresh]) {
    t.equal(res.statusCode, 202)
    t.same(res.json(), { status: 'confirmation_sent' })
    t.same(res.cookies, [], 'no session')
  }
  t.same(Object.keys(existing.headers).sort(), Object.keys(fresh.headers).sort(), 'the same headers')
  const after = await rowCounts(built)
  t.same({ ...after, signup_requests: 0, outbox: 0 }, { ...before, signup_requests: 0, outbox: 0 }, 'no account, org or session')
  t.equal(after.signup_requests! - before.signup_requests!, 2, 'a request each, existing email or not')

  const [note] = await mailTo(built, 'taken@example.com', 'signup_confirm')
  t.match(note?.subject, /already have/)
  t.notMatch(note?.text, /th[a-z]_/, 'the owner of the existing account gets no sign-up link, only a note')
  t.match(note?.text, '/reset-password')
  const token = await emailedToken(built, 'new@example.com', 'signup_confirm')
  t.match(token, /^thc_/)
  const [confirmation] = await mailTo(built, 'new@example.com', 'signup_confirm')
  for (const part of [confirmation?.subject, confirmation?.text, confirmation?.html]) {
    t.notMatch(part, /Second|New\b/, 'nothing the requester chose (org name, name) reaches the inbox')
  }

  const confirmed = await post(built, '/api/auth/signup/confirm', { token })
  t.equal(confirmed.statusCode, 201)
  t.match(confirmed.json(), { user: { email: 'new@example.com', name: 'New' }, org: { name: 'Second' }, role: 'owner' })
  const session = confirmed.cookies.find((c) => c.name === 'takehome_session')!
  t.equal((await me(built, { cookie: `takehome_session=${session.value}` })).statusCode, 200)
  const [audit] = (await auditKinds(built, 'user.signup')).filter((a) => a.meta.via === 'confirmation')
  t.equal(audit?.orgId, confirmed.json().org.id, 'the sign-up is audited in its new org')
  expectError(t, await post(built, '/api/auth/signup/confirm', { token }), 409, 'link_used')

  await post(built, '/api/auth/signup', { email: 'late@example.com', password: PASSWORD, org_name: 'Late' })
  const late = await emailedToken(built, 'late@example.com', 'signup_confirm')
  built.clock.advance(24 * 3600 * 1000 + 1)
  const beforeLate = await rowCounts(built)
  expectError(t, await post(built, '/api/auth/signup/confirm', { token: late }), 410, 'link_expired')
  expectError(t, await post(built, '/api/auth/signup/confirm', { token: `thc_${'A'.repeat(49)}` }), 404, 'link_invalid')
  expectError(t, await post(built, '/api/auth/signup/confirm', { token: 'garbage' }), 404, 'link_invalid')
  t.same(await rowCounts(built), beforeLate, 'refused links write nothing')
})

t.test('sign-up through a member invitation: the invited address only, once, into that org', async (t) => {
  const built = await build(t, { signup: 'first-user' })
  const owner = await signup(built)
  const invited = await post(built, '/api/members', { email: 'Rita@Example.com', role: 'reviewer' }, owner.headers)
  t.equal(invited.statusCode, 201)
  const token = await emailedToken(built, 'rita@example.com', 'member_invite')
  t.match(token, /^thm_/)
  const before = await rowCounts(built)
  const wrong = await post(built, '/api/auth/signup', { invitation_token: token, email: 'mallory@example.com', password: PASSWORD })
  expectError(t, wrong, 403, 'invitation_for_another_email')
  t.same(await rowCounts(built), before, 'a refused sign-up writes nothing and leaves the invitation usable')

  const res = await post(built, '/api/auth/signup', { invitation_token: token, password: PASSWORD, name: 'Rita' })
  t.equal(res.statusCode, 201, 'allowed even though sign-up is otherwise closed')
  t.match(res.json(), { user: { email: 'Rita@Example.com', name: 'Rita' }, org: { id: owner.org.id }, role: 'reviewer' })
  t.equal((await rowCounts(built)).orgs, 1, 'no new org')
  const cookie = res.cookies.find((c) => c.name === 'takehome_session')!
  t.equal((await me(built, { cookie: `takehome_session=${cookie.value}` })).json().org.id, owner.org.id)
  expectError(t, await post(built, '/api/auth/signup', { invitation_token: token, password: PASSWORD }), 409, 'link_used')
  t.equal((await auditKinds(built, 'member.joined')).length, 1, 'joining is audited')
})

t.test('sign-up through an invitation for an address that has an account: log in and accept instead', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const other = await signup(built, { email: 'has-account@example.com' })
  await post(built, '/api/members', { email: 'has-account@example.com', role: 'viewer' }, owner.headers)
  const token = await emailedToken(built, 'has-account@example.com', 'member_invite')
  const res = await post(built, '/api/auth/signup', { invitation_token: token, password: 'another password!' })
  t.match(expectError(t, res, 409, 'email_taken').message, /log in/)
  const joined = await post(built, '/api/auth/join', { token }, other.headers)
  t.equal(joined.statusCode, 200, 'the invitation is still good for the account owner')
  t.equal(joined.json().org.id, owner.org.id)
})

t.test('password change: wrong current password refused; the other sessions end, this one stays', async (t) => {
  const built = await build(t)
  const owner = await signup(built, { email: 'grace@example.com' })
  const other = await login(built, 'grace@example.com')
  const wrong = await post(built, '/api/auth/password', { current_password: 'not it at all', new_password: 'a brand new password' }, owner.headers)
  expectError(t, wrong, 403, 'wrong_password')
  t.equal((await me(built, other)).statusCode, 200, 'a refused change ends nothing')
  expectError(t, await post(built, '/api/auth/password', { current_password: PASSWORD, new_password: 'short' }, owner.headers), 400, 'validation_failed')

  const key = (await post(built, '/api/api-keys', { name: 'ci' }, owner.headers)).json().key as string
  const byKey = await post(built, '/api/auth/password', { current_password: PASSWORD, new_password: 'a brand new password' }, { authorization: `Bearer ${key}` })
  expectError(t, byKey, 403, 'forbidden')

  const res = await post(built, '/api/auth/password', { current_password: PASSWORD, new_password: 'a brand new password' }, owner.headers)
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'password_changed' })
  t.equal((await me(built, owner.headers)).statusCode, 200, 'this session stays')
  expectError(t, await me(built, other), 401, 'unauthenticated')
  expectError(t, await post(built, '/api/auth/login', { email: 'grace@example.com', password: PASSWORD }), 401, 'invalid_credentials')
  await login(built, 'grace@example.com', 'a brand new password')
  const [audit] = await auditKinds(built, 'user.password_changed')
  t.match(audit, { orgId: owner.org.id, actor: `user:${owner.user.id}`, meta: { sessions_ended: 1 } })
  t.equal((await auditKinds(built, 'user.password_change_failed')).length, 1)
})

t.test('password reset: the same answer for every email; a link for an hour, once; every session ends', async (t) => {
  const built = await build(t)
  const owner = await signup(built, { email: 'ada@example.com' })
  const second = await login(built, 'ada@example.com')
  const known = await post(built, '/api/auth/password-reset', { email: 'ADA@example.com' })
  const unknown = await post(built, '/api/auth/password-reset', { email: 'nobody@example.com' })
  for (const res of [known, unknown]) {
    t.equal(res.statusCode, 202)
    t.same(res.json(), { status: 'sent' })
  }
  t.same(await mailTo(built, 'nobody@example.com', 'password_reset'), [], 'no email to an address without an account')
  const [mail] = await mailTo(built, 'ada@example.com', 'password_reset')
  t.equal(mail?.orgId, null, 'a reset email belongs to no org, so no admin can read it in the mailbox')
  const token = await emailedToken(built, 'ada@example.com', 'password_reset')
  t.match(token, /^thr_/)
  const mailList = await built.app.inject({ method: 'GET', url: '/api/mail', headers: owner.headers })
  t.notOk(mailList.body.includes(token), 'not listed at /api/mail')

  expectError(t, await post(built, '/api/auth/password-reset/confirm', { token, new_password: 'short' }), 400, 'validation_failed')
  const res = await post(built, '/api/auth/password-reset/confirm', { token, new_password: 'a brand new password' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'password_changed', api_keys_revoked: 0 })
  for (const headers of [owner.headers, second]) expectError(t, await me(built, headers), 401, 'unauthenticated')
  await login(built, 'ada@example.com', 'a brand new password')
  expectError(t, await post(built, '/api/auth/password-reset/confirm', { token, new_password: 'yet another password' }), 409, 'link_used')
  const [audit] = await auditKinds(built, 'user.password_reset')
  t.match(audit, { orgId: null, target: owner.user.id, meta: { sessions_ended: 2 } })
  t.same((await auditKinds(built, 'auth.password_reset_requested')).map((a) => a.meta.known).sort(), [false, true])

  built.clock.advance(5 * 60 * 1000 + 1)
  await post(built, '/api/auth/password-reset', { email: 'ada@example.com' })
  const older = await emailedToken(built, 'ada@example.com', 'password_reset')
  built.clock.advance(5 * 60 * 1000 + 1)
  await post(built, '/api/auth/password-reset', { email: 'ada@example.com' })
  const newer = await emailedToken(built, 'ada@example.com', 'password_reset')
  t.not(older, newer)
  built.clock.advance(3600 * 1000)
  expectError(t, await post(built, '/api/auth/password-reset/confirm', { token: newer, new_password: 'yet another password' }), 410, 'link_expired')
  expectError(t, await post(built, '/api/auth/password-reset/confirm', { token: older, new_password: 'yet another password' }), 410, 'link_expired')
  await post(built, '/api/auth/password-reset', { email: 'ada@example.com' })
  const fresh = await emailedToken(built, 'ada@example.com', 'password_reset')
  t.equal((await post(built, '/api/auth/password-reset/confirm', { token: fresh, new_password: 'yet another password' })).statusCode, 200)
  expectError(t, await post(built, '/api/auth/password-reset/confirm', { token: newer, new_password: 'one more password' }), 409, 'link_used')
  expectError(t, await post(built, '/api/auth/password-reset/confirm', { token: `thr_${'A'.repeat(49)}`, new_password: 'one more password' }), 404, 'link_invalid')
})

t.test('logout-all ends every session of the account, in every org; an API key cannot do it', async (t) => {
  const built = await build(t)
  const owner = await signup(built, { email: 'two-orgs@example.com' })
  const other = await signup(built)
  await post(built, '/api/members', { email: 'two-orgs@example.com', role: 'viewer' }, other.headers)
  const joined = await post(built, '/api/auth/join', { token: await emailedToken(built, 'two-orgs@example.com', 'member_invite') }, await login(built, 'two-orgs@example.com'))
  t.equal(joined.statusCode, 200)
  const inOther = { cookie: `takehome_session=${joined.cookies.find((c) => c.name === 'takehome_session')!.value}`, origin: built.origin }
  const inFirst = await login(built, 'two-orgs@example.com')
  t.equal((await me(built, inOther)).json().org.id, other.org.id, 'a session in the second org')
  t.equal((await me(built, inFirst)).json().org.id, owner.org.id, 'and more in the first')

  const key = (await post(built, '/api/api-keys', { name: 'ci' }, owner.headers)).json().key as string
  expectError(t, await post(built, '/api/auth/logout-all', {}, { authorization: `Bearer ${key}` }), 403, 'forbidden')
  for (const headers of [owner.headers, inFirst, inOther]) t.equal((await me(built, headers)).statusCode, 200, 'a key ends no session')

  const res = await post(built, '/api/auth/logout-all', {}, owner.headers)
  t.equal(res.statusCode, 204)
  for (const headers of [owner.headers, inFirst, inOther]) expectError(t, await me(built, headers), 401, 'unauthenticated')
  const left = await built.db.select().from(schema.sessions).where(eq(schema.sessions.userId, owner.user.id))
  t.same(left, [], 'no session left in either org')
  const [audit] = await auditKinds(built, 'auth.logout_all')
  t.match(audit, { orgId: owner.org.id, meta: { sessions_ended: 3 } })
})

t.test('the public account routes are rate limited per client', async (t) => {
  const built = await build(t, { rateLimits: { auth: { max: 2, timeWindow: 60_000 } } })
  for (const [url, payload] of [
    ['/api/auth/password-reset', { email: 'x@example.com' }],
    ['/api/auth/password-reset/confirm', { token: 'thr_x', new_password: 'whatever password' }],
    ['/api/auth/signup/confirm', { token: 'thc_x' }],
  ] as const) {
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) statuses.push((await post(built, url, payload)).statusCode)
    t.equal(statuses[2], 429, `${url} is limited`)
  }
})

t.test('the member helper goes through the emailed invitation', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const viewer = await member(built, owner, 'viewer')
  t.equal((await me(built, viewer.headers)).json().role, 'viewer')
})

const resetPassword = (built: Built, token: string) => post(built, '/api/auth/password-reset/confirm', { token, new_password: 'a brand new password' })

t.test('a password reset revokes every API key the account made, in every org', async (t) => {
  const built = await build(t)
  const owner = await signup(built, { email: 'ada@example.com' })
  const other = await signup(built)
  const colleague = await member(built, owner, 'admin')
  await post(built, '/api/members', { email: 'ada@example.com', role: 'admin' }, other.headers)
  const joined = await post(built, '/api/auth/join', { token: await emailedToken(built, 'ada@example.com', 'member_invite') }, await login(built, 'ada@example.com'))
  const inOther = { cookie: `takehome_session=${joined.cookies.find((c) => c.name === 'takehome_session')!.value}`, origin: built.origin }
  // Whoever took the account over made keys in both orgs.
  const keys = [
    (await post(built, '/api/api-keys', { name: 'first' }, owner.headers)).json(),
    (await post(built, '/api/api-keys', { name: 'second' }, inOther)).json(),
  ] as Array<{ id: string; key: string }>
  const colleagueKey = (await post(built, '/api/api-keys', { name: 'theirs' }, colleague.headers)).json().key as string

  await post(built, '/api/auth/password-reset', { email: 'ada@example.com' })
  const res = await resetPassword(built, await emailedToken(built, 'ada@example.com', 'password_reset'))
  t.same(res.json(), { status: 'password_changed', api_keys_revoked: 2 }, 'the answer says so')
  for (const { key } of keys) {
    expectError(t, await built.app.inject({ method: 'GET', url: '/api/seeds', headers: { authorization: `Bearer ${key}` } }), 401, 'invalid_api_key')
  }
  t.equal((await built.app.inject({ method: 'GET', url: '/api/seeds', headers: { authorization: `Bearer ${colleagueKey}` } })).statusCode, 200, "another member's key keeps working")
  const [audit] = await auditKinds(built, 'user.password_reset')
  t.same([...(audit?.meta.api_keys_revoked as string[])].sort(), keys.map((k) => k.id).sort(), 'and the audit names them')
  const perOrg = await auditKinds(built, 'api_key.revoked')
  t.same(perOrg.map((a) => [a.orgId, a.target]).sort(), [[owner.org.id, keys[0]!.id], [other.org.id, keys[1]!.id]].sort(), "each org's trail says why")
})

t.test('a password reset request does the same work whether or not the address has an account', async (t) => {
  const built = await build(t)
  await signup(built, { email: 'ada@example.com' })
  const delta = async (email: string) => {
    const before = await rowCounts(built)
    const res = await post(built, '/api/auth/password-reset', { email })
    t.equal(res.statusCode, 202)
    const after = await rowCounts(built)
    return Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - before[k]!]).filter(([, n]) => n !== 0))
  }
  const known = await delta('ADA@example.com')
  const unknown = await delta('nobody@example.com')
  t.same(known, unknown, 'the same rows written')
  t.same(known, { outbox: 1 }, 'one job each, and nothing else yet')
  const jobs = await built.db.select().from(schema.outbox).where(eq(schema.outbox.kind, 'email.password_reset'))
  t.equal(jobs.length, 2)
  for (const job of jobs) {
    t.same(Object.keys(job.payload).sort(), ['passwordResetId', 'userId'], 'the same payload keys')
    t.notMatch(JSON.stringify(job.payload), /@|example/i, 'no email in the job')
  }
  await built.drain()
  t.equal((await mailTo(built, 'ada@example.com', 'password_reset')).length, 1, 'the account is emailed')
  t.same(await mailTo(built, 'nobody@example.com', 'password_reset'), [], 'the unknown address is not')
  t.equal((await rowCounts(built)).password_resets, 1, 'a link is made for the account only')
})

t.test('password reset emails: one per account every few minutes, whatever is asked; the answer stays the same', async (t) => {
  const built = await build(t)
  await signup(built, { email: 'ada@example.com' })
  const answers = []
  for (let i = 0; i < 5; i++) answers.push(await post(built, '/api/auth/password-reset', { email: i % 2 ? 'ADA@example.com' : 'ada@example.com' }))
  for (const res of answers) {
    t.equal(res.statusCode, 202)
    t.same(res.json(), { status: 'sent' })
  }
  t.equal((await mailTo(built, 'ada@example.com', 'password_reset')).length, 1, 'one email for five requests')
  built.clock.advance(5 * 60 * 1000 + 1)
  await post(built, '/api/auth/password-reset', { email: 'ada@example.com' })
  t.equal((await mailTo(built, 'ada@example.com', 'password_reset')).length, 2, 'another after the cooldown')
})

t.test('open sign-up: one confirmation email per address every ten minutes, whatever is asked; the answer stays the same', async (t) => {
  const built = await build(t, { signup: 'open' })
  await signup(built)
  const before = await rowCounts(built)
  const answers = []
  for (let i = 0; i < 5; i++) {
    answers.push(await post(built, '/api/auth/signup', { email: i % 2 ? 'Victim@example.com' : 'victim@example.com', password: PASSWORD, org_name: `Buy cheap pills ${i}` }))
  }
  for (const res of answers) {
    t.equal(res.statusCode, 202)
    t.same(res.json(), { status: 'confirmation_sent' })
  }
  t.equal((await rowCounts(built)).signup_requests! - before.signup_requests!, 1, 'one request kept')
  t.equal((await mailTo(built, 'victim@example.com', 'signup_confirm')).length, 1, 'one email for five sign-ups')
  built.clock.advance(10 * 60 * 1000 + 1)
  await post(built, '/api/auth/signup', { email: 'victim@example.com', password: PASSWORD, org_name: 'Again' })
  t.equal((await mailTo(built, 'victim@example.com', 'signup_confirm')).length, 2, 'another after the cooldown')
  const throttled = (await auditKinds(built, 'auth.signup_requested')).filter((a) => a.meta.throttled)
  t.equal(throttled.length, 4, 'the refused repeats are audited')
})

t.test('expired sign-up requests and reset links are pruned by the periodic job, which is safe to repeat', async (t) => {
  const built = await build(t, { signup: 'open' })
  await signup(built, { email: 'ada@example.com' })
  await post(built, '/api/auth/signup', { email: 'someone@example.com', password: PASSWORD, org_name: 'Theirs' })
  await post(built, '/api/auth/password-reset', { email: 'ada@example.com' })
  await built.drain()
  const prune = scheduledTasks(built.services, { sweepIntervalMs: 60_000, seedSyncIntervalMs: 60_000 }).find((task) => task.name === 'outbox-prune')!
  await prune.run()
  t.match(await rowCounts(built), { signup_requests: 1, password_resets: 1 }, 'nothing live is pruned')
  built.clock.advance(3600 * 1000 + 1)
  await post(built, '/api/auth/password-reset', { email: 'ada@example.com' })
  await built.drain()
  await prune.run()
  t.match(await rowCounts(built), { signup_requests: 1, password_resets: 1 }, 'the expired reset link is gone, the new one stays')
  built.clock.advance(24 * 3600 * 1000)
  await prune.run()
  await prune.run()
  t.match(await rowCounts(built), { signup_requests: 0, password_resets: 0 }, 'expired sign-up requests, password hashes and all, are gone')
})

t.test('join with email and password: an account in no org accepts an invitation without a session', async (t) => {
  const built = await build(t, { passwords: createPasswordHasher() })
  const owner = await signup(built)
  const leaver = await member(built, owner, 'viewer')
  const removed = await built.app.inject({ method: 'DELETE', url: `/api/members/${leaver.user.id}`, headers: owner.headers })
  t.equal(removed.statusCode, 200)
  expectError(t, await post(built, '/api/auth/login', { email: leaver.email, password: leaver.password }), 403, 'not_a_member')
  await post(built, '/api/members', { email: leaver.email, role: 'reviewer' }, owner.headers)
  const token = await emailedToken(built, leaver.email, 'member_invite')
  expectError(t, await post(built, '/api/auth/signup', { invitation_token: token, password: 'another password!' }), 409, 'email_taken')
  const other = await signup(built, { email: 'other@example.com' })

  const before = await rowCounts(built)
  const loginAs = (email: string, password: string) => post(built, '/api/auth/login', { email, password })
  for (const [email, password] of [
    [leaver.email, 'not the password'],
    ['nobody@example.com', 'not the password'],
  ] as const) {
    const joined = await post(built, '/api/auth/join', { token, email, password })
    const { request_id: _a, ...joinError } = expectError(t, joined, 401, 'invalid_credentials') as { request_id?: string }
    const { request_id: _b, ...loginError } = (await loginAs(email, password)).json().error
    t.same(joinError, loginError, `the same answer as login (${email === leaver.email ? 'wrong password' : 'no account'})`)
    t.same(joined.cookies, [], 'no session')
  }
  expectError(t, await post(built, '/api/auth/join', { token, email: 'other@example.com', password: other.password }), 403, 'invitation_for_another_email')
  expectError(t, await post(built, '/api/auth/join', { token, email: leaver.email }), 400, 'validation_failed')
  expectError(t, await post(built, '/api/auth/join', { token }), 401, 'unauthenticated')
  t.same({ ...(await rowCounts(built)), mailbox_messages: 0 }, { ...before, mailbox_messages: 0 }, 'refused joins write nothing')
  t.equal((await auditKinds(built, 'auth.login_failed')).length, 4, 'failures are audited as failed logins')

  const joined = await post(built, '/api/auth/join', { token, email: leaver.email.toUpperCase(), password: leaver.password })
  t.equal(joined.statusCode, 200)
  t.match(joined.json(), { user: { id: leaver.user.id }, org: { id: owner.org.id }, role: 'reviewer' })
  const cookie = joined.cookies.find((c) => c.name === 'takehome_session')!
  t.equal((await me(built, { cookie: `takehome_session=${cookie.value}` })).json().role, 'reviewer', 'a session in that org')
  expectError(t, await post(built, '/api/auth/join', { token, email: leaver.email, password: leaver.password }), 409, 'link_used')
})

t.test('join with email and password is rate limited like login', async (t) => {
  const built = await build(t, { rateLimits: { auth: { max: 2, timeWindow: 60_000 } } })
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) statuses.push((await post(built, '/api/auth/join', { token: 'thm_x', email: 'x@example.com', password: 'whatever!!' })).statusCode)
  t.same(statuses, [401, 401, 429])
})
