// A candidate with nothing but stock git: start, clone with the exact command the API
// returns, commit, push, submit; and every way that access must end.
import { readFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import { schema } from '@takehome/core'
import { candidateMachine, createSourceRepo, git } from '@takehome/core/testing'
import { eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { expectError, invited, serve } from './helper.ts'

interface StartBody {
  status: string
  complete_deadline: string
  git: { clone_url: string; credential_url: string; clone_command: string; clone_command_powershell: string } | null
}


async function startAs(t: Test, built: Awaited<ReturnType<typeof serve>>, token: string) {
  const res = await built.app.inject({ method: 'POST', url: `/api/start/${token}` })
  t.equal(res.statusCode, 200, 'Start answers 200')
  return res.json() as StartBody
}

t.test('the whole journey: start, clone, commit, push, submit, then pushing is refused', async (t) => {
  const built = await serve(t)
  const source = createSourceRepo({ files: { 'README.md': '# Exercise\n', 'src/app.js': 'export const answer = 0\n' } })
  const { owner, seed, invitations } = await invited(built, source.dir, ['ada@example.com'])
  const { token, id: invitationId } = invitations[0]!

  const started = await startAs(t, built, token)
  t.equal(started.status, 'started')
  t.ok(started.git, 'the start response carries the git commands')
  const gitInfo = started.git!
  t.match(gitInfo.clone_url, new RegExp(`^${built.base}/r/backend-exercise-[0-9a-f]{10}\\.git$`))
  t.match(gitInfo.credential_url, new RegExp(`^${built.base}/git/credential\\?token=tha_[0-9A-Za-z]{49}$`))
  t.equal(
    gitInfo.clone_command,
    `git clone -c credential.helper= -c 'credential.helper=!f() { test "$1" = get && curl -sS -G --data-urlencode "request@-" "${gitInfo.credential_url}"; }; f' ${gitInfo.clone_url}`,
  )

  const ada = candidateMachine()
  const clone = await ada.shell(gitInfo.clone_command)
  t.equal(clone.code, 0, `the pasted clone command works: ${clone.stderr}`)
  const work = path.join(ada.home, path.basename(gitInfo.clone_url, '.git'))
  t.equal(readFileSync(path.join(work, 'src/app.js'), 'utf8'), 'export const answer = 0\n', 'the seed files are there')
  const log = await ada.git(work, ['log', '--format=%an %s'])
  t.equal(log.stdout.trim().split('\n').length, 1, 'one commit: the seed history is not exposed')
  t.match(log.stdout, /^Takehome Start of "Backend exercise"/)

  await ada.shell(`printf 'export const answer = 42\\n' > src/app.js && printf 'notes\\n' > NOTES.md`, work)
  t.equal((await ada.git(work, ['commit', '-qam', 'Answer the question'])).code, 0)
  t.equal((await ada.git(work, ['add', 'NOTES.md'])).code, 0)
  t.equal((await ada.git(work, ['commit', '-qm', 'Add notes'])).code, 0)
  const push = await ada.git(work, ['push', 'origin', 'main'])
  t.equal(push.code, 0, `push works: ${push.stderr}`)
  const pushedSha = (await ada.git(work, ['rev-parse', 'HEAD'])).stdout.trim()

  // The reviewer's view while the candidate works, then after Submit.
  const detail = (await built.app.inject({ method: 'GET', url: `/api/invitations/${invitationId}`, headers: owner.headers })).json()
  t.match(detail, { status: 'started', repo: { seed_sha_pinned: seed.latest_main_sha, final_sha: null, archived: false } })
  const repoId = detail.repo.id as string
  const baseSha = detail.repo.base_sha as string
  const seedTree = git(source.dir, 'rev-parse', `${seed.latest_main_sha}^{tree}`)
  t.equal(git(work, 'rev-parse', `${baseSha}^{tree}`), seedTree, 'the tree of base_sha is the seed tree at seed_sha_pinned')
  t.equal(git(work, 'rev-list', '--max-parents=0', 'HEAD'), baseSha, 'base_sha is the root commit')

  const submit = await built.app.inject({ method: 'POST', url: `/api/submit/${token}` })
  t.equal(submit.statusCode, 200)
  t.match(submit.json(), { status: 'submitted', final_sha: pushedSha })
  const again = await built.app.inject({ method: 'POST', url: `/api/submit/${token}` })
  t.equal(again.statusCode, 200, 'a second submit is harmless')
  t.equal(again.json().final_sha, pushedSha)

  const afterSubmit = (await built.app.inject({ method: 'GET', url: `/api/invitations/${invitationId}`, headers: owner.headers })).json()
  t.match(afterSubmit, { status: 'submitted', repo: { final_sha: pushedSha, archived: true } })
  const submissions = await built.db.select().from(schema.submissions).where(eq(schema.submissions.invitationId, invitationId))
  t.equal(submissions.length, 1, 'one submission row')
  t.equal(submissions[0]!.finalSha, pushedSha)

  await ada.shell(`printf 'late\\n' >> NOTES.md && git commit -qam 'Too late'`, work)
  const late = await ada.git(work, ['push', 'origin', 'main'])
  t.not(late.code, 0, 'a push after submit fails')
  t.match(late.stderr, /told us to quit/, 'at once, without prompting')
  t.ok(late.ms < 5_000, `and quickly (${Math.round(late.ms)} ms)`)

  const diff = await built.app.inject({ method: 'GET', url: `/api/repos/${repoId}/diff`, headers: owner.headers })
  t.equal(diff.statusCode, 200)
  t.match(diff.json(), {
    base_sha: baseSha,
    head_sha: pushedSha,
    in_progress: false,
    totals: { files: 2, additions: 2, deletions: 1 },
  })
  const files = diff.json().files as Array<{ path: string; status: string; patch: string }>
  t.same(files.map((f) => [f.path, f.status]).sort(), [['NOTES.md', 'added'], ['src/app.js', 'modified']])
  t.match(files.find((f) => f.path === 'src/app.js')!.patch, /^-export const answer = 0$\n^\+export const answer = 42$/m)
  const raw = await built.app.inject({ method: 'GET', url: `/api/repos/${repoId}/diff`, headers: { ...owner.headers, accept: 'text/x-diff' } })
  t.match(raw.headers['content-type'], /^text\/x-diff/)
  t.match(raw.body, /^diff --git a\/NOTES\.md b\/NOTES\.md$/m)
  const commits = (await built.app.inject({ method: 'GET', url: `/api/repos/${repoId}/commits`, headers: owner.headers })).json()
  t.same(commits.commits.map((c: { message: string }) => c.message), ['Add notes', 'Answer the question'])
  t.match(commits.commits[0], { author_name: 'Candidate', author_email: 'candidate@example.com', sha: pushedSha })

  const comment = await built.app.inject({
    method: 'POST',
    url: `/api/invitations/${invitationId}/comments`,
    headers: owner.headers,
    payload: { path: 'src/app.js', line: 1, body: 'Why 42?' },
  })
  t.equal(comment.statusCode, 201)
  const feedback = await built.app.inject({
    method: 'POST',
    url: `/api/invitations/${invitationId}/feedback`,
    headers: owner.headers,
    payload: { summary: 'Solid.', rating: 4 },
  })
  t.equal(feedback.statusCode, 201)
  const reviewed = (await built.app.inject({ method: 'GET', url: `/api/invitations/${invitationId}`, headers: owner.headers })).json()
  t.match(reviewed.comments, [{ path: 'src/app.js', line: 1, body: 'Why 42?' }])
  t.match(reviewed.feedback, [{ summary: 'Solid.', rating: 4 }])

  const kinds = (await built.db.select({ kind: schema.auditEvents.kind }).from(schema.auditEvents)).map((a) => a.kind)
  for (const kind of ['invitation.started', 'access_token.issued', 'invitation.submitted', 'repo.archived', 'repo.final_sha_recorded', 'access.refused']) {
    t.ok(kinds.includes(kind), `audited: ${kind}`)
  }
  const token_ = gitInfo.credential_url.split('token=')[1]!
  t.notOk(built.logLines.some((l) => l.includes(token_) || l.includes(token)), 'no token in any log line of the journey')
})

t.test("a candidate's credential opens only their own repository", async (t) => {
  const built = await serve(t)
  const source = createSourceRepo()
  const { invitations } = await invited(built, source.dir, ['ada@example.com', 'bob@example.com'])
  const ada = (await startAs(t, built, invitations[0]!.token)).git!
  const bob = (await startAs(t, built, invitations[1]!.token)).git!
  const machine = candidateMachine()
  // Bob's helper, Ada's repository.
  const helper = `!f() { test "$1" = get && curl -sS "${bob.credential_url}"; }; f`
  const theft = await machine.git(machine.home, ['clone', '-c', 'credential.helper=', '-c', `credential.helper=${helper}`, ada.clone_url, 'stolen'])
  t.not(theft.code, 0, 'refused')
  t.match(theft.stderr, /remote error: this access token does not open this repository/)
  t.notOk(existsSync(path.join(machine.home, 'stolen', 'README.md')), 'nothing was cloned')
})

t.test('a push one second after the deadline is refused; the sweeper records the deadline', async (t) => {
  const built = await serve(t)
  const source = createSourceRepo()
  const { owner, invitations } = await invited(built, source.dir, ['ada@example.com'])
  const started = await startAs(t, built, invitations[0]!.token)
  const ada = candidateMachine()
  t.equal((await ada.shell(started.git!.clone_command)).code, 0)
  const work = path.join(ada.home, path.basename(started.git!.clone_url, '.git'))
  await ada.shell(`printf 'done\\n' > DONE.md && git add DONE.md && git commit -qm 'Done in time' && git push -q origin main`, work)
  const inTime = (await ada.git(work, ['rev-parse', 'HEAD'])).stdout.trim()

  built.clock.set(new Date(new Date(started.complete_deadline).getTime() + 1000))
  await ada.shell(`printf 'late\\n' >> DONE.md && git commit -qam 'Late'`, work)
  const late = await ada.git(work, ['push', 'origin', 'main'])
  t.not(late.code, 0, 'the push is refused')
  t.match(late.stderr, /told us to quit/)

  const submit = await built.app.inject({ method: 'POST', url: `/api/submit/${invitations[0]!.token}` })
  t.match(expectError(t, submit, 409, 'complete_deadline_passed').message, /ended at/)
  await built.services.deadlines.sweep()
  await built.drain() // the expiry's follow-up job: final commit, archive, notice
  const detail = (await built.app.inject({ method: 'GET', url: `/api/invitations/${invitations[0]!.id}`, headers: owner.headers })).json()
  t.match(detail, { status: 'expired', repo: { final_sha: inTime, archived: true } }, 'expired with the last in-time push as final')
})

t.test('a seed sync pins new candidates to the new commit; started ones keep theirs', async (t) => {
  const built = await serve(t)
  const source = createSourceRepo()
  const { owner, seed, invitations } = await invited(built, source.dir, ['early@example.com', 'late@example.com'])
  await startAs(t, built, invitations[0]!.token)
  const newSha = source.commit({ 'CHANGELOG.md': 'v2\n' }, 'Seed v2')
  const sync = await built.app.inject({ method: 'POST', url: `/api/seeds/${seed.id}/sync`, headers: owner.headers })
  t.equal(sync.json().latest_main_sha, newSha)
  const late = await startAs(t, built, invitations[1]!.token)

  const repoOf = async (id: string) =>
    (await built.app.inject({ method: 'GET', url: `/api/invitations/${id}`, headers: owner.headers })).json().repo
  const earlyRepo = await repoOf(invitations[0]!.id)
  const lateRepo = await repoOf(invitations[1]!.id)
  t.equal(earlyRepo.seed_sha_pinned, source.firstSha, 'the early candidate keeps the old pin')
  t.equal(lateRepo.seed_sha_pinned, newSha, 'the new candidate is pinned to the new commit')

  const machine = candidateMachine()
  t.equal((await machine.shell(late.git!.clone_command)).code, 0)
  const work = path.join(machine.home, path.basename(late.git!.clone_url, '.git'))
  t.ok(existsSync(path.join(work, 'CHANGELOG.md')), 'the new candidate gets the new files')
  t.equal(git(work, 'rev-parse', 'HEAD^{tree}'), git(source.dir, 'rev-parse', `${newSha}^{tree}`))
})
