// The product as an outsider meets it: the real embedded-default process (scripts/start.ts),
// driven over HTTP by a script that knows only the documented API.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createSourceRepo } from '@takehome/core/testing'
import t from 'tap'
import { freePort, launch, ready, requireWebBuild } from './helpers.ts'

requireWebBuild()

const keys = (o: unknown) => Object.keys(o as object).sort()

t.test('a fresh DATA_DIR: the product starts, serves the documented API and the start page', async (t) => {
  const port = await freePort()
  const dataDir = mkdtempSync(path.join(tmpdir(), 'takehome-product-'))
  const base = `http://localhost:${port}`
  const started = Date.now()
  const run = launch({ PORT: String(port), DATA_DIR: dataDir })
  t.teardown(() => run.child.kill('SIGKILL'))
  const startupMs = await ready(run, started)
  t.comment(`start-up on embedded defaults, fresh DATA_DIR: ${startupMs} ms`)

  const health = await fetch(`${base}/healthz`)
  t.equal(health.status, 200)
  t.same(await health.json(), { status: 'ok' })
  t.same(await (await fetch(`${base}/readyz`)).json(), { status: 'ready', database: 'pglite', git_host: 'local' })

  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base, ...headers }, body: JSON.stringify(body) })

  const signup = await post('/api/auth/signup', { email: 'owner@example.com', password: 'a long password', org_name: 'Acme' })
  t.equal(signup.status, 201)
  const session = await signup.json()
  t.same(keys(session), ['org', 'role', 'user'])
  t.same(keys(session.user), ['created_at', 'email', 'id', 'name'])
  t.same(keys(session.org), ['created_at', 'id', 'name'])
  const cookie = signup.headers.getSetCookie()[0]!.split(';')[0]!

  const keyRes = await post('/api/api-keys', { name: 'script' }, { cookie })
  t.equal(keyRes.status, 201)
  const apiKey = await keyRes.json()
  t.same(keys(apiKey), ['created_at', 'hint', 'id', 'key', 'last_used_at', 'name', 'revoked_at'])
  t.match(apiKey.key, /^thk_[0-9A-Za-z]{49}$/)
  const auth = { authorization: `Bearer ${apiKey.key}` }

  const source = createSourceRepo({ branch: 'trunk' })
  const seedRes = await post('/api/seeds', { source_url: source.dir }, auth)
  t.equal(seedRes.status, 201)
  const seed = await seedRes.json()
  t.same(keys(seed), ['created_at', 'default_branch', 'id', 'latest_main_sha', 'source_default_branch', 'source_url', 'synced_at'])
  t.match(seed, { source_url: source.dir, default_branch: 'main', source_default_branch: 'trunk', latest_main_sha: source.firstSha })

  const secondSha = source.commit({ 'NOTES.md': 'more\n' }, 'Second commit')
  const sync = await post(`/api/seeds/${seed.id}/sync`, {}, auth)
  t.equal(sync.status, 200)
  t.equal((await sync.json()).latest_main_sha, secondSha)

  const assessmentRes = await post(
    '/api/assessments',
    { seed_id: seed.id, title: 'Backend exercise', instructions: '# Build it\n\nUse **any** stack.', time_to_start: 'P3D', time_to_complete: 'PT48H' },
    auth,
  )
  t.equal(assessmentRes.status, 201)
  const assessment = await assessmentRes.json()
  t.match(assessment, { seed_id: seed.id, title: 'Backend exercise', time_to_start: 'P3D', time_to_complete: 'P2D' })
  t.same((await (await fetch(`${base}/api/assessments`, { headers: auth })).json()).assessments.map((a: { id: string }) => a.id), [assessment.id])

  const inviteRes = await post(
    '/api/invitations',
    { assessment_id: assessment.id, candidates: [{ email: 'ada@example.com', name: 'Ada' }, { email: 'alan@example.com' }] },
    auth,
  )
  t.equal(inviteRes.status, 201)
  const { invitations } = await inviteRes.json()
  t.equal(invitations.length, 2)
  t.same(keys(invitations[0]), ['candidate_email', 'candidate_name', 'id', 'start_deadline', 'start_url', 'status'])
  t.match(invitations[0].start_url, new RegExp(`^${base}/start/thi_[0-9A-Za-z]{49}$`))

  // The invite emails are jobs the product runs a moment after the request.
  let mail = { messages: [] as Array<{ to: string; text: string }> }
  for (let tries = 0; mail.messages.length < 2 && tries < 100; tries++) {
    if (tries) await new Promise((resolve) => setTimeout(resolve, 100))
    mail = await (await fetch(`${base}/api/mail`, { headers: auth })).json()
  }
  t.equal(mail.messages.length, 2)
  t.same(keys(mail.messages[0]), ['created_at', 'html', 'id', 'kind', 'subject', 'text', 'to'])
  const adaMail = mail.messages.find((m: { to: string }) => m.to === 'ada@example.com')
  t.match(adaMail?.text, invitations.find((i: { candidate_email: string }) => i.candidate_email === 'ada@example.com').start_url)

  const token = invitations[0].start_url.split('/start/')[1]
  const view = await fetch(`${base}/api/start/${token}`)
  t.equal(view.status, 200)
  const viewBody = await view.json()
  t.same(keys(viewBody), ['assessment', 'candidate_name', 'complete_deadline', 'final_sha', 'git', 'start_deadline', 'started_at', 'status', 'submitted_at'])
  t.same(keys(viewBody.assessment), ['description', 'instructions', 'instructions_html', 'time_to_complete', 'title'])
  t.equal(viewBody.status, 'accepted', 'opening the link accepts the invitation')

  const page = await fetch(invitations[0].start_url)
  t.equal(page.status, 200)
  const html = await page.text()
  t.match(html, 'Backend exercise', 'the web start page shows the assessment')
  t.match(html, '<strong>any</strong>', 'with its instructions rendered')

  const detail = await (await fetch(`${base}/api/invitations/${invitations[0].id}`, { headers: auth })).json()
  t.match(detail, { status: 'accepted', repo: null, comments: [], feedback: [] })

  const logs = run.stdout.join('\n')
  for (const secret of [apiKey.key, token, 'a long password', cookie.split('=')[1]!]) {
    t.notOk(logs.includes(secret), 'no secret in the process log')
  }

  run.child.kill('SIGTERM')
  t.equal(await run.exited, 0, 'SIGTERM closes cleanly')
})

t.test('a second process on the same DATA_DIR is refused with one clear line', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'takehome-product-'))
  const first = launch({ PORT: String(await freePort()), DATA_DIR: dataDir })
  t.teardown(() => first.child.kill('SIGKILL'))
  await ready(first, Date.now())
  const second = launch({ PORT: String(await freePort()), DATA_DIR: dataDir })
  t.equal(await second.exited, 1)
  t.match(second.stderr.join('\n'), /in use by another Takehome process \(pid \d+\)/)
  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0)
})

t.test('malformed configuration stops start-up with one line naming the variable', async (t) => {
  const run = launch({ PORT: 'abc', DATA_DIR: mkdtempSync(path.join(tmpdir(), 'takehome-product-')) })
  t.equal(await run.exited, 1)
  t.same(run.stderr, ['takehome: configuration error: PORT must be a port number (got "abc")'])
})
