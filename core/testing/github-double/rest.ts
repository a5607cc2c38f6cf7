import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto'
import type { components } from '@octokit/openapi-types'
import { z } from 'zod'
import { gitIn, githubTime, isEmpty, objectType, readCommit, refSha, type CommitInfo } from './git-read.ts'
import { accountJson, badRepoName, normaliseRepoName, type DoubleRepo } from './repos.ts'
import { appJson, covers, type DoubleState, installationJson, webhookContext } from './state.ts'
import { allows, type InstallationToken, newTokenValue, notGranted } from './tokens.ts'
import { deliveryDetail, deliveryItem } from './webhooks.ts'

export interface RestRequest {
  method: string
  /** The path under the REST root, e.g. `/repos/acme/widgets`. */
  path: string
  /** The route pattern's captures, decoded. */
  params: string[]
  query: URLSearchParams
  body: unknown
  /** The live installation token of the request, on routes that take one. */
  token: InstallationToken | undefined
  /** GitHub's error shape, with this route's documentation link. */
  fail(status: number, message: string, errors?: object[]): RestAnswer
}

export interface RestAnswer {
  status: number
  body?: unknown
  headers?: Record<string, string>
  /** Sent after the answer, as GitHub sends webhooks after the change. */
  webhooks?: Array<{ event: string; payload: object }>
}

/** `jwt`: the app's JWT. `token`: an installation token. `optional-token`: a token, or nobody (public data). */
export type RouteAuth = 'jwt' | 'token' | 'optional-token' | 'none'

export interface Route {
  method: string
  pattern: RegExp
  auth: RouteAuth
  docs: string
  handle(req: RestRequest, state: DoubleState): Promise<RestAnswer> | RestAnswer
}

const DOCS = 'https://docs.github.com/rest'

/** GitHub names the permission that would have done, in `x-accepted-github-permissions`. */
const notAccessible = (req: RestRequest, permission: string, level: string): RestAnswer => ({
  ...req.fail(403, 'Resource not accessible by integration'),
  headers: { 'x-accepted-github-permissions': `${permission}=${level}` },
})

const ok = (body: unknown, status = 200, headers?: Record<string, string>): RestAnswer => ({ status, body, headers })

const SEGMENT = '([^/]+)'
const REPO = `/repos/${SEGMENT}/${SEGMENT}`
const route = (method: string, path: string, auth: RouteAuth, docs: string, handle: Route['handle']): Route => ({
  method,
  pattern: new RegExp(`^${path}$`),
  auth,
  docs: `${DOCS}/${docs}`,
  handle,
})

/**
 * Finds a repository for a request and checks the token may do `need` there. A repository
 * the token does not cover is public data at most: a private one does not exist for it.
 */
function repoAccess(
  req: RestRequest,
  state: DoubleState,
  need?: { permission: string; level: 'read' | 'write' },
): { repo: DoubleRepo; refusal?: undefined } | { refusal: RestAnswer; repo?: undefined } {
  const [owner, name] = req.params as [string, string]
  const repo = state.repos.get(`${owner}/${name}`)
  const covered = repo !== undefined && req.token !== undefined && covers(state, req.token, repo)
  if (!repo || (!covered && repo.private)) return { refusal: req.fail(404, 'Not Found') }
  if (need && !(covered ? allows(req.token!.permissions[need.permission], need.level) : need.level === 'read')) {
    return { refusal: notAccessible(req, need.permission, need.level) }
  }
  return { repo }
}

const accessTokenBody = z.object({
  repositories: z.array(z.string().min(1)).max(500).optional(),
  repository_ids: z.array(z.number().int()).max(500).optional(),
  permissions: z.record(z.string(), z.string()).optional(),
})

const createRepoBody = z.looseObject({
  name: z.string(),
  description: z.string().nullable().optional(),
  private: z.boolean().optional(),
  visibility: z.enum(['public', 'private', 'internal']).optional(),
  auto_init: z.boolean().optional(),
  is_template: z.boolean().optional(),
})

const patchRepoBody = z.looseObject({
  description: z.string().nullable().optional(),
  private: z.boolean().optional(),
  visibility: z.enum(['public', 'private', 'internal']).optional(),
  archived: z.boolean().optional(),
  is_template: z.boolean().optional(),
  default_branch: z.string().min(1).optional(),
})

/** zod's complaint as GitHub words an invalid body. */
function invalid(req: RestRequest, error: z.ZodError): RestAnswer {
  const issue = error.issues[0]
  return req.fail(422, `Invalid request.\n\n${issue ? `"${issue.path.join('.')}" ${issue.message}` : ''}`.trim())
}

type GitCommitJson = components['schemas']['git-commit']
type BranchJson = Pick<components['schemas']['branch-with-protection'], 'name' | 'protected' | 'protection_url' | '_links'> & {
  commit: Pick<components['schemas']['commit'], 'sha' | 'node_id' | 'url' | 'html_url'> & {
    commit: Pick<components['schemas']['commit']['commit'], 'message' | 'author' | 'committer' | 'url'> & { tree: { sha: string; url: string } }
    parents: Array<{ sha: string; url: string }>
  }
}

function gitCommitJson(state: DoubleState, repo: DoubleRepo, c: CommitInfo): GitCommitJson {
  const api = `${state.apiUrl}/repos/${repo.fullName}`
  return {
    sha: c.sha,
    node_id: `C_kwDO${c.sha.slice(0, 12)}`,
    url: `${api}/git/commits/${c.sha}`,
    html_url: `${state.webUrl}/${repo.fullName}/commit/${c.sha}`,
    author: { name: c.author.name, email: c.author.email, date: githubTime(c.author.date) },
    committer: { name: c.committer.name, email: c.committer.email, date: githubTime(c.committer.date) },
    message: c.message,
    tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
    parents: c.parents.map((sha) => ({ sha, url: `${api}/git/commits/${sha}`, html_url: `${state.webUrl}/${repo.fullName}/commit/${sha}` })),
    verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
  }
}

function repositoryWebhook(state: DoubleState, action: string, repo: DoubleRepo, extra: object = {}) {
  return { event: 'repository', payload: { action, ...extra, repository: state.repos.json(repo), ...webhookContext(state) } }
}

const LEVEL = z.enum(['read', 'write', 'admin'])

export const routes: Route[] = [
  route('GET', '/app', 'jwt', 'apps/apps#get-the-authenticated-app', (_req, state) => ok(appJson(state))),

  route('GET', '/app/installations', 'jwt', 'apps/apps#list-installations-for-the-authenticated-app', (_req, state) =>
    ok(state.installation.installed ? [installationJson(state)] : []),
  ),

  route('GET', `/app/installations/${SEGMENT}`, 'jwt', 'apps/apps#get-an-installation-for-the-authenticated-app', (req, state) =>
    state.installation.installed && req.params[0] === String(state.installation.id) ? ok(installationJson(state)) : req.fail(404, 'Not Found'),
  ),

  route('GET', `/orgs/${SEGMENT}/installation`, 'jwt', 'apps/apps#get-an-organization-installation-for-the-authenticated-app', (req, state) =>
    state.installation.installed && req.params[0]!.toLowerCase() === state.org.toLowerCase() ? ok(installationJson(state)) : req.fail(404, 'Not Found'),
  ),

  route('GET', `${REPO}/installation`, 'jwt', 'apps/apps#get-a-repository-installation-for-the-authenticated-app', (req, state) => {
    const repo = state.repos.get(`${req.params[0]}/${req.params[1]}`)
    return state.installation.installed && repo?.owner.toLowerCase() === state.org.toLowerCase() ? ok(installationJson(state)) : req.fail(404, 'Not Found')
  }),

  route('POST', `/app/installations/${SEGMENT}/access_tokens`, 'jwt', 'apps/apps#create-an-installation-access-token-for-an-app', (req, state) => {
    const inst = state.installation
    if (!inst.installed || req.params[0] !== String(inst.id)) return req.fail(404, 'Not Found')
    if (inst.suspended) return req.fail(403, 'This installation has been suspended')
    const parsed = accessTokenBody.safeParse(req.body ?? {})
    if (!parsed.success) return invalid(req, parsed.error)
    const { repositories: names = [], repository_ids: ids = [], permissions } = parsed.data
    const wanted = [...names.map((name) => state.repos.get(`${state.org}/${name}`)), ...ids.map((id) => state.repos.byId(id))]
    if (wanted.some((repo) => repo === undefined || repo.owner.toLowerCase() !== state.org.toLowerCase())) {
      return req.fail(422, 'There is at least one repository that does not exist or is not accessible to the parent installation.')
    }
    if (permissions && (Object.values(permissions).some((level) => !LEVEL.safeParse(level).success) || notGranted(permissions, inst.permissions).length > 0)) {
      return req.fail(422, 'The permissions requested are not granted to this installation.')
    }
    // Metadata comes with every token, asked for or not.
    const granted = permissions ? { ...permissions, ...(inst.permissions.metadata ? { metadata: 'read' } : {}) } : { ...inst.permissions }
    const selected = wanted.length > 0 ? (wanted as DoubleRepo[]) : undefined
    // Whole seconds, as GitHub writes expires_at: nobody may be told a later expiry than the real one.
    const expiresAt = new Date(Math.floor((Date.now() + state.tokenLifetimeMs) / 1000) * 1000)
    const token: InstallationToken = {
      token: newTokenValue(),
      installationId: inst.id,
      repositoryIds: selected ? new Set(selected.map((repo) => repo.id)) : 'all',
      permissions: granted,
      expiresAt,
      revoked: false,
    }
    state.tokens.add(token)
    const body: Omit<components['schemas']['installation-token'], 'repositories'> & { repositories?: unknown[] } = {
      token: token.token,
      expires_at: githubTime(expiresAt),
      // Checked above against LEVEL, so these are GitHub's levels.
      permissions: granted as components['schemas']['app-permissions'],
      repository_selection: selected ? 'selected' : 'all',
      ...(selected ? { repositories: [...new Map(selected.map((repo) => [repo.id, state.repos.json(repo)])).values()] } : {}),
    }
    return ok(body, 201)
  }),

  route('GET', '/app/hook/deliveries', 'jwt', 'apps/webhooks#list-deliveries-for-an-app-webhook', (req, state) => {
    const perPage = Math.min(Math.max(Number.parseInt(req.query.get('per_page') ?? '30', 10) || 30, 1), 100)
    const cursor = /^v1_(\d+)$/.exec(req.query.get('cursor') ?? '')?.[1]
    const newestFirst = state.webhooks.attempts().sort((a, b) => b.id - a.id)
    const from = cursor === undefined ? newestFirst : newestFirst.filter((a) => a.id < Number(cursor))
    const page = from.slice(0, perPage)
    const headers: Record<string, string> = {}
    if (from.length > perPage) {
      headers.link = `<${state.apiUrl}/app/hook/deliveries?per_page=${perPage}&cursor=v1_${page.at(-1)!.id}>; rel="next"`
    }
    return ok(page.map(deliveryItem), 200, headers)
  }),

  route('GET', `/app/hook/deliveries/${SEGMENT}`, 'jwt', 'apps/webhooks#get-a-delivery-for-an-app-webhook', (req, state) => {
    const attempt = /^\d+$/.test(req.params[0]!) ? state.webhooks.get(Number(req.params[0])) : undefined
    return attempt ? ok(deliveryDetail(attempt)) : req.fail(404, 'Not Found')
  }),

  route('POST', `/app/hook/deliveries/${SEGMENT}/attempts`, 'jwt', 'apps/webhooks#redeliver-a-delivery-for-an-app-webhook', (req, state) =>
    /^\d+$/.test(req.params[0]!) && state.webhooks.redeliver(Number(req.params[0])) ? ok({}, 202) : req.fail(404, 'Not Found'),
  ),

  route('DELETE', '/installation/token', 'token', 'apps/installations#revoke-an-installation-access-token', (req) => {
    req.token!.revoked = true
    return { status: 204 }
  }),

  route('GET', '/installation/repositories', 'token', 'apps/installations#list-repositories-accessible-to-the-app-installation', (req, state) => {
    const repos = state.repos.all().filter((repo) => covers(state, req.token!, repo))
    return ok({ total_count: repos.length, repository_selection: req.token!.repositoryIds === 'all' ? 'all' : 'selected', repositories: repos.map(state.repos.json) })
  }),

  route('POST', `/orgs/${SEGMENT}/repos`, 'token', 'repos/repos#create-an-organization-repository', async (req, state) => {
    if (req.params[0]!.toLowerCase() !== state.org.toLowerCase()) return req.fail(404, 'Not Found')
    if (!allows(req.token!.permissions.administration, 'write')) return notAccessible(req, 'administration', 'write')
    const parsed = createRepoBody.safeParse(req.body ?? {})
    if (!parsed.success) return invalid(req, parsed.error)
    const body = parsed.data
    const name = normaliseRepoName(body.name)
    const bad = badRepoName(name)
    const failed = (message: string) => req.fail(422, 'Repository creation failed.', [{ resource: 'Repository', code: 'custom', field: 'name', message }])
    if (bad) return failed(bad)
    const repo = await state.repos.create(state.org, name, {
      private: body.visibility ? body.visibility !== 'public' : (body.private ?? false),
      description: body.description,
      autoInit: body.auto_init,
      isTemplate: body.is_template,
    })
    if (!repo) return failed('name already exists on this account')
    return { status: 201, body: state.repos.json(repo), webhooks: [repositoryWebhook(state, 'created', repo)] }
  }),

  route('GET', REPO, 'optional-token', 'repos/repos#get-a-repository', (req, state) => {
    const { repo, refusal } = repoAccess(req, state)
    return refusal ?? ok(state.repos.json(repo))
  }),

  route('PATCH', REPO, 'token', 'repos/repos#update-a-repository', async (req, state) => {
    const { repo, refusal } = repoAccess(req, state, { permission: 'administration', level: 'write' })
    if (refusal) return refusal
    const parsed = patchRepoBody.safeParse(req.body ?? {})
    if (!parsed.success) return invalid(req, parsed.error)
    const body = parsed.data
    // Only unarchiving gets through to an archived repository.
    if (repo.archived && body.archived !== false) return req.fail(403, 'Repository was archived so is read-only.')
    if (body.default_branch !== undefined && (await refSha(repo.dir, `refs/heads/${body.default_branch}`)) === undefined) {
      return req.fail(422, 'Validation Failed', [{ resource: 'Repository', code: 'invalid', field: 'default_branch' }])
    }
    const webhooks: RestAnswer['webhooks'] = []
    const changes: Record<string, { from: unknown }> = {}
    if (body.description !== undefined && body.description !== repo.description) {
      changes.description = { from: repo.description }
      repo.description = body.description
    }
    if (body.default_branch !== undefined && body.default_branch !== repo.defaultBranch) {
      changes.default_branch = { from: repo.defaultBranch }
      repo.defaultBranch = body.default_branch
      await gitIn(repo.dir, ['symbolic-ref', 'HEAD', `refs/heads/${body.default_branch}`])
    }
    if (body.is_template !== undefined) repo.isTemplate = body.is_template
    const makePrivate = body.visibility ? body.visibility !== 'public' : body.private
    if (makePrivate !== undefined && makePrivate !== repo.private) {
      repo.private = makePrivate
      webhooks.push(repositoryWebhook(state, makePrivate ? 'privatized' : 'publicized', repo))
    }
    if (Object.keys(changes).length > 0) webhooks.push(repositoryWebhook(state, 'edited', repo, { changes }))
    if (body.archived !== undefined && body.archived !== repo.archived) {
      await state.repos.setArchived(repo, body.archived)
      webhooks.push(repositoryWebhook(state, body.archived ? 'archived' : 'unarchived', repo))
    }
    repo.updatedAt = new Date()
    return { status: 200, body: state.repos.json(repo), webhooks }
  }),

  route('DELETE', REPO, 'token', 'repos/repos#delete-a-repository', async (req, state) => {
    const { repo, refusal } = repoAccess(req, state)
    if (refusal) return refusal
    if (!allows(req.token!.permissions.administration, 'write')) return req.fail(403, 'Must have admin rights to Repository.')
    const payload = repositoryWebhook(state, 'deleted', repo)
    await state.repos.remove(repo)
    return { status: 204, webhooks: [payload] }
  }),

  route('GET', `${REPO}/git/commits/${SEGMENT}`, 'optional-token', 'git/commits#get-a-commit-object', async (req, state) => {
    const { repo, refusal } = repoAccess(req, state, { permission: 'contents', level: 'read' })
    if (refusal) return refusal
    if (await isEmpty(repo.dir)) return req.fail(409, 'Git Repository is empty.')
    const commit = await readCommit(repo.dir, req.params[2]!)
    return commit ? ok(gitCommitJson(state, repo, commit)) : req.fail(404, 'Not Found')
  }),

  route('GET', `${REPO}/git/ref/(.+)`, 'optional-token', 'git/refs#get-a-reference', async (req, state) => {
    const { repo, refusal } = repoAccess(req, state, { permission: 'contents', level: 'read' })
    if (refusal) return refusal
    const ref = `refs/${req.params[2]}`
    if (await isEmpty(repo.dir)) return req.fail(409, 'Git Repository is empty.')
    const sha = /^refs\/(heads|tags)\/[\w./-]+$/.test(ref) && !ref.includes('..') ? await refSha(repo.dir, ref) : undefined
    if (!sha) return req.fail(404, 'Not Found')
    const type = (await objectType(repo.dir, sha)) ?? 'commit'
    const api = `${state.apiUrl}/repos/${repo.fullName}`
    return ok({ ref, node_id: `REF_kwDO${sha.slice(0, 12)}`, url: `${api}/git/${ref}`, object: { type, sha, url: `${api}/git/${type}s/${sha}` } } satisfies components['schemas']['git-ref'])
  }),

  route('GET', `${REPO}/branches/(.+)`, 'optional-token', 'branches/branches#get-a-branch', async (req, state) => {
    const { repo, refusal } = repoAccess(req, state, { permission: 'contents', level: 'read' })
    if (refusal) return refusal
    const branch = req.params[2]!
    const sha = /^[\w./-]+$/.test(branch) && !branch.includes('..') ? await refSha(repo.dir, `refs/heads/${branch}`) : undefined
    const commit = sha ? await readCommit(repo.dir, sha) : undefined
    if (!commit) return req.fail(404, 'Branch not found')
    const api = `${state.apiUrl}/repos/${repo.fullName}`
    const body: BranchJson = {
      name: branch,
      commit: {
        sha: commit.sha,
        node_id: `C_kwDO${commit.sha.slice(0, 12)}`,
        url: `${api}/commits/${commit.sha}`,
        html_url: `${state.webUrl}/${repo.fullName}/commit/${commit.sha}`,
        commit: {
          message: commit.message,
          author: { name: commit.author.name, email: commit.author.email, date: githubTime(commit.author.date) },
          committer: { name: commit.committer.name, email: commit.committer.email, date: githubTime(commit.committer.date) },
          tree: { sha: commit.tree, url: `${api}/git/trees/${commit.tree}` },
          url: `${api}/git/commits/${commit.sha}`,
        },
        parents: commit.parents.map((sha) => ({ sha, url: `${api}/commits/${sha}` })),
      },
      _links: { self: `${api}/branches/${branch}`, html: `${state.webUrl}/${repo.fullName}/tree/${branch}` },
      protected: false,
      protection_url: `${api}/branches/${branch}/protection`,
    }
    return ok(body)
  }),

  // Public: the setup script checks the organisation exists before GitHub's form would 404.
  route('GET', `/orgs/${SEGMENT}`, 'none', 'orgs/orgs#get-an-organization', (req, state) =>
    req.params[0]!.toLowerCase() === state.org.toLowerCase() ? ok(accountJson(state.org, state.webUrl, state.apiUrl, 'Organization')) : req.fail(404, 'Not Found'),
  ),

  route('POST', `/app-manifests/${SEGMENT}/conversions`, 'none', 'apps/apps#create-a-github-app-from-a-manifest', (req, state) => {
    const entry = state.manifests.get(req.params[0]!)
    // A code is good once, for an hour.
    state.manifests.delete(req.params[0]!)
    if (!entry || entry.expiresAt < Date.now()) return req.fail(404, 'Not Found')
    const { manifest } = entry
    const name = typeof manifest.name === 'string' ? manifest.name : 'takehome'
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
    const id = randomInt(100_000, 10_000_000)
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const now = githubTime(new Date())
    return ok(
      {
        ...appJson(state),
        id,
        slug,
        node_id: `A_kwDO${id.toString(36)}`,
        name,
        description: typeof manifest.description === 'string' ? manifest.description : null,
        external_url: typeof manifest.url === 'string' ? manifest.url : state.webUrl,
        html_url: `${state.webUrl}/apps/${slug}`,
        created_at: now,
        updated_at: now,
        permissions: (manifest.default_permissions ?? {}) as Record<string, string>,
        events: (manifest.default_events ?? []) as string[],
        installations_count: 0,
        client_id: `Iv23li${randomBytes(7).toString('hex')}`,
        client_secret: randomBytes(20).toString('hex'),
        webhook_secret: randomBytes(20).toString('hex'),
        pem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      },
      201,
    )
  }),
]
