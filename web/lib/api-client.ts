import { clientAddressHeaders } from './client-address'
import { apiBaseUrl } from './config'

export type ApiOutcome =
  | { kind: 'ok'; status: number; body: unknown; headers: Headers }
  | { kind: 'error'; status: number; code: string; message: string | null; details?: unknown }
  | { kind: 'rate_limited'; retryAfterSeconds: number | null }
  | { kind: 'unreachable' }

/** What an emailed link's token may look like before it goes into a URL path or a request. */
export const isPlausibleToken = (token: unknown): token is string =>
  typeof token === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(token)

function errorOf(body: unknown): { code: string; message: string | null; details: unknown } {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error
  return {
    code: typeof error?.code === 'string' ? error.code : 'unknown',
    message: typeof error?.message === 'string' ? error.message : null,
    details: error?.details,
  }
}

export interface ApiRequest {
  method: 'GET' | 'POST'
  /** Names the call in our logs; the path may hold a secret, so it never goes there. */
  label: string
  body?: unknown
  headers?: Record<string, string>
  timeoutMs: number
}

/**
 * Calls the API from the server on behalf of the person at the browser, whose address goes
 * with it so that rate limits count per person, not for everyone at once. Paths and bodies
 * may carry secrets (link tokens, passwords), so nothing here logs, rethrows or returns
 * them: failures are reduced to a status and code.
 */
export async function callApi(path: string, request: ApiRequest): Promise<ApiOutcome> {
  let res: Response
  try {
    res = await fetch(`${apiBaseUrl()}${path}`, {
      method: request.method,
      cache: 'no-store',
      headers: {
        accept: 'application/json',
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(await clientAddressHeaders()),
        ...request.headers,
      },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(request.timeoutMs),
    })
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown } }).cause?.code ?? (err as Error).name
    console.error(`${request.label}: API unreachable (${String(cause)})`)
    return { kind: 'unreachable' }
  }

  const body: unknown = await res.json().catch(() => null)
  if (res.ok) return { kind: 'ok', status: res.status, body, headers: res.headers }
  if (res.status === 429) {
    const retryAfter = Number(res.headers.get('retry-after'))
    return { kind: 'rate_limited', retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null }
  }
  return { kind: 'error', status: res.status, ...errorOf(body) }
}
