// Seed sources: which addresses count as private, and redirects followed by us with every
// hop checked. Only loopback servers are used; a refused hop is refused before connecting.
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { AppError } from '../src/errors.ts'
import { isPublicAddress, prepareSeedSource, type SeedSourceOptions } from '../src/seed-source.ts'

t.test('loopback, private, link-local, CGNAT, unique-local and mapped forms are not public', async (t) => {
  for (const address of [
    '127.0.0.1', '127.255.255.254', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
    '100.64.0.1', '100.127.255.255', '0.0.0.0', '0.1.2.3', '224.0.0.1', '255.255.255.255',
    '::', '::1', 'fc00::1', 'fd12:3456::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254',
    '64:ff9b::a00:1', 'not an address',
  ]) {
    t.equal(isPublicAddress(address), false, address)
  }
  for (const address of ['1.1.1.1', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
    t.equal(isPublicAddress(address), true, address)
  }
})

interface Hit {
  path: string
  authorization?: string
}

/** A loopback server answering each path with `route`; remembers what it was asked. */
async function server(t: Test, route: (path: string, res: http.ServerResponse) => void) {
  const hits: Hit[] = []
  const srv = http.createServer((req, res) => {
    hits.push({ path: req.url ?? '', authorization: req.headers.authorization })
    route(req.url ?? '', res)
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  t.teardown(() => new Promise((resolve) => srv.close(resolve)))
  return { port: (srv.address() as AddressInfo).port, hits }
}

const redirect = (res: http.ServerResponse, location: string) => res.writeHead(302, { location }).end()
const advertise = (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' }).end('001e# service=git-upload-pack\n0000')

/**
 * Names as a public DNS would answer them, except that they lead to this machine:
 * `git.example.test` is "public" (our server), everything else resolves as named.
 */
function options(overrides: Partial<SeedSourceOptions> = {}): SeedSourceOptions {
  const names: Record<string, string> = { 'git.example.test': '127.0.0.1', 'internal.example.test': '10.20.30.40', 'metadata.example.test': '169.254.169.254' }
  return {
    policy: { localSeeds: 'refused', allowPrivateHosts: false },
    isFirstOrg: async () => false,
    lookup: async (host) => (names[host] ? [{ address: names[host], family: 4 }] : []),
    // The one loopback address our test server listens on stands in for a public host.
    addressAllowed: (address) => address === '127.0.0.1' || isPublicAddress(address),
    ...overrides,
  }
}

async function refusal(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof AppError)) throw new Error(`expected an AppError, got ${String(err)}`)
  return err
}

t.test('redirects to private addresses are refused, however the target is spelled', async (t) => {
  const targets = [
    'http://10.0.0.1/repo.git/info/refs?service=git-upload-pack',
    'http://169.254.169.254/latest/info/refs?service=git-upload-pack',
    'http://0x7f000002/repo.git/info/refs?service=git-upload-pack',
    'http://2130706434/repo.git/info/refs?service=git-upload-pack',
    'http://0177.0.0.2/repo.git/info/refs?service=git-upload-pack',
    'http://[::1]/repo.git/info/refs?service=git-upload-pack',
    'http://[::ffff:127.0.0.2]/repo.git/info/refs?service=git-upload-pack',
    'http://[::ffff:a00:1]/repo.git/info/refs?service=git-upload-pack',
    'http://internal.example.test/repo.git/info/refs?service=git-upload-pack',
    'http://metadata.example.test/repo.git/info/refs?service=git-upload-pack',
  ]
  for (const target of targets) {
    const origin = await server(t, (_path, res) => redirect(res, target))
    const err = await refusal(prepareSeedSource(`http://git.example.test:${origin.port}/repo.git`, options()))
    t.equal(err.code, 'seed_source_not_allowed', target)
    t.match(err.message, /ALLOW_PRIVATE_SEED_HOSTS/)
    t.equal(origin.hits.length, 1, 'only the first hop was asked')
  }
})

t.test('redirects are followed by us, a few hops at most, and git is handed the final URL pinned to its address', async (t) => {
  const final = await server(t, (path, res) => (path === '/final.git/info/refs?service=git-upload-pack' ? advertise(res) : res.writeHead(404).end()))
  const middle = await server(t, (_path, res) => redirect(res, `http://git.example.test:${final.port}/final.git/info/refs?service=git-upload-pack`))
  const first = await server(t, (_path, res) => redirect(res, `http://git.example.test:${middle.port}/middle.git/info/refs?service=git-upload-pack`))

  const source = await prepareSeedSource(`http://user:s3cret@git.example.test:${first.port}/start.git`, options())
  t.same(source, {
    kind: 'remote',
    url: `http://git.example.test:${final.port}/final.git`,
    gitConfig: ['-c', 'http.followRedirects=false', '-c', `http.curloptResolve=git.example.test:${final.port}:127.0.0.1`],
  })
  t.equal(first.hits[0]?.authorization, `Basic ${Buffer.from('user:s3cret').toString('base64')}`, 'credentials go to the origin they were given for')
  t.equal(final.hits[0]?.authorization, undefined, 'and to no other')

  const loop = await server(t, (path, res) => redirect(res, path))
  t.match((await refusal(prepareSeedSource(`http://git.example.test:${loop.port}/loop.git`, options()))).details, { reason: 'unreachable' })
  t.equal(loop.hits.length, 6, 'five redirects, then no more')
})

t.test('what the source answers becomes a reason, never its text', async (t) => {
  const cases: Array<[string, (res: http.ServerResponse) => void, string]> = [
    ['404', (res) => res.writeHead(404).end('secret internal page'), 'not_found'],
    ['401', (res) => res.writeHead(401, { 'www-authenticate': 'Basic' }).end(), 'auth_required'],
    ['403', (res) => res.writeHead(403).end(), 'auth_required'],
    ['an HTML page', (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'), 'not_a_repository'],
    ['500', (res) => res.writeHead(500).end('stack trace'), 'unreachable'],
  ]
  for (const [name, answer, reason] of cases) {
    const origin = await server(t, (_path, res) => answer(res))
    const err = await refusal(prepareSeedSource(`http://git.example.test:${origin.port}/repo.git`, options()))
    t.equal(err.code, 'seed_source_unreachable', name)
    t.equal(err.message, 'the source repository could not be read')
    t.same(err.details, { reason }, name)
  }
  const unresolvable = await refusal(prepareSeedSource('http://nowhere.example.test/repo.git', options()))
  t.same(unresolvable.details, { reason: 'unreachable' })
})

t.test('local paths follow ALLOW_LOCAL_SEEDS; ssh and git:// need private hosts allowed', async (t) => {
  const local = (localSeeds: 'allowed' | 'first-org' | 'refused', first: boolean) =>
    prepareSeedSource('/srv/exercise', options({ policy: { localSeeds, allowPrivateHosts: false }, isFirstOrg: async () => first }))
  t.same(await local('allowed', false), { kind: 'local', path: '/srv/exercise' })
  t.same(await local('first-org', true), { kind: 'local', path: '/srv/exercise' })
  t.match(await refusal(local('first-org', false)), { code: 'seed_source_not_allowed', message: /ALLOW_LOCAL_SEEDS/ })
  t.match(await refusal(local('refused', true)), { code: 'seed_source_not_allowed', message: /ALLOW_LOCAL_SEEDS/ })
  t.match(await refusal(prepareSeedSource('file:///srv/exercise', options())), { code: 'seed_source_not_allowed' })

  for (const url of ['ssh://git@example.com/x.git', 'git://example.com/x.git', 'git@example.com:x.git']) {
    t.match(await refusal(prepareSeedSource(url, options())), { code: 'seed_source_not_allowed', message: /ALLOW_PRIVATE_SEED_HOSTS/ }, url)
    const allowed = await prepareSeedSource(url, options({ policy: { localSeeds: 'refused', allowPrivateHosts: true } }))
    t.same(allowed, { kind: 'remote', url, gitConfig: [] })
  }
})
