// Settings → Audit log and Settings → Data retention in a real browser against the real
// embedded-default process (scripts/start.ts): the log filtered and paged, a refused filter
// shown beside its field; the retention setting changed by an owner and only read by a viewer;
// a candidate's export downloaded and their erasure confirmed. Every page is checked with
// axe-core, at 375 px for sideways scrolling, and photographed.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { launchChromium, pageChecker, requireWebBuild, startProduct, waitFor } from './helpers.ts'

requireWebBuild()

// One start-up of the real product (15-30 s on two busy cores), then two pages as two roles.
t.setTimeout(8 * 60_000)

const OWNER = { email: 'owner@example.com', password: 'a long password', org_name: 'Acme' }
const SCREENSHOTS = mkdtempSync(path.join(tmpdir(), 'takehome-audit-'))
const UI_WAIT = { timeout: 30_000 }
const MAIL_CAP_MS = 60_000
// More than one page of the log (50 events), so "Load older events" has something to load.
const KEYS = 55

const { base, request } = await startProduct(t)
const signup = await request('POST', '/api/auth/signup', { body: OWNER })
if (signup.status !== 201) throw new Error(`sign-up answered ${signup.status}`)
const ownerCookie = signup.headers.getSetCookie()[0]!.split(';')[0]!
for (let i = 0; i < KEYS; i++) {
  const made = await request('POST', '/api/api-keys', { cookie: ownerCookie, body: { name: `key ${i}` } })
  if (made.status !== 201) throw new Error(`an API key answered ${made.status}`)
}

const browser = await launchChromium(t)
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })
t.teardown(() => context.close())
const page = await context.newPage()
const checkPage = pageChecker(page, SCREENSHOTS)
const toast = (words: string) => page.getByText(words).first()

t.test('the audit log: every event newest first, paged, filtered; a refused filter is shown beside its field', async (t) => {
  await page.goto(`${base}/settings/audit`)
  await page.waitForURL(/\/login\?next=/, UI_WAIT)
  await page.getByLabel('Email').fill(OWNER.email)
  await page.getByLabel('Password').fill(OWNER.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL(`${base}/settings/audit`, UI_WAIT)
  const nav = page.getByRole('navigation', { name: 'Settings' })
  await nav.getByRole('link', { name: 'Audit log' }).waitFor(UI_WAIT)
  t.equal(await nav.getByRole('link', { name: 'Audit log' }).getAttribute('aria-current'), 'page', 'the settings menu marks the page')

  const table = page.getByRole('table', { name: 'Audit events' })
  const rows = table.getByRole('row')
  await table.getByRole('cell', { name: 'auth.login' }).first().waitFor(UI_WAIT)
  t.equal(await rows.count(), 51, 'one page: fifty events and the header row')
  t.equal(await rows.nth(1).getByRole('cell').nth(1).textContent(), 'auth.login', 'newest first: this login')
  await page.getByText('50 events shown; older ones follow.').waitFor(UI_WAIT)
  await checkPage(t, 'audit-log')

  await page.getByRole('button', { name: 'Load older events' }).click()
  await page.getByText(/^\d+ events shown\.$/).waitFor(UI_WAIT)
  const all = await rows.count()
  t.ok(all > 51, `older events appended (${all - 1} in all)`)
  t.equal(await page.getByRole('button', { name: 'Load older events' }).count(), 0, 'and nothing more to load')
  t.equal(await table.getByRole('cell', { name: 'user.signup' }).count(), 1, 'down to the sign-up')

  const filters = page.getByRole('search', { name: 'Filter the audit log' })
  await filters.getByLabel('Action').fill('api_key.*')
  await filters.getByRole('button', { name: 'Apply filters' }).click()
  await page.getByText('50 events shown; older ones follow.').waitFor(UI_WAIT)
  const actions = await table.locator('tbody tr td:nth-child(2)').allTextContents()
  t.ok(actions.length === 50 && actions.every((a) => a === 'api_key.created'), 'only the keys made')
  t.match(await table.locator('tbody tr').first().locator('td').nth(3).textContent(), /^[0-9a-f-]{36}$/, 'each with the key as its target')

  await filters.getByLabel('Action').fill('Not a kind')
  await filters.getByRole('button', { name: 'Apply filters' }).click()
  await page.locator('#audit-action-error').getByText(/must be an event kind/).waitFor(UI_WAIT)
  t.equal(await filters.getByLabel('Action').getAttribute('aria-invalid'), 'true', 'the field is marked')
  await page.getByRole('alert').filter({ hasText: 'Could not load the audit log' }).waitFor(UI_WAIT)
  t.pass('and the list says it could not load')

  await filters.getByLabel('Action').fill('nothing.happened')
  await filters.getByRole('button', { name: 'Apply filters' }).click()
  await page.getByText('Nothing matches these filters.').waitFor(UI_WAIT)
  await filters.getByRole('button', { name: 'Clear filters' }).click()
  await table.getByRole('cell', { name: 'auth.login' }).first().waitFor(UI_WAIT)
  t.equal(await filters.getByLabel('Action').inputValue(), '', 'cleared: every kind of event again')
})

t.test('data retention: an owner changes it; a candidate is exported and erased; both leave audit events', async (t) => {
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Data retention' }).click()
  await page.waitForURL(`${base}/settings/retention`, UI_WAIT)
  const days = page.getByLabel('Keep candidate data for (days)')
  await days.waitFor(UI_WAIT)
  t.equal(await days.inputValue(), '365', 'a year by default')
  t.ok(await page.getByRole('button', { name: 'Save' }).isDisabled(), 'nothing to save yet')
  await days.fill('30')
  await page.getByRole('button', { name: 'Save' }).click()
  await toast('Candidate data is now kept 30 days').waitFor(UI_WAIT)
  t.equal((await request('GET', '/api/org', { cookie: ownerCookie })).body.retention_days, 30, 'saved through the API')
  await checkPage(t, 'retention')

  const requests = page.getByRole('region', { name: "A candidate's requests" })
  await requests.getByLabel("Candidate's email").fill('ada@example.com')
  const [download] = await Promise.all([page.waitForEvent('download', UI_WAIT), requests.getByRole('button', { name: 'Export as JSON' }).click()])
  const file = await download.path()
  const exported = JSON.parse(readFileSync(file, 'utf8')) as { email: string; invitations: unknown[] }
  t.match(exported, { email: 'ada@example.com', invitations: [] }, 'the export, downloaded as JSON')

  await requests.getByRole('button', { name: 'Erase…' }).click()
  const dialog = page.getByRole('dialog', { name: 'Erase ada@example.com?' })
  await dialog.getByRole('button', { name: 'Erase' }).click()
  await page.getByRole('status').filter({ hasText: 'Erased ada@example.com' }).waitFor(UI_WAIT)
  t.pass('the erasure is confirmed with what it removed')
  await checkPage(t, 'retention-erased')

  const { body } = await request('GET', '/api/audit?action=candidate.erased', { cookie: ownerCookie })
  t.equal(body.events.length, 1, 'the erasure is in the audit log')
  t.notOk(JSON.stringify(body.events).includes('ada@example.com'), 'without the address')
  const changed = await request('GET', '/api/audit?action=org.retention_changed', { cookie: ownerCookie })
  t.match(changed.body.events, [{ meta: { from: 365, to: 30 } }], 'the retention change too')
})

t.test('a viewer reads the retention and has no audit log', async (t) => {
  const invited = await request('POST', '/api/members', { cookie: ownerCookie, body: { email: 'vic@example.com', role: 'viewer' } })
  t.equal(invited.status, 201)
  const token = await waitFor(MAIL_CAP_MS, async () => {
    const { body } = await request('GET', '/api/mail', { cookie: ownerCookie })
    const mail = (body.messages as Array<{ to: string; kind: string; text: string }>).find((m) => m.to === 'vic@example.com' && m.kind === 'member_invite')
    return mail && new RegExp(`${base}/join/(thm_[0-9A-Za-z]+)`).exec(mail.text)?.[1]
  })
  if (!token) throw new Error('no member invitation was emailed')
  const joined = await request('POST', '/api/auth/signup', { body: { invitation_token: token, name: 'Vic', password: 'vic has a long password' } })
  t.equal(joined.status, 201)

  const viewerContext = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  t.teardown(() => viewerContext.close())
  const viewer = await viewerContext.newPage()
  await viewer.goto(`${base}/settings/retention`)
  await viewer.waitForURL(/\/login\?next=/, UI_WAIT)
  await viewer.getByLabel('Email').fill('vic@example.com')
  await viewer.getByLabel('Password').fill('vic has a long password')
  await viewer.getByRole('button', { name: 'Log in' }).click()
  await viewer.waitForURL(`${base}/settings/retention`, UI_WAIT)
  await viewer.getByText('Candidate data is kept').waitFor(UI_WAIT)
  t.match(await viewer.getByRole('region', { name: 'Retention' }).textContent(), /30 days/, 'the current setting')
  t.equal(await viewer.getByLabel('Keep candidate data for (days)').count(), 0, 'nothing to change')
  t.equal(await viewer.getByRole('button', { name: 'Erase…' }).count(), 0, 'no erasure')
  t.same(
    await viewer.getByRole('navigation', { name: 'Settings' }).getByRole('link').allTextContents(),
    ['Email templates', 'Members', 'Data retention'],
    'no audit log in the menu',
  )
  await viewer.goto(`${base}/settings/audit`)
  await viewer.getByText('Only owners and admins read the audit log').waitFor(UI_WAIT)
  t.equal(await viewer.getByRole('table', { name: 'Audit events' }).count(), 0, 'and no events at its address')
  await pageChecker(viewer, SCREENSHOTS)(t, 'audit-log-viewer')
})
