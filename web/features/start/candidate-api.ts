import { clientAddressHeaders } from '../../lib/client-address'
import { apiBaseUrl } from '../../lib/config'

export type ApiOutcome =
  | { kind: 'ok'; body: unknown }
  | { kind: 'error'; status: number; code: string; message: string | null }
  | { kind: 'rate_limited'; retryAfterSeconds: number | null }
  | { kind: 'unreachable' }

/** What a start link's token may look like before it goes into a URL path. */
export const isPlausibleToken = (token: unknown): token is string =>
  typeof token === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(token)

function errorOf(body: unknown): { code: string; message: string | null } {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error
  return {
    code: typeof error?.code === 'string' ? error.code : 'unknown',
    message: typeof error?.message === 'string' ? error.message : null,
  }
}

/**
 * Calls one of the candidate endpoints (`/api/start/:token`, `/api/submit/:token`) from
 * the server. The URL carries the candidate's only credential, so nothing here logs,
 * rethrows or returns anything that holds it: failures are reduced to a status and code.
 */
export async function candidateApi(method: 'GET' | 'POST', endpoint: 'start' | 'submit', token: string): Promise<ApiOutcome> {
  if (!isPlausibleToken(token)) return { kind: 'error', status: 404, code: 'invitation_not_found', message: null }
  let res: Response
  try {
    res = await fetch(`${apiBaseUrl()}/api/${endpoint}/${encodeURIComponent(token)}`, {
      method,
      cache: 'no-store',
      // The candidate's address, so that rate limits count per candidate, not for all at once.
      headers: { accept: 'application/json', ...(await clientAddressHeaders()) },
      // Start creates a repository: give it longer than a page read.
      signal: AbortSignal.timeout(method === 'GET' ? 10_000 : 60_000),
    })
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown } }).cause?.code ?? (err as Error).name
    console.error(`start page: API unreachable on ${method} ${endpoint} (${String(cause)})`)
    return { kind: 'unreachable' }
  }

  const body: unknown = await res.json().catch(() => null)
  if (res.ok) return { kind: 'ok', body }
  if (res.status === 429) {
    const retryAfter = Number(res.headers.get('retry-after'))
    return { kind: 'rate_limited', retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null }
  }
  return { kind: 'error', status: res.status, ...errorOf(body) }
}
