import { randomInt } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { components } from '@octokit/openapi-types'
import { gitIn, githubTime } from './git-read.ts'
import { ARCHIVED_MARKER, installHooks } from './hooks.ts'

/** A repository of the double, as tests see it. */
export interface DoubleRepo {
  id: number
  nodeId: string
  owner: string
  name: string
  fullName: string
  private: boolean
  archived: boolean
  isTemplate: boolean
  defaultBranch: string
  description: string | null
  /** The bare repository on disk. */
  dir: string
  createdAt: Date
  updatedAt: Date
  pushedAt: Date | null
}

type FullRepository = components['schemas']['full-repository']
type SimpleUser = components['schemas']['simple-user']
export type AccountJson = Pick<SimpleUser, 'login' | 'id' | 'node_id' | 'type' | 'html_url' | 'url' | 'avatar_url' | 'site_admin'>
/** The fields of GitHub's repository object the double fills in, with GitHub's types. */
export type RepositoryJson = Pick<
  FullRepository,
  | 'id' | 'node_id' | 'name' | 'full_name' | 'private' | 'html_url' | 'description' | 'fork' | 'url' | 'clone_url'
  | 'git_url' | 'ssh_url' | 'default_branch' | 'archived' | 'disabled' | 'is_template' | 'visibility' | 'created_at'
  | 'updated_at' | 'pushed_at' | 'size' | 'has_issues' | 'has_projects' | 'has_wiki' | 'has_downloads' | 'forks_count'
  | 'stargazers_count' | 'watchers_count' | 'open_issues_count' | 'topics'
> & { owner: AccountJson }

/**
 * GitHub keeps letters, digits, `.`, `-` and `_` in a repository name and turns any other
 * run of characters into one `-` ("hello world" becomes "hello-world").
 */
export function normaliseRepoName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-')
}

/** Why GitHub would refuse this (already normalised) name, if it would. */
export function badRepoName(name: string): string | undefined {
  if (name.length === 0 || /^-+$/.test(name)) return 'name is too short (minimum is 1 character)'
  if (name.length > 100) return 'name is too long (maximum is 100 characters)'
  if (name === '.' || name === '..') return 'name cannot be "." or ".."'
  return undefined
}

/** A stable fake numeric id for an account login (GitHub's are numbers). */
export function accountId(login: string): number {
  let hash = 7
  for (const char of login.toLowerCase()) hash = (hash * 31 + char.charCodeAt(0)) % 90_000_000
  return 10_000_000 + hash
}

export function accountJson(login: string, webUrl: string, apiUrl: string, type: 'Organization' | 'User' | 'Bot'): AccountJson {
  const id = accountId(login)
  return {
    login,
    id,
    node_id: `${type === 'Organization' ? 'O' : type === 'Bot' ? 'BOT' : 'U'}_kgDO${id.toString(36)}`,
    type,
    html_url: `${webUrl}/${login}`,
    url: `${apiUrl}/${type === 'Organization' ? 'orgs' : 'users'}/${login}`,
    avatar_url: `${webUrl}/avatars/${id}`,
    site_admin: false,
  }
}

export function createRepoStore({ root, webUrl, apiUrl, botIdentity }: { root: string; webUrl: string; apiUrl: string; botIdentity: { name: string; email: string } }) {
  // GitHub treats names case-insensitively: `Acme/Repo` and `acme/repo` are one repository.
  const byName = new Map<string, DoubleRepo>()
  let nextId = 700_000_000 + randomInt(1_000_000)

  const key = (fullName: string) => fullName.toLowerCase()

  /**
   * Makes a bare repository as GitHub would serve it. The name is reserved before any await,
   * so two concurrent creations of one name make one repository.
   */
  async function create(owner: string, name: string, options: { private: boolean; description?: string | null; autoInit?: boolean; isTemplate?: boolean }) {
    const fullName = `${owner}/${name}`
    if (byName.has(key(fullName))) return undefined
    const id = nextId++
    const now = new Date()
    const repo: DoubleRepo = {
      id,
      nodeId: `R_kgDO${id.toString(36)}`,
      owner,
      name,
      fullName,
      private: options.private,
      archived: false,
      isTemplate: options.isTemplate ?? false,
      defaultBranch: 'main',
      description: options.description ?? null,
      dir: path.join(root, owner, `${name}.git`),
      createdAt: now,
      updatedAt: now,
      pushedAt: null,
    }
    byName.set(key(fullName), repo)
    try {
      await mkdir(path.dirname(repo.dir), { recursive: true })
      await gitIn(root, ['init', '--bare', '--quiet', '--initial-branch=main', repo.dir])
      for (const [name, value] of [
        ['http.receivepack', 'true'],
        ['uploadpack.allowAnySHA1InWant', 'true'],
        ['uploadpack.allowFilter', 'true'],
      ] as const) {
        await gitIn(repo.dir, ['config', name, value])
      }
      await installHooks(repo.dir)
      if (options.autoInit) await initialCommit(repo)
    } catch (err) {
      byName.delete(key(fullName))
      await rm(repo.dir, { recursive: true, force: true })
      throw err
    }
    return repo
  }

  /** What `auto_init` makes: one commit with a README, by the app's bot. */
  async function initialCommit(repo: DoubleRepo) {
    const readme = `# ${repo.name}\n${repo.description ? `\n${repo.description}\n` : ''}`
    const blob = (await gitIn(repo.dir, ['hash-object', '-w', '--stdin'], { input: readme })).trim()
    const tree = (await gitIn(repo.dir, ['mktree'], { input: `100644 blob ${blob}\tREADME.md\n` })).trim()
    const identity = {
      GIT_AUTHOR_NAME: botIdentity.name,
      GIT_AUTHOR_EMAIL: botIdentity.email,
      GIT_COMMITTER_NAME: 'GitHub',
      GIT_COMMITTER_EMAIL: 'noreply@github.com',
    }
    const commit = (await gitIn(repo.dir, ['commit-tree', tree, '-m', 'Initial commit'], { env: identity })).trim()
    await gitIn(repo.dir, ['update-ref', 'refs/heads/main', commit])
    repo.pushedAt = new Date()
  }

  async function setArchived(repo: DoubleRepo, archived: boolean) {
    repo.archived = archived
    const marker = path.join(repo.dir, ARCHIVED_MARKER)
    if (archived) await writeFile(marker, '')
    else await rm(marker, { force: true })
  }

  async function remove(repo: DoubleRepo) {
    byName.delete(key(repo.fullName))
    await rm(repo.dir, { recursive: true, force: true })
  }

  function json(repo: DoubleRepo): RepositoryJson {
    const html = `${webUrl}/${repo.fullName}`
    return {
      id: repo.id,
      node_id: repo.nodeId,
      name: repo.name,
      full_name: repo.fullName,
      owner: accountJson(repo.owner, webUrl, apiUrl, 'Organization'),
      private: repo.private,
      visibility: repo.private ? 'private' : 'public',
      html_url: html,
      description: repo.description,
      fork: false,
      url: `${apiUrl}/repos/${repo.fullName}`,
      clone_url: `${html}.git`,
      git_url: `${html.replace(/^https?:/, 'git:')}.git`,
      ssh_url: `git@${new URL(webUrl).hostname}:${repo.fullName}.git`,
      default_branch: repo.defaultBranch,
      archived: repo.archived,
      disabled: false,
      is_template: repo.isTemplate,
      created_at: githubTime(repo.createdAt),
      updated_at: githubTime(repo.updatedAt),
      pushed_at: githubTime(repo.pushedAt ?? repo.createdAt),
      size: 0,
      has_issues: true,
      has_projects: true,
      has_wiki: true,
      has_downloads: true,
      forks_count: 0,
      stargazers_count: 0,
      watchers_count: 0,
      open_issues_count: 0,
      topics: [],
    }
  }

  return {
    create,
    setArchived,
    remove,
    json,
    get: (fullName: string) => byName.get(key(fullName)),
    byId: (id: number) => [...byName.values()].find((repo) => repo.id === id),
    all: () => [...byName.values()],
  }
}

export type RepoStore = ReturnType<typeof createRepoStore>
