import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, realpath, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { AppError, unprocessable } from '../errors.ts'
import { BIG_FILE_THRESHOLD, redactUrlCredentials, runGit } from '../git.ts'
import type { Commit, GitHost, SeedMirror } from './git-host.ts'

const SHA = /^[0-9a-f]{40}$/
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

  async function git(args: string[], cwd?: string) {
    const result = await runGit(args, { cwd })
    if (result.code !== 0) throw sourceError(result.stderr)
    return result.stdout
  }

  /** git on our own repositories: a failure there is ours, never the caller's input. */
  async function own(args: string[], cwd: string, env?: NodeJS.ProcessEnv) {
    const result = await runGit(args, { cwd, env })
    if (result.code !== 0) {
      throw new AppError(500, 'git_failed', `git ${args[0]} failed`, { details: { stderr: result.stderr.slice(-500) } })
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
  async function fetchDefaultBranch(repoDir: string, source: string): Promise<Omit<SeedMirror, 'repoFullName'>> {
    if (source.startsWith('-')) throw unprocessable('seed_source_invalid', 'source_url must not start with "-"')
    const local = localPath(source)
    if (local !== undefined) await refuseOwnRepositories(local)
    // git is given the path that was checked, absolute: it runs in different directories below.
    const sourceUrl = local ?? source
    const listing = await git(['ls-remote', '--symref', '--', sourceUrl, 'HEAD'])
    const branch = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(listing)?.[1]
    if (!branch) {
      throw unprocessable('seed_source_empty', 'the source repository has no default branch with commits')
    }
    await git(['fetch', '--quiet', '--no-tags', '--force', '--', sourceUrl, `refs/heads/${branch}:refs/heads/main`], repoDir)
    const headSha = (await git(['rev-parse', '--verify', 'refs/heads/main^{commit}'], repoDir)).trim()
    if (!SHA.test(headSha)) throw unprocessable('seed_source_unreadable', 'the source repository did not give a commit')
    return { sourceDefaultBranch: branch, headSha }
  }

  return {
    kind: 'local',
    /** What the gateway serves as GIT_PROJECT_ROOT. */
    candidatesRoot: candidatesDir,

    async mirrorSeed({ seedId, sourceUrl }) {
      await mkdir(seedsDir, { recursive: true })
      const repoFullName = `seeds/${seedId}`
      // Built aside and moved into place, so a failure never leaves a half-made seed behind.
      const staging = path.join(seedsDir, `.staging-${randomUUID()}.git`)
      try {
        await git(['init', '--quiet', '--bare', '--initial-branch=main', staging])
        const mirror = await fetchDefaultBranch(staging, sourceUrl)
        await rename(staging, seedPath(repoFullName))
        return { repoFullName, ...mirror }
      } finally {
        await rm(staging, { recursive: true, force: true })
      }
    },

    async syncSeed({ repoFullName, sourceUrl }) {
      return { repoFullName, ...(await fetchDefaultBranch(seedPath(repoFullName), sourceUrl)) }
    },

    async removeSeed(repoFullName) {
      await rm(seedPath(repoFullName), { recursive: true, force: true })
    },

    async createCandidateRepo({ seedRepoFullName, seedSha, slug, message, date }) {
      const repoFullName = `candidates/${slug}`
      const dir = candidatePath(repoFullName)
      if (existsSync(dir)) {
        const roots = await runGit(['rev-list', '--max-parents=0', 'refs/heads/main'], { cwd: dir })
        const baseSha = roots.stdout.trim().split('\n').pop() ?? ''
        if (roots.code === 0 && SHA.test(baseSha)) return { repoFullName, baseSha }
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
        await rm(dir, { recursive: true, force: true })
        await rename(staging, dir)
      } finally {
        await rm(staging, { recursive: true, force: true })
      }
      return { repoFullName, baseSha }
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

    async diff(repoFullName, base, head) {
      const cwd = repoPath(repoFullName)
      const options = ['--no-color', '--no-ext-diff', '--no-textconv', '--find-renames']
      const [numstat, patch] = await Promise.all([
        own(['diff', ...options, '--numstat', '-z', base, head, '--'], cwd),
        own(['diff', ...options, '--full-index', base, head, '--'], cwd),
      ])
      // Both outputs list files in the same order; -z keeps unusual paths unquoted.
      const patches = patch.split(/^(?=diff --git )/m).filter((p) => p.startsWith('diff --git '))
      return { patch, files: parseNumstat(numstat).map((file, i) => ({ ...file, patch: patches[i] ?? '' })) }
    },

    async commits(repoFullName, base, head) {
      const out = await own(
        ['log', '--no-color', '--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%B%x1e', `${base}..${head}`, '--'],
        repoPath(repoFullName),
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

/** `git diff --numstat -z`: `add\tdel\tpath\0`, or `add\tdel\t\0old\0new\0` for a rename. */
function parseNumstat(out: string) {
  const fields = out.split('\0')
  const files: Array<{ path: string; oldPath: string; additions: number | null; deletions: number | null }> = []
  for (let i = 0; i < fields.length; i++) {
    const match = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(fields[i]!)
    if (!match) continue
    const count = (n: string) => (n === '-' ? null : Number(n))
    const renamed = match[3] === ''
    const oldPath = renamed ? fields[++i]! : match[3]!
    const newPath = renamed ? fields[++i]! : match[3]!
    files.push({ path: newPath, oldPath, additions: count(match[1]!), deletions: count(match[2]!) })
  }
  return files
}

/**
 * The absolute directory a path or `file://` source names; undefined for a remote one
 * (`https://…`, `ssh://…`, `host:path`). git ignores a file URL's host and decodes `%XX`.
 */
function localPath(source: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(source)?.[1]
  if (scheme?.toLowerCase() === 'file') {
    const rest = source.slice('file://'.length)
    const slash = rest.indexOf('/')
    let decoded: string | undefined
    try {
      decoded = slash < 0 ? undefined : decodeURIComponent(rest.slice(slash))
    } catch {
      decoded = undefined
    }
    if (!decoded) throw unprocessable('seed_source_invalid', 'a file:// source_url needs an absolute path, e.g. file:///srv/repo')
    return path.resolve(decoded)
  }
  if (scheme || /^[^/]+:/.test(source)) return undefined
  return path.resolve(source)
}

function sourceError(stderr: string) {
  const reason =
    redactUrlCredentials(stderr)
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-3)
      .join(' ')
      .slice(0, 500) || 'git failed without saying why'
  return unprocessable('seed_source_unreachable', `git could not read the source repository: ${reason}`)
}
