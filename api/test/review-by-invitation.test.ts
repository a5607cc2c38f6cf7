// The review's diff and commits by the invitation's id (what the review page has from its
// URL): the same answers as by the repository's id, for every member of the org; another
// org finds nothing; an invitation without a repository says the candidate never started.
// The invitation itself says how long the candidate took, as the API counts it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createSourceRepo, git } from '@takehome/core/testing'
import t from 'tap'
import { expectError, type Invited, invited, member, serve, signup } from './helper.ts'

// Real git: seconds on two busy cores.
t.setTimeout(5 * 60_000)

t.test('the diff and the commits by invitation id', async (t) => {
  const built = await serve(t)
  const source = createSourceRepo({ files: { 'README.md': '# Exercise\n', 'src/app.js': 'export const answer = 0\n' } })
  t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))
  const { owner, invitations } = await invited(built, source.dir, ['ada@example.com', 'bob@example.com'])
  const [ada, bob] = invitations as [Invited, Invited]
  t.equal((await built.app.inject({ method: 'POST', url: `/api/start/${ada.token}` })).statusCode, 200, 'Ada started')
  const get = (url: string, headers: Record<string, string>, accept?: string) =>
    built.app.inject({ method: 'GET', url, headers: accept ? { ...headers, accept } : headers })
  const started = (await get(`/api/invitations/${ada.id}`, owner.headers)).json()
  t.equal(started.time_taken_seconds, null, 'no time taken while the candidate works')

  const work = mkdtempSync(path.join(tmpdir(), 'takehome-review-work-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  git(work, 'clone', '--quiet', path.join(built.gitHost.candidatesRoot, `${started.repo.slug}.git`), '.')
  writeFileSync(path.join(work, 'src/app.js'), 'export const answer = 42\n')
  git(work, 'commit', '--quiet', '-am', 'Answer')
  git(work, 'push', '--quiet', 'origin', 'HEAD:main')
  t.equal((await built.app.inject({ method: 'POST', url: `/api/submit/${ada.token}` })).statusCode, 200, 'Ada submitted')

  const byInvitation = `/api/invitations/${ada.id}`
  const byRepo = `/api/repos/${started.repo.id}`

  await t.test('the same answers as by the repository id', async (t) => {
    const diff = await get(`${byInvitation}/diff`, owner.headers)
    t.equal(diff.statusCode, 200)
    t.match(diff.json(), { in_progress: false, totals: { files: 1, additions: 1, deletions: 1 }, files: [{ path: 'src/app.js', patch: /\+export const answer = 42/ }] })
    t.same(diff.json(), (await get(`${byRepo}/diff`, owner.headers)).json(), 'the JSON diff')
    const raw = await get(`${byInvitation}/diff`, owner.headers, 'text/x-diff')
    t.equal(raw.headers['content-type'], 'text/x-diff; charset=utf-8')
    t.equal(raw.body, (await get(`${byRepo}/diff`, owner.headers, 'text/x-diff')).body, 'the raw diff')
    const commits = await get(`${byInvitation}/commits`, owner.headers)
    t.match(commits.json(), { commits: [{ message: 'Answer' }] })
    t.same(commits.json(), (await get(`${byRepo}/commits`, owner.headers)).json(), 'the commits')
  })

  await t.test('a diff asked for again, by either id, is not made again', async (t) => {
    const real = built.gitHost.diff
    let made = 0
    built.gitHost.diff = (...args) => {
      made++
      return real(...args)
    }
    t.teardown(() => {
      built.gitHost.diff = real
    })
    const [first, second] = await Promise.all([get(`${byInvitation}/diff`, owner.headers), get(`${byRepo}/diff`, owner.headers)])
    const third = await get(`${byInvitation}/diff`, owner.headers)
    t.same([first.statusCode, second.statusCode, third.statusCode], [200, 200, 200])
    t.same(third.json(), first.json(), 'the same answer')
    // Whether or not an earlier subtest made it already, three asks (two at once) make it once at most.
    t.ok(made <= 1, `git made the diff ${made} time(s) for three requests`)
  })

  await t.test('the invitation says how long the candidate took', async (t) => {
    const detail = (await get(byInvitation, owner.headers)).json()
    const expected = Math.round((Date.parse(detail.submitted_at) - Date.parse(detail.started_at)) / 1000)
    t.equal(detail.time_taken_seconds, expected, 'from Start to submit, in seconds')
    t.equal((await get(`/api/invitations/${bob.id}`, owner.headers)).json().time_taken_seconds, null, 'none for a candidate who never started')
  })

  await t.test('every member of the org reads them; another org finds nothing', async (t) => {
    for (const role of ['viewer', 'reviewer']) {
      const who = await member(built, owner, role)
      t.equal((await get(`${byInvitation}/diff`, who.headers)).statusCode, 200, `a ${role} reads the diff`)
      t.equal((await get(`${byInvitation}/diff`, who.headers, 'text/x-diff')).statusCode, 200, `a ${role} reads the raw diff`)
      t.equal((await get(`${byInvitation}/commits`, who.headers)).statusCode, 200, `a ${role} reads the commits`)
    }
    const stranger = await signup(built)
    for (const url of [`${byInvitation}/diff`, `${byInvitation}/commits`]) {
      expectError(t, await get(url, stranger.headers), 404, 'invitation_not_found')
    }
    expectError(t, await get(`${byInvitation}/diff`, stranger.headers, 'text/x-diff'), 404, 'invitation_not_found')
  })

  await t.test('a candidate who never started, a bad id, no session', async (t) => {
    for (const url of [`/api/invitations/${bob.id}/diff`, `/api/invitations/${bob.id}/commits`]) {
      const refused = expectError(t, await get(url, owner.headers), 409, 'not_started')
      t.match(refused.message, /never started/)
    }
    expectError(t, await get('/api/invitations/nope/diff', owner.headers), 400, 'validation_failed')
    expectError(t, await get(`${byInvitation}/diff`, {}), 401)
  })
})
