import { cookies } from 'next/headers'
import { callApi, type ApiOutcome } from '../../lib/api-client'
import { apiOrigin } from '../../lib/config'
import { SESSION_COOKIE, sessionCookieFrom } from './session-cookie'

/** Who a session belongs to, as the API's session answers (`{ user, org, role }`) say. */
export interface AccountSession {
  email: string
  name: string | null
  org: string
  role: string
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null

export function sessionOf(body: unknown): AccountSession | null {
  if (!isObject(body) || !isObject(body.user) || !isObject(body.org)) return null
  const { user, org, role } = body
  if (typeof user.email !== 'string' || typeof org.name !== 'string' || typeof role !== 'string') return null
  return { email: user.email, name: typeof user.name === 'string' ? user.name : null, org: org.name, role }
}

/**
 * What makes the API take a call as the browser's own: its session cookie, and the Origin
 * the API trusts for cookie-authenticated writes. Only sent for a session the browser
 * holds (or one this very action was just given), never invented.
 */
const asSession = (session: string) => ({ cookie: `${SESSION_COOKIE}=${encodeURIComponent(session)}`, origin: apiOrigin() })

/** The browser's session cookie, as it sent it to this page or action. */
export async function browserSession(): Promise<string | undefined> {
  return (await cookies()).get(SESSION_COOKIE)?.value || undefined
}

/** A POST to one of the API's account routes; with `session`, as that session. */
export function postAccount(path: string, body: unknown, session?: string): Promise<ApiOutcome> {
  return callApi(path, {
    method: 'POST',
    label: `account page: POST ${path}`,
    body,
    headers: session ? asSession(session) : {},
    // Password hashing is deliberately slow; a busy server needs a few seconds more.
    timeoutMs: 20_000,
  })
}

/**
 * Hands the session the API started on to the browser, with the attributes the API gave
 * it: the browser talks to us, not to the API, so the API's Set-Cookie stops here.
 */
export async function passOnSession(outcome: ApiOutcome): Promise<boolean> {
  if (outcome.kind !== 'ok') return false
  const cookie = sessionCookieFrom(outcome.headers.getSetCookie())
  if (!cookie) return false
  ;(await cookies()).set(SESSION_COOKIE, cookie.value, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: cookie.secure,
    expires: cookie.expires,
  })
  return true
}

/** Every session of the account ended: the browser's cookie is dead, so it goes too. */
export async function forgetSession(): Promise<void> {
  const jar = await cookies()
  if (jar.has(SESSION_COOKIE)) jar.delete(SESSION_COOKIE)
}

/**
 * A GET of the API as the browser's session, for a page rendered on the server; undefined
 * without a session cookie or when the API did not answer 2xx (the page's own queries then
 * ask again in the browser, and show what went wrong). `path` may name ids, never secrets.
 */
export async function readAsBrowser(path: string): Promise<unknown> {
  const session = await browserSession()
  if (!session) return undefined
  const outcome = await callApi(path, { method: 'GET', label: `server render: GET ${path}`, headers: asSession(session), timeoutMs: 10_000 })
  return outcome.kind === 'ok' ? outcome.body : undefined
}

/** Who the browser is logged in as, if it is; null when it is not or we cannot tell. */
export async function currentAccount(): Promise<AccountSession | null> {
  return sessionOf(await readAsBrowser('/api/auth/me'))
}
