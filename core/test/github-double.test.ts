import { createHmac, generateKeyPairSync, type KeyObject, sign, timingSafeEqual } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { createAppAuth } from '@octokit/auth-app'
import { Octokit } from '@octokit/rest'
import t, { type Test } from 'tap'
import { candidateMachine } from '../testing/git.ts'
import { type GitHubDouble, startGitHubDouble } from '../testing/index.ts'

/** Octokit logs every 4xx; here they are what is being tested. */
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

async function setup(t: Test, options: Parameters<typeof startGitHubDouble>[0] = {}) {
  const double = await startGitHubDouble(options)
  t.teardown(() => double.close())
  const app = new Octokit({
    baseUrl: double.apiUrl,
    log: quiet,
    authStrategy: createAppAuth,
    auth: { appId: double.appId, privateKey: double.privateKey },
  })
  /** An installation token, as the host adapter would mint one. */
  const mint = async (body: { repositories?: string[]; permissions?: Record<string, string> } = {}) => {
    const { data } = await app.rest.apps.createInstallationAccessToken({ installation_id: double.installationId, ...body } as never)
    return data
  }
  const asToken = (token: string) => new Octokit({ baseUrl: double.apiUrl, auth: token, log: quiet })
  const admin = asToken((await mint()).token)
  return { double, app, mint, asToken, admin }
}

/** The HTTP status an Octokit call failed with (or 200-ish when it did not fail). */
async function statusOf(call: Promise<{ status: number }>): Promise<{ status: number; message?: string; headers?: Record<string, string> }> {
  try {
    return { status: (await call).status }
  } catch (err) {
    const e = err as { status: number; message: string; response?: { headers: Record<string, string>; data: { message: string } } }
    return { status: e.status, message: e.response?.data.message ?? e.message, headers: e.response?.headers }
  }
}

function signJwt(payload: object, key: KeyObject | string) {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part(payload)}`
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), key).toString('base64url')}`
}

const cloneUrl = (double: GitHubDouble, repo: string, token: string) => `${double.webUrl.replace('http://', `http://x-access-token:${token}@`)}/${double.org}/${repo}.git`

/** Clones `repo` with `token`, commits `files` and pushes to main; answers the push's git run. */
async function pushFiles(double: GitHubDouble, repo: string, token: string, files: Record<string, string>) {
  const machine = candidateMachine()
  const clone = await machine.git(machine.home, ['clone', '--quiet', cloneUrl(double, repo, token), 'work'])
  if (clone.code !== 0) return clone
  const dir = path.join(machine.home, 'work')
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    writeFileSync(path.join(dir, name), content)
  }
  await machine.git(dir, ['add', '--all'])
  await machine.git(dir, ['commit', '--quiet', '-m', 'Work'])
  return machine.git(dir, ['push', 'origin', 'HEAD:main'])
}

t.test('app JWTs are checked against the app key, issuer and lifetime', async (t) => {
  const { double, app } = await setup(t)
  const { data } = await app.rest.apps.getAuthenticated()
  t.equal(String(data?.id), double.appId)
  t.match(double.privateKey, /^-----BEGIN RSA PRIVATE KEY-----\n/)
  const installation = await app.rest.apps.getOrgInstallation({ org: double.org })
  t.equal(installation.data.id, double.installationId)

  const now = Math.floor(Date.now() / 1000)
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  const cases = {
    'another key': signJwt({ iss: double.appId, iat: now - 30, exp: now + 500 }, other),
    expired: signJwt({ iss: double.appId, iat: now - 1000, exp: now - 400 }, double.privateKey),
    'living too long': signJwt({ iss: double.appId, iat: now - 30, exp: now + 3600 }, double.privateKey),
    'another app': signJwt({ iss: Number(double.appId) + 1, iat: now - 30, exp: now + 500 }, double.privateKey),
    garbage: 'not-a-jwt',
  }
  for (const [name, jwt] of Object.entries(cases)) {
    const response = await fetch(`${double.apiUrl}/app`, { headers: { authorization: `Bearer ${jwt}` } })
    t.equal(response.status, 401, `a JWT signed with ${name} is refused`)
    const body = (await response.json()) as { message: string; documentation_url: string }
    t.type(body.message, 'string')
    t.match(body.documentation_url, /^https:\/\/docs\.github\.com\//)
  }
  const numericIss = signJwt({ iss: Number(double.appId), iat: now - 30, exp: now + 570 }, double.privateKey)
  t.equal((await fetch(`${double.apiUrl}/app`, { headers: { authorization: `Bearer ${numericIss}` } })).status, 200, 'iss may be a number')
  const token = (await fetch(`${double.apiUrl}/app`, { headers: { authorization: 'token ghs_nope' } })).status
  t.equal(token, 401, 'an installation token is no JWT')
})

t.test('installation tokens are limited to their repositories and permissions', async (t) => {
  const { double, mint, asToken, admin } = await setup(t)
  const created = await admin.rest.repos.createInOrg({ org: double.org, name: 'alpha', private: true, auto_init: true })
  t.equal(created.status, 201)
  t.match(created.data, { name: 'alpha', full_name: `${double.org}/alpha`, private: true, default_branch: 'main', archived: false, visibility: 'private' })
  t.equal(created.data.clone_url, `${double.webUrl}/${double.org}/alpha.git`)
  await admin.rest.repos.createInOrg({ org: double.org, name: 'beta', private: true })

  const scoped = await mint({ repositories: ['alpha'], permissions: { contents: 'write' } })
  t.match(scoped.token, /^ghs_[A-Za-z0-9]+$/)
  t.same(scoped.permissions, { contents: 'write', metadata: 'read' }, 'metadata comes with every token')
  t.equal(scoped.repository_selection, 'selected')
  const lifetime = Date.parse(scoped.expires_at) - Date.now()
  t.ok(lifetime > 3_500_000 && lifetime <= 3_600_000, 'it lives an hour')
  const lengths = new Set(await Promise.all(Array.from({ length: 8 }, async () => (await mint()).token.length)))
  t.ok(lengths.size > 1, 'token lengths vary')

  const octokit = asToken(scoped.token)
  t.equal((await octokit.rest.repos.get({ owner: double.org, repo: 'alpha' })).status, 200)
  t.equal((await statusOf(octokit.rest.repos.get({ owner: double.org, repo: 'beta' }))).status, 404, 'a private repository outside the token does not exist for it')
  t.equal((await statusOf(octokit.rest.repos.update({ owner: double.org, repo: 'alpha', description: 'x' }))).status, 403, 'no administration permission')
  t.equal((await statusOf(octokit.rest.repos.createInOrg({ org: double.org, name: 'gamma' }))).status, 403)

  const main = await octokit.rest.git.getRef({ owner: double.org, repo: 'alpha', ref: 'heads/main' })
  const commit = await octokit.rest.git.getCommit({ owner: double.org, repo: 'alpha', commit_sha: main.data.object.sha })
  t.match(commit.data.tree.sha, /^[0-9a-f]{40}$/)
  t.equal((await octokit.rest.repos.getBranch({ owner: double.org, repo: 'alpha', branch: 'main' })).data.commit.sha, main.data.object.sha)
  t.equal((await statusOf(octokit.rest.git.getRef({ owner: double.org, repo: 'alpha', ref: 'heads/nope' }))).status, 404)
  const empty = await statusOf(admin.rest.git.getRef({ owner: double.org, repo: 'beta', ref: 'heads/main' }))
  t.same(empty, { status: 409, message: 'Git Repository is empty.', headers: empty.headers }, 'an empty repository has no refs to get, as on GitHub')

  const refused = await statusOf(mint({ permissions: { checks: 'write' } }) as never)
  t.same([refused.status, refused.message], [422, 'The permissions requested are not granted to this installation.'])
  t.equal((await statusOf(mint({ repositories: ['nope'] }) as never)).status, 422, 'a repository that does not exist')
  const taken = await statusOf(admin.rest.repos.createInOrg({ org: double.org, name: 'Alpha' }))
  t.equal(taken.status, 422, 'names are case-insensitive')

  t.match(double.tokens().at(-3), { repositories: 'all' })
  t.ok(double.tokens().some((tok) => Array.isArray(tok.repositories) && tok.repositories[0] === `${double.org}/alpha`))
  const rest = double.requests().find((r) => r.path === `/api/v3/repos/${double.org}/beta`)
  t.same(rest, { method: 'GET', path: `/api/v3/repos/${double.org}/beta`, status: 404 })
})

t.test('REST answers carry rate-limit headers and a request id', async (t) => {
  const { double } = await setup(t)
  const response = await fetch(`${double.apiUrl}/repos/${double.org}/nothing`)
  t.equal(response.status, 404)
  for (const name of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-used', 'x-ratelimit-resource', 'x-github-request-id']) {
    t.ok(response.headers.get(name), name)
  }
  const big = await fetch(`${double.apiUrl}/orgs/${double.org}/repos`, { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024), headers: { authorization: 'token nope' } })
  t.equal(big.status, 401, 'credentials are checked before the body is read')
})

t.test('git over smart HTTP with installation tokens; revoking a token kills it at once', async (t) => {
  const { double, mint, asToken, admin } = await setup(t)
  await admin.rest.repos.createInOrg({ org: double.org, name: 'work', private: true, auto_init: true })
  await admin.rest.repos.createInOrg({ org: double.org, name: 'other', private: true, auto_init: true })
  const { token } = await mint({ repositories: ['work'], permissions: { contents: 'write' } })

  const pushed = await pushFiles(double, 'work', token, { 'src/a.js': 'a\n' })
  t.equal(pushed.code, 0, 'a push with the token is accepted')
  const machine = candidateMachine()
  const anonymous = await machine.git(machine.home, ['clone', `${double.webUrl}/${double.org}/work.git`, 'anon'])
  t.not(anonymous.code, 0, 'a private repository needs credentials')
  const outside = await machine.git(machine.home, ['clone', cloneUrl(double, 'other', token), 'other'])
  t.not(outside.code, 0)
  t.match(outside.stderr, /Repository not found/)

  const reader = await mint({ repositories: ['work'], permissions: { contents: 'read' } })
  const readOnly = await pushFiles(double, 'work', reader.token, { 'b.txt': 'b\n' })
  t.not(readOnly.code, 0, 'contents: read cannot push')
  t.match(readOnly.stderr, /Permission to .* denied/)

  await asToken(token).rest.apps.revokeInstallationAccessToken()
  t.equal((await statusOf(asToken(token).rest.repos.get({ owner: double.org, repo: 'work' }))).status, 401, 'REST refuses it')
  const dead = await machine.git(machine.home, ['clone', cloneUrl(double, 'work', token), 'dead'])
  t.not(dead.code, 0, 'git refuses it')
  t.ok(double.tokens().find((tok) => tok.revoked))
})

t.test('archived repositories refuse pushes and every PATCH but unarchiving', async (t) => {
  const { double, mint, admin } = await setup(t)
  await admin.rest.repos.createInOrg({ org: double.org, name: 'done', private: true, auto_init: true })
  const { token } = await mint({ repositories: ['done'], permissions: { contents: 'write' } })
  await admin.rest.repos.update({ owner: double.org, repo: 'done', archived: true })
  t.equal(double.repo(`${double.org}/done`)?.archived, true)

  const push = await pushFiles(double, 'done', token, { 'late.txt': 'late\n' })
  t.not(push.code, 0)
  t.match(push.stderr, /This repository was archived so it is read-only/)
  const again = await statusOf(admin.rest.repos.update({ owner: double.org, repo: 'done', archived: true }))
  t.same([again.status, again.message], [403, 'Repository was archived so is read-only.'])
  t.equal((await admin.rest.repos.update({ owner: double.org, repo: 'done', archived: false })).data.archived, false)
})

t.test('a push changing .github/workflows needs workflows: write', async (t) => {
  const { double, mint, admin } = await setup(t)
  await admin.rest.repos.createInOrg({ org: double.org, name: 'ci', private: true, auto_init: true })
  const without = await mint({ repositories: ['ci'], permissions: { contents: 'write' } })
  const refused = await pushFiles(double, 'ci', without.token, { '.github/workflows/ci.yml': 'on: push\n' })
  t.not(refused.code, 0)
  t.match(refused.stderr, 'refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` without `workflows` permission')
  const plain = await pushFiles(double, 'ci', without.token, { 'src/x.js': 'x\n' })
  t.equal(plain.code, 0, 'other paths are fine')

  const withWorkflows = await mint({ repositories: ['ci'], permissions: { contents: 'write', workflows: 'write' } })
  const allowed = await pushFiles(double, 'ci', withWorkflows.token, { '.github/workflows/ci.yml': 'on: push\n' })
  t.equal(allowed.code, 0, 'with workflows: write it goes through')
})

t.test('faults: a 502 after the work, and a secondary rate limit', async (t) => {
  const { double, admin } = await setup(t)
  double.failNext({ method: 'POST', path: /\/orgs\/[^/]+\/repos$/ }, { kind: 'status', status: 502, afterHandling: true })
  t.equal((await statusOf(admin.rest.repos.createInOrg({ org: double.org, name: 'once', private: true }))).status, 502)
  t.ok(double.repo(`${double.org}/once`), 'the repository was made anyway')
  const retry = await statusOf(admin.rest.repos.createInOrg({ org: double.org, name: 'once', private: true }))
  t.same([retry.status, retry.message], [422, 'Repository creation failed.'])
  t.equal(double.repos().length, 1)

  double.failNext({ method: 'POST', path: /^\/orgs\/[^/]+\/repos$/ }, { kind: 'secondary-rate-limit', retryAfterSeconds: 7 }, 2)
  for (let i = 0; i < 2; i++) {
    const limited = await statusOf(admin.rest.repos.createInOrg({ org: double.org, name: 'later', private: true }))
    t.equal(limited.status, 403)
    t.equal(limited.headers?.['retry-after'], '7')
    t.match(limited.message, /secondary rate limit/)
  }
  t.notOk(double.repo(`${double.org}/later`), 'nothing was made')
  t.equal((await admin.rest.repos.createInOrg({ org: double.org, name: 'later', private: true })).status, 201, 'the fault is used up')
})

/** A webhook receiver answering `status`, keeping what it got. */
async function receiver(t: Test, status = 200) {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(receiverState.status).end()
    })
  })
  const receiverState = { status }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received, state: receiverState }
}

const validSignature = (secret: string, body: string, header: string | string[] | undefined) => {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`)
  return typeof header === 'string' && header.length === expected.length && timingSafeEqual(Buffer.from(header), expected)
}

t.test('signed webhooks for repository creation and pushes', async (t) => {
  const hooks = await receiver(t)
  const { double, mint, admin } = await setup(t, { webhookUrl: hooks.url })
  await admin.rest.repos.createInOrg({ org: double.org, name: 'hooked', private: true, auto_init: true })
  const { token } = await mint({ repositories: ['hooked'], permissions: { contents: 'write' } })
  const before = double.repo(`${double.org}/hooked`)!
  const pushed = await pushFiles(double, 'hooked', token, { 'a.txt': 'a\n' })
  t.equal(pushed.code, 0)
  await double.webhooksSettled()

  t.equal(hooks.received.length, 2)
  for (const { headers, body } of hooks.received) {
    t.ok(validSignature(double.webhookSecret, body, headers['x-hub-signature-256']), 'signed with the webhook secret')
    t.match(headers['x-github-delivery'], /^[0-9a-f-]{36}$/)
    t.match(headers['user-agent'], /^GitHub-Hookshot\//)
    t.equal(headers['x-github-hook-installation-target-id'], double.appId)
  }
  const [created, push] = hooks.received.map((r) => ({ event: r.headers['x-github-event'], payload: JSON.parse(r.body) }))
  t.match(created, { event: 'repository', payload: { action: 'created', repository: { id: before.id, full_name: `${double.org}/hooked` }, installation: { id: double.installationId } } })
  t.match(push, {
    event: 'push',
    payload: {
      ref: 'refs/heads/main',
      before: /^[0-9a-f]{40}$/,
      after: /^[0-9a-f]{40}$/,
      forced: false,
      created: false,
      deleted: false,
      commits: [{ message: 'Work', added: ['a.txt'], author: { name: 'Candidate', email: 'candidate@example.com' }, distinct: true }],
      head_commit: { message: 'Work' },
      repository: { id: before.id, private: true, default_branch: 'main' },
      installation: { id: double.installationId },
      sender: { login: `${double.appSlug}[bot]` },
    },
  })
  t.not(push!.payload.before, push!.payload.after)
  t.same(
    double.deliveries().map((d) => [d.event, d.action, d.statusCode, d.redelivery]),
    [
      ['repository', 'created', 200, false],
      ['push', null, 200, false],
    ],
  )
})

t.test('deliveries are listed newest first with cursor pages, and redelivered', async (t) => {
  const hooks = await receiver(t, 500)
  const { double, app } = await setup(t, { webhookUrl: hooks.url })
  for (let i = 0; i < 5; i++) await double.sendWebhook('ping', { zen: `ping ${i}`, hook_id: 1 })
  double.setWebhookUrl('http://127.0.0.1:1/nothing-listens')
  t.equal((await double.sendWebhook('ping', { zen: 'lost' })).status, 0, 'an unreachable receiver is recorded as status 0')

  const pages = []
  for await (const page of app.paginate.iterator('GET /app/hook/deliveries', { per_page: 2 })) pages.push(page.data)
  t.equal(pages.length, 3, 'cursor pages of two')
  const listed = pages.flat()
  t.equal(listed.length, 6)
  t.same(listed.map((d) => d.id), [...listed.map((d) => d.id)].sort((a, b) => Number(b) - Number(a)), 'newest first')
  t.match(listed[0], { status_code: 0, status: 'failed to connect to host', redelivery: false })
  t.match(listed[1], { status_code: 500, event: 'ping' })

  double.setWebhookUrl(hooks.url)
  hooks.state.status = 202
  const failed = listed[1]!
  t.equal((await app.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: Number(failed.id) })).status, 202)
  await double.webhooksSettled()
  const last = hooks.received.at(-1)!
  t.equal(last.headers['x-github-delivery'], failed.guid, 'a redelivery keeps the guid')
  t.match(double.deliveries().at(-1), { guid: failed.guid, statusCode: 202, redelivery: true })
  t.equal((await statusOf(app.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: 1 }))).status, 404)
})

t.test('manifest codes convert once', async (t) => {
  const { double } = await setup(t)
  const code = double.manifestCode({ name: 'Takehome Hiring', default_permissions: { contents: 'write' }, default_events: ['push'] })
  const response = await fetch(`${double.apiUrl}/app-manifests/${code}/conversions`, { method: 'POST' })
  t.equal(response.status, 201)
  const app = (await response.json()) as Record<string, unknown>
  t.match(app, { slug: 'takehome-hiring', pem: /^-----BEGIN RSA PRIVATE KEY-----/, webhook_secret: String, client_secret: String, owner: { login: double.org }, permissions: { contents: 'write' }, events: ['push'] })
  t.equal((await fetch(`${double.apiUrl}/app-manifests/${code}/conversions`, { method: 'POST' })).status, 404, 'a code is good once')
})

t.test('push webhooks tell created, forced and deleted refs apart', async (t) => {
  const hooks = await receiver(t)
  const { double, mint, admin } = await setup(t, { webhookUrl: hooks.url })
  await admin.rest.repos.createInOrg({ org: double.org, name: 'refs', private: true, auto_init: true })
  const { token } = await mint({ repositories: ['refs'] })
  const machine = candidateMachine()
  await machine.git(machine.home, ['clone', '--quiet', cloneUrl(double, 'refs', token), 'refs'])
  const dir = path.join(machine.home, 'refs')
  writeFileSync(path.join(dir, 'f.txt'), 'f\n')
  await machine.git(dir, ['add', 'f.txt'])
  await machine.git(dir, ['commit', '--quiet', '-m', 'On a branch'])
  t.equal((await machine.git(dir, ['push', '--quiet', 'origin', 'HEAD:feature'])).code, 0)
  await machine.git(dir, ['commit', '--quiet', '--amend', '-m', 'Rewritten'])
  t.equal((await machine.git(dir, ['push', '--quiet', '--force', 'origin', 'HEAD:feature'])).code, 0)
  t.equal((await machine.git(dir, ['push', '--quiet', 'origin', ':feature'])).code, 0)
  await double.webhooksSettled()

  const pushes = hooks.received.filter((r) => r.headers['x-github-event'] === 'push').map((r) => JSON.parse(r.body))
  t.match(pushes, [
    { ref: 'refs/heads/feature', created: true, forced: false, deleted: false, commits: [{ message: 'On a branch' }] },
    { ref: 'refs/heads/feature', created: false, forced: true, deleted: false, head_commit: { message: 'Rewritten' } },
    { ref: 'refs/heads/feature', created: false, deleted: true, after: '0000000000000000000000000000000000000000', commits: [], head_commit: null },
  ])
  t.equal(pushes[0].commits.length, 1, 'a new branch lists only the commits no other branch has')
  t.equal(pushes[1].before, pushes[0].after)
})

t.test('public repositories are readable by anyone; private ones by nobody outside', async (t) => {
  const { double, asToken, mint } = await setup(t)
  await double.createRepo('someone/open-source', { private: false, autoInit: true })
  await double.createRepo('someone/secret', { private: true, autoInit: true })
  const machine = candidateMachine()
  const anonymous = await machine.git(machine.home, ['clone', '--quiet', `${double.webUrl}/someone/open-source`, 'open'])
  t.equal(anonymous.code, 0, 'a public repository clones without credentials, .git or not')
  const anonymousRest = await fetch(`${double.apiUrl}/repos/someone/open-source`)
  t.equal(anonymousRest.status, 200)
  t.equal((await fetch(`${double.apiUrl}/repos/someone/secret`)).status, 404)
  const octokit = asToken((await mint()).token)
  t.equal((await statusOf(octokit.rest.repos.get({ owner: 'someone', repo: 'secret' }))).status, 404, 'outside the installation')
  const noWrite = await statusOf(octokit.rest.repos.update({ owner: 'someone', repo: 'open-source', description: 'mine now' }))
  t.same([noWrite.status, noWrite.headers?.['x-accepted-github-permissions']], [403, 'administration=write'])
})

t.test('tokens expire, and installation changes reach tokens and webhooks', async (t) => {
  const hooks = await receiver(t)
  const { double, app, mint, asToken } = await setup(t, { webhookUrl: hooks.url, tokenLifetimeMs: 0 })
  const expired = await mint()
  t.ok(Date.parse(expired.expires_at) <= Date.now())
  t.equal((await statusOf(asToken(expired.token).rest.apps.listReposAccessibleToInstallation())).status, 401, 'an expired token is refused')

  double.setInstallation({ installed: false })
  t.equal((await statusOf(app.rest.apps.getOrgInstallation({ org: double.org }))).status, 404, 'not installed')
  t.equal((await statusOf(mint() as never)).status, 404)
  double.setInstallation({ installed: true, permissions: { contents: 'read', metadata: 'read' } })
  t.same((await app.rest.apps.getOrgInstallation({ org: double.org })).data.permissions, { contents: 'read', metadata: 'read' })
  t.equal((await statusOf(mint({ permissions: { contents: 'write' } }) as never)).status, 422, 'a permission the installation lost')
  await double.webhooksSettled()
  t.same(
    hooks.received.map((r) => [r.headers['x-github-event'], JSON.parse(r.body).action]),
    [
      ['installation', 'deleted'],
      ['installation', 'created'],
      ['installation', 'new_permissions_accepted'],
    ],
  )
})

t.test('a token GitHub does not know yet, scripted; delivery details', async (t) => {
  const hooks = await receiver(t)
  const { double, app, admin } = await setup(t, { webhookUrl: hooks.url })
  double.failNext({ method: 'GET', path: /\/repos\/[^/]+\/[^/]+$/ }, { kind: 'status', status: 401 })
  await admin.rest.repos.createInOrg({ org: double.org, name: 'fresh', private: true })
  const first = await statusOf(admin.rest.repos.get({ owner: double.org, repo: 'fresh' }))
  t.same([first.status, first.message], [401, 'Bad credentials'])
  t.equal((await admin.rest.repos.get({ owner: double.org, repo: 'fresh' })).status, 200, 'then it is')
  await double.webhooksSettled()

  const [delivery] = double.deliveries()
  const { data } = await app.request('GET /app/hook/deliveries/{delivery_id}', { delivery_id: delivery!.id })
  t.match(data, { guid: delivery!.guid, event: 'repository', action: 'created', status_code: 200, url: hooks.url, request: { payload: { action: 'created' } } })
  t.match(double.requests().filter((r) => r.path.endsWith('/repos/takehome-test/fresh')), [{ method: 'GET', status: 401 }, { method: 'GET', status: 200 }])
})
