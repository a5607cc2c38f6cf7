// The console's Supabase login, in a real browser against the real embedded-default process
// (scripts/start.ts) pointed at a loopback Supabase Auth double: sign in with a password and
// create the first organisation, stay signed in while supabase-js refreshes the access token,
// sign in again with a magic link (PKCE), and log out, which revokes the session at Supabase.
import { readFileSync } from 'node:fs'
import { createSourceRepo, startSupabaseDouble } from '@takehome/core/testing'
import type { Page } from 'playwright-core'
import t from 'tap'
import { launchChromium, requireWebBuild, startProduct, waitFor } from './helpers.ts'

requireWebBuild()

t.setTimeout(6 * 60_000)

const OWNER = { email: 'owner@example.com', password: 'a long password' }
// Short enough that supabase-js (which refreshes 90 s before expiry, checking every 30 s) refreshes within the test.
const ACCESS_TOKEN_LIFETIME_S = 100

const double = await startSupabaseDouble({ accessTokenLifetimeS: ACCESS_TOKEN_LIFETIME_S })
t.teardown(() => double.close())
double.createUser(OWNER)
const { base, request } = await startProduct(t, double.env)
const browser = await launchChromium(t)

/** The session supabase-js keeps in the page's localStorage. */
async function storedSession(page: Page) {
  const raw = await page.evaluate(() => {
    const key = Object.keys(localStorage).find((k) => k.startsWith('sb-') && k.endsWith('-auth-token'))
    return key ? localStorage.getItem(key) : null
  })
  return raw ? (JSON.parse(raw) as { access_token: string; refresh_token: string }) : undefined
}

const refreshes = () => double.requests.filter((r) => r.method === 'POST' && r.path === '/auth/v1/token').length

t.test('the API tells the web app to use Supabase', async (t) => {
  const config = await request('GET', '/api/auth/config')
  t.same(config.body, { mode: 'supabase', supabase_url: double.url, supabase_anon_key: double.anonKey })
  const local = await request('POST', '/api/auth/login', { body: { email: OWNER.email, password: OWNER.password } })
  t.equal(local.status, 409)
  t.equal((local.body as { error: { code: string } }).error.code, 'local_accounts_disabled')
})

t.test('password sign-in, first organisation, silent refresh, logout that revokes', async (t) => {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(`${base}/login`)
  await page.getByLabel('Email', { exact: true }).fill(OWNER.email)
  await page.getByLabel('Password', { exact: true }).fill(OWNER.password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()

  // The instance's first user: no org yet, so the page offers to create it.
  await page.getByLabel('Organisation name').fill('Acme Hiring')
  await page.getByRole('button', { name: 'Create organisation' }).click()
  await page.waitForURL(`${base}/dashboard`)
  await page.getByRole('button', { name: OWNER.email }).waitFor()
  const first = await storedSession(page)
  t.ok(first, 'supabase-js keeps the session')
  t.notOk((await context.cookies(base)).some((c) => c.name === 'takehome_session'), 'no local session cookie')

  const me = await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${first!.access_token}` } })
  t.match(await me.json(), { user: { email: OWNER.email }, org: { name: 'Acme Hiring' }, role: 'owner' })

  // supabase-js refreshes the token before it expires; the console keeps working with the new one.
  const before = refreshes()
  const refreshed = await waitFor(60_000, async () => {
    const now = await storedSession(page)
    return now && now.access_token !== first!.access_token && refreshes() > before ? now : undefined
  }, 500)
  t.ok(refreshed, 'the access token was refreshed without a new sign-in')
  await page.goto(`${base}/assessments`)
  await page.getByRole('heading', { name: 'Assessments', level: 1 }).waitFor()
  t.equal(new URL(page.url()).pathname, '/assessments', 'still signed in after the refresh and a reload')

  await page.getByRole('button', { name: OWNER.email }).click()
  await page.getByRole('menuitem', { name: 'Log out' }).click()
  await page.waitForURL(/\/login/)
  t.equal(await storedSession(page), undefined, 'the browser forgot the session')
  const reuse = await fetch(`${double.url}/auth/v1/token?grant_type=refresh_token`, {
    method: 'POST',
    headers: { apikey: double.anonKey, 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: refreshed!.refresh_token }),
  })
  t.equal(reuse.status, 400, 'the session is revoked at Supabase: its refresh token no longer works')
  await page.goto(`${base}/dashboard`)
  await page.waitForURL(/\/login\?next=%2Fdashboard/)
})

t.test('magic link with PKCE comes back to /login/callback and into the console', async (t) => {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(`${base}/login?next=%2Fseeds`)
  await page.getByLabel('Email me a sign-in link').fill(OWNER.email)
  await page.getByRole('button', { name: 'Send magic link' }).click()
  await page.getByText(`Check ${OWNER.email}`).waitFor()
  const link = double.lastLink(OWNER.email, 'magiclink')
  t.match(new URL(link).searchParams.get('redirect_to'), `${base}/login/callback?next=%2Fseeds`)
  await page.goto(link)
  await page.waitForURL(`${base}/seeds`)
  t.ok(await storedSession(page), 'signed in')

  await t.test("the console's downloads go with the access token: the invitations CSV and a submission's ZIP", async (t) => {
    const bearer = { authorization: `Bearer ${(await storedSession(page))!.access_token}`, 'content-type': 'application/json' }
    const post = async (url: string, body: object = {}, headers: Record<string, string> = bearer) => {
      const res = await fetch(`${base}${url}`, { method: 'POST', headers, body: JSON.stringify(body) })
      if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`)
      return res.json()
    }
    const seed = await post('/api/seeds', { source_url: createSourceRepo().dir })
    const assessment = await post('/api/assessments', { seed_id: seed.id, title: 'Downloads', instructions: 'Go.', time_to_start: 'P3D', time_to_complete: 'PT48H' })
    const { invitations } = await post('/api/invitations', { assessment_id: assessment.id, candidates: [{ email: 'cand@example.com' }] })
    const token = (invitations[0].start_url as string).split('/start/')[1]!
    const json = { 'content-type': 'application/json' }
    await post(`/api/start/${token}`, {}, json)
    await post(`/api/submit/${token}`, {}, json)

    await page.goto(`${base}/assessments/${assessment.id}`)
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()])
    t.match(csv.suggestedFilename(), /\.csv$/, 'the CSV is saved under its own name')
    t.match(readFileSync((await csv.path())!, 'utf8'), /cand@example\.com/, "and holds the assessment's invitation")

    await page.goto(`${base}/review/${invitations[0].id}`)
    const [zip] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download ZIP' }).click()])
    t.match(zip.suggestedFilename(), /\.zip$/, 'the ZIP is saved under its own name')
    t.equal(readFileSync((await zip.path())!).subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'and is a ZIP archive')
  })
})
