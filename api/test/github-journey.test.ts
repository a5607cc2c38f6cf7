// GitHub mode end to end, against the loopback GitHub double: the journeys of
// git-journey.test.ts, each through our gateway and through the raw GitHub URL with the
// same credential helper, with stock git and the exact commands the API returns.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { schema } from '@takehome/core'
import { candidateMachine, createSourceRepo, type GitHubDouble, git, startGitHubDouble } from '@takehome/core/testing'
import { eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { expectError, invited, serve } from './helper.ts'

// Two apps, two doubles and real git per journey: minutes on two busy cores, not seconds.
t.setTimeout(10 * 60_000)

type Via = 'gateway' | 'github'
const VIAS: Via[] = ['gateway', 'github']

interface GitInfo {
  clone_url: string
  credential_url: string
  clone_command: string
  clone_command_powershell: string
  github_clone_url: string | null
  github_clone_command: string | null
  github_clone_command_powershell: string | null
  workflow_changes_allowed: boolean
}
interface StartBody {
  status: string
  complete_deadline: string
  git: GitInfo | null
}

type Served = Awaited<ReturnType<typeof serve>>

/** The product in GitHub mode on a loopback port, against a fresh double. */
async function githubMode(t: Test) {
  const double = await startGitHubDouble()
  let closed: Promise<void> | undefined
  /** GitHub goes away (once; the test's end closes it otherwise). */
  const stopGitHub = () => (closed ??= double.close())
  t.teardown(stopGitHub)
  const built = await serve(t, { github: double.config })
  return { double, built, stopGitHub }
}

async function startAs(t: Test, built: Served, token: string) {
  const res = await built.app.inject({ method: 'POST', url: `/api/start/${token}` })
  t.equal(res.statusCode, 200, 'Start answers 200')
  return res.json() as StartBody
}

const cloneCommand = (git: GitInfo, via: Via) => (via === 'gateway' ? git.clone_command : git.github_clone_command!)
const slugOf = (git: GitInfo) => path.basename(git.clone_url, '.git')
const accessTokenOf = (git: GitInfo) => git.credential_url.split('token=')[1]!
/** Where the candidate's clone lands: both URLs end in the same `<slug>.git`. */
const workOf = (machine: ReturnType<typeof candidateMachine>, git: GitInfo) => path.join(machine.home, slugOf(git))
const postsOfRepos = (double: GitHubDouble) => double.requests().filter((r) => r.method === 'POST' && /\/orgs\/[^/]+\/repos$/.test(r.path)).length

/** What the broker gives git for GitHub's git host: the installation token for the candidate's repository. */
async function installationToken(built: Served, double: GitHubDouble, git: GitInfo) {
  const request = `protocol=http\nhost=${new URL(double.webUrl).host}\n`
  const res = await built.app.inject({ method: 'GET', url: `/git/credential?token=${accessTokenOf(git)}&request=${encodeURIComponent(request)}` })
  const password = /^password=(.*)$/m.exec(res.body)?.[1]
  if (res.statusCode !== 200 || !password) throw new Error(`no installation token: ${res.statusCode} ${res.body}`)
  return password
}

/** git with a token the way the host passes one: a header, never in argv or a URL. */
const withToken = (token: string) => ({
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'http.extraHeader',
  GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
})

const mainOnGitHub = (double: GitHubDouble, repoFullName: string) => git(double.repo(repoFullName)!.dir, 'rev-parse', 'refs/heads/main')

for (const via of VIAS) {
  t.test(`the whole journey through ${via === 'gateway' ? 'our gateway' : 'the raw GitHub URL'}: start, clone, push, submit, then pushing is refused`, async (t) => {
    const { double, built } = await githubMode(t)
    const source = createSourceRepo({ files: { 'README.md': '# Exercise\n', 'src/app.js': 'export const answer = 0\n' } })
    const { owner, seed, invitations } = await invited(built, source.dir, ['ada@example.com'])
    const { token, id: invitationId } = invitations[0]!

    const started = await startAs(t, built, token)
    t.equal(started.status, 'started')
    const gitInfo = started.git!
    const repoFullName = `${double.org}/${slugOf(gitInfo)}`
    t.match(gitInfo.clone_url, new RegExp(`^${built.base}/r/backend-exercise-[0-9a-f]{10}\\.git$`), 'the gateway is the clone URL')
    t.equal(gitInfo.github_clone_url, `${double.webUrl}/${repoFullName}.git`, 'the raw GitHub URL is the fallback')
    const helper = `!f() { test "$1" = get && curl -sS -G --data-urlencode "request@-" "${gitInfo.credential_url}"; }; f`
    t.equal(gitInfo.clone_command, `git clone -c credential.helper= -c 'credential.helper=${helper}' ${gitInfo.clone_url}`)
    t.equal(gitInfo.github_clone_command, `git clone -c credential.helper= -c 'credential.helper=${helper}' ${gitInfo.github_clone_url}`, 'the same helper')
    t.match(gitInfo.github_clone_command_powershell, `''${gitInfo.credential_url}''; }; f' ${gitInfo.github_clone_url}`)
    t.equal(gitInfo.workflow_changes_allowed, false)
    const onGitHub = double.repo(repoFullName)!
    t.ok(onGitHub.private, 'a private repository in the organisation')

    const ada = candidateMachine()
    const clone = await ada.shell(cloneCommand(gitInfo, via))
    t.equal(clone.code, 0, `the pasted clone command works: ${clone.stderr}`)
    const work = workOf(ada, gitInfo)
    t.equal(readFileSync(path.join(work, 'src/app.js'), 'utf8'), 'export const answer = 0\n', 'the seed files are there')
    const log = await ada.git(work, ['log', '--format=%an %s'])
    t.equal(log.stdout.trim().split('\n').length, 1, 'one commit: the seed history is not exposed')

    await ada.shell(`printf 'export const answer = 42\\n' > src/app.js && printf 'notes\\n' > NOTES.md && git add NOTES.md`, work)
    t.equal((await ada.git(work, ['commit', '-qam', 'Answer the question'])).code, 0)
    const push = await ada.git(work, ['push', 'origin', 'main'])
    t.equal(push.code, 0, `push works: ${push.stderr}`)
    const pushedSha = (await ada.git(work, ['rev-parse', 'HEAD'])).stdout.trim()
    t.equal(mainOnGitHub(double, repoFullName), pushedSha, 'main moved on GitHub')
    t.equal((await ada.git(work, ['fetch', 'origin'])).code, 0, 'fetching works too')

    const detail = (await built.app.inject({ method: 'GET', url: `/api/invitations/${invitationId}`, headers: owner.headers })).json()
    t.match(detail, { status: 'started', repo: { seed_sha_pinned: seed.latest_main_sha, final_sha: null, archived: false } })
    t.equal(git(work, 'rev-parse', `${detail.repo.base_sha}^{tree}`), git(source.dir, 'rev-parse', `${seed.latest_main_sha}^{tree}`), 'base_sha carries the seed tree')

    // The candidate's token for GitHub's host, as git got it; it must die with the submit.
    const ghToken = await installationToken(built, double, gitInfo)
    const submit = await built.app.inject({ method: 'POST', url: `/api/submit/${token}` })
    t.equal(submit.statusCode, 200)
    t.match(submit.json(), { status: 'submitted', final_sha: pushedSha })
    await built.drain() // the finalize job: archive on GitHub, revoking every token of the repository
    t.ok(double.repo(repoFullName)!.archived, 'archived on GitHub')
    // The candidate's tokens (the host's own carry administration, for its archiving).
    const given = double.tokens().filter((tk) => tk.repositories.includes(repoFullName) && tk.permissions.administration === undefined)
    t.ok(given.length > 0, `the candidate was given tokens (${given.length})`)
    t.ok(given.every((tk) => tk.revoked), 'every one of them is revoked')

    await ada.shell(`printf 'late\\n' >> NOTES.md && git commit -qam 'Too late'`, work)
    const late = await ada.git(work, ['push', 'origin', 'main'])
    t.not(late.code, 0, 'a push after submit fails')
    t.match(late.stderr, /told us to quit/, 'at once, without prompting: the helper gets no credential')
    const direct = await ada.git(work, ['-c', 'credential.helper=', 'push', `${double.webUrl}/${repoFullName}.git`, 'main'], withToken(ghToken))
    t.not(direct.code, 0, 'the installation token the candidate was given no longer pushes')
    t.equal(mainOnGitHub(double, repoFullName), pushedSha, 'main is still the submitted commit')

    const afterSubmit = (await built.app.inject({ method: 'GET', url: `/api/invitations/${invitationId}`, headers: owner.headers })).json()
    t.match(afterSubmit, { status: 'submitted', repo: { final_sha: pushedSha, archived: true } })
    const submissions = await built.db.select().from(schema.submissions).where(eq(schema.submissions.invitationId, invitationId))
    t.equal(submissions.length, 1)
    const diff = await built.app.inject({ method: 'GET', url: `/api/repos/${detail.repo.id}/diff`, headers: owner.headers })
    t.match(diff.json(), { base_sha: detail.repo.base_sha, head_sha: pushedSha, totals: { files: 2 } }, 'the reviewer sees the work')

    const tokens = [accessTokenOf(gitInfo), token, ghToken]
    t.notOk(built.logLines.some((l) => tokens.some((tk) => l.includes(tk))), 'no token in any log line of the journey')
  })
}

t.test("a candidate's credentials open only their own repository, through the gateway and on GitHub", async (t) => {
  const { double, built } = await githubMode(t)
  const { invitations } = await invited(built, createSourceRepo().dir, ['ada@example.com', 'bob@example.com'])
  const ada = (await startAs(t, built, invitations[0]!.token)).git!
  const bob = (await startAs(t, built, invitations[1]!.token)).git!
  const machine = candidateMachine()
  // Ada's helper, Bob's repository: through the gateway, then on GitHub.
  const helper = `!f() { test "$1" = get && curl -sS -G --data-urlencode "request@-" "${ada.credential_url}"; }; f`
  const viaGateway = await machine.git(machine.home, ['clone', '-c', 'credential.helper=', '-c', `credential.helper=${helper}`, bob.clone_url, 'via-gateway'])
  t.not(viaGateway.code, 0, 'refused through the gateway')
  t.match(viaGateway.stderr, /remote error: this access token does not open this repository/)
  const viaGitHub = await machine.git(machine.home, ['clone', '-c', 'credential.helper=', '-c', `credential.helper=${helper}`, bob.github_clone_url!, 'via-github'])
  t.not(viaGitHub.code, 0, "refused by GitHub: Ada's installation token does not cover Bob's repository")
  t.match(viaGitHub.stderr, /Repository not found|not found/i)
  for (const dir of ['via-gateway', 'via-github']) t.notOk(existsSync(path.join(machine.home, dir, 'README.md')), `nothing was cloned (${dir})`)

  const adaToken = await installationToken(built, double, ada)
  const direct = await machine.git(machine.home, ['-c', 'credential.helper=', 'ls-remote', bob.github_clone_url!], withToken(adaToken))
  t.not(direct.code, 0, "Ada's installation token, used directly, does not reach Bob's repository")
  const own = await machine.git(machine.home, ['-c', 'credential.helper=', 'ls-remote', ada.github_clone_url!], withToken(adaToken))
  t.equal(own.code, 0, `but it does reach her own: ${own.stderr}`)
  const bobHelper = `!f() { test "$1" = get && curl -sS -G --data-urlencode "request@-" "${bob.credential_url}"; }; f`
  const bobOwn = await machine.git(machine.home, ['-c', 'credential.helper=', '-c', `credential.helper=${bobHelper}`, 'ls-remote', bob.github_clone_url!])
  t.equal(bobOwn.code, 0, `Bob's helper opens his own on GitHub: ${bobOwn.stderr}`)

  // What candidates were given: tokens minted without administration (the host's own have it).
  const candidateTokens = double.tokens().filter((tk) => tk.permissions.administration === undefined)
  t.ok(candidateTokens.length >= 2, `tokens were minted for both (${candidateTokens.length})`)
  for (const tk of candidateTokens) {
    t.equal(tk.repositories.length, 1, 'each token is scoped to one repository')
    t.match(tk.repositories, [new RegExp(`^${double.org}/(${slugOf(ada)}|${slugOf(bob)})$`)])
    t.same(tk.permissions, { contents: 'write', metadata: 'read' }, 'contents: write and metadata: read, nothing else')
  }
})

for (const via of VIAS) {
  t.test(`a push after the deadline is refused through ${via === 'gateway' ? 'our gateway' : 'the raw GitHub URL'}; the sweeper records the deadline`, async (t) => {
    const { double, built } = await githubMode(t)
    const { owner, invitations } = await invited(built, createSourceRepo().dir, ['ada@example.com'])
    const started = await startAs(t, built, invitations[0]!.token)
    const gitInfo = started.git!
    const repoFullName = `${double.org}/${slugOf(gitInfo)}`
    const ada = candidateMachine()
    t.equal((await ada.shell(cloneCommand(gitInfo, via))).code, 0)
    const work = workOf(ada, gitInfo)
    const inTime = await ada.shell(`printf 'done\\n' > DONE.md && git add DONE.md && git commit -qm 'Done in time' && git push -q origin main`, work)
    t.equal(inTime.code, 0, inTime.stderr)
    const inTimeSha = (await ada.git(work, ['rev-parse', 'HEAD'])).stdout.trim()

    built.clock.set(new Date(new Date(started.complete_deadline).getTime() + 1000))
    await ada.shell(`printf 'late\\n' >> DONE.md && git commit -qam 'Late'`, work)
    const late = await ada.git(work, ['push', 'origin', 'main'])
    t.not(late.code, 0, 'the push is refused')
    t.match(late.stderr, /told us to quit/)
    t.equal(mainOnGitHub(double, repoFullName), inTimeSha, 'main on GitHub is the in-time commit')

    expectError(t, await built.app.inject({ method: 'POST', url: `/api/submit/${invitations[0]!.token}` }), 409, 'complete_deadline_passed')
    await built.services.deadlines.sweep()
    await built.drain()
    const detail = (await built.app.inject({ method: 'GET', url: `/api/invitations/${invitations[0]!.id}`, headers: owner.headers })).json()
    t.match(detail, { status: 'expired', repo: { final_sha: inTimeSha, archived: true } })
    t.ok(double.repo(repoFullName)!.archived, 'archived on GitHub')
  })
}

t.test('10 concurrent Start clicks make exactly one repository on GitHub', async (t) => {
  const { double, built } = await githubMode(t)
  const { invitations } = await invited(built, createSourceRepo().dir, ['ada@example.com'])
  const before = postsOfRepos(double)
  const reposBefore = double.repos().length
  const responses = await Promise.all(Array.from({ length: 10 }, () => built.app.inject({ method: 'POST', url: `/api/start/${invitations[0]!.token}` })))
  t.same(responses.map((r) => r.statusCode), Array(10).fill(200))
  const commands = new Set(responses.map((r) => (r.json() as StartBody).git?.github_clone_command))
  t.equal(commands.size, 1, 'every click answers the same repository')
  t.equal(postsOfRepos(double) - before, 1, 'one POST /orgs/{org}/repos')
  t.equal(double.repos().length - reposBefore, 1, 'one repository')
  t.equal((await built.db.select().from(schema.candidateRepos)).length, 1)
})

t.test('through the gateway, a push over the assessment\'s limit is cut with a message; under it, it lands', async (t) => {
  const { double, built } = await githubMode(t)
  const { invitations } = await invited(built, createSourceRepo().dir, ['ada@example.com'], { max_push_bytes: 8 * 1024 })
  const gitInfo = (await startAs(t, built, invitations[0]!.token)).git!
  const repoFullName = `${double.org}/${slugOf(gitInfo)}`
  const ada = candidateMachine()
  t.equal((await ada.shell(gitInfo.clone_command)).code, 0)
  const work = workOf(ada, gitInfo)
  const before = mainOnGitHub(double, repoFullName)
  await ada.shell("head -c 65536 /dev/urandom > big.bin && git add big.bin && git commit -qm 'Too big'", work)
  const push = await ada.git(work, ['push', 'origin', 'main'])
  t.not(push.code, 0, 'the push fails')
  t.match(push.stderr, /remote: push refused: the push is larger than this assessment's limit of 8 KiB/, 'with our words')
  t.equal(mainOnGitHub(double, repoFullName), before, 'main did not move on GitHub')
  await ada.shell('git reset -q --hard HEAD~1 && printf small > small.txt && git add small.txt && git commit -qm Small', work)
  const small = await ada.git(work, ['push', 'origin', 'main'])
  t.equal(small.code, 0, `a push under the limit works: ${small.stderr}`)
})

t.test('changes to .github/workflows: refused both ways unless the assessment allows them, and the start view says which', async (t) => {
  const { double, built } = await githubMode(t)
  const source = createSourceRepo().dir
  const refused = (await invited(built, source, ['ada@example.com'])).invitations[0]!
  const allowed = (await invited(built, source, ['bob@example.com'], { allow_workflow_changes: true })).invitations[0]!
  for (const [invitation, allowedHere] of [[refused, false], [allowed, true]] as const) {
    const gitInfo = (await startAs(t, built, invitation.token)).git!
    t.equal(gitInfo.workflow_changes_allowed, allowedHere, `the start view says ${allowedHere ? 'allowed' : 'refused'}`)
    const repoFullName = `${double.org}/${slugOf(gitInfo)}`
    for (const via of VIAS) {
      const machine = candidateMachine()
      t.equal((await machine.shell(cloneCommand(gitInfo, via))).code, 0)
      const work = workOf(machine, gitInfo)
      await machine.git(work, ['pull', '-q', 'origin', 'main'])
      mkdirSync(path.join(work, '.github/workflows'), { recursive: true })
      writeFileSync(path.join(work, `.github/workflows/ci-${via}.yml`), 'on: push\n')
      await machine.shell(`git add .github && git commit -qm 'CI via ${via}'`, work)
      const push = await machine.git(work, ['push', 'origin', 'main'])
      const head = (await machine.git(work, ['rev-parse', 'HEAD'])).stdout.trim()
      if (allowedHere) {
        t.equal(push.code, 0, `allowed: the push lands (${via}): ${push.stderr}`)
        t.equal(mainOnGitHub(double, repoFullName), head)
      } else {
        t.not(push.code, 0, `refused by GitHub (${via})`)
        t.match(push.stderr, /refusing to allow a GitHub App to create or update workflow/, 'with GitHub\'s reason')
        t.not(mainOnGitHub(double, repoFullName), head)
      }
    }
  }
})

t.test('GitHub unreachable: the gateway answers at once with a message, and the broker with quit=1', async (t) => {
  const { double, built, stopGitHub } = await githubMode(t)
  const { invitations } = await invited(built, createSourceRepo().dir, ['ada@example.com', 'bob@example.com'])
  const ada = (await startAs(t, built, invitations[0]!.token)).git!
  const bob = (await startAs(t, built, invitations[1]!.token)).git!
  const machine = candidateMachine()
  t.equal((await machine.shell(ada.clone_command)).code, 0)
  await stopGitHub()

  // Ada's token is still cached: the gateway reaches for GitHub and finds nobody.
  const fetch = await machine.git(workOf(machine, ada), ['fetch', 'origin'])
  t.not(fetch.code, 0)
  t.match(fetch.stderr, /remote error: GitHub could not be reached; try again in a minute/)
  // Bob has used git never: no token can be minted for him now.
  const clone = await machine.shell(bob.clone_command)
  t.not(clone.code, 0)
  t.match(clone.stderr, /remote error: GitHub could not be reached; try again in a minute/)
  const credential = await built.app.inject({
    method: 'GET',
    url: `/git/credential?token=${accessTokenOf(bob)}&request=${encodeURIComponent(`protocol=http\nhost=${new URL(double.webUrl).host}\n`)}`,
  })
  t.equal(credential.statusCode, 503)
  t.equal(credential.body, 'quit=1\n', 'git stops at once, with no stack trace')
  t.equal(credential.headers['x-takehome-refusal'], 'host_unavailable')
})
