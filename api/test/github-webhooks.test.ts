// GitHub's webhooks at POST /api/github/webhooks: signed by us here as GitHub signs them
// (HMAC-SHA256 of the raw body), shaped as GitHub documents them (fixtures/github-webhooks).
import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { type GitHost, REDELIVERY, schema } from '@takehome/core'
import { candidateMachine, createSourceRepo, git, startGitHubDouble } from '@takehome/core/testing'
import { scheduledTasks } from '@takehome/worker'
import { and, eq } from 'drizzle-orm'
import type { Logger } from 'pino'
import t, { type Test } from 'tap'
import githubWebhooks from '../src/routes/github-webhooks.ts'
import { type Built, build, expectError, invited, serve } from './helper.ts'

const SECRET = 'webhook-secret-0123456789abcdef'
const GITHUB = {
  appId: '12345',
  privateKey: generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  }).privateKey,
  webhookSecret: SECRET,
  // Nothing here may call GitHub: a port nothing listens on.
  apiUrl: 'http://127.0.0.1:9/api/v3',
}
const SHA = (c: string) => c.repeat(40)

type Payload = Record<string, unknown> & { repository?: Record<string, unknown> }
const fixture = (name: string): Payload =>
  JSON.parse(readFileSync(new URL(`./fixtures/github-webhooks/${name}.json`, import.meta.url), 'utf8')) as Payload

const sign = (body: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

/** The app on the local git host, with the webhook route as GitHub App mode registers it. */
async function setup(t: Test, rateLimit = { max: 100_000, timeWindow: 60_000 }) {
  const built = await build(t)
  await built.app.register(githubWebhooks, { services: built.services, github: GITHUB, logger: built.app.log as Logger, rateLimit })
  return built
}

function deliver(built: Built, event: string, payload: object, options: { id?: string; headers?: Record<string, string | undefined>; body?: string } = {}) {
  const body = options.body ?? JSON.stringify(payload)
  const headers: Record<string, string> = {}
  const all = {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': options.id ?? randomUUID(),
    'x-hub-signature-256': sign(body),
    ...options.headers,
  }
  for (const [name, value] of Object.entries(all)) if (value !== undefined) headers[name] = value
  return built.app.inject({ method: 'POST', url: '/api/github/webhooks', headers, payload: body })
}

/** A push as GitHub describes it; `repoId`: GitHub's id of the repository (the fixture's otherwise). */
const pushTo = (repoFullName: string, fields: { before: string; after: string; ref?: string; forced?: boolean; commits?: number; repoId?: number }) => {
  const payload = fixture('push')
  const commit = (payload['commits'] as object[])[0]!
  return {
    ...payload,
    ref: fields.ref ?? 'refs/heads/main',
    before: fields.before,
    after: fields.after,
    forced: fields.forced ?? false,
    commits: Array.from({ length: fields.commits ?? 1 }, () => commit),
    repository: { ...payload.repository, full_name: repoFullName, name: repoFullName.split('/')[1], ...(fields.repoId === undefined ? {} : { id: fields.repoId }) },
  }
}

const withRepo = (name: string, repoFullName: string): Payload => {
  const payload = fixture(name)
  return { ...payload, repository: { ...payload.repository, full_name: repoFullName } }
}

const deliveries = (built: Built) => built.db.select().from(schema.webhookDeliveries)
const audits = (built: Built, kind: string) => built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, kind))

/** An owner, a seed, an assessment, invitations for `emails`; the first one started. */
async function started(t: Test, built: Built, emails = ['ann@example.com']) {
  const source = createSourceRepo({ files: { 'README.md': '# Exercise\n' } })
  t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))
  const setup = await invited(built, source.dir, emails)
  const start = await built.app.inject({ method: 'POST', url: `/api/start/${setup.invitations[0]!.token}` })
  if (start.statusCode !== 200) throw new Error(`start failed: ${start.statusCode} ${start.body}`)
  const [repo] = await built.db.select().from(schema.candidateRepos).where(eq(schema.candidateRepos.invitationId, setup.invitations[0]!.id))
  return { ...setup, source, repo: repo! }
}

t.test('a delivery without a valid signature or GitHub headers is refused with a 4xx and changes nothing', async (t) => {
  const built = await setup(t)
  const payload = fixture('ping')
  const body = JSON.stringify(payload)

  const wrongSecret = await deliver(built, 'ping', payload, { headers: { 'x-hub-signature-256': sign(body, 'another-secret') } })
  expectError(t, wrongSecret, 401, 'webhook_signature_invalid')
  t.notMatch(wrongSecret.body, /logically awesome/, 'the payload is not echoed')
  const tampered = await deliver(built, 'ping', payload, { body: body.replace('awesome', 'AWESOME'), headers: { 'x-hub-signature-256': sign(body) } })
  expectError(t, tampered, 401, 'webhook_signature_invalid')
  expectError(t, await deliver(built, 'ping', payload, { headers: { 'x-hub-signature-256': 'sha256=nothex' } }), 401, 'webhook_signature_invalid')
  expectError(t, await deliver(built, 'ping', payload, { headers: { 'x-hub-signature-256': `sha1=${'0'.repeat(40)}` } }), 401, 'webhook_signature_invalid')

  for (const header of ['x-hub-signature-256', 'x-github-event', 'x-github-delivery']) {
    const res = await deliver(built, 'ping', payload, { headers: { [header]: undefined } })
    t.match(expectError(t, res, 400, 'webhook_headers_missing').message, new RegExp(header, 'i'), `without ${header}`)
  }
  expectError(t, await deliver(built, 'ping', payload, { id: '../../etc' }), 400, 'webhook_headers_invalid')
  expectError(t, await deliver(built, 'Ping Event', payload), 400, 'webhook_headers_invalid')

  const notJson = await deliver(built, 'ping', payload, { body: '{"zen": ' })
  expectError(t, notJson, 400, 'invalid_json')
  const unlike = await deliver(built, 'push', { ...pushTo('x/y', { before: SHA('a'), after: SHA('b') }), ref: undefined })
  t.match(expectError(t, unlike, 400, 'webhook_payload_invalid').message, /ref/)
  const form = await built.app.inject({
    method: 'POST',
    url: '/api/github/webhooks',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-github-event': 'ping', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': sign('payload=%7B%7D') },
    payload: 'payload=%7B%7D',
  })
  expectError(t, form, 415)

  t.same(await deliveries(built), [], 'no delivery was recorded')
  t.notOk(built.logLines.some((line) => line.includes(SECRET) || line.includes('logically awesome')), 'neither the secret nor a payload was logged')
})

t.test('the webhook endpoint is rate limited per client, in our error shape', async (t) => {
  const built = await setup(t, { max: 3, timeWindow: 60_000 })
  for (let i = 0; i < 3; i++) t.equal((await deliver(built, 'ping', fixture('ping'))).statusCode, 200, `delivery ${i + 1} taken`)
  const limited = await deliver(built, 'ping', fixture('ping'))
  expectError(t, limited, 429, 'rate_limited')
  t.equal((await deliveries(built)).length, 3, 'the limited delivery was not recorded')
})

t.test('an event we do not handle is recorded once and otherwise ignored', async (t) => {
  const built = await setup(t)
  const id = randomUUID()
  const first = await deliver(built, 'ping', fixture('ping'), { id })
  t.equal(first.statusCode, 200, first.body)
  t.same(first.json(), { received: true })
  t.equal((await deliver(built, 'ping', fixture('ping'), { id })).statusCode, 200, 'a redelivery is answered 200 too')
  const rows = await deliveries(built)
  t.match(rows, [{ id, event: 'ping', action: null, receivedAt: built.clock.now() }])
  t.ok(rows[0]!.processedAt, 'processed_at is set')
  t.equal((await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.actor, 'github'))).length, 0, 'nothing was applied')
})

t.test('the periodic prune forgets deliveries a week old, never ones GitHub may still redeliver', async (t) => {
  const built = await setup(t)
  const old = randomUUID()
  t.equal((await deliver(built, 'ping', fixture('ping'), { id: old })).statusCode, 200)
  built.clock.advance(8 * 24 * 3_600_000)
  const recent = randomUUID()
  t.equal((await deliver(built, 'ping', fixture('ping'), { id: recent })).statusCode, 200)
  const prune = scheduledTasks(built.services, { sweepIntervalMs: 60_000, seedSyncIntervalMs: 60_000 }).find((task) => task.name === 'outbox-prune')!
  await prune.run()
  t.same((await deliveries(built)).map((row) => row.id), [recent], 'the week-old delivery is gone, the fresh one kept')
  await built.services.githubEvents.pruneDeliveries(0)
  t.same((await deliveries(built)).map((row) => row.id), [recent], 'a shorter age still keeps the redelivery window')
})

t.test("a push to a candidate repository appears in the push ledger and in the review's commits answer, once per delivery", async (t) => {
  const built = await setup(t)
  const { owner, repo } = await started(t, built)
  const id = randomUUID()
  const push = pushTo(repo.repoFullName, { before: repo.baseSha, after: SHA('b'), commits: 2 })
  const receivedAt = built.clock.now()

  const first = await deliver(built, 'push', push, { id })
  t.equal(first.statusCode, 200, first.body)
  built.clock.advance(60_000)
  t.equal((await deliver(built, 'push', push, { id })).statusCode, 200, 'the same delivery again is answered 200')
  const ledger = await built.db.select().from(schema.pushLedger)
  t.match(ledger, [
    { orgId: repo.orgId, candidateRepoId: repo.id, deliveryId: id, ref: 'refs/heads/main', beforeSha: repo.baseSha, afterSha: SHA('b'), forced: false, commitCount: 2, receivedAt },
  ])
  t.equal(ledger.length, 1, 'one ledger row for one delivery')
  t.match(await audits(built, 'repo.pushed'), [{ orgId: repo.orgId, actor: 'github', target: repo.id, meta: { delivery_id: id, after: SHA('b') } }])
  t.equal((await audits(built, 'repo.pushed')).length, 1, 'audited once')
  t.match(await deliveries(built), [{ id, event: 'push', action: null, processedAt: receivedAt }])

  // Two copies of one delivery at the same moment: still one effect.
  const racing = randomUUID()
  const forced = pushTo(repo.repoFullName, { before: SHA('b'), after: SHA('c'), forced: true, commits: 0 })
  const answers = await Promise.all([deliver(built, 'push', forced, { id: racing }), deliver(built, 'push', forced, { id: racing })])
  t.same(answers.map((a) => a.statusCode), [200, 200])
  t.equal((await built.db.select().from(schema.pushLedger)).length, 2)

  const res = await built.app.inject({ method: 'GET', url: `/api/repos/${repo.id}/commits`, headers: owner.headers })
  t.equal(res.statusCode, 200, res.body)
  const body = res.json() as { pushes: unknown[]; html_url: unknown; compare_url: unknown }
  t.same(body.pushes, [
    { received_at: receivedAt.toISOString(), ref: 'refs/heads/main', before: repo.baseSha, after: SHA('b'), forced: false, commit_count: 2 },
    { received_at: built.clock.now().toISOString(), ref: 'refs/heads/main', before: SHA('b'), after: SHA('c'), forced: true, commit_count: 0 },
  ], 'oldest first, with when each arrived')
  t.equal(body.html_url, null, 'no GitHub page on the local git host')
  t.equal(body.compare_url, null)
})

t.test('a large push payload (over the API-wide 1 MiB body limit) is taken whole', async (t) => {
  const built = await setup(t)
  const { repo } = await started(t, built)
  const push = pushTo(repo.repoFullName, { before: repo.baseSha, after: SHA('d'), commits: 2048 })
  t.ok(JSON.stringify(push).length > 1024 * 1024, 'the body is over 1 MiB')
  const res = await deliver(built, 'push', push)
  t.equal(res.statusCode, 200, res.body)
  t.match(await built.db.select().from(schema.pushLedger), [{ commitCount: 2048 }])
})

t.test("a candidate repository with GitHub's id is known by that id: another repository given its name later is not it", async (t) => {
  const built = await setup(t)
  const { repo } = await started(t, built)
  await built.db.update(schema.candidateRepos).set({ githubRepoId: 111 }).where(eq(schema.candidateRepos.id, repo.id))

  t.equal((await deliver(built, 'push', pushTo(repo.repoFullName, { before: repo.baseSha, after: SHA('e'), repoId: 222 }))).statusCode, 200)
  t.same(await built.db.select().from(schema.pushLedger), [], "a push to a repository now holding the name is not the candidate's work")
  const archived = withRepo('repository.archived', repo.repoFullName)
  t.equal((await deliver(built, 'repository', { ...archived, repository: { ...archived.repository, id: 222 } })).statusCode, 200)
  t.match((await built.db.select().from(schema.candidateRepos).where(eq(schema.candidateRepos.id, repo.id)))[0], { archived: false }, 'nor does its archiving close ours')

  t.equal((await deliver(built, 'push', pushTo('takehome-test/renamed', { before: repo.baseSha, after: SHA('f'), repoId: 111 }))).statusCode, 200)
  t.match(await built.db.select().from(schema.pushLedger), [{ candidateRepoId: repo.id, afterSha: SHA('f') }], 'renamed on GitHub, it is still found by its id')
})

t.test('a push to a seed moves its latest SHA and the next candidate is pinned to it', async (t) => {
  const built = await setup(t)
  const { owner, seed, source, invitations } = await started(t, built, ['early@example.com', 'late@example.com'])
  const seedRepo = `seeds/${seed.id}`
  const newSha = source.commit({ 'CHANGELOG.md': 'v2\n' }, 'Seed v2')
  // What a push to the seed repository does on the host; the webhook then tells us.
  git(source.dir, 'push', '--quiet', path.join(built.dataDir, 'git', 'seeds', `${seed.id}.git`), 'main')
  built.clock.advance(5_000)

  const other = await deliver(built, 'push', pushTo(seedRepo, { before: seed.latest_main_sha, after: newSha, ref: 'refs/heads/feature' }))
  t.equal(other.statusCode, 200)
  const id = randomUUID()
  t.equal((await deliver(built, 'push', pushTo(seedRepo, { before: seed.latest_main_sha, after: newSha }), { id })).statusCode, 200)
  t.equal((await deliver(built, 'push', pushTo(seedRepo, { before: seed.latest_main_sha, after: newSha }), { id })).statusCode, 200)

  const after = (await built.app.inject({ method: 'GET', url: `/api/seeds/${seed.id}`, headers: owner.headers })).json() as { latest_main_sha: string; synced_at: string }
  t.equal(after.latest_main_sha, newSha, 'the seed follows its default branch')
  t.equal(after.synced_at, built.clock.now().toISOString())
  t.match(await audits(built, 'seed.pushed'), [{ target: seed.id, actor: 'github', meta: { from: seed.latest_main_sha, to: newSha, delivery_id: id } }])
  t.equal((await audits(built, 'seed.pushed')).length, 1, 'one move: the other branch and the repeated delivery changed nothing')
  t.equal((await built.db.select().from(schema.pushLedger)).length, 0, 'a seed push is no candidate work')

  const late = await built.app.inject({ method: 'POST', url: `/api/start/${invitations[1]!.token}` })
  t.equal(late.statusCode, 200, late.body)
  const detail = (await built.app.inject({ method: 'GET', url: `/api/invitations/${invitations[1]!.id}`, headers: owner.headers })).json() as {
    repo: { seed_sha_pinned: string; html_url: string | null }
  }
  t.equal(detail.repo.seed_sha_pinned, newSha, 'the next candidate is pinned to the pushed commit')
  t.equal(detail.repo.html_url, null)
  const early = (await built.app.inject({ method: 'GET', url: `/api/invitations/${invitations[0]!.id}`, headers: owner.headers })).json() as {
    repo: { seed_sha_pinned: string }
  }
  t.equal(early.repo.seed_sha_pinned, seed.latest_main_sha, 'a started candidate keeps their pin')
})

t.test('seed pushes delivered out of order never move the seed back: a job reads the branch instead', async (t) => {
  const built = await setup(t)
  const { owner, seed, source } = await started(t, built)
  const seedRepo = `seeds/${seed.id}`
  const bare = path.join(built.dataDir, 'git', 'seeds', `${seed.id}.git`)
  const second = source.commit({ 'B.md': 'b\n' }, 'B')
  git(source.dir, 'push', '--quiet', bare, 'main')
  const third = source.commit({ 'C.md': 'c\n' }, 'C')
  git(source.dir, 'push', '--quiet', bare, 'main')
  const latest = async () =>
    ((await built.app.inject({ method: 'GET', url: `/api/seeds/${seed.id}`, headers: owner.headers })).json() as { latest_main_sha: string }).latest_main_sha

  // The later push's webhook first: it did not start where the seed stands.
  t.equal((await deliver(built, 'push', pushTo(seedRepo, { before: second, after: third }))).statusCode, 200)
  t.equal(await latest(), seed.latest_main_sha, 'not moved by a push that does not follow on')
  t.match(await built.db.select().from(schema.outbox).where(eq(schema.outbox.kind, 'seed.follow_head')), [{ payload: { seedId: seed.id } }])
  await built.drain()
  t.equal(await latest(), third, 'the job read where the branch stands')

  t.equal((await deliver(built, 'push', pushTo(seedRepo, { before: seed.latest_main_sha, after: second }))).statusCode, 200)
  await built.drain()
  t.equal(await latest(), third, 'the earlier push, arriving last, does not move it back')
})

t.test('a seed push is taken whatever case GitHub spells the repository in (GITHUB_ORG may be spelled otherwise)', async (t) => {
  const built = await setup(t)
  const { owner, seed, source } = await started(t, built)
  const newSha = source.commit({ 'CHANGELOG.md': 'v2\n' }, 'Seed v2')
  git(source.dir, 'push', '--quiet', path.join(built.dataDir, 'git', 'seeds', `${seed.id}.git`), 'main')
  const push = pushTo(`SEEDS/${seed.id.toUpperCase()}`, { before: seed.latest_main_sha, after: newSha })
  t.equal((await deliver(built, 'push', push)).statusCode, 200)
  const after = (await built.app.inject({ method: 'GET', url: `/api/seeds/${seed.id}`, headers: owner.headers })).json() as { latest_main_sha: string }
  t.equal(after.latest_main_sha, newSha)
})

t.test('repository events keep archive state and the default branch honest', async (t) => {
  const built = await setup(t)
  const { owner, seed, repo, invitations } = await started(t, built)
  const stateOf = async () => (await built.db.select().from(schema.candidateRepos).where(eq(schema.candidateRepos.id, repo.id)))[0]!

  t.equal((await deliver(built, 'repository', withRepo('repository.archived', repo.repoFullName))).statusCode, 200)
  t.match(await stateOf(), { archived: true, archivedAt: built.clock.now() }, 'archived on GitHub: archived here')
  t.match(await audits(built, 'repo.archived'), [{ actor: 'github', target: repo.id }])
  t.equal((await deliver(built, 'repository', withRepo('repository.unarchived', repo.repoFullName))).statusCode, 200)
  t.match(await stateOf(), { archived: false, archivedAt: null }, 'unarchived while the candidate works: open again')

  const submit = await built.app.inject({ method: 'POST', url: `/api/submit/${invitations[0]!.token}` })
  t.equal(submit.statusCode, 200, submit.body)
  await built.drain()
  t.equal((await deliver(built, 'repository', withRepo('repository.unarchived', repo.repoFullName))).statusCode, 200)
  t.match(await stateOf(), { archived: true }, 'an ended invitation keeps its repository closed')
  const jobs = await built.db
    .select()
    .from(schema.outbox)
    .where(and(eq(schema.outbox.kind, 'repo.finalize'), eq(schema.outbox.status, 'pending')))
  t.match(jobs, [{ payload: { invitationId: invitations[0]!.id } }], 'a job archives it again through the git host')
  t.notOk('ending' in jobs[0]!.payload, 'without an ending: no expiry notice')
  await built.drain()
  t.match(await audits(built, 'repo.unarchived_on_github'), [{ meta: { archived_again: false } }, { meta: { archived_again: true } }])

  const seedRepo = `seeds/${seed.id}`
  t.equal((await deliver(built, 'repository', withRepo('repository.edited', seedRepo))).statusCode, 200)
  const seedAfter = (await built.app.inject({ method: 'GET', url: `/api/seeds/${seed.id}`, headers: owner.headers })).json() as { default_branch: string }
  t.equal(seedAfter.default_branch, 'trunk', "the seed's default branch follows GitHub")
  t.match(await audits(built, 'seed.default_branch_changed'), [{ target: seed.id, meta: { from: 'main', to: 'trunk' } }])
  const seedSha = async () => (await built.db.select().from(schema.seeds).where(eq(schema.seeds.id, seed.id)))[0]!.latestMainSha!
  const pinned = await seedSha()
  t.equal((await deliver(built, 'push', pushTo(seedRepo, { ref: 'refs/heads/trunk', before: pinned, after: SHA('c') }))).statusCode, 200)
  t.equal(await seedSha(), pinned, "a push to GitHub's new default branch does not move the seed: candidates start from main")

  t.equal((await deliver(built, 'repository', withRepo('repository.deleted', repo.repoFullName))).statusCode, 200)
  t.match(await audits(built, 'repo.deleted_on_github'), [{ orgId: repo.orgId, target: repo.id, actor: 'github' }])
  t.equal((await deliver(built, 'repository', withRepo('repository.archived', 'someone-else/unrelated'))).statusCode, 200, 'a repository of no one: recorded, ignored')
})

t.test('installation events record the installation, its permissions and its end', async (t) => {
  const built = await setup(t)
  const installation = async () => (await built.db.select().from(schema.githubInstallations))[0]

  t.equal((await deliver(built, 'installation', fixture('installation.created'))).statusCode, 200)
  t.match(await installation(), {
    id: 7,
    accountLogin: 'takehome-test',
    permissions: { administration: 'write', contents: 'write', metadata: 'read' },
    events: ['push', 'repository'],
    suspendedAt: null,
    deletedAt: null,
  })
  t.equal((await deliver(built, 'installation', fixture('installation.new_permissions_accepted'))).statusCode, 200)
  t.match(await installation(), { permissions: { workflows: 'write' } }, 'newly accepted permissions are recorded')
  t.equal((await deliver(built, 'installation_repositories', fixture('installation_repositories.added'))).statusCode, 200)
  t.equal((await deliver(built, 'installation', fixture('installation.deleted'))).statusCode, 200)
  t.match(await installation(), { deletedAt: built.clock.now() }, 'an uninstall is recorded')
  t.equal((await built.db.select().from(schema.githubInstallations)).length, 1)
  const kinds = (await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.actor, 'github'))).map((a) => [a.kind, a.orgId, a.target])
  t.same(kinds, [
    ['github.installation.created', null, '7'],
    ['github.installation.new_permissions_accepted', null, '7'],
    ['github.installation_repositories.added', null, '7'],
    ['github.installation.deleted', null, '7'],
  ])
  t.same((await deliveries(built)).map((d) => [d.event, d.action]), [
    ['installation', 'created'],
    ['installation', 'new_permissions_accepted'],
    ['installation_repositories', 'added'],
    ['installation', 'deleted'],
  ])
})

t.test('the redelivery task asks once for each recent delivery that failed and was never recorded, a bounded number per run', async (t) => {
  const built = await setup(t)
  const now = built.clock.now()
  let nextId = 1
  const attempts: Array<{ id: number; guid: string; event: string; action: string | null; statusCode: number; deliveredAt: Date; redelivery: boolean }> = []
  const attempt = (guid: string, statusCode: number, redelivery = false) =>
    attempts.unshift({ id: nextId++, guid, event: 'push', action: null, statusCode, deliveredAt: now, redelivery })
  const failed = Array.from({ length: REDELIVERY.maxPerRun + 5 }, () => randomUUID())
  for (const guid of failed) attempt(guid, 502)
  const redelivered = randomUUID()
  attempt(redelivered, 0)
  attempt(redelivered, 500, true)
  const recovered = randomUUID()
  attempt(recovered, 500)
  attempt(recovered, 200, true)
  attempt(randomUUID(), 200)
  // Applied, but GitHub never saw our answer (it gives up after ten seconds).
  const recorded = randomUUID()
  attempt(recorded, 0)
  t.equal((await deliver(built, 'ping', fixture('ping'), { id: recorded })).statusCode, 200)

  const asked: number[] = []
  const since: Date[] = []
  const services = await built.replica((deps) => ({
    ...deps,
    webhookDeliveries: {
      async listSince(from) {
        since.push(from)
        return attempts.filter((a) => a.deliveredAt >= from)
      },
      async redeliver(id) {
        asked.push(id)
        const earlier = attempts.find((a) => a.id === id)!
        attempt(earlier.guid, 502, true)
      },
    },
  }))
  const task = scheduledTasks(services, { sweepIntervalMs: 60_000, seedSyncIntervalMs: 3_600_000 }).find((s) => s.name === 'webhook-redelivery')
  t.ok(task, 'scheduled when the delivery log is configured')
  t.notOk(scheduledTasks(built.services, { sweepIntervalMs: 60_000, seedSyncIntervalMs: 3_600_000 }).some((s) => s.name === 'webhook-redelivery'), 'and only then')

  t.match(await task!.run(), { redelivered: REDELIVERY.maxPerRun, errors: 0 })
  t.same(since, [new Date(now.getTime() - REDELIVERY.windowMs)], 'looks back over the window')
  t.match(await task!.run(), { redelivered: 5 }, 'the rest on the next run')
  t.match(await task!.run(), { redelivered: 0 }, 'each failed delivery is asked for once')
  const guids = asked.map((id) => attempts.find((a) => a.id === id)!.guid)
  t.same([...guids].sort(), [...failed].sort(), 'only deliveries whose every attempt failed and that we never recorded')
})

// GitHub App mode: the app on the GitHub host against the loopback double, listening on a
// real port, with the double's webhooks pointed at it.
async function githubMode(t: Test) {
  const double = await startGitHubDouble()
  t.teardown(() => double.close())
  const built = await serve(t, { github: double.config })
  double.setWebhookUrl(`${built.base}/api/github/webhooks`)
  const remote = (built.gitHost as GitHost).remote!
  const redelivery = scheduledTasks(built.services, { sweepIntervalMs: 60_000, seedSyncIntervalMs: 3_600_000 }).find((s) => s.name === 'webhook-redelivery')
  return { double, built, remote, redelivery: redelivery! }
}

t.test('GitHub mode, end to end: a candidate pushes with git, the push webhook lands in the ledger; a push to the seed pins the next candidate', async (t) => {
  const { double, built, remote } = await githubMode(t)
  const source = createSourceRepo({ files: { 'README.md': '# Exercise\n', 'src/app.js': 'export const answer = 0\n' } })
  t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))
  const { owner, seed, invitations } = await invited(built, source.dir, ['early@example.com', 'late@example.com'])
  const start = await built.app.inject({ method: 'POST', url: `/api/start/${invitations[0]!.token}` })
  t.equal(start.statusCode, 200)
  const gitInfo = (start.json() as { git: { clone_command: string; clone_url: string } }).git
  const [repo] = await built.db.select().from(schema.candidateRepos).where(eq(schema.candidateRepos.invitationId, invitations[0]!.id))
  t.match(repo!.repoFullName, new RegExp(`^${double.org}/`), 'the candidate repository is on GitHub')

  // The candidate's own git, through the gateway, with the exact command the API gave.
  const ann = candidateMachine()
  t.equal((await ann.shell(gitInfo.clone_command)).code, 0)
  const work = path.join(ann.home, path.basename(gitInfo.clone_url, '.git'))
  await ann.shell(`printf 'export const answer = 42\\n' > src/app.js && git commit -qam 'Answer' && printf 'n\\n' > NOTES.md && git add NOTES.md && git commit -qm 'Notes'`, work)
  const pushed = await ann.git(work, ['push', 'origin', 'main'])
  t.equal(pushed.code, 0, pushed.stderr)
  const pushedSha = (await ann.git(work, ['rev-parse', 'HEAD'])).stdout.trim()
  await double.webhooksSettled()

  const ledger = await built.db.select().from(schema.pushLedger).where(eq(schema.pushLedger.afterSha, pushedSha))
  t.match(ledger, [{ candidateRepoId: repo!.id, ref: 'refs/heads/main', beforeSha: repo!.baseSha, forced: false, commitCount: 2 }], 'the push is in the ledger')
  const delivery = double.deliveries().find((d) => d.guid === ledger[0]!.deliveryId)
  t.match(delivery, { event: 'push', statusCode: 200 }, 'GitHub saw a 2xx')
  const commits = (await built.app.inject({ method: 'GET', url: `/api/repos/${repo!.id}/commits`, headers: owner.headers })).json() as {
    pushes: Array<{ after: string; commit_count: number }>
    html_url: string
    compare_url: string
  }
  t.match(commits.pushes.at(-1), { after: pushedSha, commit_count: 2 })
  t.equal(commits.html_url, `${double.webUrl}/${repo!.repoFullName}`, "the repository's GitHub page")
  t.equal(commits.compare_url, remote.compareUrl(repo!.repoFullName, repo!.baseSha, pushedSha))
  t.notOk(commits.html_url.includes('github.com'))
  const detail = (await built.app.inject({ method: 'GET', url: `/api/invitations/${invitations[0]!.id}`, headers: owner.headers })).json() as { repo: { html_url: string } }
  t.equal(detail.repo.html_url, commits.html_url, 'the invitation shows the GitHub URL too')

  // The same delivery again, as GitHub redelivers it: answered 2xx, nothing changes.
  const rows = (await built.db.select().from(schema.pushLedger)).length
  await (built.gitHost as unknown as { deliveries: { redeliver(id: number): Promise<void> } }).deliveries.redeliver(delivery!.id)
  await double.webhooksSettled()
  t.match(double.deliveries().filter((d) => d.guid === delivery!.guid), [{ redelivery: false }, { redelivery: true, statusCode: 200 }])
  t.equal((await built.db.select().from(schema.pushLedger)).length, rows, 'no second ledger row')
  const refused = await fetch(`${built.base}/api/github/webhooks`, { method: 'POST' })
  t.equal(refused.status, 400, 'a request without GitHub headers is refused over the wire too')

  // Someone pushes to the seed repository on GitHub.
  const [seedRow] = await built.db.select().from(schema.seeds).where(eq(schema.seeds.id, seed.id))
  const newSha = source.commit({ 'CHANGELOG.md': 'v2\n' }, 'Seed v2')
  const credential = await remote.repoCredential(seedRow!.seedRepoFullName, { workflows: false })
  const seedUrl = new URL(remote.cloneUrl(seedRow!.seedRepoFullName))
  seedUrl.username = credential.username
  seedUrl.password = credential.password
  // Asynchronously: the double answers from this same process.
  const seedPush = await candidateMachine().git(source.dir, ['push', '--quiet', seedUrl.href, 'main'])
  t.equal(seedPush.code, 0, seedPush.stderr)
  await double.webhooksSettled()
  const seedNow = (await built.app.inject({ method: 'GET', url: `/api/seeds/${seed.id}`, headers: owner.headers })).json() as { latest_main_sha: string }
  t.equal(seedNow.latest_main_sha, newSha, "the seed's latest SHA follows the push")

  const late = await built.app.inject({ method: 'POST', url: `/api/start/${invitations[1]!.token}` })
  t.equal(late.statusCode, 200)
  const [lateRepo] = await built.db.select().from(schema.candidateRepos).where(eq(schema.candidateRepos.invitationId, invitations[1]!.id))
  t.equal(lateRepo!.seedShaPinned, newSha, 'the next candidate is pinned to it')
  t.equal(git(double.repo(lateRepo!.repoFullName)!.dir, 'rev-parse', 'main^{tree}'), git(source.dir, 'rev-parse', `${newSha}^{tree}`), 'and gets its tree')

  // The installation changes on GitHub.
  double.setInstallation({ permissions: { administration: 'write', contents: 'write', metadata: 'read', workflows: 'write' } })
  await double.webhooksSettled()
  t.match(await built.db.select().from(schema.githubInstallations), [{ id: double.installationId, permissions: { workflows: 'write' }, deletedAt: null }])
  t.same(
    double.deliveries().filter((d) => d.statusCode !== 200).map((d) => [d.event, d.action, d.statusCode]),
    [],
    `every webhook GitHub sent (${[...new Set(double.deliveries().map((d) => d.event))].join(', ')}) was taken`,
  )
  t.equal((await deliveries(built)).length, new Set(double.deliveries().map((d) => d.guid)).size, 'and recorded, once each')
})

t.test('GitHub mode: a delivery that failed while we were unreachable is redelivered by the scheduled task, once', async (t) => {
  const { double, built, redelivery } = await githubMode(t)
  const { repo } = await started(t, built)
  await double.webhooksSettled()
  const push = pushTo(repo.repoFullName, { before: repo.baseSha, after: SHA('e'), commits: 3, repoId: repo.githubRepoId! })

  double.setWebhookUrl('http://127.0.0.1:9/api/github/webhooks')
  const lost = await double.sendWebhook('push', push)
  t.equal(lost.status, 0, 'GitHub could not reach us')
  const lostPing = await double.sendWebhook('ping', fixture('ping'))
  double.setWebhookUrl(`${built.base}/api/github/webhooks`)
  t.equal((await built.db.select().from(schema.pushLedger).where(eq(schema.pushLedger.afterSha, SHA('e')))).length, 0)

  t.ok(redelivery, 'the task is scheduled in GitHub App mode')
  t.match(await redelivery.run(), { redelivered: 2, errors: 0 })
  await double.webhooksSettled()
  t.match(await built.db.select().from(schema.pushLedger).where(eq(schema.pushLedger.afterSha, SHA('e'))), [{ deliveryId: lost.guid, commitCount: 3 }])
  t.match(double.deliveries().filter((d) => d.guid === lost.guid), [{ statusCode: 0, redelivery: false }, { statusCode: 200, redelivery: true }])
  t.ok(double.deliveries().some((d) => d.guid === lostPing.guid && d.redelivery && d.statusCode === 200), 'any event, not only those we act on')

  const requests = () => double.requests().filter((r) => r.method === 'POST' && /\/app\/hook\/deliveries\/\d+\/attempts$/.test(r.path)).length
  const asked = requests()
  t.match(await redelivery.run(), { redelivered: 0 }, 'nothing left to ask for')
  t.equal(requests(), asked, 'no further redelivery requests')
})
