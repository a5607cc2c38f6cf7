import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import t, { type Test } from 'tap'
import { createSupabaseAuth } from '../src/adapters/supabase-auth.ts'
import { startSupabaseDouble, type SupabaseDouble } from '../testing/supabase-double/index.ts'

const APP = 'http://app.test'

/**
 * supabase-js makes its Realtime client at once and, on Node 20, finds no WebSocket to give
 * it; these tests never open a channel, so one that refuses to be made is enough.
 */
class NoRealtime {
  constructor() {
    throw new Error('these tests open no Realtime channel')
  }
}

/** supabase-js as a browser app uses it, storage in memory (Node has no localStorage). */
function client(double: SupabaseDouble, flowType: 'pkce' | 'implicit' = 'pkce', memory = new Map<string, string>()): SupabaseClient {
  return createClient(double.url, double.anonKey, {
    realtime: { transport: NoRealtime as never },
    auth: {
      flowType,
      autoRefreshToken: false,
      persistSession: true,
      detectSessionInUrl: false,
      storage: {
        getItem: (key) => memory.get(key) ?? null,
        setItem: (key, value) => void memory.set(key, value),
        removeItem: (key) => void memory.delete(key),
      },
    },
  })
}

async function setup(t: Test, options: Parameters<typeof startSupabaseDouble>[0] = {}) {
  const double = await startSupabaseDouble(options)
  t.teardown(() => double.close())
  const verifier = createSupabaseAuth({ config: double.config })
  return { double, verifier }
}

/** Follows one redirect of the double (as a browser would) and returns where it points. */
async function redirectOf(link: string) {
  const res = await fetch(link, { redirect: 'manual' })
  if (res.status !== 303 && res.status !== 302) throw new Error(`expected a redirect, got ${res.status} ${await res.text()}`)
  return new URL(res.headers.get('location')!)
}

t.test('sign up and sign in with a password: ES256 tokens that verify against the JWKS', async (t) => {
  const { double, verifier } = await setup(t)
  const sb = client(double)
  const signedUp = await sb.auth.signUp({ email: 'Ada@Example.com', password: 'correct horse' })
  t.error(signedUp.error)
  t.ok(signedUp.data.session, 'auto-confirmed: a session at once')
  const again = await sb.auth.signUp({ email: 'ada@example.com', password: 'correct horse' })
  t.equal(again.error?.code, 'user_already_exists')

  const { data, error } = await sb.auth.signInWithPassword({ email: 'ada@example.com', password: 'correct horse' })
  t.error(error)
  const token = data.session!.access_token
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { alg: string; kid: string }
  t.equal(header.alg, 'ES256')
  t.equal(header.kid, double.currentKey().kid)
  const claims = await verifier.verify(token)
  t.equal(claims.sub, data.user!.id)
  t.equal(claims.email, 'ada@example.com')

  const wrong = await sb.auth.signInWithPassword({ email: 'ada@example.com', password: 'wrong horse' })
  t.equal(wrong.error?.code, 'invalid_credentials')
  t.equal(wrong.error?.status, 400)

  const user = await sb.auth.getUser(token)
  t.equal(user.data.user?.email, 'ada@example.com')
  t.ok(user.data.user?.email_confirmed_at)

  const settings = (await (await fetch(`${double.url}/auth/v1/settings`, { headers: { apikey: double.anonKey } })).json()) as { external: Record<string, boolean> }
  t.equal(settings.external.github, true)
  t.equal(settings.external.email, true)
  t.equal((await fetch(`${double.url}/auth/v1/settings`)).status, 401, 'the gateway wants the apikey')
})

t.test('an unconfirmed sign-up gets no session and cannot sign in until the emailed link is followed', async (t) => {
  const { double } = await setup(t, { autoConfirm: false })
  const sb = client(double)
  const signedUp = await sb.auth.signUp({ email: 'grace@example.com', password: 'correct horse', options: { emailRedirectTo: `${APP}/login/callback` } })
  t.error(signedUp.error)
  t.equal(signedUp.data.session, null)
  const refused = await sb.auth.signInWithPassword({ email: 'grace@example.com', password: 'correct horse' })
  t.equal(refused.error?.code, 'email_not_confirmed')
  const back = await redirectOf(double.lastLink('grace@example.com', 'signup'))
  t.equal(back.origin + back.pathname, `${APP}/login/callback`)
  const exchanged = await sb.auth.exchangeCodeForSession(back.searchParams.get('code')!)
  t.error(exchanged.error)
  t.ok(exchanged.data.user?.email_confirmed_at, 'confirmed by the link')
})

t.test('refresh gives new tokens; a refresh token works once; logout revokes the session', async (t) => {
  const { double, verifier } = await setup(t)
  double.createUser({ email: 'alan@example.com', password: 'correct horse' })
  const sb = client(double)
  const first = (await sb.auth.signInWithPassword({ email: 'alan@example.com', password: 'correct horse' })).data.session!
  const refreshed = await sb.auth.refreshSession()
  t.error(refreshed.error)
  const second = refreshed.data.session!
  t.not(second.refresh_token, first.refresh_token)
  t.equal((await verifier.verify(second.access_token)).sessionId, (await verifier.verify(first.access_token)).sessionId, 'the same session')

  const reuse = await fetch(`${double.url}/auth/v1/token?grant_type=refresh_token`, {
    method: 'POST',
    headers: { apikey: double.anonKey, 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: first.refresh_token }),
  })
  t.equal(reuse.status, 400)
  t.equal(((await reuse.json()) as { code: string }).code, 'refresh_token_already_used')

  const other = client(double)
  const elsewhere = (await other.auth.signInWithPassword({ email: 'alan@example.com', password: 'correct horse' })).data.session!
  t.error((await sb.auth.signOut({ scope: 'local' })).error)
  t.equal((await sb.auth.getSession()).data.session, null, 'the client forgot the session')
  const afterLogout = await client(double).auth.refreshSession({ refresh_token: second.refresh_token })
  t.equal(afterLogout.error?.code, 'refresh_token_not_found', 'its refresh token no longer works')
  t.ok((await client(double).auth.getUser(second.access_token)).error, 'Supabase no longer knows its access token')
  t.equal((await other.auth.getUser(elsewhere.access_token)).data.user?.email, 'alan@example.com', 'a local logout leaves the other session')
  t.error((await other.auth.signOut()).error)
  t.ok((await client(double).auth.refreshSession({ refresh_token: elsewhere.refresh_token })).error, 'a global logout ends it too')
})

t.test('magic link with PKCE: the link redirects with ?code=, which only the verifier that asked can exchange', async (t) => {
  const { double, verifier } = await setup(t)
  const storage = new Map<string, string>()
  const sb = client(double, 'pkce', storage)
  const sent = await sb.auth.signInWithOtp({ email: 'edsger@example.com', options: { emailRedirectTo: `${APP}/login/callback` } })
  t.error(sent.error)
  const back = await redirectOf(double.lastLink('edsger@example.com', 'magiclink'))
  const code = back.searchParams.get('code')!
  t.ok(code)
  const thief = await client(double).auth.exchangeCodeForSession(code)
  t.ok(thief.error, 'another client (no code verifier) cannot use the code')
  // The thief's attempt sent no verifier at all, so the code is still the asker's to use.
  const codeVerifier = [...storage.entries()].find(([key]) => key.endsWith('-code-verifier'))![1]
  const exchanged = await sb.auth.exchangeCodeForSession(code)
  t.error(exchanged.error)
  t.equal((await verifier.verify(exchanged.data.session!.access_token)).email, 'edsger@example.com')
  const again = await fetch(`${double.url}/auth/v1/token?grant_type=pkce`, {
    method: 'POST',
    headers: { apikey: double.anonKey, 'content-type': 'application/json' },
    body: JSON.stringify({ auth_code: code, code_verifier: codeVerifier }),
  })
  t.equal(again.status, 404, 'a code works once, even with the right verifier')
  const reused = await redirectOf(double.lastLink('edsger@example.com', 'magiclink'))
  t.match(reused.hash, /error_code=otp_expired/, 'a link works once')
})

t.test('a wrong code verifier is refused', async (t) => {
  const { double } = await setup(t)
  const sb = client(double)
  await sb.auth.signInWithOtp({ email: 'barbara@example.com', options: { emailRedirectTo: `${APP}/login/callback` } })
  const code = (await redirectOf(double.lastLink('barbara@example.com'))).searchParams.get('code')!
  const res = await fetch(`${double.url}/auth/v1/token?grant_type=pkce`, {
    method: 'POST',
    headers: { apikey: double.anonKey, 'content-type': 'application/json' },
    body: JSON.stringify({ auth_code: code, code_verifier: 'x'.repeat(56) }),
  })
  t.equal(res.status, 403)
  t.equal(((await res.json()) as { code: string }).code, 'bad_code_verifier')
})

t.test('OAuth: /authorize stands in for the provider and comes back with ?code=', async (t) => {
  const { double, verifier } = await setup(t, { oauthEmails: { github: 'octo@example.com' } })
  const sb = client(double)
  const started = await sb.auth.signInWithOAuth({ provider: 'github', options: { redirectTo: `${APP}/login/callback`, skipBrowserRedirect: true } })
  t.error(started.error)
  const back = await redirectOf(started.data.url!)
  const exchanged = await sb.auth.exchangeCodeForSession(back.searchParams.get('code')!)
  t.error(exchanged.error)
  t.equal((await verifier.verify(exchanged.data.session!.access_token)).email, 'octo@example.com')
  t.equal(exchanged.data.user?.app_metadata.provider, 'github')
  const disabled = await fetch(`${double.url}/auth/v1/authorize?provider=gitlab&redirect_to=${encodeURIComponent(APP)}`, { redirect: 'manual' })
  t.equal(disabled.status, 400, 'a provider the project has not enabled')
})

t.test('implicit flow: the tokens come back in the fragment', async (t) => {
  const { double, verifier } = await setup(t)
  const sb = client(double, 'implicit')
  await sb.auth.signInWithOtp({ email: 'ken@example.com', options: { emailRedirectTo: `${APP}/` } })
  const back = await redirectOf(double.lastLink('ken@example.com'))
  const fragment = new URLSearchParams(back.hash.slice(1))
  t.equal((await verifier.verify(fragment.get('access_token')!)).email, 'ken@example.com')
  t.ok(fragment.get('refresh_token'))
})

t.test('rotateKeys: new tokens carry the new kid; the JWKS keeps the old key until it is dropped', async (t) => {
  const { double } = await setup(t)
  const jwks = async () => ((await (await fetch(`${double.url}/auth/v1/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; d?: string; alg: string }> }).keys
  const first = double.currentKey().kid
  t.same((await jwks()).map((k) => k.kid), [first])
  t.notOk((await jwks())[0]!.d, 'no private part is published')
  const second = double.rotateKeys().kid
  t.same((await jwks()).map((k) => k.kid), [first, second])
  const user = double.createUser({ email: 'rot@example.com', password: 'pw-123456' })
  const kid = (JSON.parse(Buffer.from(double.mintAccessToken(user).split('.')[0]!, 'base64url').toString()) as { kid: string }).kid
  t.equal(kid, second)
  const third = double.rotateKeys({ dropOld: true }).kid
  t.same((await jwks()).map((k) => k.kid), [third])
})
