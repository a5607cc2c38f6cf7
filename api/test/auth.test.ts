import { createPasswordHasher, schema } from '@takehome/core'
import { eq } from 'drizzle-orm'
import t from 'tap'
import { build, expectError, rowCounts, signup } from './helper.ts'

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
    ['email taken (any case)', { email: 'TAKEN@example.com', password: 'correct horse battery', org_name: 'X' }, 409, 'email_taken'],
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
