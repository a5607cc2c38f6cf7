// What both git hosts do with a repository on disk: copy a seed source's default branch,
// build a candidate's base commit, list commits for review. The local host does it in the
// repositories it serves; the GitHub host in its local cache of each GitHub repository.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pipeline, type Readable, Transform } from 'node:stream'
import { AppError, unprocessable } from '../errors.ts'
import { GitLimitError, type GitOptions, runGit, streamGit } from '../git.ts'
import { readFailure, type SeedSource, seedUnreadable } from '../seed-source.ts'
import type { Commit, SeedMirror } from './git-host.ts'

export const SHA = /^[0-9a-f]{40}$/
/** A source's refs listing and fetch: a source that prints without end is stopped, not buffered. */
const SOURCE_CAPS = { maxStdoutBytes: 1024 * 1024, maxStderrBytes: 64 * 1024, timeoutMs: 10 * 60_000 }
/** Commits listed for review, newest first. */
const MAX_COMMITS = 1000

// Candidate repositories' base commits are made by Takehome, not by a person.
const TAKEHOME_IDENTITY = { name: 'Takehome', email: 'takehome@localhost' }

/**
 * git reading a seed source: whatever goes wrong is answered with one message and a
 * reason, never with what git printed (paths, hosts, a server's own text).
 */
async function readSource(args: string[], cwd?: string) {
  let result
  try {
    result = await runGit(args, { cwd, ...SOURCE_CAPS })
  } catch (err) {
    if (err instanceof GitLimitError) throw seedUnreadable(err.limit === 'time' ? 'timeout' : 'too_large')
    throw err
  }
  if (result.code !== 0) throw seedUnreadable(readFailure(result.stderr))
  return result.stdout
}

/** git on our own repositories: a failure there is ours, never the caller's input. Its stderr is logged, never answered. */
export async function ownGit(args: string[], cwd: string, env?: NodeJS.ProcessEnv, caps?: GitOptions) {
  const result = await runGit(args, { cwd, env, ...caps })
  if (result.code !== 0) {
    throw new AppError(500, 'git_failed', `git ${args[0]} failed`, { cause: new Error(result.stderr.slice(-2000)) })
  }
  return result.stdout
}

/**
 * Every org's repositories (or our copies of them) live under `root`, readable by this
 * process: a source there would copy another org's seed or a candidate's work. Checked on
 * the real path git would open, with the suffixes git tries (`/.git`, `.git`).
 */
async function refuseOwnRepositories(root: string, dir: string) {
  const ownRoot = await realpath(root).catch(() => path.resolve(root))
  for (const candidate of [dir, path.join(dir, '.git'), `${dir}.git`, path.join(`${dir}.git`, '.git')]) {
    const real = await realpath(candidate).catch(() => undefined)
    if (real && (real === ownRoot || real.startsWith(`${ownRoot}${path.sep}`))) {
      throw unprocessable('seed_source_invalid', "source_url must not name one of this server's own repositories")
    }
  }
}

/**
 * Asks the source which branch HEAD names, then fetches that branch into `repoDir`'s
 * `main`. `ownRoot` holds repositories a local source must not name.
 */
export async function fetchDefaultBranch(repoDir: string, source: SeedSource, ownRoot: string): Promise<Omit<SeedMirror, 'repoFullName'>> {
  if (source.kind === 'local') {
    await refuseOwnRepositories(ownRoot, source.path)
    if (!(await stat(source.path).catch(() => undefined))) throw seedUnreadable('not_found')
  }
  // git is given the path that was checked, absolute: it runs in different directories below.
  const [config, sourceUrl] = source.kind === 'local' ? [[], source.path] : [source.gitConfig, source.url]
  const listing = await readSource([...config, 'ls-remote', '--symref', '--', sourceUrl, 'HEAD'])
  const branch = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(listing)?.[1]
  if (!branch) {
    throw unprocessable('seed_source_empty', 'the source repository has no default branch with commits')
  }
  await readSource([...config, 'fetch', '--quiet', '--no-tags', '--force', '--', sourceUrl, `refs/heads/${branch}:refs/heads/main`], repoDir)
  const headSha = (await ownGit(['rev-parse', '--verify', 'refs/heads/main^{commit}'], repoDir)).trim()
  if (!SHA.test(headSha)) throw unprocessable('seed_source_unreadable', 'the source repository did not give a commit')
  return { sourceDefaultBranch: branch, headSha }
}

/**
 * The candidate's base: one root commit with the tree of `seedSha`, made in `seedDir`. A
 * fixed identity and date make it the same commit on every retry.
 */
export async function commitBase(seedDir: string, seedSha: string, message: string, date: Date): Promise<string> {
  const when = `${Math.floor(date.getTime() / 1000)} +0000`
  return (
    await ownGit(['commit-tree', `${seedSha}^{tree}`, '-m', message], seedDir, {
      GIT_AUTHOR_NAME: TAKEHOME_IDENTITY.name,
      GIT_AUTHOR_EMAIL: TAKEHOME_IDENTITY.email,
      GIT_AUTHOR_DATE: when,
      GIT_COMMITTER_NAME: TAKEHOME_IDENTITY.name,
      GIT_COMMITTER_EMAIL: TAKEHOME_IDENTITY.email,
      GIT_COMMITTER_DATE: when,
    })
  ).trim()
}

/** Commits reachable from `head` and not from `base`, newest first, at most MAX_COMMITS. */
export async function listCommits(repoDir: string, base: string, head: string): Promise<Commit[]> {
  const out = await ownGit(
    ['log', '--no-color', `--max-count=${MAX_COMMITS}`, '--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%B%x1e', `${base}..${head}`, '--'],
    repoDir,
    undefined,
    { maxStdoutBytes: 16 * 1024 * 1024, timeoutMs: 60_000 },
  )
  return out
    .split('\x1e')
    .map((record) => record.replace(/^\n/, ''))
    .filter(Boolean)
    .map((record): Commit => {
      const [sha, authorName, authorEmail, authoredAt, message] = record.split('\x1f') as [string, string, string, string, string]
      return { sha, authorName, authorEmail, authoredAt: new Date(authoredAt), message: message.trim() }
    })
}

/**
 * What a tree's own `.gitattributes` may not do to an archive of it: hide files
 * (`export-ignore`), rewrite them (`export-subst`, `ident`, line ends, filters). The
 * reviewer downloads the commit as it is. `info/attributes` outranks the tree's files.
 */
const VERBATIM_ATTRIBUTES = '* -export-ignore -export-subst -text -eol -ident -filter -working-tree-encoding\n'

/**
 * Puts VERBATIM_ATTRIBUTES in `repoDir`'s `info/attributes` unless they are there already,
 * so a download reads the file and writes nothing. It is the one place that outranks a
 * tree's own `.gitattributes` in our git (2.39: `--attr-source` came in 2.40). Written whole
 * under another name and renamed, so a download running meanwhile reads one or the other.
 */
async function keepVerbatim(repoDir: string) {
  const file = path.join(repoDir, 'info', 'attributes')
  if ((await readFile(file, 'utf8').catch(() => null)) === VERBATIM_ATTRIBUTES) return
  await mkdir(path.dirname(file), { recursive: true })
  const next = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  await writeFile(next, VERBATIM_ATTRIBUTES)
  await rename(next, file)
}

/**
 * The tree of `sha` as a zip, streamed from `git archive` through the capped runner.
 * A zip cut short is a broken file that looks whole, so past `maxBytes` the stream fails
 * instead of ending: the response is aborted and the client sees an incomplete download.
 */
export async function streamZip(repoDir: string, sha: string, maxBytes: number): Promise<Readable> {
  if (!SHA.test(sha)) throw new Error(`not a commit id: ${sha}`)
  await keepVerbatim(repoDir)
  let cut = false
  const zip = await streamGit(['archive', '--format=zip', sha], {
    cwd: repoDir,
    maxStdoutBytes: maxBytes,
    timeoutMs: 10 * 60_000,
    onTruncated: () => {
      cut = true
    },
  })
  const whole = new Transform({
    transform: (chunk: Buffer, _encoding, callback) => callback(null, chunk),
    flush: (callback) =>
      callback(cut ? new AppError(413, 'archive_too_large', `the archive is larger than ${maxBytes} bytes and was stopped`) : null),
  })
  // Errors travel to `whole`, which the response reads; a reader that goes away stops git.
  pipeline(zip, whole, () => {})
  return whole
}
