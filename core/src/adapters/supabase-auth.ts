import { createHmac, createPublicKey, type JsonWebKey, type KeyObject, timingSafeEqual, verify } from 'node:crypto'
import type { Logger } from 'pino'
import { type Clock, systemClock } from '../clock.ts'
import type { Config } from '../config.ts'
import { AppError } from '../errors.ts'

/** What a verified Supabase access token says about its holder. */
export interface SupabaseClaims {
  /** The Supabase Auth user's id (a UUID). */
  sub: string
  email: string | undefined
  /** The Supabase session the token belongs to (absent on some legacy tokens). */
  sessionId: string | undefined
  exp: number
}

/** The Supabase Auth user behind a token, as `GET /auth/v1/user` describes it. */
export interface SupabaseProfile {
  id: string
  email: string | undefined
  /** Whether Supabase has seen the address confirmed (email link, OTP or a provider that vouches for it). */
  emailConfirmed: boolean
}

export interface SupabaseAuthOptions {
  config: NonNullable<Config['supabase']>
  logger?: Logger
  clock?: Clock
  fetch?: typeof fetch
  /** At most one JWKS fetch this often for unknown kids: rotation is picked up, a flood of made-up kids is not a flood of fetches. */
  refetchIntervalMs?: number
  /**
   * Keys older than this are fetched again in the background on the next token: a standby
   * key is known before it signs, and a key the project revoked stops verifying.
   */
  maxKeyAgeMs?: number
  /** The JWKS and user look-ups give up after this long. */
  timeoutMs?: number
}

/** Supabase's access tokens are a few hundred bytes to ~2 KB; past this a header is refused before any parsing. */
export const MAX_ACCESS_TOKEN_CHARS = 8192
const MAX_RESPONSE_BYTES = 64 * 1024
/** Clocks of Supabase and of this server disagree a little; an hour-long token loses nothing to it. */
const CLOCK_SKEW_S = 30
type AsymmetricAlg = 'ES256' | 'RS256'

export const invalidAccessToken = (why: string) => new AppError(401, 'invalid_access_token', `the access token is not valid: ${why}; sign in again`)

const unavailable = () =>
  new AppError(503, 'auth_provider_unavailable', "Supabase Auth's signing keys could not be fetched; try again shortly", { expose: true })

const B64URL = /^[A-Za-z0-9_-]+$/

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // falls through to the refusal
  }
  throw invalidAccessToken(`its ${what} is not a JSON object`)
}

/** A response body read up to `MAX_RESPONSE_BYTES`, so a misbehaving endpoint cannot fill memory. */
async function boundedJson(res: Response): Promise<unknown> {
  const declared = Number(res.headers.get('content-length') ?? 0)
  if (declared > MAX_RESPONSE_BYTES) throw new Error(`answer of ${declared} bytes is over the ${MAX_RESPONSE_BYTES} byte cap`)
  const reader = res.body?.getReader()
  if (!reader) throw new Error('the answer has no body')
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel()
      throw new Error(`answer is over the ${MAX_RESPONSE_BYTES} byte cap`)
    }
    chunks.push(value)
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

interface CachedKey {
  alg: AsymmetricAlg
  key: KeyObject
}

/** Reads a JWKS into usable verification keys; keys it cannot use (encryption keys, other curves) are left out. */
function readJwks(body: unknown): Map<string, CachedKey> {
  const keys = new Map<string, CachedKey>()
  const list = body && typeof body === 'object' ? (body as { keys?: unknown }).keys : undefined
  if (!Array.isArray(list)) throw new Error('the answer has no keys array')
  for (const jwk of list as Array<Record<string, unknown>>) {
    if (!jwk || typeof jwk.kid !== 'string' || (jwk.use !== undefined && jwk.use !== 'sig')) continue
    const alg: AsymmetricAlg | undefined =
      jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : jwk.kty === 'RSA' ? 'RS256' : undefined
    if (!alg || (jwk.alg !== undefined && jwk.alg !== alg)) continue
    try {
      // Only the public members: a JWKS that (wrongly) carries `d` must not make a private key here.
      const { kty, crv, x, y, n, e } = jwk
      const pub = Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined)) as JsonWebKey
      keys.set(jwk.kid, { alg, key: createPublicKey({ key: pub, format: 'jwk' }) })
    } catch {
      // A malformed key is skipped; tokens naming it are refused as an unknown kid.
    }
  }
  return keys
}

/**
 * Verifies Supabase Auth access tokens: against the project's JWKS (ES256, RS256), keys
 * cached and fetched again when a token names a kid not yet seen (so a rotation needs no
 * restart), or with the legacy shared secret (HS256) when `SUPABASE_JWT_SECRET` is set.
 * Nothing here trusts the token's header beyond choosing among keys we hold.
 */
export function createSupabaseAuth(options: SupabaseAuthOptions) {
  const { config, logger } = options
  const clock = options.clock ?? systemClock
  const fetcher = options.fetch ?? fetch
  const refetchIntervalMs = options.refetchIntervalMs ?? 30_000
  const timeoutMs = options.timeoutMs ?? 5_000
  const maxKeyAgeMs = options.maxKeyAgeMs ?? 10 * 60_000
  const jwksUrl = `${config.url}/auth/v1/.well-known/jwks.json`
  let keys = new Map<string, CachedKey>()
  let fetchedAt = Number.NEGATIVE_INFINITY
  let inFlight: Promise<void> | undefined

  async function refreshKeys(): Promise<void> {
    fetchedAt = clock.now().getTime()
    try {
      const res = await fetcher(jwksUrl, { headers: { apikey: config.anonKey, accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) })
      if (!res.ok) throw new Error(`HTTP ${res.status}`)
      keys = readJwks(await boundedJson(res))
    } catch (err) {
      logger?.warn({ err: { message: (err as Error).message }, url: jwksUrl }, 'fetching the Supabase JWKS failed')
      throw unavailable()
    }
  }

  /** The key of `kid`, fetching the JWKS again when it is unknown and the last fetch is old enough. */
  async function keyFor(kid: string): Promise<CachedKey | undefined> {
    const known = keys.get(kid)
    const age = clock.now().getTime() - fetchedAt
    const refresh = () =>
      (inFlight = refreshKeys().finally(() => {
        inFlight = undefined
      }))
    if (known) {
      // The token in hand is judged by the keys held; the next one by what the JWKS says then.
      if (!inFlight && age >= maxKeyAgeMs) refresh().catch(() => undefined)
      return known
    }
    if (!inFlight && age >= refetchIntervalMs) void refresh()
    if (inFlight) await inFlight
    return keys.get(kid)
  }

  function checkSignature(alg: string, signingInput: string, signature: Buffer, key: CachedKey | Buffer): boolean {
    if (alg === 'HS256') {
      const expected = createHmac('sha256', key as Buffer).update(signingInput).digest()
      return expected.length === signature.length && timingSafeEqual(expected, signature)
    }
    const { key: publicKey } = key as CachedKey
    // JWS ES256 signatures are r||s (64 bytes), not DER.
    if (alg === 'ES256') return signature.length === 64 && verify('sha256', Buffer.from(signingInput), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
    return verify('sha256', Buffer.from(signingInput), publicKey, signature)
  }

  return {
    /** The claims of a valid access token; a 401 `invalid_access_token` for anything else. */
    async verify(token: string): Promise<SupabaseClaims> {
      if (token.length > MAX_ACCESS_TOKEN_CHARS) throw invalidAccessToken('it is too long')
      const parts = token.split('.')
      if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) throw invalidAccessToken('it is not a signed JWT')
      const [headerPart, payloadPart, signaturePart] = parts as [string, string, string]
      const header = decodeJson(headerPart, 'header')
      const alg = header.alg
      if (header.crit !== undefined) throw invalidAccessToken('it has critical header parameters this server does not know')
      let key: CachedKey | Buffer
      if (alg === 'HS256') {
        if (!config.jwtSecret) throw invalidAccessToken('HS256 tokens are not accepted here (the project signs with asymmetric keys)')
        key = Buffer.from(config.jwtSecret, 'utf8')
      } else if (alg === 'ES256' || alg === 'RS256') {
        if (typeof header.kid !== 'string' || header.kid === '' || header.kid.length > 200) throw invalidAccessToken('it names no signing key (kid)')
        const found = await keyFor(header.kid)
        if (!found) throw invalidAccessToken('it was signed by a key the project does not publish')
        if (found.alg !== alg) throw invalidAccessToken('its algorithm does not match its key')
        key = found
      } else {
        throw invalidAccessToken(`the algorithm ${typeof alg === 'string' ? JSON.stringify(alg.slice(0, 20)) : 'it names'} is not accepted`)
      }
      if (!checkSignature(alg, `${headerPart}.${payloadPart}`, Buffer.from(signaturePart, 'base64url'), key)) {
        throw invalidAccessToken('its signature does not match')
      }
      const claims = decodeJson(payloadPart, 'payload')
      const now = clock.now().getTime() / 1000
      if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw invalidAccessToken('it has no expiry')
      if (claims.exp + CLOCK_SKEW_S <= now) throw invalidAccessToken('it has expired')
      if (typeof claims.nbf === 'number' && claims.nbf - CLOCK_SKEW_S > now) throw invalidAccessToken('it is not valid yet')
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
      if (!aud.includes('authenticated')) throw invalidAccessToken('its audience is not "authenticated"')
      if (claims.role !== 'authenticated') throw invalidAccessToken('its role is not "authenticated"')
      if (claims.is_anonymous === true) throw invalidAccessToken('anonymous Supabase users cannot use Takehome')
      if (typeof claims.sub !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(claims.sub)) {
        throw invalidAccessToken('its subject is not a Supabase user id')
      }
      return {
        sub: claims.sub.toLowerCase(),
        email: typeof claims.email === 'string' && claims.email !== '' ? claims.email : undefined,
        sessionId: typeof claims.session_id === 'string' ? claims.session_id : undefined,
        exp: claims.exp,
      }
    },

    /**
     * The Supabase user behind a (verified) token, from Supabase itself: the token does not
     * say whether its email is confirmed, and a Takehome account is linked by email only
     * when it is. Asked once per Supabase user, when Takehome first sees them.
     */
    async profile(token: string): Promise<SupabaseProfile> {
      let body: unknown
      try {
        const res = await fetcher(`${config.url}/auth/v1/user`, {
          headers: { apikey: config.anonKey, authorization: `Bearer ${token}`, accept: 'application/json' },
          signal: AbortSignal.timeout(timeoutMs),
        })
        if (res.status === 401 || res.status === 403) throw invalidAccessToken('Supabase no longer accepts it (signed out?)')
        if (!res.ok) throw new Error(`HTTP ${res.status}`)
        body = await boundedJson(res)
      } catch (err) {
        if (err instanceof AppError) throw err
        logger?.warn({ err: { message: (err as Error).message } }, 'reading the Supabase user failed')
        throw new AppError(503, 'auth_provider_unavailable', 'Supabase Auth could not be reached to read your account; try again shortly', { expose: true })
      }
      const user = (body ?? {}) as Record<string, unknown>
      if (typeof user.id !== 'string') throw new AppError(503, 'auth_provider_unavailable', 'Supabase Auth answered without a user; try again shortly', { expose: true })
      return {
        id: user.id.toLowerCase(),
        email: typeof user.email === 'string' && user.email !== '' ? user.email : undefined,
        emailConfirmed: typeof user.email_confirmed_at === 'string' && user.email_confirmed_at !== '',
      }
    },

    /** The kids of the keys held now: what a test of rotation looks at. */
    get cachedKids(): string[] {
      return [...keys.keys()]
    },
  }
}

export type SupabaseAuth = ReturnType<typeof createSupabaseAuth>
