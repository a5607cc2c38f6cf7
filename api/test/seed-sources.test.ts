// Where seeds may come from (ALLOW_LOCAL_SEEDS, ALLOW_PRIVATE_SEED_HOSTS), and what an owner
// learns when a source cannot be read: one message and a reason, never git's own words.
// Every server here listens on loopback; nothing leaves this machine.
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createSourceRepo, git } from '@takehome/core/testing'
import t, { type Test } from 'tap'
import { startDirectGitServer } from '../../bench/git-cgi.ts'
import { type Built, build, expectError, rowCounts, signup } from './helper.ts'

const STRICT = { localSeeds: 'refused', allowPrivateHosts: false } as const

const post = (built: Built, headers: Record<string, string>, sourceUrl: string) =>
  built.app.inject({ method: 'POST', url: '/api/seeds', headers, payload: { source_url: sourceUrl } })

function source(t: Test) {
  const repo = createSourceRepo()
  t.teardown(() => rmSync(repo.dir, { recursive: true, force: true }))
  return repo
}

function tempDir(t: Test) {
  const dir = mkdtempSync(path.join(tmpdir(), 'takehome-seed-sources-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A loopback http server that answers every request with `handle` and counts them. */
async function httpServer(t: Test, handle: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const hits: string[] = []
  const srv = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`)
    handle(req, res)
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  t.teardown(() => {
    srv.closeAllConnections()
    return new Promise((resolve) => srv.close(resolve))
  })
  return { port: (srv.address() as AddressInfo).port, hits }
}

/** A source repository served by `git http-backend` on loopback, as `<base>/source.git`. */
async function servedSource(t: Test) {
  const src = source(t)
  const root = tempDir(t)
  git(root, 'clone', '--quiet', '--bare', src.dir, 'source.git')
  const served = await startDirectGitServer(root)
  t.teardown(() => served.close())
  return { ...src, url: `${served.base}/source.git` }
}

t.test('local paths are refused unless ALLOW_LOCAL_SEEDS allows them', async (t) => {
  const built = await build(t, { seedSources: STRICT })
  const owner = await signup(built)
  const src = source(t)
  const before = await rowCounts(built)
  for (const sourceUrl of [src.dir, `file://${src.dir}`]) {
    const error = expectError(t, await post(built, owner.headers, sourceUrl), 422, 'seed_source_not_allowed')
    t.match(error.message, /ALLOW_LOCAL_SEEDS/, 'the message names the setting')
  }
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test('services built without a seed policy are strict; the test services allow every source', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const src = source(t)
  const unconfigured = await built.replica((deps) => ({ ...deps, seedSources: undefined }))
  const actor = { userId: owner.user.id, orgId: owner.org.id, role: 'owner', via: 'session' } as const
  await t.rejects(unconfigured.seeds.create(actor, { sourceUrl: src.dir }), { code: 'seed_source_not_allowed' }, 'a local path is refused')
  await t.rejects(unconfigured.seeds.create(actor, { sourceUrl: 'http://127.0.0.1:9/repo.git' }), { code: 'seed_source_not_allowed' }, 'so is loopback')
  t.equal((await post(built, owner.headers, src.dir)).statusCode, 201, 'the test services pass a permissive policy')
})

t.test("first-org: the instance's first org may use local paths, later orgs may not", async (t) => {
  const built = await build(t, { seedSources: { localSeeds: 'first-org', allowPrivateHosts: false } })
  const first = await signup(built)
  const later = await signup(built)
  const src = source(t)
  t.equal((await post(built, first.headers, src.dir)).statusCode, 201, 'the first org mirrors a local path')
  const error = expectError(t, await post(built, later.headers, src.dir), 422, 'seed_source_not_allowed')
  t.match(error.message, /first organisation[^]*ALLOW_LOCAL_SEEDS/)
})

t.test('loopback and private hosts are refused before any request, however they are spelled', async (t) => {
  const built = await build(t, { seedSources: STRICT })
  const owner = await signup(built)
  const target = await httpServer(t, (_req, res) => res.writeHead(404).end())
  const before = await rowCounts(built)
  const spellings = [
    `http://127.0.0.1:${target.port}/repo.git`,
    `http://localhost:${target.port}/repo.git`,
    `http://0x7f.0.0.1:${target.port}/repo.git`,
    `http://2130706433:${target.port}/repo.git`,
    `http://017700000001:${target.port}/repo.git`,
    `http://127.1:${target.port}/repo.git`,
    `http://[::ffff:127.0.0.1]:${target.port}/repo.git`,
    `http://[::1]:${target.port}/repo.git`,
    `https://user:pw@10.0.0.1/repo.git`,
    'http://169.254.169.254/latest/meta-data',
    'http://0.0.0.0/repo.git',
  ]
  for (const sourceUrl of spellings) {
    const res = await post(built, owner.headers, sourceUrl)
    t.test(sourceUrl, async (t) => {
      const error = expectError(t, res, 422, 'seed_source_not_allowed')
      t.match(error.message, /ALLOW_PRIVATE_SEED_HOSTS/)
    })
  }
  for (const sourceUrl of [`ssh://git@127.0.0.1:${target.port}/repo.git`, `git://127.0.0.1:${target.port}/repo.git`, 'git@127.0.0.1:repo.git']) {
    const res = await post(built, owner.headers, sourceUrl)
    t.test(`${sourceUrl}: its address cannot be pinned`, async (t) => void expectError(t, res, 422, 'seed_source_not_allowed'))
  }
  t.same(target.hits, [], 'the loopback server was never asked')
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test('with private hosts allowed, an http source is mirrored through our own redirect handling', async (t) => {
  const built = await build(t, { seedSources: { localSeeds: 'refused', allowPrivateHosts: true } })
  const owner = await signup(built)
  const served = await servedSource(t)
  const redirector = await httpServer(t, (req, res) => {
    res.writeHead(301, { location: `${served.url}${(req.url ?? '').replace(/^\/moved\.git/, '')}` }).end()
  })

  const direct = await post(built, owner.headers, served.url)
  t.equal(direct.statusCode, 201, direct.body)
  t.equal(direct.json().latest_main_sha, served.firstSha)

  const moved = await post(built, owner.headers, `http://127.0.0.1:${redirector.port}/moved.git`)
  t.equal(moved.statusCode, 201, moved.body)
  t.equal(moved.json().latest_main_sha, served.firstSha)
  t.same(redirector.hits, ['GET /moved.git/info/refs?service=git-upload-pack'], 'only our preflight met the redirect: git went to the final URL')
  t.equal(moved.json().source_url, `http://127.0.0.1:${redirector.port}/moved.git`, 'the seed keeps the URL it was given')
})

t.test('a source that cannot be read gives one message and a reason, never what git said', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const plain = tempDir(t)
  const missing = path.join(plain, 'no-such-repo')
  const http404 = await httpServer(t, (_req, res) => res.writeHead(404).end('internal detail'))
  const http401 = await httpServer(t, (_req, res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end())
  const before = await rowCounts(built)
  const cases: Array<[string, string, string]> = [
    ['a path that does not exist', missing, 'not_found'],
    ['a directory that is not a repository', plain, 'not_a_repository'],
    ['an http source that is not there', `http://127.0.0.1:${http404.port}/x.git`, 'not_found'],
    ['an http source that wants credentials', `http://127.0.0.1:${http401.port}/x.git`, 'auth_required'],
    ['nothing listening', 'http://127.0.0.1:9/x.git', 'unreachable'],
  ]
  for (const [name, sourceUrl, reason] of cases) {
    const res = await post(built, owner.headers, sourceUrl)
    t.test(name, async (t) => {
      const error = expectError(t, res, 422, 'seed_source_unreachable')
      t.equal(error.message, 'the source repository could not be read')
      t.same(error.details, { reason })
      t.notMatch(res.body, /fatal|does not appear|internal detail|no-such-repo/, 'nothing git or the source printed')
    })
  }
  t.same(await rowCounts(built), before, 'nothing was written')
})

/** pkt-line framing of git's wire protocol. */
const pkt = (data: string | Buffer) => {
  const body = typeof data === 'string' ? Buffer.from(data) : data
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0')), body])
}

t.test('a source that floods git with progress text is cut off at the stderr cap', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const sha = 'a'.repeat(40)
  let flooded = 0
  // Just enough of smart HTTP: refs with side-band, then endless "remote:" text on band 2.
  const fake = await httpServer(t, (req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' })
      res.end(
        Buffer.concat([
          pkt('# service=git-upload-pack\n'),
          Buffer.from('0000'),
          pkt(`${sha} HEAD\0side-band-64k symref=HEAD:refs/heads/main\n`),
          pkt(`${sha} refs/heads/main\n`),
          Buffer.from('0000'),
        ]),
      )
      return
    }
    req.resume()
    res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-result' })
    res.write(pkt('NAK\n'))
    const line = pkt(Buffer.concat([Buffer.from([2]), Buffer.from(`${'flood '.repeat(1000)}\n`)]))
    const more = () => {
      // Bounded, so a broken cap fails the test instead of hanging it.
      while (flooded < 64 * 1024 * 1024 && !res.destroyed) {
        flooded += line.length
        if (!res.write(line)) return void res.once('drain', more)
      }
      res.end()
    }
    more()
  })
  const res = await post(built, owner.headers, `http://127.0.0.1:${fake.port}/flood.git`)
  const error = expectError(t, res, 422, 'seed_source_unreachable')
  t.same(error.details, { reason: 'too_large' })
  t.notMatch(res.body, /flood/, 'none of the flood in the answer')
  t.ok(flooded < 64 * 1024 * 1024, `git was stopped long before the source was done (${flooded} bytes sent)`)
})
