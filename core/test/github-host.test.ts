// The GitHub App host against the loopback GitHub double: seeds and candidate repositories
// as private repositories of the org, idempotent creation under faults, repo-scoped
// credentials and their revocation, review through the local cache, readiness, and no
// token in logs or in git's arguments.
import { randomUUID } from 'node:crypto'
import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { eq } from 'drizzle-orm'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import type { Actor } from '../src/actor.ts'
import { createGitHubHost, type GitHubHostDeps } from '../src/adapters/github/host.ts'
import { createPacer } from '../src/adapters/github/pacer.ts'
import { createLocalGitHost } from '../src/adapters/local-git-host.ts'
import { githubRepoTokens } from '../src/db/schema/index.ts'
import { AppError } from '../src/errors.ts'
import { runGit } from '../src/git.ts'
import type { SeedSource } from '../src/seed-source.ts'
import { DIFF_LIMITS } from '../src/services/review.ts'
import { createTestDatabase } from '../testing/database.ts'
import { createSourceRepo, git } from '../testing/git.ts'
import { startGitHubDouble, type GitHubDouble } from '../testing/github-double/index.ts'
import { createTestServices, TEST_GITHUB_PACING } from '../testing/services.ts'

const MINUTE = 60_000
const BASE_DATE = new Date('2026-03-01T09:00:00Z')
const CREATE_REPO = { method: 'POST', path: /^\/orgs\/[^/]+\/repos$/ }

interface GitCall {
  args: string[]
  env: NodeJS.ProcessEnv | undefined
}

// One database for the file: every test works on repositories of its own double, with names of its own.
const database = createTestDatabase()
t.teardown(async () => (await database).close())

/** A double and a host on it; everything the host logs and every git call it makes with a token are kept. */
async function setup(t: Test, options: { permissions?: Record<string, string>; pacing?: GitHubHostDeps['pacing'] } = {}) {
  const double = await startGitHubDouble(options.permissions ? { permissions: options.permissions } : {})
  t.teardown(() => double.close())
  const { db } = await database
  const logLines: string[] = []
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk))
        done()
      },
    }),
  )
  const gitCalls: GitCall[] = []
  let offsetMs = 0
  const makeHost = () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'takehome-github-host-'))
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
    return createGitHubHost({
      github: double.config,
      dataDir,
      db,
      tokenPepper: 'test-pepper-0123456789abcdef0123456789',
      logger,
      pacing: options.pacing ?? TEST_GITHUB_PACING,
      now: () => Date.now() + offsetMs,
      git: (args, gitOptions) => {
        gitCalls.push({ args, env: gitOptions?.env })
        return runGit(args, gitOptions)
      },
    })
  }
  return {
    double,
    db,
    host: makeHost(),
    /** Another process (another machine: its own caches) on the same database. */
    makeHost,
    logLines,
    gitCalls,
    /** Moves the hosts' clock on, for token lifetimes and cached answers. */
    advance: (ms: number) => {
      offsetMs += ms
    },
  }
}

function sourceOf(t: Test, options: Parameters<typeof createSourceRepo>[0] = {}) {
  const repo = createSourceRepo(options)
  t.teardown(() => rmSync(repo.dir, { recursive: true, force: true }))
  return { ...repo, source: { kind: 'local', path: repo.dir } satisfies SeedSource as SeedSource }
}

const candidateInput = (seedRepoFullName: string, seedSha: string, slug = `backend-exercise-${randomUUID().slice(0, 10)}`) => ({
  seedRepoFullName,
  seedSha,
  slug,
  message: `Start of "Backend exercise"\n\nCreated by Takehome from the seed at ${seedSha}.`,
  date: BASE_DATE,
})

/** git against the double with a token, the way the host passes one (never in argv). */
const withToken = (token: string) => ({
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'http.extraHeader',
  GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
})

const postsOf = (double: GitHubDouble) => double.requests().filter((r) => r.method === 'POST' && /^\/api\/v3\/orgs\/[^/]+\/repos$/.test(r.path))

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof AppError)) throw new Error(`expected an AppError, got ${String(err)}`)
  return err
}

t.test('a seed is a private template repository whose main is the source default branch; sync moves it; remove deletes it', async (t) => {
  const { double, host } = await setup(t)
  const source = sourceOf(t, { branch: 'trunk' })
  const seedId = randomUUID()
  const mirror = await host.mirrorSeed({ seedId, source: source.source })
  t.equal(mirror.repoFullName, `${double.org}/seed-${seedId.replace(/-/g, '').slice(0, 12)}`)
  t.equal(mirror.sourceDefaultBranch, 'trunk')
  t.equal(mirror.headSha, source.firstSha)
  const repo = double.repo(mirror.repoFullName)!
  t.match(repo, { private: true, isTemplate: true, archived: false })
  t.equal(git(repo.dir, 'rev-parse', 'refs/heads/main'), source.firstSha, "GitHub's main is the source's default branch")
  t.equal(await host.headOf(mirror.repoFullName), source.firstSha)

  const second = source.commit({ 'src/more.js': 'more()\n' }, 'More')
  const synced = await host.syncSeed({ repoFullName: mirror.repoFullName, source: source.source })
  t.same(synced, { repoFullName: mirror.repoFullName, sourceDefaultBranch: 'trunk', headSha: second })
  t.equal(git(repo.dir, 'rev-parse', 'refs/heads/main'), second)

  await host.removeSeed(mirror.repoFullName)
  t.equal(double.repo(mirror.repoFullName), undefined)
  await host.removeSeed(mirror.repoFullName)
  t.pass('removing it again is fine')
})

t.test('a seed source that cannot be read leaves nothing on GitHub', async (t) => {
  const { double, host } = await setup(t)
  const err = await rejection(host.mirrorSeed({ seedId: randomUUID(), source: { kind: 'local', path: path.join(tmpdir(), `missing-${randomUUID()}`) } }))
  t.equal(err.statusCode, 422)
  t.equal(err.code, 'seed_source_unreachable')
  t.same(double.repos(), [])
})

t.test('a candidate repository is one root commit with the seed tree at the pinned SHA, not the seed head', async (t) => {
  const { double, host, makeHost } = await setup(t)
  const source = sourceOf(t)
  const seed = await host.mirrorSeed({ seedId: randomUUID(), source: source.source })
  const pinned = seed.headSha
  const newer = source.commit({ 'README.md': '# Changed after pinning\n' }, 'Later')
  await host.syncSeed({ repoFullName: seed.repoFullName, source: source.source })

  const input = candidateInput(seed.repoFullName, pinned)
  const repo = await host.createCandidateRepo(input)
  const onGitHub = double.repo(repo.repoFullName)!
  t.equal(repo.repoFullName, `${double.org}/${input.slug}`)
  t.match(onGitHub, { private: true, isTemplate: false, archived: false })
  t.equal(repo.hostRepoId, onGitHub.id)
  t.equal(repo.htmlUrl, `${double.webUrl}/${repo.repoFullName}`)
  t.same(git(onGitHub.dir, 'rev-list', 'refs/heads/main').split('\n'), [repo.baseSha], 'main is one commit')
  t.equal(git(onGitHub.dir, 'rev-parse', `${repo.baseSha}^{tree}`), git(source.dir, 'rev-parse', `${pinned}^{tree}`), 'with the tree at the pinned SHA')
  t.not(git(onGitHub.dir, 'rev-parse', `${repo.baseSha}^{tree}`), git(source.dir, 'rev-parse', `${newer}^{tree}`), 'not the seed head')
  t.equal(await host.treeOf(repo.repoFullName, repo.baseSha), await host.treeOf(seed.repoFullName, pinned))
  t.equal(await host.headOf(repo.repoFullName), repo.baseSha)

  // Again, from another process with empty caches (it fetches the seed from GitHub): the same repository, as it was.
  const posts = postsOf(double).length
  const again = await makeHost().createCandidateRepo(input)
  t.same(again, repo, 'the same repository and base')
  t.equal(postsOf(double).length, posts + 1, 'it asked to create it once')
  t.equal(double.repos().filter((r) => r.fullName === repo.repoFullName).length, 1, 'and there is still one')
  t.same(git(onGitHub.dir, 'rev-list', 'refs/heads/main').split('\n'), [repo.baseSha])
})

t.test('a name taken by something that is not ours, or a main that does not start from the seed, is refused and left alone', async (t) => {
  const { double, host } = await setup(t)
  const source = sourceOf(t)
  const seed = await host.mirrorSeed({ seedId: randomUUID(), source: source.source })

  const publicTaken = candidateInput(seed.repoFullName, seed.headSha)
  await double.createRepo(`${double.org}/${publicTaken.slug}`, { private: false })
  t.equal((await rejection(host.createCandidateRepo(publicTaken))).code, 'github_repo_name_taken')
  t.match(double.repo(`${double.org}/${publicTaken.slug}`), { private: false })

  const otherContent = candidateInput(seed.repoFullName, seed.headSha)
  const other = await double.createRepo(`${double.org}/${otherContent.slug}`, { autoInit: true })
  const before = git(other.dir, 'rev-parse', 'refs/heads/main')
  t.equal((await rejection(host.createCandidateRepo(otherContent))).code, 'repo_tree_mismatch')
  t.equal(git(other.dir, 'rev-parse', 'refs/heads/main'), before, 'its main is untouched')
})

t.test('a 502 after GitHub created the repository, and secondary rate limits, still end with one repository each', async (t) => {
  const { double, host } = await setup(t)
  const source = sourceOf(t)
  const seed = await host.mirrorSeed({ seedId: randomUUID(), source: source.source })

  let posts = postsOf(double).length
  double.failNext(CREATE_REPO, { kind: 'status', status: 502, afterHandling: true })
  const first = await host.createCandidateRepo(candidateInput(seed.repoFullName, seed.headSha))
  t.same(
    postsOf(double).slice(posts).map((r) => r.status),
    [502, 422],
    'created but answered 502, then retried: the name is taken, and the repository is adopted',
  )
  t.equal(double.repos().filter((r) => r.fullName === first.repoFullName).length, 1)
  t.equal(git(double.repo(first.repoFullName)!.dir, 'rev-parse', 'refs/heads/main'), first.baseSha)

  posts = postsOf(double).length
  double.failNext(CREATE_REPO, { kind: 'secondary-rate-limit', retryAfterSeconds: 1 }, 2)
  const second = await host.createCandidateRepo(candidateInput(seed.repoFullName, seed.headSha))
  t.same(postsOf(double).slice(posts).map((r) => r.status), [403, 403, 201], 'waited out twice, then created')
  t.equal(double.repos().filter((r) => r.fullName === second.repoFullName).length, 1)

  posts = postsOf(double).length
  double.failNext(CREATE_REPO, { kind: 'status', status: 503 })
  const third = await host.createCandidateRepo(candidateInput(seed.repoFullName, seed.headSha))
  t.same(postsOf(double).slice(posts).map((r) => r.status), [503, 201], 'a 503 before creating is retried')
  t.equal(double.repos().filter((r) => r.fullName === third.repoFullName).length, 1)
  t.equal(double.repos().length, 4, 'the seed and three candidate repositories, no more')
})

t.test('a token GitHub does not accept yet, and a repository it does not show yet, are waited out briefly', async (t) => {
  const { double, host } = await setup(t)
  const source = sourceOf(t)
  // The first git request with the new seed's token is refused as GitHub's replicas do for a token minted a moment ago.
  double.failNext({ method: 'GET', path: /\.git\/info\/refs$/ }, { kind: 'status', status: 401 })
  const seed = await host.mirrorSeed({ seedId: randomUUID(), source: source.source })
  t.equal(git(double.repo(seed.repoFullName)!.dir, 'rev-parse', 'refs/heads/main'), source.firstSha, 'the push went through on the next try')
  t.same(
    double.requests().filter((r) => r.path.endsWith('/info/refs')).map((r) => r.status).slice(0, 2),
    [401, 200],
  )

  // A repository just made is 404 to git, then to REST, for a moment.
  double.failNext({ method: 'GET', path: /\.git\/info\/refs$/ }, { kind: 'status', status: 404 })
  double.failNext({ method: 'GET', path: /\/git\/commits\/[0-9a-f]{40}$/ }, { kind: 'status', status: 404 })
  const repo = await host.createCandidateRepo(candidateInput(seed.repoFullName, seed.headSha))
  t.same(git(double.repo(repo.repoFullName)!.dir, 'rev-list', 'refs/heads/main').split('\n'), [repo.baseSha])
  t.ok(double.requests().some((r) => r.path.endsWith('/info/refs') && r.status === 404), 'git was told 404 once')
  t.ok(double.requests().some((r) => /\/git\/commits\//.test(r.path) && r.status === 404), 'the commit was 404 once')

  // A REST 401 right after minting, too.
  const other = candidateInput(seed.repoFullName, seed.headSha)
  double.failNext({ method: 'GET', path: /\/git\/ref\/heads\/main$/ }, { kind: 'status', status: 401 })
  const third = await host.createCandidateRepo(other)
  t.ok(double.requests().some((r) => r.path.endsWith('/git/ref/heads/main') && r.status === 401), 'REST was told 401 once')
  t.equal(await host.headOf(third.repoFullName), third.baseSha)
  t.equal(double.repos().length, 3)
})

t.test('many candidates starting at once queue behind the pacer and all get their repository', async (t) => {
  const { double, host } = await setup(t, { pacing: { ...TEST_GITHUB_PACING, creations: { intervalMs: 0, maxInFlight: 2 } } })
  const source = sourceOf(t)
  const seed = await host.mirrorSeed({ seedId: randomUUID(), source: source.source })
  const inputs = Array.from({ length: 5 }, () => candidateInput(seed.repoFullName, seed.headSha))
  const repos = await Promise.all(inputs.map((input) => host.createCandidateRepo(input)))
  t.same(new Set(repos.map((r) => r.repoFullName)).size, 5)
  t.equal(double.repos().length, 6)
})

t.test('the pacer runs at most maxInFlight tasks at once, first come first served', async (t) => {
  const pacer = createPacer({ intervalMs: 0, maxInFlight: 2 })
  let running = 0
  let most = 0
  const started: number[] = []
  const releases: Array<() => void> = []
  const tasks = Array.from({ length: 6 }, (_, i) =>
    pacer.run(async () => {
      started.push(i)
      running++
      most = Math.max(most, running)
      await new Promise<void>((resolve) => releases.push(resolve))
      running--
      return i
    }),
  )
  // Release the tasks one at a time, as they start.
  for (let released = 0; released < 6; released++) {
    while (releases.length === 0) await new Promise((resolve) => setImmediate(resolve))
    t.ok(running <= 2, `${running} running`)
    releases.shift()!()
  }
  t.same(await Promise.all(tasks), [0, 1, 2, 3, 4, 5])
  t.same(started, [0, 1, 2, 3, 4, 5], 'in the order they came')
  t.equal(most, 2)
})

t.test('a candidate credential covers exactly its repository with exactly its permissions, is cached, and asks workflows only when told', async (t) => {
  const { double, db, host, makeHost, advance } = await setup(t)
  const source = sourceOf(t)
  const seed = await host.mirrorSeed({ seedId: randomUUID(), source: source.source })
  const repo = await host.createCandidateRepo(candidateInput(seed.repoFullName, seed.headSha))
  const candidateTokens = () => double.tokens().filter((tok) => !('administration' in tok.permissions))

  const answers = await Promise.all(Array.from({ length: 50 }, () => host.remote.repoCredential(repo.repoFullName, { workflows: false })))
  t.equal(new Set(answers.map((a) => a.password)).size, 1, '50 requests at once: one token')
  t.equal(candidateTokens().length, 1, 'minted once')
  const [minted] = candidateTokens()
  t.same(minted!.repositories, [repo.repoFullName], 'for that one repository')
  t.same(minted!.permissions, { contents: 'write', metadata: 'read' }, 'with contents: write and metadata: read, nothing else')
  const credential = answers[0]!
  t.equal(credential.username, 'x-access-token')
  t.equal(credential.expiresAt.getTime(), minted!.expiresAt.getTime(), "expiring when the token does")

  t.same(await host.remote.repoCredential(repo.repoFullName, { workflows: false }), credential, 'cached')
  const withWorkflows = await host.remote.repoCredential(repo.repoFullName, { workflows: true })
  t.not(withWorkflows.password, credential.password)
  t.same(candidateTokens().at(-1)!.permissions, { contents: 'write', metadata: 'read', workflows: 'write' }, 'workflows: write when asked')

  // What the token opens: its repository, for git, and nothing else.
  const cwd = mkdtempSync(path.join(tmpdir(), 'takehome-cred-'))
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  const listed = await runGit(['ls-remote', `${double.webUrl}/${repo.repoFullName}.git`, 'refs/heads/main'], { cwd, env: withToken(credential.password) })
  t.equal(listed.code, 0, listed.stderr)
  t.match(listed.stdout, repo.baseSha)
  const seedListed = await runGit(['ls-remote', `${double.webUrl}/${seed.repoFullName}.git`], { cwd, env: withToken(credential.password) })
  t.not(seedListed.code, 0, 'the seed is not reachable with it')

  // Stored encrypted, so that another process can revoke it.
  const rows = await db.select().from(githubRepoTokens).where(eq(githubRepoTokens.repoFullName, repo.repoFullName))
  t.equal(rows.length, 2)
  t.notOk(rows.some((row) => row.tokenCiphertext.includes(credential.password) || row.tokenCiphertext.includes(withWorkflows.password)), 'not in clear')

  // With less than ten minutes left, a cached token is no longer handed out.
  advance(51 * MINUTE)
  const later = await host.remote.repoCredential(repo.repoFullName, { workflows: false })
  t.not(later.password, credential.password, 'a fresh one is minted')

  // Another process mints its own; none covers a repository outside the org.
  await makeHost().remote.repoCredential(repo.repoFullName, { workflows: false })
  t.equal(candidateTokens().length, 4)
  await t.rejects(host.remote.repoCredential('someone-else/repo', { workflows: false }))
})

t.test('archiving revokes every token issued for the repository, wherever it was minted, and is idempotent', async (t) => {
  const { double, db, host, makeHost } = await setup(t)
  const source = sourceOf(t)
  const seed = await host.mirrorSeed({ seedId: randomUUID(), source: source.source })
  const repo = await host.createCandidateRepo(candidateInput(seed.repoFullName, seed.headSha))
  const other = await host.createCandidateRepo(candidateInput(seed.repoFullName, seed.headSha))

  const issued = [
    await host.remote.repoCredential(repo.repoFullName, { workflows: false }),
    await host.remote.repoCredential(repo.repoFullName, { workflows: true }),
    await makeHost().remote.repoCredential(repo.repoFullName, { workflows: false }),
  ]
  const untouched = await host.remote.repoCredential(other.repoFullName, { workflows: false })

  // A clone made before the end, to try a push after it.
  const work = mkdtempSync(path.join(tmpdir(), 'takehome-archive-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  const clone = path.join(work, 'clone')
  const cloned = await runGit(['clone', '--quiet', `${double.webUrl}/${repo.repoFullName}.git`, clone], { cwd: work, env: withToken(issued[0]!.password) })
  t.equal(cloned.code, 0, cloned.stderr)

  await host.archive(repo.repoFullName)
  const forRepo = double.tokens().filter((tok) => tok.repositories !== 'all' && tok.repositories.includes(repo.repoFullName) && !('administration' in tok.permissions))
  t.equal(forRepo.length, 3)
  t.ok(forRepo.every((tok) => tok.revoked), 'every token minted for it is revoked')
  t.match(double.repo(repo.repoFullName), { archived: true })
  const ownTokens = double.tokens().filter((tok) => tok.repositories !== 'all' && tok.repositories.includes(repo.repoFullName) && 'administration' in tok.permissions)
  t.ok(ownTokens.length > 0 && ownTokens.every((tok) => tok.revoked), "the host's own token for it is revoked too")
  t.notOk(double.tokens().find((tok) => tok.repositories !== 'all' && tok.repositories.includes(other.repoFullName) && !('administration' in tok.permissions))!.revoked, "another repository's token is not")
  const rows = await db.select().from(githubRepoTokens).where(eq(githubRepoTokens.repoFullName, repo.repoFullName))
  t.ok(rows.length === 3 && rows.every((row) => row.revokedAt !== null), 'recorded as revoked')

  // Refused at once by GitHub, over REST and git.
  for (const credential of issued) {
    const rest = await fetch(`${double.apiUrl}/repos/${repo.repoFullName}`, { headers: { authorization: `token ${credential.password}` } })
    t.equal(rest.status, 401, 'REST refuses the revoked token')
    const listed = await runGit(['ls-remote', `${double.webUrl}/${repo.repoFullName}.git`], { cwd: work, env: withToken(credential.password) })
    t.not(listed.code, 0, 'git refuses it')
  }
  git(clone, 'commit', '--quiet', '--allow-empty', '-m', 'late')
  const late = await runGit(['push', 'origin', 'HEAD:refs/heads/main'], { cwd: clone, env: withToken(issued[0]!.password) })
  t.not(late.code, 0, 'a push after the end fails')
  const stillWorks = await runGit(['ls-remote', `${double.webUrl}/${other.repoFullName}.git`], { cwd: work, env: withToken(untouched.password) })
  t.equal(stillWorks.code, 0)

  // A fresh credential asked after archiving cannot push to it either.
  const fresh = await host.remote.repoCredential(repo.repoFullName, { workflows: false })
  t.not(fresh.password, issued[0]!.password, 'the cache forgot the revoked token')
  const archivedPush = await runGit(['push', 'origin', 'HEAD:refs/heads/main'], { cwd: clone, env: withToken(fresh.password) })
  t.not(archivedPush.code, 0, 'the archived repository refuses pushes')

  await host.archive(repo.repoFullName)
  t.match(double.repo(repo.repoFullName), { archived: true }, 'archiving again is fine')
  await makeHost().archive(repo.repoFullName)
  t.pass('from another process too')
})

t.test('review through the cache gives what the local host gives for the same changes', async (t) => {
  const { double, host, makeHost } = await setup(t)
  const local = createLocalGitHost({ root: mkdtempSync(path.join(tmpdir(), 'takehome-local-host-')) })
  const source = sourceOf(t, { files: { 'README.md': '# Exercise\n', 'src/index.js': 'console.log(1)\n', 'src/old.js': 'old()\n', 'bin/run': '#!/bin/sh\n' } })

  const seedId = randomUUID()
  const [githubSeed, localSeed] = [await host.mirrorSeed({ seedId, source: source.source }), await local.mirrorSeed({ seedId, source: source.source })]
  const input = candidateInput(githubSeed.repoFullName, githubSeed.headSha)
  const onGitHub = await host.createCandidateRepo(input)
  const onLocal = await local.createCandidateRepo({ ...input, seedRepoFullName: localSeed.repoFullName })
  t.equal(onGitHub.baseSha, onLocal.baseSha, 'the same base commit on both hosts')

  // The same candidate work, pushed to each.
  const work = mkdtempSync(path.join(tmpdir(), 'takehome-review-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  const credential = await host.remote.repoCredential(onGitHub.repoFullName, { workflows: false })
  const cloned = await runGit(['clone', '--quiet', `${double.webUrl}/${onGitHub.repoFullName}.git`, work], { cwd: tmpdir(), env: withToken(credential.password) })
  t.equal(cloned.code, 0, cloned.stderr)
  const commitAt = (when: string, message: string) => {
    git(work, 'add', '--all')
    git(work, '-c', `user.name=Candidate`, '-c', 'user.email=candidate@example.com', 'commit', '--quiet', `--date=${when}`, '-m', message)
  }
  writeFileSync(path.join(work, 'src/index.js'), 'console.log(2)\nconsole.log(3)\n')
  renameSync(path.join(work, 'src/old.js'), path.join(work, 'src/new.js'))
  commitAt('2026-03-01T10:00:00Z', 'Change and rename')
  writeFileSync(path.join(work, 'image.bin'), Buffer.from([0, 1, 2, 3, 0, 255]))
  chmodSync(path.join(work, 'bin/run'), 0o755)
  commitAt('2026-03-01T11:00:00Z', 'Binary and a mode change')
  const head = git(work, 'rev-parse', 'HEAD')
  const pushed = await runGit(['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], { cwd: work, env: withToken(credential.password) })
  t.equal(pushed.code, 0, pushed.stderr)
  git(work, 'push', '--quiet', path.join(local.candidatesRoot, `${input.slug}.git`), 'HEAD:refs/heads/main')

  t.equal(await host.headOf(onGitHub.repoFullName), head)
  const githubDiff = await host.diff(onGitHub.repoFullName, onGitHub.baseSha, head, DIFF_LIMITS)
  t.same(githubDiff, await local.diff(onLocal.repoFullName, onLocal.baseSha, head, DIFF_LIMITS), 'the same diff')
  t.same(
    githubDiff.files.map((f) => f.status).sort(),
    ['added', 'modified', 'modified', 'renamed'],
    'with an added binary, a change, a mode change and a rename',
  )
  const commits = await host.commits(onGitHub.repoFullName, onGitHub.baseSha, head)
  t.same(commits, await local.commits(onLocal.repoFullName, onLocal.baseSha, head), 'the same commits')
  t.same(commits.map((c) => c.message), ['Binary and a mode change', 'Change and rename'])
  t.equal(
    await text(await host.rawDiff(onGitHub.repoFullName, onGitHub.baseSha, head, 1024 * 1024)),
    await text(await local.rawDiff(onLocal.repoFullName, onLocal.baseSha, head, 1024 * 1024)),
    'the same raw diff',
  )
  const cut = await text(await host.rawDiff(onGitHub.repoFullName, onGitHub.baseSha, head, 100))
  t.equal(cut, await text(await local.rawDiff(onLocal.repoFullName, onLocal.baseSha, head, 100)), 'cut at the same place with the same note')

  // The cache holds both commits now: reading again asks GitHub nothing.
  const before = double.requests().length
  await host.commits(onGitHub.repoFullName, onGitHub.baseSha, head)
  t.equal(double.requests().length, before)

  // Main moved away from `head` (a force push): another process, with an empty cache, still reads `head` by its id.
  const forced = await runGit(['push', '--quiet', '--force', 'origin', `${onGitHub.baseSha}:refs/heads/main`], { cwd: work, env: withToken(credential.password) })
  t.equal(forced.code, 0, forced.stderr)
  t.same(await makeHost().diff(onGitHub.repoFullName, onGitHub.baseSha, head, DIFF_LIMITS), githubDiff, 'the same diff from a commit no branch reaches')
})

t.test('readiness says what an operator must fix', async (t) => {
  const { double, host, advance } = await setup(t)
  t.same(await host.readiness(), { ok: true })

  double.setInstallation({ installed: false })
  t.same(await host.readiness(), { ok: true }, 'cached for a while')
  advance(31_000)
  const uninstalled = await host.readiness()
  t.same(uninstalled, {
    ok: false,
    reason: `the GitHub App is not installed on ${double.org}: install it from ${double.webUrl}/apps/${double.appSlug}/installations/new`,
  })
  const source = sourceOf(t)
  const err = await rejection(host.mirrorSeed({ seedId: randomUUID(), source: source.source }))
  t.match(err, { statusCode: 503, code: 'git_host_not_ready', expose: true })
  t.equal(err.message, (uninstalled as { reason: string }).reason, 'work that needs GitHub says the same')

  double.setInstallation({ installed: true, permissions: { contents: 'write', metadata: 'read' } })
  advance(31_000)
  t.match(await host.readiness(), { ok: false, reason: new RegExp(`^the GitHub App lacks administration: write on ${double.org}: accept the new permissions`) })

  double.setInstallation({ permissions: { administration: 'write', contents: 'read', metadata: 'read' } })
  advance(31_000)
  t.match(await host.readiness(), { ok: false, reason: /lacks contents: write on/ })

  double.setInstallation({ permissions: { administration: 'write', contents: 'write', metadata: 'read' }, suspended: true })
  advance(31_000)
  t.match(await host.readiness(), { ok: false, reason: /is suspended/ })

  double.setInstallation({ suspended: false })
  advance(31_000)
  t.same(await host.readiness(), { ok: true }, 'workflows: write is not required')
})

t.test('readiness says when GitHub cannot be reached, without retrying for minutes', async (t) => {
  const { double, db } = await setup(t)
  const dataDir = mkdtempSync(path.join(tmpdir(), 'takehome-github-host-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  // A port nothing listens on: the double's own, once it is closed.
  const closed = await startGitHubDouble()
  await closed.close()
  const host = createGitHubHost({
    github: { ...double.config, apiUrl: closed.apiUrl },
    dataDir,
    db,
    tokenPepper: 'test-pepper-0123456789abcdef0123456789',
    logger: pino({ level: 'silent' }),
  })
  t.same(await host.readiness(), { ok: false, reason: `the GitHub API at ${closed.apiUrl} could not be reached` })
})

t.test('without workflows: write, a seed carrying workflows is refused with a message saying so', async (t) => {
  const { double, host } = await setup(t, { permissions: { administration: 'write', contents: 'write', metadata: 'read' } })
  const source = sourceOf(t, { files: { 'README.md': '# Exercise\n', '.github/workflows/ci.yml': 'on: push\n' } })
  const err = await rejection(host.mirrorSeed({ seedId: randomUUID(), source: source.source }))
  t.match(err, { statusCode: 422, code: 'github_workflows_refused', message: /workflows: write/ })
  t.same(double.repos(), [], 'the half-made seed is removed')
  const credentialErr = await rejection(
    (async () => {
      const plain = sourceOf(t)
      const seed = await host.mirrorSeed({ seedId: randomUUID(), source: plain.source })
      const repo = await host.createCandidateRepo(candidateInput(seed.repoFullName, seed.headSha))
      return host.remote.repoCredential(repo.repoFullName, { workflows: true })
    })(),
  )
  t.match(credentialErr, { statusCode: 503, code: 'git_host_not_ready', message: /not granted contents: write, metadata: read, workflows: write/ })
})

t.test('installation tokens never reach a log line or a git argument', async (t) => {
  const { double, host, logLines, gitCalls } = await setup(t)
  const source = sourceOf(t)
  const seed = await host.mirrorSeed({ seedId: randomUUID(), source: source.source })
  const repo = await host.createCandidateRepo(candidateInput(seed.repoFullName, seed.headSha))
  const credential = await host.remote.repoCredential(repo.repoFullName, { workflows: false })
  await host.diff(repo.repoFullName, repo.baseSha, repo.baseSha, DIFF_LIMITS)
  double.failNext(CREATE_REPO, { kind: 'secondary-rate-limit', retryAfterSeconds: 1 })
  await host.createCandidateRepo(candidateInput(seed.repoFullName, seed.headSha))
  await host.archive(repo.repoFullName)

  // The host's own tokens, read back from where it put them: the environment of its git calls.
  const adminTokens = gitCalls.flatMap((call) => {
    const header = call.env?.GIT_CONFIG_VALUE_0
    const basic = header && /^Authorization: Basic (.+)$/.exec(header)?.[1]
    return basic ? [Buffer.from(basic, 'base64').toString('utf8').replace(/^x-access-token:/, '')] : []
  })
  t.ok(adminTokens.length > 0 && adminTokens.every((tok) => tok.startsWith('ghs_')), 'git got its tokens through the environment')
  t.ok(gitCalls.some((call) => call.args[0] === 'push') && gitCalls.some((call) => call.args[0] === 'fetch'), 'pushes and fetches both')
  const secrets = [...new Set([...adminTokens, credential.password])]
  for (const call of gitCalls) {
    t.notOk(call.args.some((arg) => secrets.some((secret) => arg.includes(secret)) || /ghs_/.test(arg)), `no token in: git ${call.args[0]}`)
  }
  t.ok(logLines.length > 0, 'the host logged')
  t.ok(logLines.some((line) => /secondary rate limit/.test(line)), 'including the rate limit')
  t.notOk(logLines.some((line) => secrets.some((secret) => line.includes(secret)) || /ghs_/.test(line)), 'no log line carries a token')
})

t.test("the app's webhook deliveries are listed since a time and redelivered", async (t) => {
  const { double, host } = await setup(t)
  const since = new Date(Date.now() - 1000)
  await double.sendWebhook('ping', { zen: 'Keep it logically awesome.' })
  await double.sendWebhook('push', { ref: 'refs/heads/main' })
  const listed = await host.deliveries.listSince(since)
  t.same(listed.map((d) => d.event), ['push', 'ping'], 'newest first')
  t.same(await host.deliveries.listSince(new Date(Date.now() + 60_000)), [])
  await host.deliveries.redeliver(listed[0]!.id)
  t.match(double.deliveries().at(-1), { event: 'push', guid: listed[0]!.guid, redelivery: true })
})

t.test('createTestServices({ github }) runs start, credential, submit and archive on the GitHub host', async (t) => {
  const double = await startGitHubDouble()
  t.teardown(() => double.close())
  const ts = await createTestServices({ github: double.config })
  t.teardown(() => ts.close())
  t.equal(ts.gitHost.kind, 'github')
  const { services } = ts
  const signup = await services.accounts.signup({ email: 'owner@example.com', password: 'correct horse battery', orgName: 'Acme' })
  if (signup.status !== 'created') throw new Error('the first sign-up creates the org')
  const actor: Actor = { userId: signup.user.id, orgId: signup.org.id, role: 'owner', via: 'session' }
  const source = sourceOf(t)
  const seed = await services.seeds.create(actor, { sourceUrl: source.dir })
  t.match(double.repo(seed.seedRepoFullName), { private: true, isTemplate: true })
  const assessment = await services.assessments.create(actor, { seedId: seed.id, title: 'Backend exercise', timeToStartSeconds: 7 * 86_400, timeToCompleteSeconds: 4 * 3600 })
  const [invitation] = await services.invitations.create(actor, { assessmentId: assessment.id, candidates: [{ email: 'ada@example.com' }] })
  const token = invitation!.startUrl.split('/').pop()!
  const started = await services.candidate.start(token)
  const repoFullName = started.repo!.repoFullName
  t.match(double.repo(repoFullName), { private: true, archived: false })
  t.notMatch(repoFullName, /ada/, 'the name carries nothing of the candidate')
  t.equal(started.repo!.repoHtmlUrl, `${double.webUrl}/${repoFullName}`)
  t.equal(started.repo!.githubRepoId, double.repo(repoFullName)!.id)

  const credential = await ts.gitHost.remote.repoCredential(repoFullName, { workflows: false })
  await services.candidate.submit(token)
  await ts.drain()
  t.match(double.repo(repoFullName), { archived: true }, 'archived on submit')
  const rest = await fetch(`${double.apiUrl}/repos/${repoFullName}`, { headers: { authorization: `token ${credential.password}` } })
  t.equal(rest.status, 401, 'its credential is revoked')

  // Seeds from GitHub URLs: a public repository is copied; our own private ones are read without any token of ours, so refused.
  const template = await double.createRepo('someone/template', { private: false, autoInit: true })
  const fromGitHub = await services.seeds.create(actor, { sourceUrl: `${double.webUrl}/someone/template` })
  t.equal(fromGitHub.latestMainSha, git(template.dir, 'rev-parse', 'refs/heads/main'))
  for (const ours of [repoFullName, seed.seedRepoFullName]) {
    const refused = await rejection(services.seeds.create(actor, { sourceUrl: `${double.webUrl}/${ours}.git` }))
    t.equal(refused.code, 'seed_source_unreachable', `${ours} cannot be a seed source`)
  }
})
