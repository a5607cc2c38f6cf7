import { createAppAuth } from '@octokit/auth-app'
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'
import { Octokit } from '@octokit/rest'
import type { Logger } from 'pino'
import type { Config } from '../../config.ts'
import { AppError } from '../../errors.ts'
import { createPacer, type Pace } from './pacer.ts'

export type GitHubConfig = NonNullable<Config['github']>

/** How hard we lean on GitHub. Production uses DEFAULT_PACING; tests shorten the waits. */
export interface GitHubPacing {
  /** Repository creations: GitHub asks for at most 80 content-creating requests a minute. */
  creations: Pace
  /** Least time between two other writes (POST, PATCH, DELETE): GitHub asks for a second. */
  writeIntervalMs: number
  /** What one second of `retry-after` or `x-ratelimit-reset`, and one unit of the 5xx backoff (1, 4, 9), last in milliseconds. */
  retryAfterBaseMs: number
}

export const DEFAULT_PACING: GitHubPacing = {
  creations: { intervalMs: 1000, maxInFlight: 4 },
  writeIntervalMs: 1000,
  retryAfterBaseMs: 1000,
}

/** Retries of one request after GitHub's secondary rate limit, each after its `retry-after`. */
const SECONDARY_LIMIT_RETRIES = 4
/** A primary limit resetting later than this fails the request instead of holding it. */
const LONGEST_RESET_WAIT_S = 60
/** No GitHub request may hang: a connection that stops answering is cut. */
const REQUEST_TIMEOUT_MS = 30_000

const GitHubOctokit = Octokit.plugin(retry, throttling)
export type GitHubOctokit = InstanceType<typeof GitHubOctokit>
type ThrottleOptions = NonNullable<ConstructorParameters<typeof GitHubOctokit>[0]>['throttle']

/**
 * The two clients the host uses: `app` authenticates as the GitHub App (a JWT signed with
 * its key) for /app and installation look-ups; `rest` carries no credential of its own, and
 * each call passes the installation token it acts with.
 */
export function createGitHubClients({ github, logger, pacing }: { github: GitHubConfig; logger: Logger; pacing: GitHubPacing }) {
  const log = logger.child({ component: 'github' })
  const writes = createPacer({ intervalMs: pacing.writeIntervalMs, maxInFlight: Infinity })
  // The throttling plugin spaces writes through a queue of this shape; ours takes its
  // spacing from `pacing` instead of the plugin's fixed second.
  const writeQueue = { schedule: <T>(_options: unknown, task: () => Promise<T>) => writes.run(task) }
  const throttle: ThrottleOptions = {
    retryAfterBaseValue: pacing.retryAfterBaseMs,
    write: { key: () => writeQueue } as unknown as NonNullable<ThrottleOptions>['write'],
    onSecondaryRateLimit: (retryAfter, options, _octokit, retryCount) => {
      log.warn({ method: options.method, url: options.url, retry_after_s: retryAfter, retry: retryCount + 1 }, 'GitHub secondary rate limit: waiting')
      return retryCount < SECONDARY_LIMIT_RETRIES
    },
    onRateLimit: (retryAfter, options, _octokit, retryCount) => {
      const wait = retryCount < 1 && retryAfter <= LONGEST_RESET_WAIT_S
      log.warn({ method: options.method, url: options.url, reset_in_s: retryAfter, waiting: wait }, 'GitHub rate limit used up')
      return wait
    },
  }
  const common = {
    baseUrl: github.apiUrl,
    userAgent: 'takehome',
    throttle,
    // 429 is the throttling plugin's to retry, after the wait GitHub names. 409 (an empty
    // repository's refs, a conflict) answers the same however often it is asked.
    retry: { doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451], retryAfterBaseValue: pacing.retryAfterBaseMs },
    request: {
      fetch: (url: string, init: RequestInit) => fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) }),
    },
    // Only the message: Octokit's debug log passes the request options, headers and tokens included.
    log: {
      debug: (message: string) => log.debug(message),
      info: (message: string) => log.debug(message),
      warn: (message: string) => log.warn(message),
      // A failed request is thrown to its caller, which decides whether it is an error (a 404 often is not).
      error: (message: string) => log.debug(message),
    },
  }
  return {
    app: new GitHubOctokit({ ...common, authStrategy: createAppAuth, auth: { appId: github.appId, privateKey: github.privateKey } }),
    rest: new GitHubOctokit(common),
  }
}

export type GitHubClients = ReturnType<typeof createGitHubClients>

/**
 * What GitHub answered, from Octokit's RequestError; undefined for anything else. A network
 * failure is a RequestError too, with status 500 and no response: no answer, so undefined.
 */
export function requestFailure(err: unknown): { status: number; message: string; headers: Record<string, string | undefined> } | undefined {
  if (!(err instanceof Error)) return undefined
  const { status, response } = err as Error & { status?: unknown; response?: { data?: unknown; headers?: Record<string, string | undefined> } }
  if (typeof status !== 'number' || response === undefined) return undefined
  const data = response.data as { message?: unknown } | undefined
  return {
    status,
    message: typeof data?.message === 'string' ? data.message : err.message,
    headers: response.headers ?? {},
  }
}

export const statusOf = (err: unknown) => requestFailure(err)?.status

/**
 * A GitHub failure as our error: GitHub's own words are logged by whoever catches it, never
 * answered. A used-up rate limit says when it resets, which an operator can act on.
 */
export function githubError(err: unknown, action: string): AppError {
  if (err instanceof AppError) return err
  const failure = requestFailure(err)
  if (failure && (failure.status === 403 || failure.status === 429) && failure.headers['x-ratelimit-remaining'] === '0') {
    const reset = Number(failure.headers['x-ratelimit-reset'])
    const when = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : ''
    return new AppError(503, 'github_rate_limited', `GitHub's rate limit for the app is used up${when}; try again then`, { cause: err, expose: true })
  }
  return new AppError(502, 'github_failed', `GitHub could not ${action}`, { cause: err })
}
