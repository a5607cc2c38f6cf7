import type { Logger } from 'pino'
import { z } from 'zod'
import { AppError } from '../../errors.ts'
import type { HostReadiness } from '../git-host.ts'
import { type GitHubClients, type GitHubConfig, githubError, requestFailure, statusOf } from './client.ts'

/** What the app needs on the org: create and archive repositories, push their contents. */
export const REQUIRED_PERMISSIONS = { administration: 'write', contents: 'write', metadata: 'read' } as const
/** Wanted, not required: without it, seeds and pushes touching `.github/workflows` are refused by GitHub. */
export const OPTIONAL_PERMISSIONS = { workflows: 'write' } as const

const LEVEL: Record<string, number> = { read: 1, write: 2, admin: 3 }
/** Whether `granted` holds `name` at `level` or above. */
export const grants = (granted: Record<string, string>, name: string, level: string) => (LEVEL[granted[name] ?? ''] ?? 0) >= LEVEL[level]!

/** How long a readiness answer stands: `/readyz` is polled, GitHub's API is not ours to hammer. */
const READINESS_TTL_MS = 30_000

const PROBE_TIMEOUT_MS = 10_000

const installationSchema = z.object({
  id: z.number().int().positive(),
  permissions: z.record(z.string(), z.string()).default({}),
  suspended_at: z.string().nullish(),
})
type Installation = z.infer<typeof installationSchema>

const tokenSchema = z.object({ token: z.string().min(1), expires_at: z.string().transform((v) => new Date(v)) })

export interface MintedToken {
  token: string
  expiresAt: Date
  /** When we received it: GitHub may refuse a token for a moment after minting it. */
  mintedAt: number
}

/**
 * The app's installation on GITHUB_ORG (`GET /orgs/{org}/installation`, app JWT): its id,
 * kept until GitHub stops recognising it, its permissions, and tokens minted from it.
 */
export function createInstallation({ clients, github, logger, now }: { clients: GitHubClients; github: GitHubConfig; logger: Logger; now: () => number }) {
  let cached: { at: number; value: Promise<Installation> } | undefined
  let readiness: { at: number; value: Promise<HostReadiness> } | undefined
  let slug: Promise<string> | undefined

  /** `probe`: no retries and a short time limit, so that /readyz answers while GitHub does not. */
  function lookup(maxAgeMs: number, probe = false): Promise<Installation> {
    if (cached && now() - cached.at <= maxAgeMs) return cached.value
    const value = clients.app
      .request('GET /orgs/{org}/installation', { org: github.org, ...(probe ? { request: { retries: 0, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) } } : {}) })
      .then(({ data }) => installationSchema.parse(data))
    const entry = { at: now(), value }
    cached = entry
    // A failed look-up is not kept: the next caller asks again.
    value.catch(() => {
      if (cached === entry) cached = undefined
    })
    return value
  }

  /** `/apps/<slug>`: where an operator installs the app. Asked once. */
  function appSlug(): Promise<string> {
    slug ??= clients.app.request('GET /app').then(
      ({ data }) => z.object({ slug: z.string().min(1) }).parse(data).slug,
      (err: unknown) => {
        slug = undefined
        throw err
      },
    )
    return slug
  }

  async function check(): Promise<HostReadiness> {
    let installation: Installation
    try {
      installation = await lookup(0, true)
    } catch (err) {
      const status = statusOf(err)
      if (status === 404) {
        const where = await appSlug().then(
          (s) => `install it from ${github.webUrl}/apps/${s}/installations/new`,
          () => `install it from the app's page under ${github.webUrl}/settings/apps`,
        )
        return { ok: false, reason: `the GitHub App is not installed on ${github.org}: ${where}` }
      }
      if (status === 401) {
        return { ok: false, reason: `GitHub refused the app's credentials (401): check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY` }
      }
      logger.warn({ err }, 'GitHub installation look-up failed')
      return {
        ok: false,
        reason: status ? `GitHub answered ${status} when asked for the app's installation on ${github.org}` : `the GitHub API at ${github.apiUrl} could not be reached`,
      }
    }
    if (installation.suspended_at) {
      return { ok: false, reason: `the GitHub App's installation on ${github.org} is suspended: unsuspend it in the organisation's settings (GitHub Apps)` }
    }
    const missing = Object.entries(REQUIRED_PERMISSIONS)
      .filter(([name, level]) => !grants(installation.permissions, name, level))
      .map(([name, level]) => `${name}: ${level}`)
    if (missing.length > 0) {
      return {
        ok: false,
        reason: `the GitHub App lacks ${missing.join(', ')} on ${github.org}: accept the new permissions in the organisation's settings (GitHub Apps → the app → review request), or edit the app's permissions`,
      }
    }
    return { ok: true }
  }

  /** The installation id, looked up once and again after GitHub stops recognising it. */
  async function id(): Promise<number> {
    try {
      return (await lookup(Infinity)).id
    } catch (err) {
      if (statusOf(err) === 404 || statusOf(err) === 401) throw await notReady()
      throw githubError(err, "look up the app's installation")
    }
  }

  /** The readiness reason as an error, for work that cannot start without the installation. */
  async function notReady(): Promise<AppError> {
    const answer = await check()
    return new AppError(503, 'git_host_not_ready', answer.ok ? 'the GitHub App cannot be used right now' : answer.reason, { expose: true })
  }

  return {
    id,

    /** Permissions granted on the org, as last looked up. */
    async permissions(): Promise<Record<string, string>> {
      await id()
      return (await lookup(Infinity)).permissions
    },

    readiness(): Promise<HostReadiness> {
      if (readiness && now() - readiness.at <= READINESS_TTL_MS) return readiness.value
      readiness = { at: now(), value: check() }
      return readiness.value
    },

    /**
     * `POST /app/installations/{id}/access_tokens`: a token for `repositories` (names in the
     * org; every repository when absent) with exactly `permissions`. An installation that
     * GitHub no longer knows (uninstalled and installed again) is looked up once more.
     */
    async mint(scope: { repositories?: string[]; permissions: Record<string, string> }): Promise<MintedToken> {
      for (let attempt = 0; ; attempt++) {
        const installationId = await id()
        try {
          const { data } = await clients.app.request('POST /app/installations/{installation_id}/access_tokens', {
            installation_id: installationId,
            ...(scope.repositories ? { repositories: scope.repositories } : {}),
            permissions: scope.permissions,
          })
          const parsed = tokenSchema.parse(data)
          return { token: parsed.token, expiresAt: parsed.expires_at, mintedAt: now() }
        } catch (err) {
          const failure = requestFailure(err)
          if ((failure?.status === 404 || failure?.status === 401) && attempt === 0) {
            cached = undefined
            continue
          }
          if (failure?.status === 422 && /permission/i.test(failure.message)) {
            // Permissions change on GitHub's side (a grant withdrawn): look them up afresh next time.
            cached = undefined
            const asked = Object.entries(scope.permissions)
              .map(([name, level]) => `${name}: ${level}`)
              .join(', ')
            throw new AppError(503, 'git_host_not_ready', `the GitHub App on ${github.org} was not granted ${asked}: accept the app's permissions in the organisation's settings`, { cause: err, expose: true })
          }
          if (failure?.status === 422 && scope.repositories) {
            throw new AppError(404, 'github_repo_missing', `no repository ${scope.repositories.join(', ')} in ${github.org} for the GitHub App`, { cause: err })
          }
          throw githubError(err, 'issue an installation token')
        }
      }
    },
  }
}

export type GitHubInstallation = ReturnType<typeof createInstallation>
