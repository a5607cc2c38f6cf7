// The API at its edge, as the open internet meets it: whose address a limit counts,
// which proxies are believed, the headers every answer carries, who may read /metrics,
// and which cookie-authenticated writes are refused as cross-site.
import { once } from 'node:events'
import http from 'node:http'
import { rmSync } from 'node:fs'
import { createSourceRepo } from '@takehome/core/testing'
import t, { type Test } from 'tap'
import {
  CLIENT_IP_HEADER,
  CLIENT_SIG_HEADER,
  clientAddressKey,
  signClientAddress,
  verifiedClientAddress,
} from '../src/plugins/app/client-address.ts'
import { rateKey } from '../src/plugins/external/rate-limit.ts'
import { build, type BuildOptions, expectError, invited, serve, signup } from './helper.ts'

const SESSION_SECRET = 'test-session-secret-0123456789abcdef0123'
const key = clientAddressKey(SESSION_SECRET)
const BOGUS = 'thi_0000000000000000000000000000000000000000000000'

function sourceRepo(t: Test) {
  const source = createSourceRepo()
  t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))
  return source
}

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** One request over a real socket, from `localAddress` (Linux routes all of 127.0.0.0/8 to loopback). */
async function send(base: string, path: string, options: { method?: string; localAddress?: string; headers?: Record<string, string> } = {}) {
  const req = http.request(`${base}${path}`, { method: options.method ?? 'GET', localAddress: options.localAddress, headers: options.headers, agent: false })
  req.end()
  const [res] = (await once(req, 'response')) as [http.IncomingMessage]
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  return { status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() } satisfies Answer
}

/** The access log's `remote` field of each logged start-page request (their URLs are logged redacted). */
function loggedRemotes(logLines: string[]) {
  return logLines
    .map((line) => JSON.parse(line) as { msg?: string; req?: { url?: string; remote?: string } })
    .filter((entry) => entry.msg === 'request' && entry.req?.url?.startsWith('/api/start/'))
    .map((entry) => entry.req!.remote)
}

t.test('start-page limits count per candidate: 60 bogus requests from one address lock out no one else', async (t) => {
  const start = { max: 60, timeWindow: 60_000 }
  const built = await build(t, { rateLimits: { start } })
  const emails = Array.from({ length: 20 }, (_, i) => `candidate${i}@example.com`)
  const { invitations } = await invited(built, sourceRepo(t).dir, emails)

  // Every call comes from the web process (one loopback address), each signed for its client.
  const fromWeb = (method: 'GET' | 'POST', token: string, client: string) =>
    built.app.inject({ method, url: `/api/start/${token}`, remoteAddress: '127.0.0.1', headers: signClientAddress(key, client) })

  const abuser = '203.0.113.66'
  const bogus = []
  for (let i = 0; i < 60; i++) bogus.push((await fromWeb('GET', BOGUS, abuser)).statusCode)
  t.same(new Set(bogus), new Set([404]), '60 bogus start-page requests, all answered')
  expectError(t, await fromWeb('GET', BOGUS, abuser), 429, 'rate_limited')

  const statuses = await Promise.all(
    invitations.map(async (invitation, i) => {
      const client = `198.51.100.${i + 1}`
      const view = await fromWeb('GET', invitation.token, client)
      const started = await fromWeb('POST', invitation.token, client)
      return [view.statusCode, started.statusCode, started.json<{ status: string }>().status]
    }),
  )
  t.same(statuses, invitations.map(() => [200, 200, 'started']), 'all 20 candidates opened their page and started')
  expectError(t, await fromWeb('GET', BOGUS, abuser), 429, 'rate_limited')
})

t.test('a forged, stale or unsigned client address is ignored: the socket address counts', async (t) => {
  const built = await build(t, { rateLimits: { start: { max: 3, timeWindow: 60_000 } } })
  const now = Date.now()
  const forged = signClientAddress(clientAddressKey('another-secret-0123456789abcdef0123456789'), '198.51.100.1')
  const stale = signClientAddress(key, '198.51.100.2', now - 5 * 60_000)
  const future = signClientAddress(key, '198.51.100.3', now + 5 * 60_000)
  const swapped = { ...signClientAddress(key, '198.51.100.4'), [CLIENT_IP_HEADER]: '198.51.100.5' }
  const unsigned = { [CLIENT_IP_HEADER]: '198.51.100.6' }
  const attempts = [forged, stale, future, swapped, unsigned]
  const statuses = []
  for (const headers of attempts) {
    statuses.push((await built.app.inject({ method: 'GET', url: `/api/start/${BOGUS}`, remoteAddress: '192.0.2.9', headers })).statusCode)
  }
  t.same(statuses, [404, 404, 404, 429, 429], 'all five counted against the one socket address')

  t.equal(verifiedClientAddress(key, forged), undefined, 'another key')
  t.equal(verifiedClientAddress(key, stale), undefined, 'five minutes old')
  t.equal(verifiedClientAddress(key, future), undefined, 'five minutes ahead')
  t.equal(verifiedClientAddress(key, swapped), undefined, 'the address changed after signing')
  t.equal(verifiedClientAddress(key, { ...signClientAddress(key, 'not-an-address') }), undefined, 'not an IP address')
  t.equal(verifiedClientAddress(key, signClientAddress(key, '198.51.100.7')), '198.51.100.7', 'a fresh signature of ours holds')

  const fresh = await built.app.inject({
    method: 'GET',
    url: `/api/start/${BOGUS}`,
    remoteAddress: '192.0.2.9',
    headers: signClientAddress(key, '198.51.100.8'),
  })
  t.equal(fresh.statusCode, 404, 'a validly signed address has a bucket of its own')
})

t.test('the web app and the API sign alike (one pinned example; web/lib/client-address.ts is held to it too)', async (t) => {
  t.same(signClientAddress(key, '203.0.113.5', 1_800_000_000_000), {
    [CLIENT_IP_HEADER]: '203.0.113.5',
    [CLIENT_SIG_HEADER]: '1800000000000.9gQSsj-9Ow0wdmvflcSp4tKfUlWawJpvKZAB6fNt-OE',
  })
})

t.test('the mounted web app gets the caller’s address signed, never what the caller claimed', async (t) => {
  const seen: http.IncomingHttpHeaders[] = []
  const built = await build(t, {
    fallback: async (req, res) => {
      seen.push({ ...req.headers })
      res.writeHead(200, { 'content-type': 'text/html' }).end('<p>page</p>')
    },
  })
  const res = await built.app.inject({
    method: 'GET',
    url: '/start/thi_x',
    remoteAddress: '192.0.2.44',
    headers: { [CLIENT_IP_HEADER]: '198.51.100.1', [CLIENT_SIG_HEADER]: '1.forged' },
  })
  t.equal(res.statusCode, 200)
  t.equal(seen.length, 1)
  t.equal(verifiedClientAddress(key, seen[0]!), '192.0.2.44', 'the socket address, signed by the server')
})

t.test('rate limits count an IPv6 client by its /64', async (t) => {
  t.equal(rateKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64')
  t.equal(rateKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64')
  t.equal(rateKey('2001:db8::1'), '2001:db8:0:0::/64')
  t.equal(rateKey('::1'), '0:0:0:0::/64')
  t.equal(rateKey('::ffff:192.0.2.1'), '192.0.2.1')
  t.equal(rateKey('192.0.2.1'), '192.0.2.1')
})

t.test('TRUST_PROXY as a hop count: only the last hop is believed, over a real socket', async (t) => {
  const built = await serve(t, { trustProxy: 1, rateLimits: { start: { max: 3, timeWindow: 60_000 } } })
  const path = `/api/start/${BOGUS}`
  const statuses = []
  for (const spoofed of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) {
    statuses.push((await send(built.base, path, { headers: { 'x-forwarded-for': `${spoofed}, 198.51.100.20` } })).status)
  }
  t.same(statuses, [404, 404, 404, 429], 'a new leftmost entry every time buys no new bucket')
  const other = await send(built.base, path, { headers: { 'x-forwarded-for': '10.0.0.1, 198.51.100.21' } })
  t.equal(other.status, 404, 'another last hop is another client')
  const remotes = loggedRemotes(built.logLines)
  t.same(remotes, ['198.51.100.20', '198.51.100.20', '198.51.100.20', '198.51.100.20', '198.51.100.21'], 'the access log names the last hop')
})

t.test('TRUST_PROXY as addresses: only those proxies are believed', async (t) => {
  const built = await serve(t, { trustProxy: ['127.0.0.1'] })
  const path = '/api/start/thi_not_real'
  await send(built.base, path, { localAddress: '127.0.0.1', headers: { 'x-forwarded-for': '10.0.0.1, 198.51.100.30' } })
  await send(built.base, path, { localAddress: '127.0.0.2', headers: { 'x-forwarded-for': '10.0.0.1, 198.51.100.31' } })
  t.same(loggedRemotes(built.logLines), ['198.51.100.30', '127.0.0.2'], 'a trusted proxy speaks for its client; any other socket is the client')
})

t.test('every answer says nosniff; framing is refused on every page', async (t) => {
  const built = await build(t, {
    fallback: async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<p>page</p>')
    },
  })
  const answers = {
    'API JSON': await built.app.inject({ method: 'GET', url: '/healthz' }),
    'API error': await built.app.inject({ method: 'GET', url: '/api/nothing-here' }),
    'API docs (HTML)': await built.app.inject({ method: 'GET', url: '/docs/' }),
    'git smart HTTP': await built.app.inject({ method: 'GET', url: '/r/nothing.git/info/refs?service=git-upload-pack' }),
    'credential broker': await built.app.inject({ method: 'GET', url: '/git/credential?token=tha_x' }),
    'web page (mounted)': await built.app.inject({ method: 'GET', url: '/' }),
  }
  for (const [what, res] of Object.entries(answers)) {
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`)
    t.equal(res.headers['x-frame-options'], 'DENY', `${what}: X-Frame-Options`)
    t.equal(res.headers['content-security-policy'], "frame-ancestors 'none'", `${what}: frame-ancestors`)
  }
  t.match(answers['API docs (HTML)'].headers['content-type'], /text\/html/, 'the docs are the HTML page')
})

t.test('/metrics without METRICS_TOKEN: loopback callers that came through no proxy only', async (t) => {
  const built = await build(t)
  t.equal((await built.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode, 200)
  t.equal((await built.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '::1' })).statusCode, 200)
  expectError(t, await built.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '192.0.2.7' }), 403, 'forbidden')
  const spoofed = await built.app.inject({
    method: 'GET',
    url: '/metrics',
    remoteAddress: '192.0.2.7',
    headers: { 'x-forwarded-for': '127.0.0.1' },
  })
  expectError(t, spoofed, 403, 'forbidden')
  // And the other way round: a reverse proxy on this host (nginx on localhost) connects from
  // loopback for every outside client; the header it adds says so.
  for (const headers of [{ 'x-forwarded-for': '192.0.2.7' }, { forwarded: 'for=192.0.2.7' }, { 'x-real-ip': '192.0.2.7' }]) {
    const proxied = await built.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1', headers })
    const error = expectError(t, proxied, 403, 'forbidden')
    t.match(error.message, /set METRICS_TOKEN/, `${Object.keys(headers)[0]}: the answer says what to set`)
  }
  // With TRUST_PROXY set, a proxy stands in front by the operator's own word, header or not.
  for (const trustProxy of [1, ['127.0.0.1']]) {
    const behindProxy = await build(t, { trustProxy })
    const local = await behindProxy.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })
    t.match(expectError(t, local, 403, 'forbidden').message, /set METRICS_TOKEN/, `TRUST_PROXY=${String(trustProxy)}`)
  }
})

t.test('/metrics with METRICS_TOKEN: the bearer token, from anywhere', async (t) => {
  const metricsToken = 'metrics-token-0123456789'
  const built = await build(t, { metricsToken } satisfies BuildOptions)
  const get = (remoteAddress: string, authorization?: string) =>
    built.app.inject({ method: 'GET', url: '/metrics', remoteAddress, headers: authorization ? { authorization } : {} })
  expectError(t, await get('127.0.0.1'), 401, 'unauthenticated')
  expectError(t, await get('192.0.2.7', 'Bearer wrong-token'), 401, 'unauthenticated')
  expectError(t, await get('192.0.2.7', `Bearer ${metricsToken}x`), 401, 'unauthenticated')
  const ok = await get('192.0.2.7', `Bearer ${metricsToken}`)
  t.equal(ok.statusCode, 200)
  t.match(ok.body, /^# HELP takehome_jobs/m)
})

t.test('cookie-authenticated writes need our Origin or a same-origin Referer; API keys need neither', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const { cookie } = owner.headers
  const post = (headers: Record<string, string>) =>
    built.app.inject({ method: 'POST', url: '/api/api-keys', headers, payload: { name: 'key' } })

  expectError(t, await post({ cookie }), 403, 'cross_site_request')
  expectError(t, await post({ cookie, origin: 'null' }), 403, 'cross_site_request')
  expectError(t, await post({ cookie, referer: 'https://evil.example/takehome.test' }), 403, 'cross_site_request')
  expectError(t, await post({ cookie, referer: 'not a url' }), 403, 'cross_site_request')
  expectError(t, await post({ cookie, origin: 'https://evil.example', referer: 'http://takehome.test/' }), 403, 'cross_site_request')
  t.equal((await post({ cookie, referer: 'http://takehome.test/assessments/new' })).statusCode, 201, 'same-origin Referer')
  const created = await post({ cookie, origin: 'http://takehome.test' })
  t.equal(created.statusCode, 201, 'our Origin')

  const apiKey = created.json<{ key: string }>().key
  t.equal((await post({ authorization: `Bearer ${apiKey}` })).statusCode, 201, 'an API key needs no Origin')
  t.equal((await built.app.inject({ method: 'GET', url: '/api/assessments', headers: { cookie } })).statusCode, 200, 'reads need no Origin')
})
