// The credential broker in the real app, over both of its transports: inject() reaches the
// Fastify route through every plugin; a real socket reaches the fast path, which answers
// GET before Fastify. What the plugins give every answer must hold on both: the security
// headers, x-request-id, the rate limit per client (and TRUST_PROXY), the quiet access log.
import { once } from 'node:events'
import http from 'node:http'
import { rmSync } from 'node:fs'
import { createSourceRepo } from '@takehome/core/testing'
import t, { type Test } from 'tap'
import { clientAddressKey, signClientAddress } from '../src/plugins/app/client-address.ts'
import { SECURITY_HEADERS } from '../src/plugins/external/security-headers.ts'
import { type BuildOptions, invited, serve } from './helper.ts'

type Transport = 'inject' | 'socket'
const TRANSPORTS: Transport[] = ['inject', 'socket']
const key = clientAddressKey('test-session-secret-0123456789abcdef0123')

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A started candidate on an app listening on loopback, and how to ask its broker either way. */
async function broker(t: Test, transport: Transport, options: BuildOptions = {}) {
  const source = createSourceRepo()
  t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))
  const built = await serve(t, options)
  const { owner, invitations } = await invited(built, source.dir, ['ada@example.com'])
  const started = (await built.app.inject({ method: 'POST', url: `/api/start/${invitations[0]!.token}` })).json() as { complete_deadline: string; git: { credential_url: string } }
  const accessToken = new URL(started.git.credential_url).searchParams.get('token')!

  /** GET /git/credential with `query`, from `client` (a loopback address: Linux routes all of 127.0.0.0/8 to lo). */
  async function ask(query: string, { client = '127.0.0.1', headers = {} }: { client?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const url = `/git/credential?${query}`
    if (transport === 'inject') {
      const res = await built.app.inject({ method: 'GET', url, remoteAddress: client, headers })
      return { status: res.statusCode, headers: res.headers as Answer['headers'], body: res.body }
    }
    const req = http.request(`${built.base}${url}`, { localAddress: client, headers, agent: false })
    req.end()
    const [res] = (await once(req, 'response')) as [http.IncomingMessage]
    const chunks: Buffer[] = []
    for await (const chunk of res) chunks.push(chunk as Buffer)
    return { status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }
  }
  return { built, owner, invitation: invitations[0]!, started, accessToken, ask, token: (token = accessToken) => new URLSearchParams({ token }).toString() }
}

/** The access log's lines for the broker: level, status and the remote address it names. */
function accessLines(logLines: string[]) {
  return logLines
    .map((line) => JSON.parse(line) as { level: number; msg?: string; reqId?: string; req?: { url?: string; remote?: string; request_id?: string }; res?: { status: number } })
    .filter((entry) => entry.msg === 'request' && entry.req?.url?.startsWith('/git/credential'))
}

for (const transport of TRANSPORTS) {
  t.test(`${transport}: every answer carries the security headers, its request id and no-store; the access log stays quiet on success`, async (t) => {
    const { built, accessToken, ask, token } = await broker(t, transport)
    const answers: Array<[string, Answer, number]> = [
      ['a credential', await ask(token()), 200],
      ['a refused token', await ask(token(`${accessToken.slice(0, -1)}x`)), 403],
      ['a malformed query', await ask(''), 400],
      ['another host', await ask(`${token()}&request=${encodeURIComponent('protocol=https\nhost=github.com\n')}`), 403],
    ]
    const ids = new Set<string>()
    for (const [what, res, status] of answers) {
      t.equal(res.status, status, `${what}: ${status}`)
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) t.equal(res.headers[name], value, `${what}: ${name}`)
      t.equal(res.headers['cache-control'], 'no-store', `${what}: no-store`)
      t.equal(res.headers['content-type'], 'text/plain; charset=utf-8', `${what}: text`)
      t.match(res.headers['x-request-id'], /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, `${what}: a request id`)
      ids.add(String(res.headers['x-request-id']))
    }
    t.equal(ids.size, answers.length, 'a request id of its own each')
    t.match(answers[0]![1].body, `password=${accessToken}\n`)

    const lines = accessLines(built.logLines)
    t.same(lines.map((l) => [l.level, l.res!.status]), [[20, 200], [30, 403], [30, 400], [30, 403]], 'one access line each: successes at debug, refusals at info')
    t.same(lines.map((l) => l.req!.request_id), answers.map(([, res]) => res.headers['x-request-id']), 'naming the request id the answer carried')
    t.ok(lines.every((l) => l.reqId === l.req!.request_id && l.req!.remote === '127.0.0.1'), 'bound to it, with the caller')
    for (const line of built.logLines) t.notMatch(line, accessToken, 'no token in any log line')
  })

  t.test(`${transport}: the same request asked again is checked again: refused at once after a revoke, and past the deadline`, async (t) => {
    const gateway = `${new URLSearchParams({ request: 'protocol=http\nhost=' })}`
    const first = await broker(t, transport)
    const query = `${first.token()}&${gateway}${encodeURIComponent(new URL(first.built.base).host)}`
    const given = await first.ask(query)
    t.equal(given.status, 200)
    t.same((await first.ask(query)).body, given.body, 'asked again: the same credential')
    const revoke = await first.built.app.inject({ method: 'POST', url: `/api/invitations/${first.invitation.id}/revoke`, headers: first.owner.headers })
    t.equal(revoke.statusCode, 200)
    const afterRevoke = await first.ask(query)
    t.same([afterRevoke.status, afterRevoke.headers['x-takehome-refusal'], afterRevoke.body], [403, 'revoked', 'quit=1\n'], 'the next ask after the revoke is refused')

    const second = await broker(t, transport)
    const again = `${second.token()}&${gateway}${encodeURIComponent(new URL(second.built.base).host)}`
    t.equal((await second.ask(again)).status, 200)
    second.built.clock.set(new Date(new Date(second.started.complete_deadline).getTime() + 1000))
    const late = await second.ask(again)
    t.same([late.status, late.headers['x-takehome-refusal']], [403, 'deadline_passed'], 'one second past the deadline, the same ask is refused')
  })

  t.test(`${transport}: the rate limit counts per client, as every public route counts`, async (t) => {
    const { ask, token } = await broker(t, transport, { rateLimits: { credential: { max: 3, timeWindow: 60_000 } } })
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await ask(token(), { client: '127.0.0.2' })).status)
    t.same(statuses, [200, 200, 200, 429])
    t.match(await ask(token(), { client: '127.0.0.2' }), { status: 429, body: 'quit=1\n', headers: { 'x-takehome-refusal': 'rate_limited' } }, 'git still reads quit=1')
    t.equal((await ask(token(), { client: '127.0.0.3' })).status, 200, 'another client has a count of its own')
    const signed = await ask(token(), { client: '127.0.0.2', headers: signClientAddress(key, '198.51.100.9') })
    t.equal(signed.status, 200, 'an address the web signed counts as its own client')
    const forged = await ask(token(), { client: '127.0.0.2', headers: signClientAddress(clientAddressKey('another-secret-0123456789abcdef0123456'), '198.51.100.10') })
    t.equal(forged.status, 429, 'a forged one is the socket')
  })

  t.test(`${transport}: TRUST_PROXY=1: the last hop is the client, counted and logged`, async (t) => {
    const { built, ask, token } = await broker(t, transport, { trustProxy: 1, rateLimits: { credential: { max: 3, timeWindow: 60_000 } } })
    const statuses = []
    for (const spoofed of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) {
      statuses.push((await ask(token(), { headers: { 'x-forwarded-for': `${spoofed}, 198.51.100.20` } })).status)
    }
    t.same(statuses, [200, 200, 200, 429], 'a new leftmost entry every time buys no new count')
    t.equal((await ask(token(), { headers: { 'x-forwarded-for': '10.0.0.1, 198.51.100.21' } })).status, 200, 'another last hop is another client')
    t.same(
      accessLines(built.logLines).map((l) => l.req!.remote),
      ['198.51.100.20', '198.51.100.20', '198.51.100.20', '198.51.100.20', '198.51.100.21'],
      'the access log names the last hop',
    )
  })
}

t.test('the broker is still in the API docs', async (t) => {
  const { built } = await broker(t, 'inject')
  const docs = await built.app.inject({ method: 'GET', url: '/docs/json' })
  const paths = (docs.json() as { paths: Record<string, { get?: { tags?: string[] } }> }).paths
  t.same(paths['/git/credential']?.get?.tags, ['git'])
})
