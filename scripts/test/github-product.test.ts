// GitHub App mode as an operator runs it: the real product process (scripts/start.ts, what
// `npm start` runs) on its embedded defaults, pointed at the loopback GitHub double by the
// GITHUB_* variables alone, and driven over HTTP and with the candidate's own git.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { candidateMachine, createSourceRepo, git, startGitHubDouble } from '@takehome/core/testing'
import t from 'tap'
import type { MailMessage } from '../../api/test/helper.ts'
import { freePort, launch, productClient, ready, requireWebBuild, waitFor } from './helpers.ts'

requireWebBuild()

// One start-up of the real product (about 15 s on two idle cores) and several clones and pushes.
t.setTimeout(5 * 60_000)

// Generous caps on waiting, so that a loaded machine fails only what is really broken.
const MAIL_CAP_MS = 30_000
const WEBHOOK_CAP_MS = 30_000
const ARCHIVE_CAP_MS = 30_000
// The host keeps a readiness answer for 30 s: an installation fixed now shows within that.
const READINESS_CAP_MS = 45_000
const START_URL = /https?:\/\/[^\s<>"')]+\/start\/thi_[0-9A-Za-z]+/

t.test('GitHub App mode: one process runs seeds, Start, clone and push, webhooks, submit and review against GitHub', async (t) => {
  const double = await startGitHubDouble()
  t.teardown(() => double.close())

  // A public repository outside the organisation, as an exercise on GitHub would be.
  const source = createSourceRepo({ files: { 'README.md': '# Exercise\n', 'src/app.js': 'export const answer = 0\n' } })
  t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))
  const exercise = await double.createRepo('someone/exercise', { private: false })
  git(source.dir, 'push', '--quiet', exercise.dir, 'main')
  const sourceTree = git(source.dir, 'rev-parse', 'main^{tree}')

  // The app is not installed on the org yet: the product starts all the same and says so.
  double.setInstallation({ installed: false })
  const port = await freePort()
  const base = `http://localhost:${port}`
  const dataDir = mkdtempSync(path.join(tmpdir(), 'takehome-github-product-'))
  const run = launch({ PORT: String(port), DATA_DIR: dataDir, ALLOW_PRIVATE_SEED_HOSTS: 'true', ...double.env })
  t.teardown(async () => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL')
    await run.exited
    rmSync(dataDir, { recursive: true, force: true })
  })
  t.comment(`start-up in GitHub App mode, fresh DATA_DIR: ${await ready(run, Date.now())} ms`)
  const logs = () => [...run.stdout, ...run.stderr].join('\n')
  const request = productClient(base)

  const notInstalled = `the GitHub App is not installed on ${double.org}: install it from ${double.webUrl}/apps/${double.appSlug}/installations/new`
  const warned = await waitFor(10_000, async () => run.stdout.find((l) => l.includes('the git host is not ready')))
  t.match(warned, notInstalled, 'start-up warns that the app is not installed on the org, and where to install it')
  const unready = await fetch(`${base}/readyz`)
  t.equal(unready.status, 503, '/readyz is 503 while the app is not installed')
  t.same(await unready.json(), { error: { code: 'git_host_not_ready', message: notInstalled } })

  double.setWebhookUrl(`${base}/api/github/webhooks`)
  double.setInstallation({ installed: true })

  const signup = await request('POST', '/api/auth/signup', { body: { email: 'owner@example.com', password: 'a long password', org_name: 'Acme' } })
  t.equal(signup.status, 201)
  const cookie = signup.headers.getSetCookie()[0]!.split(';')[0]!
  const created = async (url: string, body: unknown) => {
    const res = await request('POST', url, { cookie, body })
    if (res.status !== 201) throw new Error(`POST ${url} answered ${res.status}: ${JSON.stringify(res.body)}`)
    return res.body
  }

  // Seed: a private template repository in the org, a copy of the source's default branch.
  const sourceUrl = `${double.webUrl}/someone/exercise`
  const seed = await created('/api/seeds', { source_url: sourceUrl })
  t.match(seed, { source_url: sourceUrl, default_branch: 'main', latest_main_sha: git(source.dir, 'rev-parse', 'main') })
  const seedRepos = double.repos().filter((r) => r.owner === double.org)
  t.equal(seedRepos.length, 1, 'one repository in the org: the seed')
  const seedRepo = seedRepos[0]!
  t.match(seedRepo, { private: true, isTemplate: true }, 'the seed is a private template')
  t.equal(git(seedRepo.dir, 'rev-parse', 'main^{tree}'), sourceTree, "the seed's main holds the source's tree")

  const assessment = await created('/api/assessments', { seed_id: seed.id, title: 'Backend exercise', time_to_start: 'P3D', time_to_complete: 'P2D' })
  const { invitations } = await created('/api/invitations', { assessment_id: assessment.id, candidates: [{ email: 'ada@example.com', name: 'Ada' }] })
  const invitation = invitations[0] as { id: string; start_url: string }

  const mail = await waitFor(MAIL_CAP_MS, async () => {
    const { body } = await request('GET', '/api/mail', { cookie })
    return (body.messages as MailMessage[]).find((m) => m.to === 'ada@example.com')
  })
  if (!mail) throw new Error(`no invitation email for ada@example.com in the local mailbox within ${MAIL_CAP_MS / 1000} s`)
  const startUrl = START_URL.exec(mail.text)?.[0]
  t.equal(startUrl, invitation.start_url, 'the email carries the start link')
  const token = startUrl!.split('/start/')[1]!

  // Start: one private repository for the candidate, main one root commit with the seed's tree.
  const started = await request('POST', `/api/start/${token}`)
  if (started.status !== 200) throw new Error(`Start answered ${started.status}: ${JSON.stringify(started.body)}`)
  const gitInfo = started.body.git as {
    clone_url: string
    clone_command: string
    credential_url: string
    github_clone_url: string
    github_clone_command: string
  }
  const candidateRepos = double.repos().filter((r) => r.owner === double.org && r.id !== seedRepo.id)
  t.equal(candidateRepos.length, 1, 'exactly one candidate repository on GitHub')
  const repo = candidateRepos[0]!
  t.match(repo, { private: true, archived: false }, 'private, not archived')
  t.notOk(/ada/i.test(repo.name), "its name does not carry the candidate's name or email")
  t.equal(git(repo.dir, 'rev-list', '--count', 'main'), '1', 'main is one commit')
  t.equal(git(repo.dir, 'rev-parse', 'main^{tree}'), sourceTree, "with the seed's tree")
  t.equal(gitInfo.clone_url, `${base}/r/${repo.name}.git`, 'the clone URL is our gateway')
  t.equal(gitInfo.github_clone_url, `${double.webUrl}/${repo.fullName}.git`, 'the fallback is the repository on GitHub')

  const detail = await request('GET', `/api/invitations/${invitation.id}`, { cookie })
  t.equal(detail.body.repo?.html_url, `${double.webUrl}/${repo.fullName}`, "the invitation shows the repository's GitHub page")
  const repoId = detail.body.repo.id as string
  const baseSha = detail.body.repo.base_sha as string

  /** The pushes the review's commits answer lists, once one of them brought `sha`. */
  const pushArrived = (sha: string) =>
    waitFor(WEBHOOK_CAP_MS, async () => {
      const { body } = await request('GET', `/api/repos/${repoId}/commits`, { cookie })
      return body.pushes?.some((p: { after: string }) => p.after === sha) ? body : undefined
    })

  // Through the gateway, with the exact command the start view gives.
  const ada = candidateMachine()
  t.teardown(() => rmSync(ada.home, { recursive: true, force: true }))
  const cloned = await ada.shell(gitInfo.clone_command)
  t.equal(cloned.code, 0, `the clone command works through the gateway: ${cloned.stderr}`)
  const work = path.join(ada.home, repo.name)
  t.equal((await ada.shell(`printf 'export const answer = 42\\n' > src/app.js && git commit -qam 'Answer'`, work)).code, 0)
  const pushed = await ada.git(work, ['push', 'origin', 'main'])
  t.equal(pushed.code, 0, `the push through the gateway works: ${pushed.stderr}`)
  const gatewaySha = (await ada.git(work, ['rev-parse', 'HEAD'])).stdout.trim()
  t.equal(git(repo.dir, 'rev-parse', 'main'), gatewaySha, 'the push reached GitHub')
  const afterGateway = await pushArrived(gatewaySha)
  if (!afterGateway) throw new Error(`the push webhook for ${gatewaySha} never reached the product's review within ${WEBHOOK_CAP_MS / 1000} s (GitHub's deliveries: ${double.deliveries().map((d) => `${d.event} → ${d.status}`).join(', ') || 'none'})`)
  t.match(afterGateway.pushes, [{ ref: 'refs/heads/main', before: baseSha, after: gatewaySha, forced: false, commit_count: 1 }], 'the push webhook is in the ledger')

  // The fallback: GitHub's own URL, with the same credential helper.
  const laptop = candidateMachine()
  t.teardown(() => rmSync(laptop.home, { recursive: true, force: true }))
  const rawCloned = await laptop.shell(gitInfo.github_clone_command)
  t.equal(rawCloned.code, 0, `the GitHub clone command works: ${rawCloned.stderr}`)
  const rawWork = path.join(laptop.home, repo.name)
  t.equal((await laptop.shell(`printf 'Notes\\n' > NOTES.md && git add NOTES.md && git commit -qm 'Notes'`, rawWork)).code, 0)
  const rawPushed = await laptop.git(rawWork, ['push', 'origin', 'main'])
  t.equal(rawPushed.code, 0, `the push to GitHub's URL works: ${rawPushed.stderr}`)
  const rawSha = (await laptop.git(rawWork, ['rev-parse', 'HEAD'])).stdout.trim()
  const afterRaw = await pushArrived(rawSha)
  if (!afterRaw) throw new Error(`the push webhook for ${rawSha} never reached the product's review within ${WEBHOOK_CAP_MS / 1000} s`)
  t.equal(afterRaw.pushes.length, 2, 'both pushes are listed')

  // The token GitHub's git host got, as git asks the helper for it.
  const githubHost = new URL(double.webUrl).host
  const credential = await fetch(`${gitInfo.credential_url}&request=${encodeURIComponent(`protocol=http\nhost=${githubHost}\n`)}`)
  t.equal(credential.status, 200)
  const installationToken = /^password=(.+)$/m.exec(await credential.text())?.[1]
  t.ok(installationToken, 'the broker answers with an installation token for GitHub')
  const tokenWorks = () => ada.git(ada.home, ['ls-remote', `http://x-access-token:${installationToken}@${githubHost}/${repo.fullName}.git`, 'main'])
  t.equal((await tokenWorks()).code, 0, 'the token opens the repository before submit')

  const submitted = await request('POST', `/api/submit/${token}`)
  t.equal(submitted.status, 200, 'Submit answers 200')
  t.equal(submitted.body.final_sha, rawSha, 'the final commit is the last push')
  const archived = await waitFor(ARCHIVE_CAP_MS, async () => (double.repo(repo.fullName)?.archived ? true : undefined))
  t.ok(archived, `the repository is archived on GitHub within ${ARCHIVE_CAP_MS / 1000} s of submit`)
  const candidateTokens = double.tokens().filter((tk) => tk.repositories !== 'all' && tk.repositories.includes(repo.fullName) && !tk.permissions.administration)
  t.ok(candidateTokens.length > 0, "tokens were minted for the candidate's git")
  t.same(candidateTokens.filter((tk) => !tk.revoked), [], 'every one of them is revoked')
  t.not((await tokenWorks()).code, 0, 'the token handed out before submit is refused by GitHub')

  t.equal((await ada.shell(`printf 'late\\n' > LATE.md && git add LATE.md && git commit -qm 'Late'`, work)).code, 0)
  const latePush = await ada.git(work, ['push', 'origin', 'main'])
  t.not(latePush.code, 0, 'a push through the gateway after submit is refused')
  t.equal((await laptop.shell(`printf 'late\\n' > LATE.md && git add LATE.md && git commit -qm 'Late'`, rawWork)).code, 0)
  const lateRawPush = await laptop.git(rawWork, ['push', 'origin', 'main'])
  t.not(lateRawPush.code, 0, "a push to GitHub's URL after submit is refused")
  t.equal(git(repo.dir, 'rev-parse', 'main'), rawSha, 'GitHub still holds the submitted commit')

  const diff = await request('GET', `/api/repos/${repoId}/diff`, { cookie })
  t.equal(diff.status, 200)
  t.match(diff.body, {
    base_sha: baseSha,
    head_sha: rawSha,
    in_progress: false,
    html_url: `${double.webUrl}/${repo.fullName}`,
    compare_url: `${double.webUrl}/${repo.fullName}/compare/${baseSha}...${rawSha}`,
  })
  t.same(
    diff.body.files.map((f: { path: string; status: string }) => [f.path, f.status]),
    [['NOTES.md', 'added'], ['src/app.js', 'modified']],
    "the review diff shows the candidate's changes",
  )
  t.match(diff.body.files.find((f: { path: string }) => f.path === 'src/app.js').patch, '+export const answer = 42')

  await double.webhooksSettled()
  const deliveries = double.deliveries()
  t.ok(deliveries.some((d) => d.event === 'installation') && deliveries.some((d) => d.event === 'repository'), 'GitHub sent installation and repository events too')
  t.same(deliveries.filter((d) => d.statusCode !== 200), [], 'the product answered every webhook GitHub sent with 200')

  const readyz = await waitFor(READINESS_CAP_MS, async () => {
    const res = await fetch(`${base}/readyz`)
    return res.status === 200 ? res.json() : undefined
  })
  t.same(readyz, { status: 'ready', database: 'pglite', git_host: 'github' }, `/readyz is ready within ${READINESS_CAP_MS / 1000} s of installing the app`)

  t.notOk(/ghs_/.test(logs()), 'no installation token in the process log')
  t.notOk(logs().includes(token), 'no start link token in the process log')

  run.child.kill('SIGTERM')
  t.equal(await run.exited, 0, 'SIGTERM closes cleanly')
})
