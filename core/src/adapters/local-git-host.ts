import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, realpath, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { AppError, unprocessable } from '../errors.ts'
import { BIG_FILE_THRESHOLD, GitLimitError, type GitOptions, runGit } from '../git.ts'
import { readFailure, type SeedSource, seedUnreadable } from '../seed-source.ts'
import { boundedDiff, streamRawDiff } from './git-diff.ts'
import type { Commit, GitHost, SeedMirror } from './git-host.ts'

const SHA = /^[0-9a-f]{40}$/
/** A source's refs listing and fetch: a source that prints without end is stopped, not buffered. */
const SOURCE_CAPS = { maxStdoutBytes: 1024 * 1024, maxStderrBytes: 64 * 1024, timeoutMs: 10 * 60_000 }
/** Commits listed for review, newest first. */
const MAX_COMMITS = 1000
/** Candidate repository names: what may follow `/r/` in a clone URL. */
export const CANDIDATE_SLUG = /^[a-z0-9][a-z0-9-]{2,80}$/

// Candidate repositories' base commits are made by Takehome, not by a person.
const TAKEHOME_IDENTITY = { name: 'Takehome', email: 'takehome@localhost' }

export function createLocalGitHost({ root }: { root: string }): GitHost & { candidatesRoot: string } {
  const seedsDir = path.join(root, 'seeds')
  const candidatesDir = path.join(root, 'candidates')
  const seedPath = (repoFullName: string) => {
    const name = repoFullName.replace(/^seeds\//, '')
    if (!/^[0-9a-f-]{36}$/.test(name)) throw new Error(`not a local seed name: ${repoFullName}`)
    return path.join(seedsDir, `${name}.git`)
  }
  const candidatePath = (repoFullName: string) => {
    const slug = repoFullName.replace(/^candidates\//, '')
    if (!CANDIDATE_SLUG.test(slug)) throw new Error(`not a local candidate repository name: ${repoFullName}`)
    return path.join(candidatesDir, `${slug}.git`)
  }
  const repoPath = (repoFullName: string) =>
    repoFullName.startsWith('seeds/') ? seedPath(repoFullName) : candidatePath(repoFullName)

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
  async function own(args: string[], cwd: string, env?: NodeJS.ProcessEnv, caps?: GitOptions) {
    const result = await runGit(args, { cwd, env, ...caps })
    if (result.code !== 0) {
      throw new AppError(500, 'git_failed', `git ${args[0]} failed`, { cause: new Error(result.stderr.slice(-2000)) })
    }
    return result.stdout
  }

  /**
   * Every org's repositories live under `root`, readable by this process: a source there
   * would copy another org's seed or a candidate's work. Checked on the real path git
   * would open, with the suffixes git tries (`/.git`, `.git`).
   */
  async function refuseOwnRepositories(dir: string) {
    const ownRoot = await realpath(root).catch(() => path.resolve(root))
    for (const candidate of [dir, path.join(dir, '.git'), `${dir}.git`, path.join(`${dir}.git`, '.git')]) {
      const real = await realpath(candidate).catch(() => undefined)
      if (real && (real === ownRoot || real.startsWith(`${ownRoot}${path.sep}`))) {
        throw unprocessable('seed_source_invalid', "source_url must not name one of this server's own repositories")
      }
    }
  }

  /** Asks the source which branch HEAD names, then fetches that branch into `main`. */
  async function fetchDefaultBranch(repoDir: string, source: SeedSource): Promise<Omit<SeedMirror, 'repoFullName'>> {
    if (source.kind === 'local') {
      await refuseOwnRepositories(source.path)
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
    const headSha = (await own(['rev-parse', '--verify', 'refs/heads/main^{commit}'], repoDir)).trim()
    if (!SHA.test(headSha)) throw unprocessable('seed_source_unreadable', 'the source repository did not give a commit')
    return { sourceDefaultBranch: branch, headSha }
  }

  return {
    kind: 'local',
    /** What the gateway serves as GIT_PROJECT_ROOT. */
    candidatesRoot: candidatesDir,

    async readiness() {
      return { ok: true }
    },

    async mirrorSeed({ seedId, source }) {
      await mkdir(seedsDir, { recursive: true })
      const repoFullName = `seeds/${seedId}`
      // Built aside and moved into place, so a failure never leaves a half-made seed behind.
      const staging = path.join(seedsDir, `.staging-${randomUUID()}.git`)
      try {
        await own(['init', '--quiet', '--bare', '--initial-branch=main', staging], seedsDir)
        const mirror = await fetchDefaultBranch(staging, source)
        await rename(staging, seedPath(repoFullName))
        return { repoFullName, ...mirror }
      } finally {
        await rm(staging, { recursive: true, force: true })
      }
    },

    async syncSeed({ repoFullName, source }) {
      return { repoFullName, ...(await fetchDefaultBranch(seedPath(repoFullName), source)) }
    },

    async removeSeed(repoFullName) {
      await rm(seedPath(repoFullName), { recursive: true, force: true })
    },

    async createCandidateRepo({ seedRepoFullName, seedSha, slug, message, date }) {
      const repoFullName = `candidates/${slug}`
      const dir = candidatePath(repoFullName)
      const existingBase = async () => {
        const roots = await runGit(['rev-list', '--max-parents=0', 'refs/heads/main'], { cwd: dir })
        const sha = roots.stdout.trim().split('\n').pop() ?? ''
        return roots.code === 0 && SHA.test(sha) ? sha : undefined
      }
      if (existsSync(dir)) {
        const existing = await existingBase()
        if (existing) return { repoFullName, baseSha: existing, htmlUrl: null, hostRepoId: null }
        // Repositories appear whole (staged, then renamed), so this one is damaged, or git
        // failed reading it: never delete what may hold a candidate's work.
        throw new AppError(500, 'git_failed', `candidate repository ${slug} exists but cannot be read`)
      }
      await mkdir(candidatesDir, { recursive: true })
      const seedDir = seedPath(seedRepoFullName)
      // A fixed identity and date make the base commit the same on every retry.
      const when = `${Math.floor(date.getTime() / 1000)} +0000`
      const baseSha = (
        await own(['commit-tree', `${seedSha}^{tree}`, '-m', message], seedDir, {
          GIT_AUTHOR_NAME: TAKEHOME_IDENTITY.name,
          GIT_AUTHOR_EMAIL: TAKEHOME_IDENTITY.email,
          GIT_AUTHOR_DATE: when,
          GIT_COMMITTER_NAME: TAKEHOME_IDENTITY.name,
          GIT_COMMITTER_EMAIL: TAKEHOME_IDENTITY.email,
          GIT_COMMITTER_DATE: when,
        })
      ).trim()
      const staging = path.join(candidatesDir, `.staging-${randomUUID()}.git`)
      try {
        await own(['init', '--quiet', '--bare', '--initial-branch=main', staging], candidatesDir)
        // Deleting main would strand the review; force-pushes stay allowed until submit.
        await own(['config', 'receive.denyDeletes', 'true'], staging)
        await own(['config', 'http.receivepack', 'true'], staging)
        // The gateway sets this for every push too; here it also holds for any other way in.
        await own(['config', 'receive.fsckObjects', 'true'], staging)
        await own(['config', 'core.bigFileThreshold', BIG_FILE_THRESHOLD], staging)
        // Only the new root commit's objects travel: the seed's history stays behind.
        await own(['push', '--quiet', staging, `${baseSha}:refs/heads/main`], seedDir)
        try {
          await rename(staging, dir)
        } catch (err) {
          // Another replica moved its copy into place first: the same commit, so keep theirs
          // rather than swap a repository out from under a request already reading it.
          const code = (err as NodeJS.ErrnoException).code
          if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || (await existingBase()) !== baseSha) throw err
        }
      } finally {
        await rm(staging, { recursive: true, force: true })
      }
      return { repoFullName, baseSha, htmlUrl: null, hostRepoId: null }
    },

    async treeOf(repoFullName, sha) {
      return (await own(['rev-parse', '--verify', `${sha}^{tree}`], repoPath(repoFullName))).trim()
    },

    async headOf(repoFullName) {
      const result = await runGit(['rev-parse', '--verify', '--quiet', 'refs/heads/main^{commit}'], {
        cwd: repoPath(repoFullName),
      })
      const sha = result.stdout.trim()
      return result.code === 0 && SHA.test(sha) ? sha : null
    },

    async archive(repoFullName) {
      // The gateway already refuses; this makes the repository itself refuse as well.
      await own(['config', 'http.receivepack', 'false'], candidatePath(repoFullName))
    },

    diff(repoFullName, base, head, limits) {
      return boundedDiff(repoPath(repoFullName), base, head, limits)
    },

    rawDiff(repoFullName, base, head, maxBytes) {
      return streamRawDiff(repoPath(repoFullName), base, head, maxBytes)
    },

    async commits(repoFullName, base, head) {
      const out = await own(
        ['log', '--no-color', `--max-count=${MAX_COMMITS}`, '--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%B%x1e', `${base}..${head}`, '--'],
        repoPath(repoFullName),
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
    },
  }
}
