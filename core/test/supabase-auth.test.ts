import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { createSupabaseAuth, MAX_ACCESS_TOKEN_CHARS } from '../src/adapters/supabase-auth.ts'
import { ConfigError, loadConfig } from '../src/config.ts'
import { AppError } from '../src/errors.ts'
import { createTestClock } from '../testing/clock.ts'
import { es256, hs256, newSigningKey, rs256, signJwt, startSupabaseDouble } from '../testing/supabase-double/index.ts'

const SECRET = 'legacy-project-jwt-secret-0123456789abcdef'

t.test('config: Supabase is on with its URL and anon key, and half of it stops start-up naming the other half', async (t) => {
  const base = { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'takehome-sb-config-')) }
  t.equal(loadConfig(base).supabase, undefined, 'off by default')
  t.same(loadConfig({ ...base, SUPABASE_URL: 'https://abcd.supabase.co/', SUPABASE_ANON_KEY: 'anon' }).supabase, {
    url: 'https://abcd.supabase.co',
    anonKey: 'anon',
    jwtSecret: undefined,
  })
  t.equal(loadConfig({ ...base, SUPABASE_URL: 'https://abcd.supabase.co', SUPABASE_ANON_KEY: 'anon', SUPABASE_JWT_SECRET: SECRET }).supabase?.jwtSecret, SECRET)
  t.throws(() => loadConfig({ ...base, SUPABASE_URL: 'https://abcd.supabase.co' }), new ConfigError("SUPABASE_ANON_KEY is required when SUPABASE_URL is set (the project's anon or publishable key)"))
  t.throws(() => loadConfig({ ...base, SUPABASE_ANON_KEY: 'anon' }), /^SUPABASE_URL is required when SUPABASE_ANON_KEY is set/)
  t.throws(() => loadConfig({ ...base, SUPABASE_URL: 'not a url', SUPABASE_ANON_KEY: 'anon' }), /^SUPABASE_URL must be an http\(s\) URL/)
  t.throws(() => loadConfig({ ...base, SUPABASE_URL: 'ftp://x.example', SUPABASE_ANON_KEY: 'anon' }), /^SUPABASE_URL must be an http\(s\) URL/)
  t.throws(() => loadConfig({ ...base, SUPABASE_JWT_SECRET: SECRET }), /^SUPABASE_JWT_SECRET is set but SUPABASE_URL is not/)
  const short = () => loadConfig({ ...base, SUPABASE_URL: 'https://abcd.supabase.co', SUPABASE_ANON_KEY: 'anon', SUPABASE_JWT_SECRET: 'short' })
  t.throws(short, new ConfigError("SUPABASE_JWT_SECRET must be at least 32 characters (the project's legacy JWT secret)"), 'and the secret is not echoed back')
})

/** A double, a verifier against it on a clock the test moves, and a user. */
async function setup(t: Test, options: { jwtSecret?: string } = {}) {
  const double = await startSupabaseDouble()
  t.teardown(() => double.close())
  const clock = createTestClock(new Date())
  const auth = createSupabaseAuth({ config: { ...double.config, jwtSecret: options.jwtSecret }, clock })
  const user = double.createUser({ email: `ada-${randomUUID()}@example.com`, password: 'correct horse battery' })
  const now = Math.floor(clock.now().getTime() / 1000)
  const claims = (overrides: Record<string, unknown> = {}) => ({ sub: user.id, aud: 'authenticated', role: 'authenticated', exp: now + 3600, iat: now, email: user.email, ...overrides })
  const jwksFetches = () => double.requests.filter((r) => r.path === '/auth/v1/.well-known/jwks.json').length
  return { double, clock, auth, user, claims, jwksFetches }
}

async function refusal(t: Test, promise: Promise<unknown>, pattern: RegExp, status = 401) {
  const err = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as AppError | undefined
  t.ok(err instanceof AppError, 'an AppError')
  t.equal(err?.statusCode, status)
  if (status === 401) t.equal(err?.code, 'invalid_access_token')
  t.match(err?.message, pattern)
}

t.test('a token the double issued is accepted; its claims come back', async (t) => {
  const { double, auth, user } = await setup(t)
  const claims = await auth.verify(double.mintAccessToken(user))
  t.equal(claims.sub, user.id)
  t.equal(claims.email, user.email)
  t.type(claims.sessionId, 'string')
})

t.test('forged, expired and misdirected tokens are refused with 401 invalid_access_token', async (t) => {
  const { double, auth, claims, clock } = await setup(t)
  const kid = double.currentKey().kid
  const other = newSigningKey()
  await refusal(t, auth.verify(signJwt({ alg: 'ES256', kid }, claims(), es256(other.privateKey))), /signature does not match/)
  await refusal(t, auth.verify(signJwt({ alg: 'none' }, claims())), /not a signed JWT/, 401)
  await refusal(t, auth.verify(signJwt({ alg: 'none', kid }, claims()) + 'x'), /algorithm "none"/)
  await refusal(t, auth.verify(signJwt({ alg: 'HS256', kid }, claims(), hs256(SECRET))), /HS256 tokens are not accepted/)
  await refusal(t, auth.verify(signJwt({ alg: 'ES256', kid: other.kid }, claims(), es256(other.privateKey))), /a key the project does not publish/)
  await refusal(t, auth.verify(signJwt({ alg: 'ES256' }, claims(), es256(double.currentKey().privateKey))), /names no signing key/)
  // An RS256 header on an ES256 key: the key decides the algorithm, never the token.
  await refusal(t, auth.verify(signJwt({ alg: 'RS256', kid }, claims(), es256(double.currentKey().privateKey))), /algorithm does not match its key/)
  const sign = (c: Record<string, unknown>) => signJwt({ alg: 'ES256', kid }, c, es256(double.currentKey().privateKey))
  const now = Math.floor(clock.now().getTime() / 1000)
  await refusal(t, auth.verify(sign(claims({ exp: now - 31 }))), /has expired/)
  t.ok(await auth.verify(sign(claims({ exp: now - 5 }))), 'a few seconds of clock skew are allowed')
  await refusal(t, auth.verify(sign(claims({ exp: undefined }))), /no expiry/)
  await refusal(t, auth.verify(sign(claims({ nbf: now + 600 }))), /not valid yet/)
  await refusal(t, auth.verify(sign(claims({ aud: 'service' }))), /audience/)
  t.ok(await auth.verify(sign(claims({ aud: ['other', 'authenticated'] }))), 'aud may be a list that includes authenticated')
  await refusal(t, auth.verify(sign(claims({ role: 'service_role' }))), /role is not "authenticated"/)
  await refusal(t, auth.verify(sign(claims({ role: 'anon' }))), /role is not "authenticated"/)
  await refusal(t, auth.verify(sign(claims({ is_anonymous: true }))), /anonymous/)
  await refusal(t, auth.verify(sign(claims({ sub: 'not-a-uuid' }))), /subject/)
  await refusal(t, auth.verify(signJwt({ alg: 'ES256', kid, crit: ['b64'] }, claims(), es256(double.currentKey().privateKey))), /critical/)
  await refusal(t, auth.verify('not.a.jwt!'), /not a signed JWT/)
  await refusal(t, auth.verify('onlyone'), /not a signed JWT/)
  await refusal(t, auth.verify(`${Buffer.from('[1]').toString('base64url')}.e30.sig`), /header is not a JSON object/)
  await refusal(t, auth.verify('a'.repeat(MAX_ACCESS_TOKEN_CHARS + 1)), /too long/)
})

t.test('HS256 tokens are accepted only with SUPABASE_JWT_SECRET, and only with that secret', async (t) => {
  const { auth, claims } = await setup(t, { jwtSecret: SECRET })
  t.equal((await auth.verify(signJwt({ alg: 'HS256', typ: 'JWT' }, claims(), hs256(SECRET)))).sub, claims().sub)
  await refusal(t, auth.verify(signJwt({ alg: 'HS256' }, claims(), hs256(`${SECRET}x`))), /signature does not match/)
  await refusal(t, auth.verify(signJwt({ alg: 'HS256' }, claims({ role: 'service_role' }), hs256(SECRET))), /role/)
})

t.test('rotation: a new kid is fetched once, unknown kids refetch at most every 30 s, dropped keys stop working', async (t) => {
  const { double, auth, user, clock, jwksFetches } = await setup(t)
  const before = double.mintAccessToken(user)
  await auth.verify(before)
  await auth.verify(double.mintAccessToken(user))
  t.equal(jwksFetches(), 1, 'keys are cached')
  double.rotateKeys()
  const after = double.mintAccessToken(user)
  await refusal(t, auth.verify(after), /does not publish/)
  t.equal(jwksFetches(), 1, 'within 30 s of the last fetch an unknown kid fetches nothing')
  clock.advance(31_000)
  t.equal((await auth.verify(after)).sub, user.id, 'the new key is picked up without a restart')
  t.equal(jwksFetches(), 2)
  t.equal((await auth.verify(before)).sub, user.id, 'the old key, still published, still verifies')

  const stranger = newSigningKey()
  const forged = signJwt({ alg: 'ES256', kid: stranger.kid }, { sub: user.id, aud: 'authenticated', role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 60 }, es256(stranger.privateKey))
  await Promise.all([1, 2, 3].map(() => refusal(t, auth.verify(forged), /does not publish/)))
  t.equal(jwksFetches(), 2, 'an unknown kid within 30 s of the last fetch fetches nothing')
  clock.advance(31_000)
  await refusal(t, auth.verify(forged), /does not publish/)
  await refusal(t, auth.verify(forged), /does not publish/)
  t.equal(jwksFetches(), 3, 'after 30 s one fetch, then none again')

  double.rotateKeys({ dropOld: true })
  clock.advance(31_000)
  const newest = double.mintAccessToken(user)
  t.ok(await auth.verify(newest))
  t.equal(auth.cachedKids.length, 1, 'the cache holds what the JWKS lists now')
  await refusal(t, auth.verify(before), /does not publish/)
})

t.test('keys older than 10 minutes are fetched again in the background: a withdrawn key stops verifying', async (t) => {
  const { double, auth, user, clock, jwksFetches } = await setup(t)
  const token = double.mintAccessToken(user)
  await auth.verify(token)
  const standby = double.rotateKeys()
  double.rotateKeys({ dropOld: true })
  clock.advance(9 * 60_000)
  t.ok(await auth.verify(token), 'within 10 minutes the cached key is used as it is')
  t.equal(jwksFetches(), 1)
  clock.advance(2 * 60_000)
  t.ok(await auth.verify(token), 'the token in hand is judged by the keys held')
  const current = double.currentKey().kid
  for (let i = 0; i < 200 && auth.cachedKids.join() !== current; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(auth.cachedKids, [current], 'the cache holds what the JWKS lists now')
  t.notOk(auth.cachedKids.includes(standby.kid), 'withdrawn keys are gone from it')
  await refusal(t, auth.verify(token), /does not publish/)
})

t.test('RS256 keys from a JWKS verify; keys meant for other uses are ignored', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwks = {
    keys: [
      { ...publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...publicKey.export({ format: 'jwk' }), kid: 'enc-1', use: 'enc' },
      { kty: 'EC', crv: 'P-256', kid: 'broken', x: 'AA', y: 'AA' },
    ],
  }
  const fetcher = (async () => new Response(JSON.stringify(jwks), { headers: { 'content-type': 'application/json' } })) as typeof fetch
  const auth = createSupabaseAuth({ config: { url: 'https://x.supabase.co', anonKey: 'anon', jwtSecret: undefined }, fetch: fetcher })
  const claims = { sub: randomUUID(), aud: 'authenticated', role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 60 }
  t.equal((await auth.verify(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims, rs256(privateKey)))).sub, claims.sub)
  t.same(auth.cachedKids, ['rsa-1'])
  await refusal(t, auth.verify(signJwt({ alg: 'RS256', kid: 'enc-1' }, claims, rs256(privateKey))), /does not publish/)
})

t.test('an unreachable, failing or oversized JWKS is a 503, not a crash and not a pass', async (t) => {
  const claims = { sub: randomUUID(), aud: 'authenticated', role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 60 }
  const key = newSigningKey()
  const token = signJwt({ alg: 'ES256', kid: key.kid }, claims, es256(key.privateKey))
  const config = { url: 'https://x.supabase.co', anonKey: 'anon', jwtSecret: undefined }
  const answers: Array<() => Promise<Response>> = [
    () => Promise.reject(new TypeError('fetch failed')),
    async () => new Response('nope', { status: 500 }),
    async () => new Response(JSON.stringify({ keys: [key.jwk], pad: 'x'.repeat(70 * 1024) })),
    async () => new Response('{"keys": "none"}'),
  ]
  for (const answer of answers) {
    const auth = createSupabaseAuth({ config, fetch: answer as typeof fetch })
    await refusal(t, auth.verify(token), /could not be fetched/, 503)
  }
})

t.test('profile: reads the Supabase user (confirmed or not) with the token; a signed-out session is a 401', async (t) => {
  const { double, auth } = await setup(t)
  const confirmed = double.createUser({ email: 'grace@example.com', password: 'pw-123456' })
  const unconfirmed = double.createUser({ email: 'alan@example.com', password: 'pw-123456', confirmed: false })
  t.same(await auth.profile(double.mintAccessToken(confirmed)), { id: confirmed.id, email: 'grace@example.com', emailConfirmed: true })
  t.same(await auth.profile(double.mintAccessToken(unconfirmed)), { id: unconfirmed.id, email: 'alan@example.com', emailConfirmed: false })
  const token = double.mintAccessToken(confirmed)
  const res = await fetch(`${double.url}/auth/v1/logout?scope=local`, { method: 'POST', headers: { apikey: double.anonKey, authorization: `Bearer ${token}` } })
  t.equal(res.status, 204)
  await refusal(t, auth.profile(token), /no longer accepts it/)
})
