import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { z } from 'zod'
import type { Db } from '../../db/client.ts'
import { AppError } from '../../errors.ts'
import { runGit } from '../../git.ts'
import { boundedDiff, streamRawDiff } from '../git-diff.ts'
import type { GitHost, RemoteRepositories } from '../git-host.ts'
import { commitBase, fetchDefaultBranch, listCommits, ownGit, SHA, streamZip } from '../git-repository.ts'
import { CANDIDATE_SLUG } from '../local-git-host.ts'
import type { WebhookDeliveryLog } from '../webhook-deliveries.ts'
import { createGitHubClients, DEFAULT_PACING, type GitHubConfig, githubError, type GitHubPacing, requestFailure, statusOf } from './client.ts'
import { createWebhookDeliveryLog } from './deliveries.ts'
import { createInstallation, grants, type MintedToken, OPTIONAL_PERMISSIONS, REQUIRED_PERMISSIONS } from './installation.ts'
import { createPacer } from './pacer.ts'
import { createRepoTokens, createTokenCache, revokeToken } from './repo-tokens.ts'
import { createTokenVault } from './token-vault.ts'

export interface GitHubHostDeps {
  github: GitHubConfig
  /** DATA_DIR: our copy of each repository lives under DATA_DIR/github/<org>/<name>.git. */
  dataDir: string
  /** Where minted candidate tokens are recorded (`github_repo_tokens`). */
  db: Db
  /** TOKEN_PEPPER: recorded tokens are encrypted under a key derived from it. */
  tokenPepper: string
  logger: Logger
  pacing?: GitHubPacing
  /** Wall-clock milliseconds: GitHub's token expiries are real times. */
  now?: () => number
  /** The git runner; every call that carries a token goes through it. */
  git?: typeof runGit
}

export type GitHubHost = GitHost & {
  readonly kind: 'github'
  readonly remote: RemoteRepositories
  /** The app's webhook deliveries, for the redelivery job. */
  readonly deliveries: WebhookDeliveryLog
}

/** Fetches and pushes to GitHub: a slow network or a large seed is stopped, not waited on forever. */
const REMOTE_CAPS = { timeoutMs: 10 * 60_000, maxStdoutBytes: 1024 * 1024, maxStderrBytes: 64 * 1024 }
/** GitHub may refuse a token for a moment after minting it: retries of its first use, and their spacing. */
const FRESH_TOKEN_RETRIES = 3
const FRESH_TOKEN_GRACE_MS = 10_000
const FRESH_TOKEN_BACKOFF_MS = 500
const UNAUTHORIZED = /returned error: 401|Authentication failed|could not read Username|Invalid username or password/i

const repoSchema = z.object({
  id: z.number().int(),
  html_url: z.string(),
  private: z.boolean(),
  archived: z.boolean(),
  owner: z.object({ login: z.string() }),
})
type Repo = z.infer<typeof repoSchema>
const refSchema = z.object({ object: z.object({ sha: z.string() }) })
const commitSchema = z.object({ tree: z.object({ sha: z.string() }), parents: z.array(z.object({ sha: z.string() })) })

const validationSchema = z.object({ message: z.string().optional(), errors: z.array(z.object({ message: z.string().optional() })).optional() })

/** GitHub's 422 for a repository name in use: "name already exists on this account", in its `errors`. */
function nameTaken(err: unknown): boolean {
  if (statusOf(err) !== 422) return false
  const body = validationSchema.safeParse((err as { response?: { data?: unknown } }).response?.data)
  if (!body.success) return false
  return [body.data.message, ...(body.data.errors ?? []).map((e) => e.message)].some((m) => m !== undefined && /already exists/i.test(m))
}

/** git answered 401: the token is not (or not yet) accepted. */
class GitUnauthorized extends Error {}

/** GitHub has no such repository (or commit), or not yet: a repository made a moment ago may be 404 for a while. */
const isMissing = (err: unknown) => statusOf(err) === 404 || (err instanceof AppError && err.statusCode === 404)

/** Calls for one key run one after another (git fetches into one cache, which lock their refs). */
function createLocks() {
  const tails = new Map<string, Promise<unknown>>()
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(work, work)
    const tail = run.catch(() => undefined)
    tails.set(key, tail)
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key)
    })
    return run
  }
}

/**
 * The GitHub App host. Seeds and candidate repositories are private repositories in
 * GITHUB_ORG, written with git over smart HTTP and managed over REST, always with
 * installation tokens of the host's own (never a candidate's).
 *
 * Review reads a local copy: each repository has a bare cache under DATA_DIR/github, filled
 * by fetching from GitHub, and the diff and commits come from it with the same code as the
 * local host. The compare API was the other way; it caps the files it lists and gives no
 * modes, so its answers could not have the local host's shapes and truncation rules.
 */
export function createGitHubHost(deps: GitHubHostDeps): GitHubHost {
  const { github, db, logger } = deps
  const pacing = deps.pacing ?? DEFAULT_PACING
  const now = deps.now ?? Date.now
  const git = deps.git ?? runGit
  const log = logger.child({ component: 'github-host' })
  const org = github.org
  const clients = createGitHubClients({ github, logger, pacing })
  const installation = createInstallation({ clients, github, logger: log, now })
  const creations = createPacer(pacing.creations)
  const locked = createLocks()
  const adminTokens = createTokenCache(now)
  const cacheRoot = path.join(deps.dataDir, 'github')
  const orgCache = path.join(cacheRoot, org)

  /** The repository's name in the org; anything else is a bug of ours, not input. */
  function nameOf(repoFullName: string): string {
    const [owner, name, ...rest] = repoFullName.split('/')
    if (owner?.toLowerCase() !== org.toLowerCase() || rest.length > 0 || !name || !/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(name)) {
      throw new Error(`not a repository of ${org}: ${repoFullName}`)
    }
    return name
  }
  const cloneUrl = (repoFullName: string) => `${github.webUrl}/${repoFullName}.git`
  const cacheDir = (repoFullName: string) => path.join(orgCache, `${nameOf(repoFullName)}.git`)
  const auth = (token: string) => ({ authorization: `token ${token}` })
  const repoRoute = (repoFullName: string) => ({ owner: org, repo: nameOf(repoFullName) })

  const repoTokens = createRepoTokens({
    db,
    vault: createTokenVault(deps.tokenPepper),
    installation,
    clients,
    logger: log,
    now,
    nameOf,
  })

  /**
   * The host's own token: org-wide with `administration: write` to create repositories, or
   * scoped to one repository to fill, read and archive it (with `workflows: write` when the
   * installation has it, since seeds carry workflow files).
   */
  function adminToken(repoFullName: string | null): Promise<MintedToken> {
    return adminTokens.get(repoFullName ?? '', async () => {
      if (repoFullName === null) return installation.mint({ permissions: { administration: 'write', metadata: 'read' } })
      const workflows = grants(await installation.permissions(), 'workflows', OPTIONAL_PERMISSIONS.workflows)
      return installation.mint({
        repositories: [nameOf(repoFullName)],
        permissions: { ...REQUIRED_PERMISSIONS, ...(workflows ? OPTIONAL_PERMISSIONS : {}) },
      })
    })
  }

  /**
   * Work done with an admin token. A 401 from a token minted moments ago is GitHub not
   * having it everywhere yet: the same token is tried again shortly. An older token that is
   * refused was revoked or expired: a new one is minted.
   */
  async function asAdmin<T>(repoFullName: string | null, work: (token: string) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const minted = await adminToken(repoFullName)
      try {
        return await work(minted.token)
      } catch (err) {
        const unauthorized = err instanceof GitUnauthorized || statusOf(err) === 401
        if (!unauthorized) throw err
        if (attempt >= FRESH_TOKEN_RETRIES) throw new AppError(502, 'github_unauthorized', "GitHub refused the app's installation token", { cause: err })
        if (now() - minted.mintedAt < FRESH_TOKEN_GRACE_MS) await sleep(FRESH_TOKEN_BACKOFF_MS * (attempt + 1))
        else await adminTokens.drop((key) => key === (repoFullName ?? ''))
      }
    }
  }

  /**
   * git against GitHub with an installation token. The token travels in the environment
   * (an `http.extraHeader` given through GIT_CONFIG_*), never in arguments or URLs, which
   * `ps` shows to anyone on the machine. runGit already empties credential.helper and turns
   * terminal prompts off, so git neither stores the token nor asks for another.
   */
  async function remoteGit(args: string[], cwd: string, token: string): Promise<void> {
    const result = await git(args, {
      cwd,
      ...REMOTE_CAPS,
      env: {
        GIT_CONFIG_COUNT: '2',
        GIT_CONFIG_KEY_0: 'http.extraHeader',
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
        // The header would follow a redirect to another host.
        GIT_CONFIG_KEY_1: 'http.followRedirects',
        GIT_CONFIG_VALUE_1: 'false',
      },
    })
    if (result.code === 0) return
    const stderr = result.stderr.slice(-2000)
    if (UNAUTHORIZED.test(stderr)) throw new GitUnauthorized(`git ${args[0]} was refused`, { cause: new Error(stderr) })
    if (/Repository not found|repository '[^']*' not found|returned error: 404/i.test(stderr)) {
      throw new AppError(404, 'github_repo_missing', `GitHub has no repository to ${args[0]}`, { cause: new Error(stderr) })
    }
    if (args[0] === 'push' && /workflow/i.test(stderr)) {
      throw new AppError(
        422,
        'github_workflows_refused',
        `GitHub refused files under .github/workflows: the GitHub App needs workflows: write on ${org} (accept it in the organisation's settings), or remove the workflows from the seed`,
        { cause: new Error(stderr) },
      )
    }
    throw new AppError(502, 'github_git_failed', `git ${args[0]} with GitHub failed`, { cause: new Error(stderr) })
  }

  /**
   * Work on a repository just made. GitHub answers 404 for it until every replica knows it
   * (as it does for a token just minted): such an answer is waited out briefly.
   */
  async function onceVisible<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await work()
      } catch (err) {
        if (!isMissing(err)) throw err
        if (attempt >= FRESH_TOKEN_RETRIES) throw new AppError(502, 'github_failed', 'GitHub did not show the new repository in time', { cause: err })
        await sleep(FRESH_TOKEN_BACKOFF_MS * (attempt + 1))
      }
    }
  }

  const push = (dir: string, repoFullName: string, refspec: string, force: boolean) =>
    asAdmin(repoFullName, (token) => remoteGit(['push', '--quiet', ...(force ? ['--force'] : []), cloneUrl(repoFullName), refspec], dir, token))

  const fetchInto = (dir: string, repoFullName: string, refspecs: string[]) =>
    asAdmin(repoFullName, (token) => remoteGit(['fetch', '--quiet', '--no-tags', '--force', '--', cloneUrl(repoFullName), ...refspecs], dir, token))

  async function ensureCache(dir: string) {
    if (existsSync(path.join(dir, 'HEAD'))) return
    await mkdir(path.dirname(dir), { recursive: true })
    await ownGit(['init', '--quiet', '--bare', '--initial-branch=main', dir], path.dirname(dir))
  }

  /** Which of `shas` the cache does not hold as commits. */
  async function missingCommits(dir: string, shas: string[]): Promise<string[]> {
    const wanted = [...new Set(shas)]
    const result = await git(['cat-file', '--batch-check=%(objecttype)'], { cwd: dir, input: wanted.map((s) => `${s}^{commit}\n`).join('') })
    if (result.code !== 0) return wanted
    const answers = result.stdout.split('\n')
    return wanted.filter((_sha, i) => answers[i] !== 'commit')
  }

  /**
   * The cache of a repository holding `shas`: fetched from GitHub (`main`, then any SHA
   * still missing, which GitHub serves by id) only when something is missing, since
   * commits never change.
   */
  function cacheWith(repoFullName: string, shas: string[]): Promise<string> {
    const dir = cacheDir(repoFullName)
    return locked(dir, async () => {
      await ensureCache(dir)
      if ((await missingCommits(dir, shas)).length === 0) return dir
      await fetchInto(dir, repoFullName, ['+refs/heads/main:refs/heads/main'])
      const missing = (await missingCommits(dir, shas)).filter((sha) => SHA.test(sha))
      // Kept under refs of their own: commits no branch reaches (a force-pushed-over final SHA) would be pruned by gc.
      if (missing.length > 0) await fetchInto(dir, repoFullName, missing.map((sha) => `${sha}:refs/kept/${sha}`))
      return dir
    })
  }

  const getRepo = (repoFullName: string, token: string) =>
    clients.rest.request('GET /repos/{owner}/{repo}', { ...repoRoute(repoFullName), headers: auth(token) }).then(({ data }) => repoSchema.parse(data))

  /**
   * A new private repository in the org. A name already taken is looked up: a retry whose
   * first attempt GitHub carried out (a 502 after the repository was made, a crash) finds
   * it there, and keeps it when it is private and in our org, so retries never make two.
   */
  function createRepository(name: string, description: string): Promise<Repo> {
    const repoFullName = `${org}/${name}`
    return asAdmin(null, async (token) => {
      try {
        const { data } = await clients.rest.request('POST /orgs/{org}/repos', {
          org,
          name,
          description,
          private: true,
          auto_init: false,
          has_issues: false,
          has_projects: false,
          has_wiki: false,
          headers: auth(token),
        })
        log.info({ repo: repoFullName }, 'GitHub repository created')
        return repoSchema.parse(data)
      } catch (err) {
        if (!nameTaken(err)) throw githubError(err, 'create a repository')
      }
      const existing = await getRepo(repoFullName, token).catch((err: unknown) => {
        throw githubError(err, 'read a repository')
      })
      if (existing.owner.login.toLowerCase() !== org.toLowerCase() || !existing.private) {
        throw new AppError(500, 'github_repo_name_taken', `${repoFullName} exists and is not a private repository of ${org}`)
      }
      log.info({ repo: repoFullName }, 'GitHub repository already made by an earlier attempt: adopted')
      return existing
    })
  }

  async function deleteRepository(repoFullName: string) {
    try {
      await asAdmin(repoFullName, (token) => clients.rest.request('DELETE /repos/{owner}/{repo}', { ...repoRoute(repoFullName), headers: auth(token) }))
    } catch (err) {
      if (isMissing(err)) return
      throw githubError(err, 'delete a repository')
    }
    await adminTokens.drop((key) => key === repoFullName)
  }

  async function headOf(repoFullName: string): Promise<string | null> {
    try {
      return await asAdmin(repoFullName, async (token) => {
        // The ref's path is written out: a templated `{ref}` would encode its slash.
        const { data } = await clients.rest.request(`GET /repos/{owner}/{repo}/git/ref/heads/main`, { ...repoRoute(repoFullName), headers: auth(token) })
        const sha = refSchema.parse(data).object.sha
        return SHA.test(sha) ? sha : null
      })
    } catch (err) {
      // 404: no main; 409: the repository is empty.
      if (statusOf(err) === 404 || statusOf(err) === 409) return null
      throw githubError(err, "read a repository's main branch")
    }
  }

  async function commitOf(repoFullName: string, sha: string) {
    try {
      return await asAdmin(repoFullName, async (token) => {
        const { data } = await clients.rest.request('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', {
          ...repoRoute(repoFullName),
          commit_sha: sha,
          headers: auth(token),
        })
        return commitSchema.parse(data)
      })
    } catch (err) {
      if (statusOf(err) === 404) throw new AppError(404, 'github_commit_missing', `GitHub has no commit ${sha} in ${repoFullName}`, { cause: err })
      throw githubError(err, 'read a commit')
    }
  }

  /**
   * `main` already exists and is not the base we would push: a replica or an earlier attempt
   * got there with another base. Kept only when its history starts from one root commit with
   * the seed's tree; anything else may hold work and is never replaced.
   */
  async function existingBase(repoFullName: string, seedTree: string): Promise<string> {
    const dir = cacheDir(repoFullName)
    await locked(dir, async () => {
      await ensureCache(dir)
      await fetchInto(dir, repoFullName, ['+refs/heads/main:refs/heads/main'])
    })
    const roots = (await ownGit(['rev-list', '--max-parents=0', 'refs/heads/main'], dir)).trim().split('\n').filter(Boolean)
    const root = roots.length === 1 ? roots[0]! : undefined
    if (root && (await ownGit(['rev-parse', '--verify', `${root}^{tree}`], dir)).trim() === seedTree) return root
    throw new AppError(500, 'repo_tree_mismatch', `${repoFullName} already exists with a main branch that does not start from the seed`)
  }

  /** Copies the cache's `main` (the source's default branch) to the seed repository's `main`. */
  const publishSeed = (dir: string, repoFullName: string) => push(dir, repoFullName, 'refs/heads/main:refs/heads/main', true)

  return {
    kind: 'github',

    remote: {
      gitHost: new URL(github.webUrl).host,
      cloneUrl,
      htmlUrl: (repoFullName) => `${github.webUrl}/${repoFullName}`,
      compareUrl: (repoFullName, base, head) => `${github.webUrl}/${repoFullName}/compare/${base}...${head}`,
      repoCredential: (repoFullName, options) => repoTokens.credential(repoFullName, options),
    },

    deliveries: createWebhookDeliveryLog(clients),

    readiness: () => installation.readiness(),

    async mirrorSeed({ seedId, source }) {
      const hex = seedId.replace(/-/g, '').toLowerCase()
      const name = `seed-${/^[0-9a-f]{12}/.test(hex) ? hex.slice(0, 12) : randomBytes(6).toString('hex')}`
      const repoFullName = `${org}/${name}`
      const dir = cacheDir(repoFullName)
      // The source is read first: one we cannot read leaves nothing behind on GitHub. It
      // is fetched without any token of ours, so a URL naming one of our private
      // repositories is refused by GitHub like any stranger's request.
      const mirror = await locked(dir, async () => {
        await ensureCache(dir)
        return fetchDefaultBranch(dir, source, cacheRoot)
      })
      let created = false
      try {
        await creations.run(async () => {
          await createRepository(name, 'Takehome seed: candidates start from a copy of it')
          created = true
          await onceVisible(() => locked(dir, () => publishSeed(dir, repoFullName)))
          await onceVisible(() =>
            asAdmin(repoFullName, (token) =>
              clients.rest.request('PATCH /repos/{owner}/{repo}', { ...repoRoute(repoFullName), is_template: true, headers: auth(token) }),
            ),
          ).catch((err: unknown) => {
            throw githubError(err, 'mark the seed as a template')
          })
        })
      } catch (err) {
        if (created) await deleteRepository(repoFullName).catch((cleanup: unknown) => log.error({ err: cleanup, repo: repoFullName }, 'removing a half-made seed failed'))
        await rm(dir, { recursive: true, force: true })
        throw err
      }
      return { repoFullName, ...mirror }
    },

    async syncSeed({ repoFullName, source }) {
      const dir = cacheDir(repoFullName)
      return locked(dir, async () => {
        await ensureCache(dir)
        const mirror = await fetchDefaultBranch(dir, source, cacheRoot)
        await publishSeed(dir, repoFullName)
        return { repoFullName, ...mirror }
      })
    },

    async removeSeed(repoFullName) {
      await deleteRepository(repoFullName)
      await rm(cacheDir(repoFullName), { recursive: true, force: true })
    },

    async createCandidateRepo({ seedRepoFullName, seedSha, slug, message, date }) {
      if (!CANDIDATE_SLUG.test(slug)) throw new Error(`not a candidate repository name: ${slug}`)
      const repoFullName = `${org}/${slug}`
      const seedDir = await cacheWith(seedRepoFullName, [seedSha])
      const seedTree = (await ownGit(['rev-parse', '--verify', `${seedSha}^{tree}`], seedDir)).trim()
      const baseSha = await commitBase(seedDir, seedSha, message, date)
      return creations.run(async () => {
        const repo = await createRepository(slug, 'Takehome candidate repository')
        const head = await headOf(repoFullName)
        let base = baseSha
        if (head === null || head === baseSha) {
          // Only the new root commit's objects travel: the seed's history stays behind. A
          // push that finds main at the same commit (a retry) changes nothing and succeeds.
          await onceVisible(() => locked(seedDir, () => push(seedDir, repoFullName, `${baseSha}:refs/heads/main`, false)))
        } else {
          base = await existingBase(repoFullName, seedTree)
        }
        // What GitHub now holds, checked before anyone is given access to it.
        const commit = await onceVisible(async () => {
          const [found, main] = await Promise.all([commitOf(repoFullName, base), headOf(repoFullName)])
          if (main === null) throw new AppError(404, 'github_repo_missing', `${repoFullName} has no main branch`)
          return found
        })
        if (commit.tree.sha !== seedTree || commit.parents.length > 0) {
          throw new AppError(500, 'repo_tree_mismatch', `${repoFullName} does not start from one commit with the tree of seed ${seedSha}`)
        }
        return { repoFullName, baseSha: base, htmlUrl: repo.html_url, hostRepoId: repo.id }
      })
    },

    async treeOf(repoFullName, sha) {
      return (await commitOf(repoFullName, sha)).tree.sha
    },

    headOf,

    async archive(repoFullName) {
      const revoked = await repoTokens.revokeAll(repoFullName)
      try {
        await asAdmin(repoFullName, async (token) => {
          if ((await getRepo(repoFullName, token)).archived) return
          try {
            await clients.rest.request('PATCH /repos/{owner}/{repo}', { ...repoRoute(repoFullName), archived: true, headers: auth(token) })
          } catch (err) {
            // GitHub refuses every PATCH but unarchiving on an archived repository: archived already.
            if (!(statusOf(err) === 403 && /archived/i.test(requestFailure(err)!.message))) throw err
          }
        })
      } catch (err) {
        if (isMissing(err)) {
          log.warn({ repo: repoFullName }, 'archiving: the repository is not on GitHub any more')
          return
        }
        throw githubError(err, 'archive a repository')
      }
      // A candidate token minted while this ran was recorded after the first pass: a second
      // one catches it. Our own token for the repository goes too, so nothing minted for it
      // can write once it is archived.
      const late = await repoTokens.revokeAll(repoFullName)
      const own = await adminTokens.take(repoFullName)
      if (own) await revokeToken(clients, own.token)
      log.info({ repo: repoFullName, tokens_revoked: revoked + late + (own ? 1 : 0) }, 'GitHub repository archived')
    },

    async removeCandidateRepo(repoFullName) {
      // Erasure deletes rather than archives: an archived repository still holds the work.
      await repoTokens.revokeAll(repoFullName)
      await deleteRepository(repoFullName)
      await rm(cacheDir(repoFullName), { recursive: true, force: true })
    },

    async diff(repoFullName, base, head, limits) {
      return boundedDiff(await cacheWith(repoFullName, [base, head]), base, head, limits)
    },

    async rawDiff(repoFullName, base, head, maxBytes) {
      return streamRawDiff(await cacheWith(repoFullName, [base, head]), base, head, maxBytes)
    },

    async commits(repoFullName, base, head) {
      return listCommits(await cacheWith(repoFullName, [base, head]), base, head)
    },

    async zipArchive(repoFullName, sha, maxBytes) {
      return streamZip(await cacheWith(repoFullName, [sha]), sha, maxBytes)
    },
  }
}
