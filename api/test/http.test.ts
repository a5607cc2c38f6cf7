import t from 'tap'
import { build, expectError, member, signup } from './helper.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

t.test('health, readiness and metrics', async (t) => {
  const built = await build(t)
  const health = await built.app.inject({ method: 'GET', url: '/healthz' })
  t.equal(health.statusCode, 200)
  t.same(health.json(), { status: 'ok' })

  const ready = await built.app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready', database: process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite', git_host: 'local' })

  const metrics = await built.app.inject({ method: 'GET', url: '/metrics' })
  t.equal(metrics.statusCode, 200)
  t.match(metrics.headers['content-type'], /^text\/plain/)
  t.match(metrics.body, /^# HELP process_resident_memory_bytes /m)
  t.match(metrics.body, /^process_resident_memory_bytes \d+$/m)
  t.match(metrics.body, /^process_uptime_seconds \d+$/m)
  t.notMatch(metrics.body, /^\s*[{[]/, 'not JSON')
})

t.test('the OpenAPI document lists every route and the UI is served at /docs', async (t) => {
  const built = await build(t)
  const res = await built.app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json() as {
    openapi: string
    info: { title: string }
    paths: Record<string, Record<string, unknown>>
    components: { securitySchemes: Record<string, unknown> }
  }
  t.match(doc.openapi, /^3\./, 'OpenAPI 3')
  t.equal(doc.info.title, 'Takehome API')
  const expected: Array<[string, string]> = [
    ['/api/auth/signup', 'post'],
    ['/api/auth/login', 'post'],
    ['/api/api-keys', 'post'],
    ['/api/seeds', 'post'],
    ['/api/seeds/{id}/sync', 'post'],
    ['/api/assessments', 'post'],
    ['/api/assessments', 'get'],
    ['/api/assessments/{id}', 'get'],
    ['/api/invitations', 'post'],
    ['/api/invitations', 'get'],
    ['/api/invitations/{id}', 'get'],
    ['/api/invitations/{id}/revoke', 'post'],
    ['/api/start/{token}', 'get'],
    ['/api/mail', 'get'],
  ]
  for (const [path, method] of expected) {
    t.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`)
  }
  t.ok(doc.components.securitySchemes.apiKey && doc.components.securitySchemes.session, 'both ways to authenticate are described')
  t.notOk(doc.paths['/healthz'], 'operational endpoints are left out')

  let ui = await built.app.inject({ method: 'GET', url: '/docs' })
  for (let hops = 0; ui.statusCode >= 300 && ui.statusCode < 400 && hops < 3; hops++) {
    ui = await built.app.inject({ method: 'GET', url: new URL(String(ui.headers.location), 'http://takehome.test/docs/').pathname })
  }
  t.equal(ui.statusCode, 200)
  t.match(ui.headers['content-type'], /^text\/html/)
  t.match(ui.body, /<html/i)
  t.match(ui.body, /swagger/i)
})

t.test('unknown routes answer 404 in the error shape', async (t) => {
  const built = await build(t)
  for (const [method, url] of [
    ['GET', '/api/nope'],
    ['POST', '/api/invitations/x/y/z'],
    ['DELETE', '/api/auth/signup'],
    ['GET', '/nope?token=thi_secret'],
  ] as const) {
    const res = await built.app.inject({ method, url })
    const error = expectError(t, res, 404, 'route_not_found')
    t.match(res.headers['content-type'], /^application\/json/)
    t.notMatch(error.message, '?', 'the query string is not echoed')
  }
})

t.test('every response carries x-request-id, and errors quote the same id', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const responses = await Promise.all([
    built.app.inject({ method: 'GET', url: '/healthz' }),
    built.app.inject({ method: 'GET', url: '/docs/json' }),
    built.app.inject({ method: 'GET', url: '/metrics' }),
    built.app.inject({ method: 'GET', url: '/api/assessments', headers: owner.headers }),
    built.app.inject({ method: 'GET', url: '/api/nope' }),
    built.app.inject({ method: 'GET', url: '/api/assessments' }),
    built.app.inject({ method: 'POST', url: '/api/auth/login', payload: {} }),
    built.app.inject({ method: 'GET', url: '/api/start/garbage' }),
    built.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: '{' }),
  ])
  const ids = new Set<string>()
  for (const res of responses) {
    const id = res.headers['x-request-id']
    t.match(id, UUID, `${res.statusCode} has an x-request-id`)
    ids.add(String(id))
    if (res.statusCode >= 400) {
      const body = res.json() as { error: { request_id?: string } }
      t.equal(body.error.request_id, id, `error ${res.statusCode} quotes the same request id`)
    }
  }
  t.equal(ids.size, responses.length, 'every request gets its own id')

  const spoofed = await built.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'attacker-chosen' } })
  t.not(spoofed.headers['x-request-id'], 'attacker-chosen', 'a client cannot choose the id that lands in our logs')
})

t.test('a body over the limit is refused with 413 before it is parsed', async (t) => {
  const built = await build(t)
  const payload = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(2 * 1024 * 1024), org_name: 'Big' })
  const res = await built.app.inject({
    method: 'POST',
    url: '/api/auth/signup',
    headers: { 'content-type': 'application/json' },
    payload,
  })
  const error = expectError(t, res, 413, 'payload_too_large')
  t.equal((res.json() as { error: { request_id: string } }).error.request_id, res.headers['x-request-id'])
  t.notMatch(error.message, 'xxxxxxxx', 'the body is not echoed')
})

t.test('URLs Fastify refuses before routing still answer in the error shape, without echoing the URL', async (t) => {
  const built = await build(t)
  const cases: Array<[string, number, string]> = [
    [`/api/start/thi_${'a'.repeat(300)}`, 414, 'url_too_long'],
    ['/api/start/%E0%A4%A', 400, 'bad_url'],
  ]
  for (const [url, status, code] of cases) {
    const res = await built.app.inject({ method: 'GET', url })
    const error = expectError(t, res, status, code) as { request_id?: string; message: string }
    t.equal(res.headers['x-request-id'], error.request_id, 'request id quoted')
    t.notMatch(res.body, 'aaaaaaaaaa', 'the URL is not echoed')
  }
})

t.test('the local mailbox holds start links, so only owners and admins may read it', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  t.equal((await built.app.inject({ method: 'GET', url: '/api/mail', headers: owner.headers })).statusCode, 200)
  for (const role of ['reviewer', 'viewer']) {
    const { headers } = await member(built, owner, role)
    expectError(t, await built.app.inject({ method: 'GET', url: '/api/mail', headers }), 403, 'forbidden')
  }
})
