// The admin console in a real browser against the real embedded-default process
// (scripts/start.ts): log in, add a seed from a local repository, create an assessment,
// invite two candidates by pasting, see them in the table and their invitation in the
// mailbox. Every page is checked with axe-core, at 375 px for sideways scrolling, and
// photographed.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createSourceRepo } from '@takehome/core/testing'
import t from 'tap'
import { launchChromium, pageChecker, requireWebBuild, startProduct } from './helpers.ts'

requireWebBuild()

// One start-up of the real product (15-30 s on two busy cores), then a dozen pages.
t.setTimeout(8 * 60_000)

const OWNER = { email: 'owner@example.com', password: 'a long password', org_name: 'Acme' }
const SCREENSHOTS = mkdtempSync(path.join(tmpdir(), 'takehome-console-'))
const UI_WAIT = { timeout: 30_000 }

const { base, request } = await startProduct(t)
const signup = await request('POST', '/api/auth/signup', { body: OWNER })
if (signup.status !== 201) throw new Error(`sign-up answered ${signup.status}`)
const source = createSourceRepo({ files: { 'README.md': '# Exercise\n', 'src/app.js': 'export default 1\n' } })
t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))

const browser = await launchChromium(t)
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
t.teardown(() => context.close())
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
const page = await context.newPage()

/** A toast's words (Radix also repeats them in its screen-reader announcement). */
const toast = (words: string) => page.getByText(words).first()

const checkPage = pageChecker(page, SCREENSHOTS)

t.test('a signed-out visit goes to the login page, and back once logged in', async (t) => {
  await page.goto(`${base}/seeds`)
  await page.waitForURL(`${base}/login?next=%2Fseeds`, UI_WAIT)
  await page.getByLabel('Email').fill(OWNER.email)
  await page.getByLabel('Password').fill(OWNER.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL(`${base}/seeds`, UI_WAIT)
  await page.getByRole('heading', { level: 1, name: 'Seeds' }).waitFor(UI_WAIT)
  t.pass('the login page sends the browser back to the page asked for')

  await page.goto(`${base}/`)
  await page.waitForURL(`${base}/dashboard`, UI_WAIT)
  t.pass('the landing sends a signed-in member to the dashboard')
  await page.getByText('No assessments yet').waitFor(UI_WAIT)
  t.pass('an empty dashboard says so')
  await page.getByRole('button', { name: 'owner@example.com' }).click()
  t.ok(await page.getByText('Acme · owner').isVisible(), 'the menu names the org and the role')
  await page.keyboard.press('Escape')
  await checkPage(t, 'dashboard-empty')
})

t.test('seeds: a bad source reads plainly and keeps the input; a local repository is added', async (t) => {
  await page.goto(`${base}/seeds`)
  await page.getByText('No seeds yet').waitFor(UI_WAIT)
  const field = page.getByLabel('Git URL or path')
  const missing = path.join(source.dir, 'no-such-repo')
  await field.fill(missing)
  await page.getByRole('button', { name: 'Add seed' }).click()
  const refused = page.getByRole('alert').filter({ hasText: 'The seed could not be added' })
  await refused.waitFor(UI_WAIT)
  t.match(await refused.textContent(), /repository|path|found/i, "git's failure in words")
  t.equal(await field.inputValue(), missing, 'the form keeps what was typed')

  await field.fill(source.dir)
  await page.getByRole('button', { name: 'Add seed' }).click()
  const row = page.getByRole('row').filter({ hasText: source.dir })
  await row.waitFor(UI_WAIT)
  t.ok(await row.getByText(source.firstSha.slice(0, 7)).isVisible(), 'the short SHA of main')
  await row.getByRole('button', { name: 'Copy SHA' }).click()
  t.equal(await page.evaluate(() => navigator.clipboard.readText()), source.firstSha, 'Copy puts the full SHA on the clipboard')
  await row.getByRole('button', { name: `Sync ${source.dir}` }).click()
  await toast(`Synced: main is at ${source.firstSha.slice(0, 7)}`).waitFor(UI_WAIT)
  await checkPage(t, 'seeds')
})

let assessmentUrl = ''

t.test('assessments: create one with a live preview, keeping what was typed on a refusal', async (t) => {
  await page.goto(`${base}/assessments`)
  await page.getByText('No assessments yet').waitFor(UI_WAIT)
  await checkPage(t, 'assessments-empty')
  await page.getByRole('link', { name: 'New assessment' }).click()
  await page.waitForURL(`${base}/assessments/new`, UI_WAIT)
  await page.getByRole('option', { name: new RegExp(source.firstSha.slice(0, 7)) }).waitFor({ state: 'attached', ...UI_WAIT })
  await page.getByLabel('Seed').selectOption({ index: 1 })
  await page.getByLabel('Title').fill('Backend exercise')
  await page.getByLabel('Instructions').fill('## Task\n\nBuild **an API**.\n\n<script>alert(1)</script>')
  const preview = page.getByRole('region', { name: 'Preview' })
  t.equal(await preview.locator('strong').textContent(), 'an API', 'the preview renders markdown as it is typed')
  t.match(await preview.textContent(), /<script>alert\(1\)<\/script>/, 'raw HTML shows as text')
  await checkPage(t, 'assessment-new')

  // Beyond the API's 366 days: refused next to the field, and nothing typed is lost.
  await page.getByLabel('Time to complete: amount').fill('400')
  await page.getByLabel('Time to complete: unit').selectOption('days')
  await page.getByRole('button', { name: 'Create assessment' }).click()
  await page.getByText('must be longer than zero and at most 366 days').waitFor(UI_WAIT)
  t.equal(await page.getByLabel('Time to complete: amount').getAttribute('aria-invalid'), 'true', 'the field is marked')
  t.equal(await page.getByLabel('Title').inputValue(), 'Backend exercise', 'the title is kept')

  await page.getByLabel('Time to complete: amount').fill('2')
  await page.getByRole('button', { name: 'Create assessment' }).click()
  await page.waitForURL(/\/assessments\/[0-9a-f-]{36}$/, UI_WAIT)
  assessmentUrl = page.url()
  await page.getByRole('heading', { level: 1, name: 'Backend exercise' }).waitFor(UI_WAIT)
  t.ok(await page.getByText('7 days to start, then 2 days to complete.').isVisible(), 'the times as set')
})

t.test("the assessment's page: paste two invitations, see them in the table", async (t) => {
  await page.goto(assessmentUrl)
  await page.getByText('Nobody invited yet').waitFor(UI_WAIT)
  await page.getByRole('textbox', { name: 'Candidates' }).fill('ada@example.com\nnot-an-email\nGrace Hopper, grace@example.com')
  await page.getByRole('button', { name: 'Send invitations' }).click()
  await toast('2 candidates invited').waitFor(UI_WAIT)
  const bad = page.getByRole('alert').filter({ hasText: 'One line was not sent' })
  t.match(await bad.textContent(), /Line 2 not-an-email: “not-an-email” is not an email address/, 'the bad row is reported by line')
  t.equal(await page.getByRole('textbox', { name: 'Candidates' }).inputValue(), 'not-an-email', 'and stays in the box to fix')

  const ada = page.getByRole('row').filter({ hasText: 'ada@example.com' })
  const grace = page.getByRole('row').filter({ hasText: 'grace@example.com' })
  await ada.waitFor(UI_WAIT)
  t.ok(await grace.getByText('Grace Hopper').isVisible(), 'the name from the pasted line')
  t.ok(await ada.getByText('Sent').isVisible(), 'the status')

  await ada.getByRole('button', { name: 'Actions for ada@example.com' }).click()
  await page.getByRole('menuitem', { name: 'Copy start link' }).click()
  t.match(await page.evaluate(() => navigator.clipboard.readText()), new RegExp(`^${base}/start/`), 'the start link is copied')

  await ada.getByRole('button', { name: 'Actions for ada@example.com' }).click()
  await page.getByRole('menuitem', { name: /Extend start deadline/ }).click()
  const dialog = page.getByRole('dialog', { name: 'Extend the start deadline' })
  t.ok(await dialog.getByRole('button', { name: 'Extend' }).isDisabled(), 'no extension without a reason')
  await dialog.getByLabel('Reason').fill('Travelling this week')
  await dialog.getByRole('button', { name: 'Extend' }).click()
  await toast('Deadline extended for ada@example.com').waitFor(UI_WAIT)

  await grace.getByRole('button', { name: 'Actions for Grace Hopper' }).click()
  await page.getByRole('menuitem', { name: 'Revoke…' }).click()
  await page.getByRole('dialog', { name: 'Revoke this invitation?' }).getByRole('button', { name: 'Revoke' }).click()
  await grace.getByText('Revoked').waitFor(UI_WAIT)
  t.pass('a revoked invitation reads Revoked')

  const csv = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href')
  t.equal(csv, `${new URL(assessmentUrl).pathname.replace('/assessments/', '/api/assessments/')}/invitations.csv`, 'Export CSV links to the export')
  await checkPage(t, 'assessment')

  await page.getByRole('link', { name: 'Preview start page' }).click()
  await page.waitForURL(`${assessmentUrl}/preview`, UI_WAIT)
  await page.getByRole('heading', { name: 'Task' }).waitFor(UI_WAIT)
  t.pass('the instructions as the candidate sees them')
  await checkPage(t, 'assessment-preview')

  await page.goto(`${assessmentUrl}/edit`)
  t.equal(await page.getByLabel('Title').inputValue(), 'Backend exercise', 'the edit form holds the assessment')
  t.equal(await page.getByLabel('Time to complete: amount').inputValue(), '2')
  await checkPage(t, 'assessment-edit')
})

t.test('the mailbox shows the invitation, rendered in a sandboxed frame', async (t) => {
  await page.goto(`${base}/mailbox`)
  const mail = page.getByRole('region').filter({ hasText: 'To ada@example.com' }).first()
  await mail.waitFor(UI_WAIT)
  const frame = mail.locator('iframe')
  t.equal(await frame.getAttribute('sandbox'), '', 'the email runs with no permissions')
  t.match(await frame.contentFrame().locator('body').textContent(), /\/start\//, 'the start link is in the email')
  await checkPage(t, 'mailbox')

  await page.goto(`${base}/dashboard`)
  const row = page.getByRole('row').filter({ hasText: 'Backend exercise' })
  await row.waitFor(UI_WAIT)
  t.same(await row.getByRole('cell').allTextContents(), ['Backend exercise', '1', '0', '0', '0', '0', '1'], 'counts by status')
  await checkPage(t, 'dashboard')
})

t.test('the menu folds at 375 px, and Log out ends the session', async (t) => {
  await page.setViewportSize({ width: 375, height: 800 })
  await page.goto(`${base}/dashboard`)
  await page.getByRole('button', { name: 'Open menu' }).click()
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Assessments' }).click()
  await page.waitForURL(`${base}/assessments`, UI_WAIT)
  await page.setViewportSize({ width: 1280, height: 900 })
  await page.getByRole('button', { name: 'owner@example.com' }).click()
  await page.getByRole('menuitem', { name: 'Log out' }).click()
  await page.waitForURL(`${base}/login`, UI_WAIT)
  const cookie = (await context.cookies(base)).find((c) => c.name === 'takehome_session')
  t.equal(cookie, undefined, 'the session cookie is gone')
})
