import { createClient } from '@supabase/supabase-js'
import { and, eq } from 'drizzle-orm'
import { createSupabaseAuth, schema } from '@takehome/core'
import {
  createTestClock,
  createTestServices,
  es256,
  hs256,
  newSigningKey,
  signJwt,
  startSupabaseDouble,
  type SupabaseDouble,
} from '@takehome/core/testing'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.ts'
import { build, capturingLogger, emailedToken, expectError } from './helper.ts'

const PUBLIC_URL = 'http://takehome.test'
const unlimited = { max: 100_000, timeWindow: 60_000 }
const PASSWORD = 'correct horse battery'

/**
 * supabase-js makes its Realtime client at once and, on Node 20, finds no WebSocket to give
 * it; these tests never open a channel, so one that refuses to be made is enough.
 */
class NoRealtime {
  constructor() {
    throw new Error('these tests open no Realtime channel')
  }
}

/**
 * The real app with Supabase Auth on, against a Supabase double. The verifier's clock is the
 * test's, so the 30 s between JWKS fetches for unknown kids passes without sleeping.
 */
async function setup(t: Test, { signup = 'first-user' }: { signup?: 'first-user' | 'open' | 'invite' } = {}) {
  const double = await startSupabaseDouble()
  const verifierClock = createTestClock(new Date())
  const { logger, lines: logLines } = capturingLogger()
  const ts = await createTestServices({ appBaseUrl: PUBLIC_URL, signup, logger })
  const app = await buildApp({
    services: ts.services,
    logger,
    gitHost: ts.gitHost,
    rateLimits: { auth: unlimited, start: unlimited, credential: unlimited, git: unlimited, webhooks: unlimited },
    supabaseAuth: createSupabaseAuth({ config: double.config, clock: verifierClock, logger }),
    config: {
      publicUrl: PUBLIC_URL,
      appBaseUrl: PUBLIC_URL,
      secureCookies: false,
      sessionSecret: 'test-session-secret-0123456789abcdef0123',
      trustProxy: false,
      supabase: double.config,
    },
  })
  t.teardown(async () => {
    await app.close()
    await ts.close()
    await double.close()
  })
  return { app, double, verifierClock, logLines, ...ts }
}
type Setup = Awaited<ReturnType<typeof setup>>

/** supabase-js in a browser-like setup (PKCE, memory storage). */
function supabaseClient(double: SupabaseDouble) {
  const memory = new Map<string, string>()
  return createClient(double.url, double.anonKey, {
    realtime: { transport: NoRealtime as never },
    auth: {
      flowType: 'pkce',
      autoRefreshToken: false,
      detectSessionInUrl: false,
      storage: { getItem: (k) => memory.get(k) ?? null, setItem: (k, v) => void memory.set(k, v), removeItem: (k) => void memory.delete(k) },
    },
  })
}

let counter = 0
/** A person with a Supabase account, signed in through supabase-js: their client and headers for the API. */
async function person(s: Pick<Setup, 'double'>, email = `person${++counter}-${Date.now()}@example.com`) {
  if (!s.double.users().some((u) => u.email === email.toLowerCase())) s.double.createUser({ email, password: PASSWORD })
  const sb = supabaseClient(s.double)
  const { data, error } = await sb.auth.signInWithPassword({ email, password: PASSWORD })
  if (error) throw error
  const token = data.session!.access_token
  return { sb, email, token, supabaseId: data.user!.id, headers: { authorization: `Bearer ${token}` } }
}

async function onboard(s: Pick<Setup, 'app'>, headers: Record<string, string>, orgName = 'Acme') {
  const res = await s.app.inject({ method: 'POST', url: '/api/auth/supabase/onboard', headers, payload: { org_name: orgName } })
  if (res.statusCode !== 201) throw new Error(`onboard failed: ${res.statusCode} ${res.body}`)
  return res.json() as { user: { id: string; email: string }; org: { id: string; name: string }; role: string }
}

const me = (s: Pick<Setup, 'app'>, headers: Record<string, string>) => s.app.inject({ method: 'GET', url: '/api/auth/me', headers })

t.test('GET /api/auth/config tells the web app which login to show, with the public anon key only', async (t) => {
  const s = await setup(t)
  const res = await s.app.inject({ method: 'GET', url: '/api/auth/config' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { mode: 'supabase', supabase_url: s.double.url, supabase_anon_key: s.double.anonKey })
  const local = await build(t)
  t.same((await local.app.inject({ method: 'GET', url: '/api/auth/config' })).json(), { mode: 'local' })
  expectError(t, await local.app.inject({ method: 'POST', url: '/api/auth/supabase/onboard', payload: { org_name: 'X' } }), 409, 'supabase_not_configured')
})

t.test('the first user: a Supabase sign-in gets a 403 until they create the org, then is its owner', async (t) => {
  const s = await setup(t)
  const ada = await person(s)
  const before = expectError(t, await me(s, ada.headers), 403, 'no_organisation')
  t.same(before.details, { can_create_org: true })
  const [user] = await s.db.select().from(schema.users).where(eq(schema.users.supabaseUserId, ada.supabaseId))
  t.equal(user?.email, ada.email, 'the user was made on first sight, with the verified email')
  t.equal(user?.passwordHash, null)

  expectError(t, await s.app.inject({ method: 'POST', url: '/api/auth/supabase/onboard', headers: ada.headers, payload: { org_name: '' } }), 400)
  const made = await onboard(s, ada.headers, 'Acme Hiring')
  t.equal(made.role, 'owner')
  t.equal(made.org.name, 'Acme Hiring')
  t.equal(made.user.id, user!.id)
  const after = await me(s, ada.headers)
  t.equal(after.statusCode, 200)
  t.match(after.json(), { user: { email: ada.email }, org: { id: made.org.id }, role: 'owner' })
  expectError(t, await s.app.inject({ method: 'POST', url: '/api/auth/supabase/onboard', headers: ada.headers, payload: { org_name: 'Again' } }), 409, 'already_a_member')

  const audit = await s.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.actor, `user:${user!.id}`))
  t.same(audit.map((a) => a.kind).sort(), ['org.created', 'user.signup'])
  t.same(audit.find((a) => a.kind === 'user.signup')?.meta, { via: 'supabase', supabase_user_id: ada.supabaseId })

  // The next one finds an org already there: only an invitation brings them in.
  const bob = await person(s)
  const refused = expectError(t, await me(s, bob.headers), 403, 'no_organisation')
  t.match(refused.message, /ask an owner or admin of your organisation for an invitation/)
  t.same(refused.details, { can_create_org: false })
  expectError(t, await s.app.inject({ method: 'POST', url: '/api/auth/supabase/onboard', headers: bob.headers, payload: { org_name: 'Mine' } }), 403, 'signup_closed')
  t.equal((await s.db.select().from(schema.orgs)).length, 1, 'no second org')
})

t.test('an invited Supabase user joins with the emailed token and acts with the invited role', async (t) => {
  const s = await setup(t)
  const owner = await person(s)
  const org = await onboard(s, owner.headers)
  const bob = await person(s)
  const invited = await s.app.inject({ method: 'POST', url: '/api/members', headers: owner.headers, payload: { email: bob.email, role: 'reviewer' } })
  t.equal(invited.statusCode, 201, 'a Supabase-authenticated owner invites (no cookie, no Origin needed)')
  const token = await emailedToken(s, bob.email, 'member_invite')

  const carol = await person(s)
  expectError(t, await s.app.inject({ method: 'POST', url: '/api/auth/join', headers: carol.headers, payload: { token } }), 403, 'invitation_for_another_email')
  expectError(t, await s.app.inject({ method: 'POST', url: '/api/auth/join', payload: { token } }), 401, 'unauthenticated')
  expectError(t, await s.app.inject({ method: 'POST', url: '/api/auth/join', payload: { token, email: bob.email, password: PASSWORD } }), 409, 'local_accounts_disabled')

  const joined = await s.app.inject({ method: 'POST', url: '/api/auth/join', headers: bob.headers, payload: { token } })
  t.equal(joined.statusCode, 200)
  t.match(joined.json(), { org: { id: org.org.id }, role: 'reviewer' })
  t.notOk(joined.headers['set-cookie'], 'no local session is made')
  t.match((await me(s, bob.headers)).json(), { role: 'reviewer', org: { id: org.org.id } })
  expectError(t, await s.app.inject({ method: 'POST', url: '/api/api-keys', headers: bob.headers, payload: { name: 'x' } }), 403, 'forbidden')
  expectError(t, await s.app.inject({ method: 'POST', url: '/api/auth/join', headers: bob.headers, payload: { token } }), 409, 'link_used')
})

t.test('refresh gives a new access token the API accepts; after logout the refresh token is dead', async (t) => {
  const s = await setup(t)
  const ada = await person(s)
  await onboard(s, ada.headers)
  const refreshed = await ada.sb.auth.refreshSession()
  t.error(refreshed.error)
  const next = refreshed.data.session!.access_token
  t.not(next, ada.token)
  t.equal((await me(s, { authorization: `Bearer ${next}` })).statusCode, 200)
  t.error((await ada.sb.auth.signOut()).error)
  const again = await supabaseClient(s.double).auth.refreshSession({ refresh_token: refreshed.data.session!.refresh_token })
  t.ok(again.error, 'the session is revoked at Supabase')
})

t.test('forged, expired and misdirected tokens are refused with 401 invalid_access_token', async (t) => {
  const s = await setup(t)
  const ada = await person(s)
  await onboard(s, ada.headers)
  const [user] = s.double.users()
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: user!.id, aud: 'authenticated', role: 'authenticated', email: user!.email, exp: now + 600, iat: now }
  const kid = s.double.currentKey().kid
  const stranger = newSigningKey()
  const forged: Record<string, string> = {
    'signed by another key under the project kid': signJwt({ alg: 'ES256', kid }, claims, es256(stranger.privateKey)),
    'alg none': signJwt({ alg: 'none', kid }, claims) + 'AAAA',
    'alg none, empty signature': signJwt({ alg: 'none' }, claims),
    'HS256 without a configured secret': signJwt({ alg: 'HS256', kid }, claims, hs256('any-secret-0123456789abcdef0123456789')),
    'unknown kid': signJwt({ alg: 'ES256', kid: stranger.kid }, claims, es256(stranger.privateKey)),
    expired: s.double.mintAccessToken(user!, { exp: now - 120 }),
    'aud not authenticated': s.double.mintAccessToken(user!, { aud: 'anon' }),
    'role service_role': s.double.mintAccessToken(user!, { role: 'service_role' }),
    'not a JWT': 'definitely-not-a-jwt',
  }
  for (const [what, token] of Object.entries(forged)) {
    const res = await me(s, { authorization: `Bearer ${token}` })
    t.equal(res.statusCode, 401, what)
    t.equal((res.json() as { error: { code: string } }).error.code, 'invalid_access_token', what)
  }
  t.equal((await me(s, ada.headers)).statusCode, 200, 'the real one still works')
  t.notOk(s.logLines.some((line) => line.includes(ada.token)), 'no access token is logged')
})

t.test('key rotation is picked up without restarting the app', async (t) => {
  const s = await setup(t)
  const ada = await person(s)
  await onboard(s, ada.headers)
  const old = s.double.currentKey().kid
  s.double.rotateKeys()
  const fresh = await person(s, ada.email)
  t.not(JSON.parse(Buffer.from(fresh.token.split('.')[0]!, 'base64url').toString()).kid, old)
  // The keys were fetched moments ago: an unknown kid waits for the 30 s between fetches.
  expectError(t, await me(s, fresh.headers), 401, 'invalid_access_token')
  s.verifierClock.advance(31_000)
  t.equal((await me(s, fresh.headers)).statusCode, 200, 'the new key is fetched and used')
  t.equal((await me(s, ada.headers)).statusCode, 200, 'tokens of the old key, still published, still work')
  s.double.rotateKeys({ dropOld: true })
  s.verifierClock.advance(31_000)
  const newest = await person(s, ada.email)
  t.equal((await me(s, newest.headers)).statusCode, 200)
  expectError(t, await me(s, ada.headers), 401, 'invalid_access_token')
})

t.test('local passwords, sign-up and resets answer 409 local_accounts_disabled; API keys keep working', async (t) => {
  const s = await setup(t)
  const ada = await person(s)
  await onboard(s, ada.headers)
  const local = [
    { url: '/api/auth/login', payload: { email: ada.email, password: PASSWORD } },
    { url: '/api/auth/signup', payload: { email: 'new@example.com', password: PASSWORD, org_name: 'New' } },
    { url: '/api/auth/signup', payload: { invitation_token: 'thi_x', password: PASSWORD } },
    { url: '/api/auth/signup/confirm', payload: { token: 'x' } },
    { url: '/api/auth/password-reset', payload: { email: ada.email } },
    { url: '/api/auth/password-reset/confirm', payload: { token: 'x', new_password: PASSWORD } },
    { url: '/api/auth/login', payload: { nonsense: true } },
  ]
  for (const { url, payload } of local) {
    const err = expectError(t, await s.app.inject({ method: 'POST', url, payload }), 409, 'local_accounts_disabled')
    t.match(err.message, /Supabase/, url)
  }
  expectError(t, await s.app.inject({ method: 'POST', url: '/api/auth/password', headers: ada.headers, payload: { current_password: 'x', new_password: PASSWORD } }), 409, 'local_accounts_disabled')
  const everywhere = expectError(t, await s.app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: ada.headers }), 409, 'local_accounts_disabled')
  t.match(everywhere.message, /Supabase[^]*sign-out/, 'signing out everywhere is said to be Supabase’s')

  const created = await s.app.inject({ method: 'POST', url: '/api/api-keys', headers: ada.headers, payload: { name: 'ci' } })
  t.equal(created.statusCode, 201)
  const { key } = created.json() as { key: string }
  const viaKey = await me(s, { authorization: `Bearer ${key}` })
  t.equal(viaKey.statusCode, 200)
  t.match(viaKey.json(), { user: { email: ada.email }, role: 'owner' })
  expectError(t, await me(s, { authorization: 'Bearer thk_notarealkey' }), 401, 'invalid_api_key')
  expectError(t, await me(s, {}), 401, 'unauthenticated')
})

t.test('org scoping: each Supabase user sees their own org; X-Takehome-Org picks among theirs only', async (t) => {
  const s = await setup(t, { signup: 'open' })
  const ada = await person(s)
  const bob = await person(s)
  const orgA = await onboard(s, ada.headers, 'A')
  const orgB = await onboard(s, bob.headers, 'B')
  const membersOf = async (headers: Record<string, string>) =>
    ((await s.app.inject({ method: 'GET', url: '/api/members', headers })).json() as { members: Array<{ user: { email: string } }> }).members.map((m) => m.user.email)
  t.same(await membersOf(ada.headers), [ada.email])
  t.same(await membersOf(bob.headers), [bob.email])
  expectError(t, await me(s, { ...bob.headers, 'x-takehome-org': orgA.org.id }), 403, 'not_a_member')
  expectError(t, await me(s, { ...bob.headers, 'x-takehome-org': 'not-a-uuid' }), 400, 'bad_org_header')

  // Bob joins A by invitation; the header then chooses, and his first org stays the default.
  await s.app.inject({ method: 'POST', url: '/api/members', headers: ada.headers, payload: { email: bob.email, role: 'viewer' } })
  const token = await emailedToken(s, bob.email, 'member_invite')
  t.equal((await s.app.inject({ method: 'POST', url: '/api/auth/join', headers: bob.headers, payload: { token } })).statusCode, 200)
  t.match((await me(s, bob.headers)).json(), { org: { id: orgB.org.id }, role: 'owner' })
  t.match((await me(s, { ...bob.headers, 'x-takehome-org': orgA.org.id })).json(), { org: { id: orgA.org.id }, role: 'viewer' })
  t.same((await membersOf({ ...bob.headers, 'x-takehome-org': orgA.org.id })).sort(), [ada.email, bob.email].sort())
})

t.test('SIGNUP=invite: nobody creates an org by onboarding', async (t) => {
  const s = await setup(t, { signup: 'invite' })
  const ada = await person(s)
  t.same(expectError(t, await me(s, ada.headers), 403, 'no_organisation').details, { can_create_org: false })
  expectError(t, await s.app.inject({ method: 'POST', url: '/api/auth/supabase/onboard', headers: ada.headers, payload: { org_name: 'A' } }), 403, 'signup_closed')
})

t.test('an existing account with the same email is linked; an unconfirmed Supabase email is not', async (t) => {
  const s = await setup(t)
  const [local] = await s.db.insert(schema.users).values({ email: 'Grace@Example.com', passwordHash: null }).returning()
  const [org] = await s.db.insert(schema.orgs).values({ name: 'Old org' }).returning()
  await s.db.insert(schema.orgMembers).values({ orgId: org!.id, userId: local!.id, role: 'owner' })

  const unconfirmed = s.double.createUser({ email: 'grace@example.com', password: PASSWORD, confirmed: false })
  const token = s.double.mintAccessToken(unconfirmed)
  expectError(t, await me(s, { authorization: `Bearer ${token}` }), 403, 'email_not_confirmed')
  const [still] = await s.db.select().from(schema.users).where(eq(schema.users.id, local!.id))
  t.equal(still?.supabaseUserId, null, 'not linked on an unconfirmed address')

  // Supabase confirms the address (here: by the double's magic link), and the next token links.
  await supabaseClient(s.double).auth.signInWithOtp({ email: 'grace@example.com', options: { emailRedirectTo: `${PUBLIC_URL}/login/callback` } })
  await fetch(s.double.lastLink('grace@example.com'), { redirect: 'manual' })
  const res = await me(s, { authorization: `Bearer ${s.double.mintAccessToken(unconfirmed)}` })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { user: { id: local!.id }, org: { id: org!.id }, role: 'owner' })
  const [linked] = await s.db.select().from(schema.users).where(eq(schema.users.id, local!.id))
  t.equal(linked?.supabaseUserId, unconfirmed.id)
  const audit = await s.db.select().from(schema.auditEvents).where(and(eq(schema.auditEvents.kind, 'user.supabase_linked'), eq(schema.auditEvents.target, local!.id)))
  t.equal(audit.length, 1)
  t.equal((await s.db.select().from(schema.users)).length, 1, 'no second account')

  // A validly signed token of a user Supabase no longer knows (deleted since) makes no account.
  const ghost = { ...unconfirmed, id: crypto.randomUUID(), email: 'ghost@example.com' }
  expectError(t, await me(s, { authorization: `Bearer ${s.double.mintAccessToken(ghost)}` }), 401, 'invalid_access_token')
  t.equal((await s.db.select().from(schema.users)).length, 1, 'still one account')
})

t.test('an account already linked to another Supabase user is not taken over by a second one with its email', async (t) => {
  const s = await setup(t)
  const otherSub = crypto.randomUUID()
  const [local] = await s.db.insert(schema.users).values({ email: 'linus@example.com', passwordHash: null, supabaseUserId: otherSub }).returning()
  const linus = await person(s, 'linus@example.com')
  expectError(t, await me(s, linus.headers), 409, 'email_linked_elsewhere')
  const [still] = await s.db.select().from(schema.users).where(eq(schema.users.id, local!.id))
  t.equal(still?.supabaseUserId, otherSub, 'the link stays as it was')
})

t.test('the OpenAPI document lists the Supabase routes', async (t) => {
  const s = await setup(t)
  const doc = (await s.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> }
  t.ok(doc.paths['/api/auth/config']?.get)
  t.ok(doc.paths['/api/auth/supabase/onboard']?.post)
})

t.test('two first requests of one new user at once make one account', async (t) => {
  const s = await setup(t)
  const ada = await person(s)
  const answers = await Promise.all([1, 2, 3].map(() => me(s, ada.headers)))
  t.same(answers.map((r) => r.statusCode), [403, 403, 403])
  t.equal((await s.db.select().from(schema.users).where(eq(schema.users.supabaseUserId, ada.supabaseId))).length, 1)
})
