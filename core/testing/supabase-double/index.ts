import { createHash, randomBytes, randomUUID, timingSafeEqual, verify } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Config } from '../../src/config.ts'
import { es256, newSigningKey, type SigningKey, signJwt } from './keys.ts'

export { es256, hs256, newSigningKey, rs256, type SigningKey, signJwt } from './keys.ts'

/**
 * A loopback stand-in for a Supabase project's Auth server (GoTrue), with the endpoints
 * supabase-js calls for email and password, magic links, OAuth and PKCE, shaped as GoTrue
 * answers them (API version 2024-01-01 errors: `{code, message}`), and its JWKS. It signs
 * ES256 access tokens with a `kid`; `rotateKeys` moves to a new key as a project's key
 * rotation does. Emails it would send (magic links, confirmations) are kept in `emails`.
 */
export interface SupabaseDoubleOptions {
  anonKey?: string
  /** Whether sign-ups are confirmed at once (the project's "Confirm email" off); true unless told. */
  autoConfirm?: boolean
  /** OAuth providers enabled in the project; `github` unless told. */
  providers?: string[]
  /** Access token lifetime; GoTrue's hour unless told. */
  accessTokenLifetimeS?: number
  /** Who each OAuth provider says is signing in; `<provider>-user@example.test` unless told. */
  oauthEmails?: Record<string, string>
}

export interface DoubleUser {
  id: string
  email: string
  password: string | undefined
  emailConfirmedAt: Date | undefined
  provider: string
  createdAt: Date
}

export interface DoubleEmail {
  to: string
  kind: 'magiclink' | 'signup'
  /** The link in the email: `GET /auth/v1/verify?token=…&type=…&redirect_to=…`. */
  link: string
}

interface Session {
  id: string
  userId: string
  revoked: boolean
  method: string
}

interface RefreshToken {
  sessionId: string
  used: boolean
}

interface FlowState {
  userId: string
  sessionMethod: string
  codeChallenge: string
  method: 's256' | 'plain'
  createdAt: number
  used: boolean
}

interface Otp {
  email: string
  type: 'magiclink' | 'signup'
  pkce: { codeChallenge: string; method: 's256' | 'plain' } | undefined
  createdAt: number
  used: boolean
}

const API_VERSION = '2024-01-01'
const MAX_BODY_BYTES = 64 * 1024
const FLOW_TTL_MS = 5 * 60_000
const OTP_TTL_MS = 60 * 60_000

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request_too_large', 'Request body too large')
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  try {
    const value: unknown = JSON.parse(text)
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // answered below
  }
  throw new HttpError(400, 'bad_json', 'Could not parse request body as JSON')
}

const str = (value: unknown) => (typeof value === 'string' ? value : undefined)
const token = () => randomBytes(24).toString('base64url')
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url')

function pkceOf(body: Record<string, unknown>) {
  const codeChallenge = str(body.code_challenge)
  if (!codeChallenge) return undefined
  const method = str(body.code_challenge_method)?.toLowerCase() === 'plain' ? ('plain' as const) : ('s256' as const)
  return { codeChallenge, method }
}

export async function startSupabaseDouble(options: SupabaseDoubleOptions = {}) {
  const anonKey = options.anonKey ?? 'sb_publishable_double_anon_key'
  const autoConfirm = options.autoConfirm ?? true
  const providers = options.providers ?? ['github']
  const lifetimeS = options.accessTokenLifetimeS ?? 3600
  const users = new Map<string, DoubleUser>()
  const sessions = new Map<string, Session>()
  const refreshTokens = new Map<string, RefreshToken>()
  const flows = new Map<string, FlowState>()
  const otps = new Map<string, Otp>()
  const emails: DoubleEmail[] = []
  const requests: Array<{ method: string; path: string; status: number }> = []
  // The newest key signs; older ones stay published until dropped, as during a real rotation.
  let keys: SigningKey[] = [newSigningKey()]
  let url = ''

  const findByEmail = (email: string) => [...users.values()].find((u) => u.email.toLowerCase() === email.toLowerCase())

  function createUser(input: { email: string; password?: string; confirmed?: boolean; provider?: string }): DoubleUser {
    if (findByEmail(input.email)) throw new Error(`the double already has a user ${input.email}`)
    const user: DoubleUser = {
      id: randomUUID(),
      email: input.email.toLowerCase(),
      password: input.password,
      emailConfirmedAt: input.confirmed === false ? undefined : new Date(),
      provider: input.provider ?? 'email',
      createdAt: new Date(),
    }
    users.set(user.id, user)
    return user
  }

  function userJson(user: DoubleUser) {
    const confirmed = user.emailConfirmedAt?.toISOString() ?? null
    return {
      id: user.id,
      aud: 'authenticated',
      role: 'authenticated',
      email: user.email,
      email_confirmed_at: confirmed,
      confirmed_at: confirmed,
      phone: '',
      app_metadata: { provider: user.provider, providers: [user.provider] },
      user_metadata: { email: user.email, email_verified: Boolean(confirmed), sub: user.id },
      identities: [],
      created_at: user.createdAt.toISOString(),
      updated_at: user.createdAt.toISOString(),
      is_anonymous: false,
    }
  }

  /** An access token as GoTrue makes one, with `overrides` merged into its claims. */
  function mintAccessToken(user: DoubleUser, sessionId: string, method = 'password', overrides: Record<string, unknown> = {}) {
    const now = Math.floor(Date.now() / 1000)
    const key = keys[keys.length - 1]!
    const claims = {
      iss: `${url}/auth/v1`,
      sub: user.id,
      aud: 'authenticated',
      exp: now + lifetimeS,
      iat: now,
      email: user.email,
      phone: '',
      app_metadata: { provider: user.provider, providers: [user.provider] },
      user_metadata: { email: user.email, email_verified: Boolean(user.emailConfirmedAt), sub: user.id },
      role: 'authenticated',
      aal: 'aal1',
      amr: [{ method, timestamp: now }],
      session_id: sessionId,
      is_anonymous: false,
      ...overrides,
    }
    return signJwt({ alg: 'ES256', kid: key.kid, typ: 'JWT' }, claims, es256(key.privateKey))
  }

  function issueSession(user: DoubleUser, method: string, sessionId: string = randomUUID()) {
    if (!sessions.has(sessionId)) sessions.set(sessionId, { id: sessionId, userId: user.id, revoked: false, method })
    const refresh = token()
    refreshTokens.set(refresh, { sessionId, used: false })
    const expiresAt = Math.floor(Date.now() / 1000) + lifetimeS
    return {
      access_token: mintAccessToken(user, sessionId, method),
      token_type: 'bearer',
      expires_in: lifetimeS,
      expires_at: expiresAt,
      refresh_token: refresh,
      user: userJson(user),
    }
  }

  /** The user and session of a request's own access token, as GoTrue checks it (signature, expiry, a live session). */
  function caller(req: IncomingMessage): { user: DoubleUser; session: Session } {
    const jwt = /^bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1]
    if (!jwt) throw new HttpError(401, 'no_authorization', 'This endpoint requires a Bearer token')
    let claims: { sub: string; exp: number; session_id: string }
    try {
      const [h, p, s] = jwt.split('.') as [string, string, string]
      const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid?: string }
      const key = keys.find((k) => k.kid === header.kid)
      if (!key || !verify('sha256', Buffer.from(`${h}.${p}`), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) throw new Error('bad signature')
      claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as typeof claims
    } catch {
      throw new HttpError(403, 'bad_jwt', 'invalid JWT: unable to parse or verify signature')
    }
    if (claims.exp <= Date.now() / 1000) throw new HttpError(403, 'bad_jwt', 'invalid JWT: token is expired')
    const session = sessions.get(claims.session_id)
    const user = users.get(claims.sub)
    if (!session || session.revoked || !user) throw new HttpError(403, 'session_not_found', 'Session from session_id claim in JWT does not exist')
    return { user, session }
  }

  function startFlow(user: DoubleUser, sessionMethod: string, pkce: { codeChallenge: string; method: 's256' | 'plain' }) {
    const code = randomUUID()
    flows.set(code, { userId: user.id, sessionMethod, ...pkce, createdAt: Date.now(), used: false })
    return code
  }

  /** Where a browser goes back to: GoTrue's `?code=` with PKCE, tokens in the fragment otherwise. */
  function redirectBack(res: ServerResponse, redirectTo: string, user: DoubleUser, method: string, pkce: Otp['pkce'], type: string) {
    const target = new URL(redirectTo)
    if (pkce) {
      target.searchParams.set('code', startFlow(user, method, pkce))
    } else {
      const session = issueSession(user, method)
      target.hash = new URLSearchParams({
        access_token: session.access_token,
        expires_at: String(session.expires_at),
        expires_in: String(session.expires_in),
        refresh_token: session.refresh_token,
        token_type: 'bearer',
        type,
      }).toString()
    }
    res.writeHead(303, { location: target.toString() }).end()
  }

  function sendLink(email: string, type: Otp['type'], pkce: Otp['pkce'], redirectTo: string | undefined) {
    const otp = token()
    otps.set(otp, { email, type, pkce, createdAt: Date.now(), used: false })
    const link = new URL(`${url}/auth/v1/verify`)
    link.searchParams.set('token', otp)
    link.searchParams.set('type', type)
    if (redirectTo) link.searchParams.set('redirect_to', redirectTo)
    emails.push({ to: email, kind: type, link: link.toString() })
  }

  const redirectOf = (u: URL) => {
    const to = u.searchParams.get('redirect_to')
    return to && URL.canParse(to) ? to : undefined
  }

  async function route(req: IncomingMessage, res: ServerResponse, u: URL): Promise<unknown> {
    const path = u.pathname
    const method = req.method ?? 'GET'
    // Browser navigations (verify, authorize) and the JWKS carry no apikey; everything else goes through Supabase's gateway, which wants one.
    const open = (method === 'GET' && ['/auth/v1/verify', '/auth/v1/authorize', '/auth/v1/.well-known/jwks.json'].includes(path))
    if (!open) {
      const given = Buffer.from(String(req.headers.apikey ?? ''))
      const expected = Buffer.from(anonKey)
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new HttpError(401, 'no_api_key', 'No API key found in request')
      }
    }

    if (method === 'GET' && path === '/auth/v1/.well-known/jwks.json') return { keys: keys.map((k) => k.jwk) }
    if (method === 'GET' && path === '/auth/v1/settings') {
      return {
        external: { email: true, phone: false, anonymous_users: false, ...Object.fromEntries(providers.map((p) => [p, true])) },
        disable_signup: false,
        mailer_autoconfirm: autoConfirm,
        phone_autoconfirm: false,
        sms_provider: '',
        saml_enabled: false,
      }
    }
    if (method === 'GET' && path === '/auth/v1/user') return userJson(caller(req).user)

    if (method === 'POST' && path === '/auth/v1/signup') {
      const body = await readJson(req)
      const email = str(body.email)
      const password = str(body.password)
      if (!email || !email.includes('@')) throw new HttpError(400, 'validation_failed', 'Unable to validate email address: invalid format')
      if (!password || password.length < 6) throw new HttpError(422, 'weak_password', 'Password should be at least 6 characters.')
      if (findByEmail(email)) throw new HttpError(422, 'user_already_exists', 'User already registered')
      const user = createUser({ email, password, confirmed: autoConfirm })
      if (autoConfirm) return issueSession(user, 'password')
      sendLink(user.email, 'signup', pkceOf(body), redirectOf(u))
      return userJson(user)
    }

    if (method === 'POST' && path === '/auth/v1/token') {
      const body = await readJson(req)
      const grant = u.searchParams.get('grant_type')
      if (grant === 'password') {
        const user = findByEmail(str(body.email) ?? '')
        const given = str(body.password) ?? ''
        if (!user || user.password === undefined || user.password !== given) throw new HttpError(400, 'invalid_credentials', 'Invalid login credentials')
        if (!user.emailConfirmedAt) throw new HttpError(400, 'email_not_confirmed', 'Email not confirmed')
        return issueSession(user, 'password')
      }
      if (grant === 'refresh_token') {
        const presented = str(body.refresh_token) ?? ''
        const held = refreshTokens.get(presented)
        if (!held) throw new HttpError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found')
        const session = sessions.get(held.sessionId)
        // GoTrue deletes a signed-out session's refresh tokens: they are simply not found.
        if (!session || session.revoked) throw new HttpError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found')
        if (held.used) throw new HttpError(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used')
        held.used = true
        return issueSession(users.get(session.userId)!, session.method, session.id)
      }
      if (grant === 'pkce') {
        const code = str(body.auth_code) ?? ''
        const verifier = str(body.code_verifier) ?? ''
        if (!code || !verifier) throw new HttpError(400, 'validation_failed', 'invalid request: both auth code and code verifier should be non-empty')
        const flow = flows.get(code)
        if (!flow || flow.used || Date.now() - flow.createdAt > FLOW_TTL_MS) throw new HttpError(404, 'flow_state_not_found', 'invalid flow state, no valid flow state found')
        const expected = flow.method === 's256' ? s256(verifier) : verifier
        if (expected !== flow.codeChallenge) throw new HttpError(403, 'bad_code_verifier', 'code challenge does not match previously saved code verifier')
        flow.used = true
        return issueSession(users.get(flow.userId)!, flow.sessionMethod)
      }
      throw new HttpError(400, 'unsupported_grant_type', 'unsupported_grant_type')
    }

    if (method === 'POST' && path === '/auth/v1/logout') {
      const { user, session } = caller(req)
      const scope = u.searchParams.get('scope') ?? 'global'
      for (const s of sessions.values()) {
        if (s.userId !== user.id) continue
        if (scope === 'global' || (scope === 'local' && s.id === session.id) || (scope === 'others' && s.id !== session.id)) s.revoked = true
      }
      res.writeHead(204).end()
      return undefined
    }

    if (method === 'POST' && path === '/auth/v1/otp') {
      const body = await readJson(req)
      const email = str(body.email)
      if (!email || !email.includes('@')) throw new HttpError(400, 'validation_failed', 'Unable to validate email address: invalid format')
      let user = findByEmail(email)
      if (!user) {
        if (body.create_user === false) throw new HttpError(422, 'otp_disabled', 'Signups not allowed for otp')
        user = createUser({ email, confirmed: false })
      }
      sendLink(user.email, 'magiclink', pkceOf(body), redirectOf(u))
      return {}
    }

    if (method === 'GET' && path === '/auth/v1/verify') {
      const redirectTo = redirectOf(u) ?? `${url}/`
      const otp = otps.get(u.searchParams.get('token') ?? '')
      if (!otp || otp.used || Date.now() - otp.createdAt > OTP_TTL_MS) {
        const target = new URL(redirectTo)
        target.hash = new URLSearchParams({ error: 'access_denied', error_code: 'otp_expired', error_description: 'Email link is invalid or has expired' }).toString()
        res.writeHead(303, { location: target.toString() }).end()
        return undefined
      }
      otp.used = true
      const user = findByEmail(otp.email)!
      user.emailConfirmedAt ??= new Date()
      redirectBack(res, redirectTo, user, otp.type === 'signup' ? 'password' : 'otp', otp.pkce, otp.type)
      return undefined
    }

    if (method === 'GET' && path === '/auth/v1/authorize') {
      const provider = u.searchParams.get('provider') ?? ''
      if (!providers.includes(provider)) throw new HttpError(400, 'validation_failed', 'Unsupported provider: provider is not enabled')
      const redirectTo = redirectOf(u) ?? `${url}/`
      // The double is the provider too: it approves at once, for the person it was told signs in there.
      const email = options.oauthEmails?.[provider] ?? `${provider}-user@example.test`
      const user = findByEmail(email) ?? createUser({ email, provider })
      const challenge = u.searchParams.get('code_challenge')
      const pkce = challenge ? pkceOf({ code_challenge: challenge, code_challenge_method: u.searchParams.get('code_challenge_method') }) : undefined
      redirectBack(res, redirectTo, user, 'oauth', pkce, 'signup')
      return undefined
    }

    throw new HttpError(404, 'not_found', `no route ${method} ${path}`)
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const u = new URL(req.url ?? '/', 'http://double')
    // supabase-js runs in the browser too, on another origin than the project.
    res.setHeader('access-control-allow-origin', req.headers.origin ?? '*')
    res.setHeader('access-control-allow-credentials', 'true')
    res.setHeader('x-supabase-api-version', API_VERSION)
    // supabase-js reads the error code from `code` only when it can see this header.
    res.setHeader('access-control-expose-headers', 'x-supabase-api-version')
    const record = { method: req.method ?? '', path: u.pathname, status: 0 }
    requests.push(record)
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
        'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? 'authorization, apikey, content-type, x-client-info, x-supabase-api-version'),
        'access-control-max-age': '600',
      })
      res.end()
      record.status = 204
      return
    }
    try {
      const body = await route(req, res, u)
      if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'unexpected_failure', (err as Error).message)
      if (!res.headersSent) res.writeHead(e.status, { 'content-type': 'application/json' }).end(JSON.stringify({ code: e.code, message: e.message }))
    }
    record.status = res.statusCode
  }

  const server = createServer((req, res) => void handle(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    /** The project URL (`SUPABASE_URL`). */
    url,
    anonKey,
    /** Ready for the API's Supabase verifier. */
    config: { url, anonKey, jwtSecret: undefined } satisfies NonNullable<Config['supabase']>,
    /** `SUPABASE_*` variables for a spawned server process. */
    env: { SUPABASE_URL: url, SUPABASE_ANON_KEY: anonKey },
    emails,
    requests,
    users: () => [...users.values()],
    createUser,
    /** The newest link emailed to `to`. */
    lastLink(to: string, kind?: DoubleEmail['kind']) {
      const found = emails.filter((e) => e.to === to.toLowerCase() && (!kind || e.kind === kind)).at(-1)
      if (!found) throw new Error(`the double emailed no ${kind ?? ''} link to ${to}`)
      return found.link
    },
    /** A token signed with the current key, as the double would issue to `user`, with `overrides` in its claims. */
    mintAccessToken(user: DoubleUser, overrides: Record<string, unknown> = {}) {
      const sessionId = randomUUID()
      sessions.set(sessionId, { id: sessionId, userId: user.id, revoked: false, method: 'password' })
      return mintAccessToken(user, sessionId, 'password', overrides)
    },
    /** The key that signs now. */
    currentKey: () => keys[keys.length - 1]!,
    /** Publishes a new key and signs with it from now on; `dropOld` withdraws the others from the JWKS. */
    rotateKeys({ dropOld = false }: { dropOld?: boolean } = {}) {
      const key = newSigningKey()
      keys = dropOld ? [key] : [...keys, key]
      return key
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export type SupabaseDouble = Awaited<ReturnType<typeof startSupabaseDouble>>
