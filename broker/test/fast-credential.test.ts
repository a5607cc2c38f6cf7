// The broker over both of its transports, one table: the Fastify route (what the API docs
// show, HEAD and inject) and the fast path that answers GET over a socket before Fastify.
// Both must give git the same answer for every request.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { GitHost, Services } from '@takehome/core'
import Fastify from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import t, { type Test } from 'tap'
import { createFastCredential, credentialBroker, serverAnsweringFirst } from '../src/index.ts'
import { createWindowCounter } from '../src/fast-credential.ts'
import { ACCESS_TOKEN, capturedLogger, fakeAccess, fakeRemote, INSTALLATION_TOKEN, listen, REPO } from './fakes.ts'

type Transport = 'route' | 'fast'
const TRANSPORTS: Transport[] = ['route', 'fast']
type Remote = NonNullable<GitHost['remote']>

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** One request over a real socket. */
async function send(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end()
  })
}

/**
 * The broker served one way or the other; the fast path's server also has the route, as
 * the app has, for what the fast path leaves to Fastify.
 */
async function serve(t: Test, transport: Transport, options: { access: Services['access']; remote?: Remote; max?: number }) {
  const { lines, logger } = capturedLogger()
  const probe = http.createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => probe.once('listening', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  const base = `http://127.0.0.1:${port}`
  const exchange = { services: { access: options.access }, gitHost: options.remote ? { remote: options.remote } : {}, publicUrl: base }
  const rateLimit = { max: options.max ?? 100_000, timeWindow: 60_000 }
  const fast = createFastCredential({
    ...exchange,
    rateLimit,
    logger,
    genReqId: () => crypto.randomUUID(),
    headers: { 'x-test-every-answer': 'yes' },
    trustProxy: false,
    rateKey: (_req, ip) => ip,
  })
  const app = Fastify({ loggerInstance: logger, ...(transport === 'fast' ? { serverFactory: serverAnsweringFirst(fast) } : {}) })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  await app.register(credentialBroker, { ...exchange, rateLimit })
  await app.listen({ port, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return { base, lines }
}

const query = (token: string, request?: string) => new URLSearchParams({ token, ...(request === undefined ? {} : { request }) }).toString()
const gitRequest = (url: string) => `protocol=${new URL(url).protocol.slice(0, -1)}\nhost=${new URL(url).host}\n`

interface Case {
  name: string
  /** The query string, given the broker's own origin and GitHub's. */
  query: (base: string, github: string) => string
  status: number
  body: string | RegExp
  refusal: string | null
  /** Whether the case needs GitHub mode. */
  github?: boolean
}

const QUIT = 'quit=1\n'
const GATEWAY = new RegExp(`^username=takehome\npassword=${ACCESS_TOKEN}\npassword_expiry_utc=\\d+\n$`)
const INSTALLATION = new RegExp(`^username=x-access-token\npassword=${INSTALLATION_TOKEN}\npassword_expiry_utc=\\d+\n$`)

const CASES: Case[] = [
  { name: 'our origin: the access token', query: (base) => query(ACCESS_TOKEN, gitRequest(base)), status: 200, body: GATEWAY, refusal: null },
  { name: 'no request (an older helper)', query: () => query(ACCESS_TOKEN), status: 200, body: GATEWAY, refusal: null },
  { name: 'an empty request', query: () => query(ACCESS_TOKEN, ''), status: 200, body: GATEWAY, refusal: null },
  {
    name: "the other fields git sends",
    query: (base) => query(ACCESS_TOKEN, `${gitRequest(base)}path=r/x.git\nwwwauth[]=Basic realm="Takehome"\ncapability[]=authtype\n\n`),
    status: 200,
    body: GATEWAY,
    refusal: null,
  },
  { name: 'another host', query: () => query(ACCESS_TOKEN, 'protocol=https\nhost=github.com\n'), status: 403, body: QUIT, refusal: 'other_host' },
  { name: 'our host over another scheme', query: (base) => query(ACCESS_TOKEN, `protocol=https\nhost=${new URL(base).host}\n`), status: 403, body: QUIT, refusal: 'other_host' },
  { name: 'an unknown token', query: (base) => query(`${ACCESS_TOKEN.slice(0, -1)}x`, gitRequest(base)), status: 403, body: QUIT, refusal: 'unknown' },
  { name: 'no token', query: () => '', status: 400, body: QUIT, refusal: 'bad_request' },
  { name: 'a token over 100 characters', query: () => query('x'.repeat(101)), status: 400, body: QUIT, refusal: 'bad_request' },
  { name: 'the token twice', query: () => `${query(ACCESS_TOKEN)}&${query(ACCESS_TOKEN)}`, status: 400, body: QUIT, refusal: 'bad_request' },
  { name: 'a line that is not key=value', query: () => query(ACCESS_TOKEN, 'protocol=http\nhello\n'), status: 400, body: QUIT, refusal: 'bad_request' },
  { name: 'a NUL', query: (base) => query(ACCESS_TOKEN, `protocol=http\nhost=${new URL(base).host}\0\n`), status: 400, body: QUIT, refusal: 'bad_request' },
  { name: 'host twice', query: (base) => query(ACCESS_TOKEN, `${gitRequest(base)}host=github.com\n`), status: 400, body: QUIT, refusal: 'bad_request' },
  { name: 'a request over 4 KiB', query: (base) => query(ACCESS_TOKEN, `${gitRequest(base)}wwwauth[]=${'x'.repeat(4096)}\n`), status: 400, body: QUIT, refusal: 'bad_request' },
  { name: "GitHub's git host: the installation token", query: (_base, github) => query(ACCESS_TOKEN, gitRequest(github)), status: 200, body: INSTALLATION, refusal: null, github: true },
  { name: 'GitHub mode, no request: the installation token', query: () => query(ACCESS_TOKEN), status: 200, body: INSTALLATION, refusal: null, github: true },
  { name: 'GitHub mode, our origin: the access token', query: (base) => query(ACCESS_TOKEN, gitRequest(base)), status: 200, body: GATEWAY, refusal: null, github: true },
  {
    name: "GitHub's host over another scheme",
    query: (_base, github) => query(ACCESS_TOKEN, `protocol=https\nhost=${new URL(github).host}\n`),
    status: 403,
    body: QUIT,
    refusal: 'other_host',
    github: true,
  },
]

for (const transport of TRANSPORTS) {
  t.test(`${transport}: every answer of the table, with its headers and log lines`, async (t) => {
    const local = await serve(t, transport, { access: fakeAccess().access })
    const upstream = await listen(t, (_req, res) => res.end())
    const remote = fakeRemote(upstream)
    const github = await serve(t, transport, { access: fakeAccess().access, remote: remote.remote })
    for (const c of CASES) {
      const served = c.github ? github : local
      const res = await send(`${served.base}/git/credential?${c.query(served.base, upstream)}`)
      t.equal(res.status, c.status, `${c.name}: status`)
      if (typeof c.body === 'string') t.equal(res.body, c.body, `${c.name}: body`)
      else t.match(res.body, c.body, `${c.name}: body`)
      t.equal(res.headers['x-takehome-refusal'] ?? null, c.refusal, `${c.name}: refusal`)
      t.equal(res.headers['content-type'], 'text/plain; charset=utf-8', `${c.name}: text`)
      t.equal(res.headers['cache-control'], 'no-store', `${c.name}: never cached`)
    }
    t.same(remote.minted, [{ repoFullName: REPO, workflows: false }, { repoFullName: REPO, workflows: false }], 'minted only for GitHub, for the grant')

    for (const served of [local, github]) {
      t.ok(served.lines.some((l) => l.includes('"msg":"credential refused')), 'refusals say why')
      for (const line of served.lines) t.notMatch(line, new RegExp(`${ACCESS_TOKEN}|${INSTALLATION_TOKEN}`), 'no token in any log line')
    }
  })

  t.test(`${transport}: GitHub giving no token is 503 host_unavailable; an access check that throws is 400 quit=1`, async (t) => {
    const upstream = await listen(t, (_req, res) => res.end())
    const remote = fakeRemote(upstream)
    remote.state.failing = true
    const github = await serve(t, transport, { access: fakeAccess().access, remote: remote.remote })
    const down = await send(`${github.base}/git/credential?${query(ACCESS_TOKEN, gitRequest(upstream))}`)
    t.match(down, { status: 503, body: QUIT, headers: { 'x-takehome-refusal': 'host_unavailable', 'cache-control': 'no-store' } })
    t.ok(github.lines.some((l) => l.includes('credential refused: GitHub gave no token')), 'logged for the operator')

    const { access } = fakeAccess()
    const broken = await serve(t, transport, { access: { ...access, check: () => Promise.reject(new Error('the database went away')) } })
    const res = await send(`${broken.base}/git/credential?${query(ACCESS_TOKEN)}`)
    t.match(res, { status: 400, body: QUIT, headers: { 'x-takehome-refusal': 'bad_request' } })
    t.notMatch(res.body, /database/, 'nothing of the error reaches git')
  })

  t.test(`${transport}: HEAD, other methods and other paths as Fastify answers them`, async (t) => {
    const served = await serve(t, transport, { access: fakeAccess().access })
    const url = `${served.base}/git/credential?${query(ACCESS_TOKEN)}`
    const head = await send(url, { method: 'HEAD' })
    t.match(head, { status: 200, body: '', headers: { 'content-type': 'text/plain; charset=utf-8' } }, 'HEAD: the route, without a body')
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) t.equal((await send(url, { method })).status, 404, `${method}: no such route`)
    for (const path of ['/git/credential/', '/git/credentials', '/GIT/credential']) t.equal((await send(`${served.base}${path}?${query(ACCESS_TOKEN)}`)).status, 404, path)
  })
}

t.test('fast: the same request asked again gets the same answer while access still lets the token in, and never past the credential', async (t) => {
  const upstream = await listen(t, (_req, res) => res.end())
  const remote = fakeRemote(upstream)
  const fake = fakeAccess()
  const github = await serve(t, 'fast', { access: fake.access, remote: remote.remote })
  const url = `${github.base}/git/credential?${query(ACCESS_TOKEN, gitRequest(upstream))}`
  const first = await send(url)
  t.match(first, { status: 200, body: INSTALLATION })
  t.equal((await send(url)).body, first.body, 'asked again: the same answer')
  t.same([remote.minted.length, fake.state.checks], [1, 2], 'minted once; the access token checked both times')

  fake.state.refusal = 'revoked'
  t.match(await send(url), { status: 403, body: QUIT, headers: { 'x-takehome-refusal': 'revoked' } }, 'refused as soon as access refuses')
  fake.state.refusal = undefined
  t.match(await send(url), { status: 200, body: INSTALLATION })
  t.equal(remote.minted.length, 2, 'asked afresh after a refusal')

  const expiring = fakeRemote(upstream, { expiresAt: new Date() })
  const served = await serve(t, 'fast', { access: fakeAccess().access, remote: expiring.remote })
  const again = `${served.base}/git/credential?${query(ACCESS_TOKEN, gitRequest(upstream))}`
  await send(again)
  await send(again)
  t.equal(expiring.minted.length, 2, 'a credential at its expiry is not given again')
})

t.test('the fast path answers GET itself, with its headers, request id, rate limit and access log; the rest goes to Fastify', async (t) => {
  const served = await serve(t, 'fast', { access: fakeAccess().access, max: 3 })
  const url = `${served.base}/git/credential?${query(ACCESS_TOKEN)}`
  const fast = await send(url)
  t.equal(fast.headers['x-test-every-answer'], 'yes', 'GET: the fast path, with the headers it was given')
  t.match(fast.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'and a request id')
  const head = await send(url, { method: 'HEAD' })
  t.notOk(head.headers['x-test-every-answer'], 'HEAD: Fastify')
  const statuses = []
  for (let i = 0; i < 3; i++) statuses.push((await send(url)).status)
  t.same(statuses, [200, 200, 429], 'three GETs a window')
  t.match(await send(url), { status: 429, body: QUIT, headers: { 'x-takehome-refusal': 'rate_limited', 'cache-control': 'no-store' } })

  const access = served.lines.map((line) => JSON.parse(line) as { level: number; msg: string; reqId?: string; req?: { url: string; request_id: string }; res?: { status: number } }).filter((e) => e.msg === 'request' && e.req?.url.startsWith('/git/credential?'))
  t.same(access.map((e) => [e.level, e.res!.status]), [[20, 200], [20, 200], [20, 200], [30, 429], [30, 429]], 'one line per GET: successes at debug, refusals at info')
  t.ok(access.every((e) => e.reqId === e.req!.request_id), 'each bound to its request id')
  t.ok(access.every((e) => e.req!.url === '/git/credential?token=[redacted]'), 'the token redacted')

  const factory = serverAnsweringFirst(() => false)
  const server = factory(() => {}, { keepAliveTimeout: 1234, requestTimeout: 5678, connectionTimeout: 9012, maxRequestsPerSocket: 7 }) as http.Server
  t.match(server, { keepAliveTimeout: 1234, requestTimeout: 5678, timeout: 9012, maxRequestsPerSocket: 7 }, "Fastify's server options hold")
})

t.test('the rate limit counts per client in fixed windows, and forgets clients past its bound', async (t) => {
  let now = 0
  const allow = createWindowCounter({ max: 2, timeWindow: 1000 }, () => now)
  t.same([allow('a'), allow('a'), allow('a'), allow('b')], [true, true, false, true], 'a third request of one client is refused; another client has its own count')
  now = 999
  t.equal(allow('a'), false, 'until the window ends')
  now = 1000
  t.same([allow('a'), allow('a'), allow('a')], [true, true, false], 'a new window, a new count')
  for (let i = 0; i < 10_000; i++) allow(`client-${i}`)
  t.equal(allow('a'), true, 'memory stays bounded: past 10,000 clients in a window, counting starts again')
})
