import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { AppError } from '../errors.ts'
import { BIG_FILE_THRESHOLD, runGit } from '../git.ts'
import { boundedDiff, streamRawDiff } from './git-diff.ts'
import type { GitHost } from './git-host.ts'
import { commitBase, fetchDefaultBranch, listCommits, ownGit, SHA, streamZip } from './git-repository.ts'

/** Candidate repository names: what may follow `/r/` in a clone URL. */
export const CANDIDATE_SLUG = /^[a-z0-9][a-z0-9-]{2,80}$/

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
        await ownGit(['init', '--quiet', '--bare', '--initial-branch=main', staging], seedsDir)
        const mirror = await fetchDefaultBranch(staging, source, root)
        await rename(staging, seedPath(repoFullName))
        return { repoFullName, ...mirror }
      } finally {
        await rm(staging, { recursive: true, force: true })
      }
    },

    async syncSeed({ repoFullName, source }) {
      return { repoFullName, ...(await fetchDefaultBranch(seedPath(repoFullName), source, root)) }
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
      const baseSha = await commitBase(seedDir, seedSha, message, date)
      const staging = path.join(candidatesDir, `.staging-${randomUUID()}.git`)
      try {
        await ownGit(['init', '--quiet', '--bare', '--initial-branch=main', staging], candidatesDir)
        // Deleting main would strand the review; force-pushes stay allowed until submit.
        await ownGit(['config', 'receive.denyDeletes', 'true'], staging)
        await ownGit(['config', 'http.receivepack', 'true'], staging)
        // The gateway sets this for every push too; here it also holds for any other way in.
        await ownGit(['config', 'receive.fsckObjects', 'true'], staging)
        await ownGit(['config', 'core.bigFileThreshold', BIG_FILE_THRESHOLD], staging)
        // Only the new root commit's objects travel: the seed's history stays behind.
        await ownGit(['push', '--quiet', staging, `${baseSha}:refs/heads/main`], seedDir)
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
      return (await ownGit(['rev-parse', '--verify', `${sha}^{tree}`], repoPath(repoFullName))).trim()
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
      await ownGit(['config', 'http.receivepack', 'false'], candidatePath(repoFullName))
    },

    async removeCandidateRepo(repoFullName) {
      await rm(candidatePath(repoFullName), { recursive: true, force: true })
    },

    diff(repoFullName, base, head, limits) {
      return boundedDiff(repoPath(repoFullName), base, head, limits)
    },

    rawDiff(repoFullName, base, head, maxBytes) {
      return streamRawDiff(repoPath(repoFullName), base, head, maxBytes)
    },

    commits(repoFullName, base, head) {
      return listCommits(repoPath(repoFullName), base, head)
    },

    zipArchive(repoFullName, sha, maxBytes) {
      return streamZip(repoPath(repoFullName), sha, maxBytes)
    },
  }
}
