import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { schema } from '@takehome/core'
import { createSourceRepo, git } from '@takehome/core/testing'
import { eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { type Built, build, expectError, member, rowCounts, signup } from './helper.ts'

type Headers = Record<string, string>
interface SeedBody {
  id: string
  source_url: string
  default_branch: string
  source_default_branch: string
  latest_main_sha: string | null
  synced_at: string | null
  created_at: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000'

const seedsDir = (built: Built) => path.join(built.dataDir, 'git', 'seeds')
const seedRepo = (built: Built, id: string) => path.join(seedsDir(built), `${id}.git`)
/** What is on disk under git/seeds: nothing at all counts as empty. */
const seedEntries = (built: Built) => (existsSync(seedsDir(built)) ? readdirSync(seedsDir(built)).sort() : [])

/** A source repository that is removed when the test ends. */
function source(t: Test, options: Parameters<typeof createSourceRepo>[0] = {}) {
  const repo = createSourceRepo(options)
  t.teardown(() => rmSync(repo.dir, { recursive: true, force: true }))
  return repo
}

function tempDir(t: Test) {
  const dir = mkdtempSync(path.join(tmpdir(), 'takehome-seed-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function createSeed(built: Built, headers: Headers, sourceUrl: string) {
  const res = await built.app.inject({ method: 'POST', url: '/api/seeds', headers, payload: { source_url: sourceUrl } })
  if (res.statusCode !== 201) throw new Error(`seed create failed: ${res.statusCode} ${res.body}`)
  return res.json() as SeedBody
}

t.test('an owner mirrors a local path into a bare seed repo whose main is the source HEAD', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const src = source(t)
  const res = await built.app.inject({
    method: 'POST',
    url: '/api/seeds',
    headers: owner.headers,
    payload: { source_url: src.dir },
  })
  t.equal(res.statusCode, 201)
  const seed = res.json() as SeedBody
  t.match(seed.id, UUID)
  t.same(
    { ...seed, id: undefined, created_at: undefined },
    {
      id: undefined,
      source_url: src.dir,
      default_branch: 'main',
      source_default_branch: 'main',
      latest_main_sha: src.firstSha,
      synced_at: built.clock.now().toISOString(),
      created_at: undefined,
    },
  )
  t.ok(!Number.isNaN(Date.parse(seed.created_at)), 'created_at is a timestamp')

  const bare = seedRepo(built, seed.id)
  t.equal(git(bare, 'rev-parse', '--is-bare-repository'), 'true')
  t.equal(git(bare, 'rev-parse', 'refs/heads/main'), src.firstSha)
  t.equal(git(bare, 'symbolic-ref', 'HEAD'), 'refs/heads/main')
  t.equal(git(bare, 'for-each-ref', '--format=%(refname)'), 'refs/heads/main', 'only main, no tags or other branches')
  t.same(seedEntries(built), [`${seed.id}.git`], 'no staging directory left behind')

  const [row] = await built.db.select().from(schema.seeds).where(eq(schema.seeds.id, seed.id))
  t.equal(row?.orgId, owner.org.id)
  t.equal(row?.seedRepoFullName, `seeds/${seed.id}`)
  const audit = await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'seed.created'))
  t.equal(audit.length, 1)
  t.equal(audit[0]?.target, seed.id)
})

t.test('a file:// source whose default branch is trunk is followed into main', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const src = source(t, { branch: 'trunk' })
  const head = src.commit({ 'src/second.js': 'console.log(2)\n' }, 'Second commit')
  git(src.dir, 'branch', 'feature')
  const seed = await createSeed(built, owner.headers, `file://${src.dir}`)
  t.equal(seed.source_url, `file://${src.dir}`)
  t.equal(seed.default_branch, 'main')
  t.equal(seed.source_default_branch, 'trunk')
  t.equal(seed.latest_main_sha, head)
  t.not(head, src.firstSha)
  const bare = seedRepo(built, seed.id)
  t.equal(git(bare, 'rev-parse', 'refs/heads/main'), head)
  t.equal(git(bare, 'for-each-ref', '--format=%(refname)'), 'refs/heads/main', 'trunk and feature are not copied as such')
  t.equal(git(bare, 'rev-list', '--count', 'main'), '2', 'the whole history came along')
})

t.test('list and get show the org its own seeds only', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const other = await signup(built)
  const first = await createSeed(built, owner.headers, source(t).dir)
  const second = await createSeed(built, owner.headers, source(t).dir)
  const theirs = await createSeed(built, other.headers, source(t).dir)

  const list = await built.app.inject({ method: 'GET', url: '/api/seeds', headers: owner.headers })
  t.equal(list.statusCode, 200)
  t.same(list.json(), { seeds: [second, first] }, 'newest first, exactly as created')

  const get = await built.app.inject({ method: 'GET', url: `/api/seeds/${first.id}`, headers: owner.headers })
  t.equal(get.statusCode, 200)
  t.same(get.json(), first)

  const theirList = await built.app.inject({ method: 'GET', url: '/api/seeds', headers: other.headers })
  t.same(
    (theirList.json() as { seeds: SeedBody[] }).seeds.map((s) => s.id),
    [theirs.id],
  )

  const anonymous = await built.app.inject({ method: 'GET', url: '/api/seeds' })
  expectError(t, anonymous, 401, 'unauthenticated')
})

t.test('sync moves main to the source default branch head', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const src = source(t)
  const seed = await createSeed(built, owner.headers, src.dir)
  const bare = seedRepo(built, seed.id)

  const unchanged = await built.app.inject({ method: 'POST', url: `/api/seeds/${seed.id}/sync`, headers: owner.headers })
  t.equal(unchanged.statusCode, 200)
  t.equal(unchanged.json().latest_main_sha, src.firstSha, 'nothing new: same sha')

  const next = src.commit({ 'README.md': '# Exercise, v2\n' }, 'Update the exercise')
  built.clock.advance(3_600_000)
  const res = await built.app.inject({ method: 'POST', url: `/api/seeds/${seed.id}/sync`, headers: owner.headers })
  t.equal(res.statusCode, 200)
  t.match(res.json(), {
    id: seed.id,
    latest_main_sha: next,
    source_default_branch: 'main',
    default_branch: 'main',
    synced_at: built.clock.now().toISOString(),
    created_at: seed.created_at,
  })
  t.equal(git(bare, 'rev-parse', 'refs/heads/main'), next)
  const get = await built.app.inject({ method: 'GET', url: `/api/seeds/${seed.id}`, headers: owner.headers })
  t.equal(get.json().latest_main_sha, next)

  const audit = await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'seed.synced'))
  t.same(
    audit.map((a) => a.meta),
    [
      { from: src.firstSha, to: src.firstSha },
      { from: src.firstSha, to: next },
    ],
  )

  // The source changes its default branch: the seed's main follows it.
  git(src.dir, 'checkout', '--quiet', '-b', 'develop')
  const onDevelop = src.commit({ 'DEVELOP.md': 'new default\n' }, 'On develop')
  const moved = await built.app.inject({ method: 'POST', url: `/api/seeds/${seed.id}/sync`, headers: owner.headers })
  t.equal(moved.statusCode, 200)
  t.equal(moved.json().source_default_branch, 'develop')
  t.equal(moved.json().latest_main_sha, onDevelop)
  t.equal(git(bare, 'rev-parse', 'refs/heads/main'), onDevelop)
})

t.test('a sync that cannot read the source, or names another source, changes nothing', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const src = source(t)
  const seed = await createSeed(built, owner.headers, src.dir)
  const before = await rowCounts(built)

  const mismatch = await built.app.inject({
    method: 'POST',
    url: `/api/seeds/${seed.id}/sync`,
    headers: owner.headers,
    payload: { source_url: source(t).dir },
  })
  expectError(t, mismatch, 422, 'seed_source_mismatch')

  rmSync(src.dir, { recursive: true, force: true })
  const gone = await built.app.inject({ method: 'POST', url: `/api/seeds/${seed.id}/sync`, headers: owner.headers })
  const error = expectError(t, gone, 422, 'seed_source_unreachable')
  t.equal(error.message, 'the source repository could not be read', 'one message, not what git said')
  t.same(error.details, { reason: 'not_found' })

  t.same(await rowCounts(built), before, 'nothing was written')
  const get = await built.app.inject({ method: 'GET', url: `/api/seeds/${seed.id}`, headers: owner.headers })
  t.same(get.json(), seed, 'the seed is as it was')
  t.equal(git(seedRepo(built, seed.id), 'rev-parse', 'refs/heads/main'), src.firstSha)
})

t.test('an unreachable source is refused without echoing its credentials or leaving anything behind', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const before = await rowCounts(built)
  const res = await built.app.inject({
    method: 'POST',
    url: '/api/seeds',
    headers: owner.headers,
    payload: { source_url: 'https://user:s3cret@127.0.0.1:9/x.git' },
  })
  const error = expectError(t, res, 422, 'seed_source_unreachable')
  t.notMatch(error.message, /s3cret/)
  t.notMatch(res.body, /s3cret/, 'nowhere in the response')
  t.notMatch(built.logLines.join(''), /s3cret/, 'nowhere in the logs')
  t.same(await rowCounts(built), before, 'no seed row')
  t.same(seedEntries(built), [], 'no directory under git/seeds')
})

t.test('sources that would run commands or pass options to git are refused', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const dir = tempDir(t)
  const pwned = path.join(dir, 'pwned')
  const before = await rowCounts(built)

  const ext = await built.app.inject({
    method: 'POST',
    url: '/api/seeds',
    headers: owner.headers,
    payload: { source_url: `ext::sh -c touch% ${pwned}` },
  })
  expectError(t, ext, 422, 'seed_source_unreachable')
  t.notOk(existsSync(pwned), 'the ext:: command did not run')

  for (const sourceUrl of [`--upload-pack=touch ${pwned}`, '-c', '--help']) {
    const res = await built.app.inject({
      method: 'POST',
      url: '/api/seeds',
      headers: owner.headers,
      payload: { source_url: sourceUrl },
    })
    t.test(sourceUrl, async (t) => void expectError(t, res, 422, 'seed_source_invalid'))
  }
  t.notOk(existsSync(pwned), 'no option smuggled in a command')
  t.same(await rowCounts(built), before, 'nothing was written')
  t.same(seedEntries(built), [], 'no directory under git/seeds')
})

t.test('an empty or non-git source is refused', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const empty = tempDir(t)
  git(empty, 'init', '--quiet')
  const plain = tempDir(t)
  const before = await rowCounts(built)
  const cases: Array<[string, string, string]> = [
    ['empty repository', empty, 'seed_source_empty'],
    ['empty repository via file://', `file://${empty}`, 'seed_source_empty'],
    ['a directory that is not a repository', plain, 'seed_source_unreachable'],
    ['a path that does not exist', path.join(plain, 'missing'), 'seed_source_unreachable'],
  ]
  for (const [name, sourceUrl, code] of cases) {
    const res = await built.app.inject({
      method: 'POST',
      url: '/api/seeds',
      headers: owner.headers,
      payload: { source_url: sourceUrl },
    })
    t.test(name, async (t) => void expectError(t, res, 422, code))
  }
  t.same(await rowCounts(built), before, 'nothing was written')
  t.same(seedEntries(built), [], 'no directory under git/seeds')
})

t.test('bad bodies and ids are refused with 400/404 and write nothing', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const seed = await createSeed(built, owner.headers, source(t).dir)
  const before = await rowCounts(built)

  const bodies: Array<[string, unknown]> = [
    ['missing source_url', {}],
    ['number', { source_url: 42 }],
    ['null', { source_url: null }],
    ['array', { source_url: ['/tmp/x'] }],
    ['blank', { source_url: '   ' }],
    ['too long', { source_url: `/${'a'.repeat(2001)}` }],
  ]
  for (const [name, payload] of bodies) {
    const res = await built.app.inject({ method: 'POST', url: '/api/seeds', headers: owner.headers, payload: payload as object })
    t.test(name, async (t) => {
      const error = expectError(t, res, 400, 'validation_failed')
      t.match(error.message, /source_url/, 'the message names the field')
    })
  }
  const notAnObject = await built.app.inject({ method: 'POST', url: '/api/seeds', headers: owner.headers, payload: [] as unknown as object })
  t.match(expectError(t, notAnObject, 400, 'validation_failed').message, /^body: /, 'a body of the wrong type is named as the body')
  const malformed = await built.app.inject({
    method: 'POST',
    url: '/api/seeds',
    headers: { ...owner.headers, 'content-type': 'application/json' },
    payload: '{"source_url": ',
  })
  expectError(t, malformed, 400, 'invalid_json')
  const syncBadBody = await built.app.inject({
    method: 'POST',
    url: `/api/seeds/${seed.id}/sync`,
    headers: owner.headers,
    payload: { source_url: 42 },
  })
  expectError(t, syncBadBody, 400, 'validation_failed')

  for (const url of [`/api/seeds/${UNKNOWN_ID}`, `/api/seeds/${UNKNOWN_ID}/sync`]) {
    const res = await built.app.inject({ method: url.endsWith('sync') ? 'POST' : 'GET', url, headers: owner.headers })
    t.test(`unknown id: ${url}`, async (t) => void expectError(t, res, 404, 'seed_not_found'))
  }
  for (const url of ['/api/seeds/not-a-uuid', '/api/seeds/not-a-uuid/sync', `/api/seeds/${seed.id}x`]) {
    const res = await built.app.inject({ method: url.endsWith('sync') ? 'POST' : 'GET', url, headers: owner.headers })
    t.test(`malformed id: ${url}`, async (t) => {
      const error = expectError(t, res, 400, 'validation_failed')
      t.match(error.message, /id/)
    })
  }
  t.same(await rowCounts(built), before, 'nothing was written')
  t.same(seedEntries(built), [`${seed.id}.git`], 'no other directory under git/seeds')
})

t.test("another org's seed is not found, for reading and for syncing", async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const src = source(t)
  const seed = await createSeed(built, owner.headers, src.dir)
  const stranger = await signup(built)
  src.commit({ 'NEW.md': 'x\n' }, 'New')
  const before = await rowCounts(built)

  const res = await built.app.inject({
    method: 'GET',
    url: `/api/seeds/${seed.id}`,
    headers: stranger.headers,
  })
  expectError(t, res, 404, 'seed_not_found')
  const sync = await built.app.inject({ method: 'POST', url: `/api/seeds/${seed.id}/sync`, headers: stranger.headers })
  expectError(t, sync, 404, 'seed_not_found')
  t.same(await rowCounts(built), before, 'nothing was written')
  t.equal(git(seedRepo(built, seed.id), 'rev-parse', 'refs/heads/main'), src.firstSha, 'the seed was not synced')
})

t.test('viewers and reviewers can list and read seeds but not create or sync them', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const src = source(t)
  const seed = await createSeed(built, owner.headers, src.dir)
  const admin = await member(built, owner, 'admin')
  const viewer = await member(built, owner, 'viewer')
  const reviewer = await member(built, owner, 'reviewer')
  src.commit({ 'NEW.md': 'x\n' }, 'New')
  const before = await rowCounts(built)

  for (const [role, who] of [['viewer', viewer], ['reviewer', reviewer]] as const) {
    await t.test(role, async (t) => {
      const list = await built.app.inject({ method: 'GET', url: '/api/seeds', headers: who.headers })
      t.equal(list.statusCode, 200)
      t.same(list.json(), { seeds: [seed] })
      const get = await built.app.inject({ method: 'GET', url: `/api/seeds/${seed.id}`, headers: who.headers })
      t.same(get.json(), seed)
      const create = await built.app.inject({
        method: 'POST',
        url: '/api/seeds',
        headers: who.headers,
        payload: { source_url: src.dir },
      })
      expectError(t, create, 403, 'forbidden')
      const sync = await built.app.inject({ method: 'POST', url: `/api/seeds/${seed.id}/sync`, headers: who.headers })
      expectError(t, sync, 403, 'forbidden')
    })
  }
  t.same(await rowCounts(built), before, 'nothing was written')
  t.same(seedEntries(built), [`${seed.id}.git`], 'no mirror was made')
  t.equal(git(seedRepo(built, seed.id), 'rev-parse', 'refs/heads/main'), src.firstSha, 'the seed was not synced')

  const byAdmin = await built.app.inject({ method: 'POST', url: `/api/seeds/${seed.id}/sync`, headers: admin.headers })
  t.equal(byAdmin.statusCode, 200, 'an admin may sync')
  t.not(byAdmin.json().latest_main_sha, src.firstSha)
})

t.test('credentials in a source URL are used for the fetch and never stored', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const src = source(t)
  const withCredentials = `file://user:pw-s3cret@${src.dir}`
  const seed = await createSeed(built, owner.headers, withCredentials)
  t.equal(seed.source_url, `file://${src.dir}`)
  t.equal(seed.latest_main_sha, src.firstSha)

  const [row] = await built.db.select().from(schema.seeds).where(eq(schema.seeds.id, seed.id))
  t.equal(row?.sourceRepoUrl, `file://${src.dir}`)
  const audit = await built.db.select().from(schema.auditEvents)
  t.notMatch(JSON.stringify(audit), /s3cret/, 'not in the audit trail')
  t.notMatch(built.logLines.join(''), /s3cret/, 'not in the logs')

  // A private source is synced by passing the credentialed URL again; without it the stored URL is used.
  const next = src.commit({ 'NEW.md': 'x\n' }, 'New')
  const again = await built.app.inject({
    method: 'POST',
    url: `/api/seeds/${seed.id}/sync`,
    headers: owner.headers,
    payload: { source_url: withCredentials },
  })
  t.equal(again.statusCode, 200)
  t.equal(again.json().latest_main_sha, next)
  t.equal(again.json().source_url, `file://${src.dir}`)
  const plain = await built.app.inject({ method: 'POST', url: `/api/seeds/${seed.id}/sync`, headers: owner.headers })
  t.equal(plain.statusCode, 200)
})

t.test("a source inside the server's own git root is refused, however it is spelled", async (t) => {
  const built = await build(t)
  const victim = await signup(built)
  const theirs = await createSeed(built, victim.headers, source(t).dir)
  const attacker = await signup(built)
  const repo = seedRepo(built, theirs.id)
  const link = path.join(tempDir(t), 'innocent')
  symlinkSync(seedsDir(built), link)
  const before = await rowCounts(built)

  const spellings = [
    repo,
    `${repo}/`,
    repo.replace(/\.git$/, ''),
    `${seedsDir(built)}/../seeds/${theirs.id}.git`,
    `file://${repo}`,
    `file://localhost${repo}`,
    `file://user:pw@${repo}`,
    `file://${repo.replaceAll('-', '%2D')}`,
    path.join(link, `${theirs.id}.git`),
    path.join(built.dataDir, 'git'),
  ]
  for (const sourceUrl of spellings) {
    const res = await built.app.inject({
      method: 'POST',
      url: '/api/seeds',
      headers: attacker.headers,
      payload: { source_url: sourceUrl },
    })
    t.test(sourceUrl, async (t) => void expectError(t, res, 422, 'seed_source_invalid'))
  }
  const noPath = await built.app.inject({
    method: 'POST',
    url: '/api/seeds',
    headers: attacker.headers,
    payload: { source_url: 'file://host-only' },
  })
  expectError(t, noPath, 422, 'seed_source_invalid')

  t.same(await rowCounts(built), before, 'nothing was written')
  t.same(seedEntries(built), [`${theirs.id}.git`], 'no copy was made')
  const list = await built.app.inject({ method: 'GET', url: '/api/seeds', headers: attacker.headers })
  t.same(list.json(), { seeds: [] })
})
