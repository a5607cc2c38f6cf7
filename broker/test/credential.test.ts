// The broker answers for the host git asked about: the access token for our own origin (the
// gateway), a token for the one repository for GitHub's git host, nothing for anyone else.
import t, { type Test } from 'tap'
import { ACCESS_TOKEN, fakeAccess, fakeRemote, INSTALLATION_TOKEN, listen, REPO, serveBroker } from './fakes.ts'

const ask = async (base: string, token: string, request?: string) => {
  const query = new URLSearchParams({ token, ...(request === undefined ? {} : { request }) })
  const res = await fetch(`${base}/git/credential?${query}`)
  return { status: res.status, body: await res.text(), refusal: res.headers.get('x-takehome-refusal') }
}
const gitRequest = (url: string) => `protocol=${new URL(url).protocol.slice(0, -1)}\nhost=${new URL(url).host}\n`
const expiryOf = (body: string) => Number(/^password_expiry_utc=(\d+)$/m.exec(body)?.[1])

async function github(t: Test, options: { remainingMs?: number; tokenExpiresAt?: Date; allowWorkflowChanges?: boolean } = {}) {
  const upstream = await listen(t, (_req, res) => res.end())
  const { access, expiresAt, state } = fakeAccess({ remainingMs: options.remainingMs, grant: { allowWorkflowChanges: options.allowWorkflowChanges ?? false } })
  const remote = fakeRemote(upstream, { expiresAt: options.tokenExpiresAt })
  const { base, lines } = await serveBroker(t, { access, remote: remote.remote })
  return { base, lines, upstream, remote, expiresAt, accessState: state }
}

t.test('local host: the access token for our own origin, also without a request (an older helper)', async (t) => {
  const { access, expiresAt } = fakeAccess()
  const { base } = await serveBroker(t, { access })
  const expected = `username=takehome\npassword=${ACCESS_TOKEN}\npassword_expiry_utc=${Math.floor(expiresAt.getTime() / 1000)}\n`
  t.same(await ask(base, ACCESS_TOKEN, gitRequest(base)), { status: 200, body: expected, refusal: null })
  t.same(await ask(base, ACCESS_TOKEN), { status: 200, body: expected, refusal: null }, 'no request: as the helper always answered')
  t.same(await ask(base, ACCESS_TOKEN, ''), { status: 200, body: expected, refusal: null }, 'an empty request too')
  const withMore = `${gitRequest(base)}path=r/x.git\nwwwauth[]=Basic realm="Takehome"\ncapability[]=authtype\n\n`
  t.equal((await ask(base, ACCESS_TOKEN, withMore)).status, 200, 'other fields git sends are accepted')
})

t.test('local host: a request for any other host is refused with quit=1 and no credential', async (t) => {
  const { access, state } = fakeAccess()
  const { base } = await serveBroker(t, { access })
  const port = new URL(base).port
  for (const request of [
    'protocol=https\nhost=github.com\n',
    `protocol=http\nhost=127.0.0.1:${Number(port) + 1}\n`,
    `protocol=https\nhost=127.0.0.1:${port}\n`,
    `protocol=http\nhost=localhost:${port}\n`,
    'protocol=http\n',
  ]) {
    t.same(await ask(base, ACCESS_TOKEN, request), { status: 403, body: 'quit=1\n', refusal: 'other_host' }, JSON.stringify(request))
  }
  t.equal(state.checks, 0, 'refused before the token was even looked at')
})

t.test('a malformed or oversized request is refused with quit=1', async (t) => {
  const { access, state } = fakeAccess()
  const { base } = await serveBroker(t, { access })
  const cases: Array<[string, string]> = [
    ['not key=value', 'protocol=http\nhello\n'],
    ['an empty key', '=x\n'],
    ['a NUL', `protocol=http\nhost=${new URL(base).host}\0\n`],
    ['host twice', `protocol=http\nhost=${new URL(base).host}\nhost=github.com\n`],
    ['over 4 KiB', `${gitRequest(base)}wwwauth[]=${'x'.repeat(4096)}\n`],
  ]
  for (const [name, request] of cases) {
    t.same(await ask(base, ACCESS_TOKEN, request), { status: 400, body: 'quit=1\n', refusal: 'bad_request' }, name)
  }
  t.equal(state.checks, 0)
})

t.test('GitHub mode: GitHub\'s git host gets a token for exactly that repository; our origin gets the access token', async (t) => {
  const { base, upstream, remote, expiresAt, lines } = await github(t)
  const fromGitHub = await ask(base, ACCESS_TOKEN, gitRequest(upstream))
  t.equal(fromGitHub.status, 200)
  t.match(fromGitHub.body, new RegExp(`^username=x-access-token\npassword=${INSTALLATION_TOKEN}\npassword_expiry_utc=\\d+\n$`))
  t.same(remote.minted, [{ repoFullName: REPO, workflows: false }], 'minted for the grant\'s repository, without workflows')
  t.equal(expiryOf(fromGitHub.body), Math.floor(expiresAt.getTime() / 1000), 'expires with the access, which ends before the token')

  const fromUs = await ask(base, ACCESS_TOKEN, gitRequest(base))
  t.match(fromUs.body, `username=takehome\npassword=${ACCESS_TOKEN}\n`, 'the gateway gets our own token')
  t.equal(remote.minted.length, 1, 'and no GitHub token was minted for it')

  const older = await ask(base, ACCESS_TOKEN)
  t.match(older.body, `password=${INSTALLATION_TOKEN}\n`, 'without a request (an older helper), the installation token')

  for (const request of ['protocol=https\nhost=evil.example\n', `protocol=https\nhost=${new URL(upstream).host}\n`]) {
    t.same(await ask(base, ACCESS_TOKEN, request), { status: 403, body: 'quit=1\n', refusal: 'other_host' }, `never to ${JSON.stringify(request)}`)
  }
  t.notOk(lines.some((l) => l.includes(INSTALLATION_TOKEN)), 'the installation token is in no log line')
})

t.test('GitHub mode: password_expiry_utc is the token\'s own expiry when it comes first; workflows when the assessment allows', async (t) => {
  const tokenExpiresAt = new Date(Date.now() + 50 * 60_000)
  const { base, upstream, remote } = await github(t, { remainingMs: 48 * 3_600_000, tokenExpiresAt, allowWorkflowChanges: true })
  const res = await ask(base, ACCESS_TOKEN, gitRequest(upstream))
  t.equal(expiryOf(res.body), Math.floor(tokenExpiresAt.getTime() / 1000))
  t.same(remote.minted, [{ repoFullName: REPO, workflows: true }])
})

t.test('GitHub mode: a refused access token mints nothing; GitHub down answers 503 quit=1 without details', async (t) => {
  const { base, upstream, remote, accessState, lines } = await github(t)
  accessState.refusal = 'submitted'
  t.same(await ask(base, ACCESS_TOKEN, gitRequest(upstream)), { status: 403, body: 'quit=1\n', refusal: 'submitted' })
  t.same(await ask(base, `${ACCESS_TOKEN.slice(0, -1)}x`, gitRequest(upstream)), { status: 403, body: 'quit=1\n', refusal: 'unknown' })
  t.equal(remote.minted.length, 0)
  accessState.refusal = undefined
  remote.state.failing = true
  t.same(await ask(base, ACCESS_TOKEN, gitRequest(upstream)), { status: 503, body: 'quit=1\n', refusal: 'host_unavailable' })
  t.ok(lines.some((l) => l.includes('credential refused: GitHub gave no token')), 'logged for the operator')
})
