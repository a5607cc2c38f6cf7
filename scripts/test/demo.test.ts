// The plan's section 17 demo, done entirely by clicking in a real browser against the real
// embedded-default process (scripts/start.ts): sign up, add a seed from a local repository,
// create an assessment, invite two candidates by pasting, open the start link from the
// mailbox, Start, clone and push with stock git using the command copied from the page,
// Submit, review the diff and the commit, comment, rate and send the follow-up, find it in
// the mailbox, and download the ZIP of the final commit. Every page is checked with
// axe-core, at 375 px for sideways scrolling, and photographed.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { candidateMachine, createSourceRepo } from '@takehome/core/testing'
import type { Locator } from 'playwright-core'
import t, { type Test } from 'tap'
import { launchChromium, pageChecker, requireWebBuild, root, startProduct } from './helpers.ts'

requireWebBuild()

// One start-up of the real product (15-30 s on two busy cores), then the whole journey.
t.setTimeout(10 * 60_000)

const OWNER = { name: 'Olivia Owner', email: 'owner@example.com', password: 'a long password', org: 'Acme' }
const ADA = { name: 'Ada Lovelace', email: 'ada@example.com' }
const GRACE = { name: 'Grace Hopper', email: 'grace@example.com' }
const TITLE = 'Backend exercise'
const WIDTH = 1280
const SCREENSHOTS = mkdtempSync(path.join(tmpdir(), 'takehome-demo-'))
// The README's picture of the start page, made on request only: a test run must not change the repository.
const START_SHOT = process.env.SCREENSHOTS_TO_DOCS === '1' ? path.join(root, 'docs/console-start.png') : path.join(SCREENSHOTS, 'console-start.png')
const UI_WAIT = { timeout: 30_000 }
// The job system sends emails a moment after the action; the mailbox page polls for them.
const MAIL_WAIT = { timeout: 60_000 }

const { base } = await startProduct(t)
const source = createSourceRepo({ files: { 'README.md': '# Exercise\n', 'src/app.js': 'export const answer = 0\n' } })
const machine = candidateMachine()
t.teardown(() => {
  rmSync(source.dir, { recursive: true, force: true })
  rmSync(machine.home, { recursive: true, force: true })
})

const browser = await launchChromium(t)
const context = await browser.newContext({ viewport: { width: WIDTH, height: 900 } })
t.teardown(() => context.close())
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
const page = await context.newPage()
const checkPage = pageChecker(page, SCREENSHOTS, WIDTH)
const nav = (name: string) => page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true })
const mailTo = (to: string, subject: string) =>
  page.getByRole('region').filter({ hasText: `To ${to}` }).filter({ has: page.getByRole('heading', { name: subject, exact: true }) })

/**
 * A check that something shows, waiting as a person would: what a click or a page load
 * brings appears a moment later, often from its own query, so looking at once would race it.
 */
async function shows(t: Test, what: Locator, name: string) {
  await what.waitFor(UI_WAIT)
  t.pass(name)
}

/** The candidate's clone, once made from the page's command. */
let work = ''

t.test('1. sign up from the landing page, straight into the dashboard', async (t) => {
  await page.goto(`${base}/`)
  await checkPage(t, 'landing')
  await page.getByRole('link', { name: 'Sign up' }).click()
  await page.waitForURL(`${base}/signup`, UI_WAIT)
  await page.getByLabel('Your name').fill(OWNER.name)
  await page.getByLabel('Email').fill(OWNER.email)
  await page.getByLabel('Choose a password').fill(OWNER.password)
  await page.getByLabel('Organisation name').fill(OWNER.org)
  await checkPage(t, 'signup')
  await page.getByRole('button', { name: 'Sign up' }).click()
  await page.waitForURL(`${base}/dashboard`, UI_WAIT)
  await page.getByText('No assessments yet').waitFor(UI_WAIT)
  await page.getByRole('button', { name: OWNER.name }).click()
  await shows(t, page.getByText(`${OWNER.org} · owner`), 'signed in as the owner of the new organisation')
  await page.keyboard.press('Escape')
})

t.test('2. add a seed from a local repository', async (t) => {
  await nav('Seeds').click()
  await page.getByText('No seeds yet').waitFor(UI_WAIT)
  await page.getByLabel('Git URL or path').fill(source.dir)
  await page.getByRole('button', { name: 'Add seed' }).click()
  const row = page.getByRole('row').filter({ hasText: source.dir })
  await row.getByText(source.firstSha.slice(0, 7)).waitFor(UI_WAIT)
  t.pass('the seed is listed at the source repository’s commit')
  await checkPage(t, 'seeds')
})

t.test('3. create an assessment', async (t) => {
  await nav('Assessments').click()
  await page.getByRole('link', { name: 'New assessment' }).click()
  await page.waitForURL(`${base}/assessments/new`, UI_WAIT)
  await page.getByRole('option', { name: new RegExp(source.firstSha.slice(0, 7)) }).waitFor({ state: 'attached', ...UI_WAIT })
  await page.getByLabel('Seed').selectOption({ index: 1 })
  await page.getByLabel('Title').fill(TITLE)
  await page.getByLabel('Instructions').fill('## Task\n\nMake `answer` **42**, then push.')
  await page.getByRole('region', { name: 'Preview' }).locator('strong', { hasText: '42' }).waitFor(UI_WAIT)
  await checkPage(t, 'assessment-new')
  await page.getByRole('button', { name: 'Create assessment' }).click()
  await page.waitForURL(/\/assessments\/[0-9a-f-]{36}$/, UI_WAIT)
  await page.getByRole('heading', { level: 1, name: TITLE }).waitFor(UI_WAIT)
  t.pass('the assessment’s page opens')
})

t.test('4. invite two candidates by pasting two lines', async (t) => {
  await page.getByRole('textbox', { name: 'Candidates' }).fill(`${ADA.name},${ADA.email}\n${GRACE.name},${GRACE.email}`)
  await page.getByRole('button', { name: 'Send invitations' }).click()
  await page.getByText('2 candidates invited').first().waitFor(UI_WAIT)
  for (const who of [ADA, GRACE]) {
    const row = page.getByRole('row').filter({ hasText: who.email })
    await row.getByText(who.name).waitFor(UI_WAIT)
    await shows(t, row.getByText('Sent'), `${who.name} is invited`)
  }
  await checkPage(t, 'assessment-invited')
})

t.test('5. the mailbox has the invitation: open its start link', async (t) => {
  await nav('Mailbox').click()
  const invitation = mailTo(ADA.email, `Your take-home assessment: ${TITLE}`)
  await invitation.waitFor(MAIL_WAIT)
  await checkPage(t, 'mailbox-invitations')
  await invitation.getByRole('tab', { name: 'Rendered' }).click()
  const startUrl = await invitation.locator('iframe').contentFrame().locator('a[href*="/start/"]').getAttribute('href')
  t.match(startUrl, new RegExp(`^${base}/start/[A-Za-z0-9_-]+$`), 'the rendered email links to the start page')
  // The email runs sandboxed with no permissions: its link cannot navigate this tab, so the browser follows it as a person pasting it would.
  await page.goto(startUrl!)
  await page.getByRole('heading', { level: 1, name: TITLE }).waitFor(UI_WAIT)
  await shows(t, page.getByText(`Hi ${ADA.name}, you have been invited`), 'the start page greets the candidate')
  await checkPage(t, 'start')
})

t.test('6. Start, then clone with the copied command, commit and push with stock git', async (t) => {
  await page.getByRole('button', { name: 'Start assessment' }).click()
  const copy = page.getByRole('button', { name: 'Copy the macOS and Linux command' })
  await copy.waitFor(UI_WAIT)
  await copy.click()
  await page.getByRole('button', { name: 'Copied the macOS and Linux command' }).waitFor(UI_WAIT)
  const command = await page.evaluate(() => navigator.clipboard.readText())
  t.equal(command, await page.locator('#clone-command-bash').textContent(), 'the clipboard holds the command shown')
  await checkPage(t, 'start-started')
  await page.setViewportSize({ width: 1100, height: 1000 })
  await page.evaluate(() => window.scrollTo(0, 0))
  await page.screenshot({ path: START_SHOT })
  await page.setViewportSize({ width: WIDTH, height: 900 })
  t.comment(`start page screenshot: ${START_SHOT}`)

  const clone = await machine.shell(command)
  t.equal(clone.code, 0, `the copied command clones: ${clone.stderr}`)
  const [folder] = readdirSync(machine.home, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.'))
  work = path.join(machine.home, folder!.name)
  const edit = await machine.shell(`printf 'export const answer = 42\\nexport const question = "life"\\n' > src/app.js && printf 'Answered.\\n' > NOTES.md`, work)
  t.equal(edit.code, 0, `the candidate's edit is written: ${edit.stderr}`)
  t.equal((await machine.git(work, ['add', '--all'])).code, 0)
  t.equal((await machine.git(work, ['commit', '-qm', 'Answer the question'])).code, 0)
  const push = await machine.git(work, ['push', '-q', 'origin', 'main'])
  t.equal(push.code, 0, `the push is accepted: ${push.stderr}`)
})

t.test('7. Submit', async (t) => {
  const head = (await machine.git(work, ['rev-parse', 'HEAD'])).stdout.trim()
  await page.getByRole('checkbox', { name: 'I have pushed everything I want reviewed' }).check()
  await page.getByRole('button', { name: 'Submit assessment' }).click()
  const finalCommit = page.locator('dt:has-text("Final commit") + dd code')
  await finalCommit.waitFor(UI_WAIT)
  t.equal(await finalCommit.getAttribute('title'), head, 'the final commit is the pushed one')
  await checkPage(t, 'start-submitted')
})

t.test('8. from the assessment’s page, open the review: the diff by diff2html and the commit', async (t) => {
  // The wordmark leads home, which sends a signed-in member on to the dashboard.
  await page.getByRole('link', { name: 'Takehome', exact: true }).click()
  await page.waitForURL(`${base}/dashboard`, UI_WAIT)
  await page.getByRole('row').filter({ hasText: TITLE }).first().waitFor(UI_WAIT)
  await checkPage(t, 'dashboard')
  await nav('Assessments').click()
  await page.getByRole('link', { name: TITLE }).waitFor(UI_WAIT)
  await checkPage(t, 'assessments')
  await page.getByRole('link', { name: TITLE }).click()
  const row = page.getByRole('row').filter({ hasText: ADA.email })
  await row.getByText('Submitted').waitFor(UI_WAIT)
  await row.getByRole('button', { name: `Actions for ${ADA.name}` }).click()
  await page.getByRole('menuitem', { name: 'Open review' }).click()
  await page.waitForURL(/\/review\/[0-9a-f-]{36}$/, UI_WAIT)
  await page.locator('.d2h-file-wrapper').first().waitFor(UI_WAIT)
  await shows(t, page.getByRole('heading', { name: ADA.name, level: 1 }), 'the candidate is named')
  await shows(t, page.getByRole('heading', { name: 'src/app.js', level: 3 }), 'the changed file is shown')
  await shows(t, page.locator('.d2h-ins').first(), 'its added lines are drawn by diff2html')
  await shows(t, page.getByRole('region', { name: 'Commits' }).getByText('Answer the question'), 'the commit is in the timeline')
  await checkPage(t, 'review')
})

t.test('9. comment on a line, rate, and send the follow-up', async (t) => {
  await page.getByRole('button', { name: 'Comment on line 2 of src/app.js' }).click()
  await page.getByRole('textbox', { name: 'Comment on line 2 of src/app.js' }).fill('Why a string here?')
  await page.locator('.review-slot').getByRole('button', { name: 'Save comment' }).click()
  await page.locator('.review-slot').getByText('Why a string here?').waitFor(UI_WAIT)
  t.pass('the comment shows under its line')

  const feedback = page.getByRole('region', { name: 'Feedback' })
  await feedback.getByRole('radio', { name: '4 – Good' }).check()
  await feedback.getByRole('textbox', { name: 'Summary' }).fill('Clear and small.')
  await feedback.getByRole('button', { name: 'Save feedback' }).click()
  await feedback.getByText('Rated 4 of 5').waitFor(UI_WAIT)
  t.pass('the rating is saved')

  const followUp = page.getByRole('region', { name: 'Send a follow-up' })
  await page.frameLocator('iframe[title="Follow-up email preview"]').getByText(`Hi ${ADA.name}`).waitFor(UI_WAIT)
  await followUp.getByRole('button', { name: 'Send follow-up' }).click()
  await followUp.getByText(`Follow-up queued for ${ADA.email}`).waitFor(UI_WAIT)
  t.pass('the follow-up is queued')
  await checkPage(t, 'review-done')
})

t.test('10. the follow-up is in the mailbox', async (t) => {
  await nav('Mailbox').click()
  const followUp = mailTo(ADA.email, `Thank you for your work on ${TITLE}`)
  await followUp.waitFor(MAIL_WAIT)
  await shows(t, followUp.getByText('follow up', { exact: true }), 'a follow-up, to the candidate')
  await checkPage(t, 'mailbox-follow-up')
})

t.test('11. the ZIP download holds the final commit, file for file', async (t) => {
  await page.goBack()
  const download = page.waitForEvent('download')
  await page.getByRole('link', { name: 'Download ZIP' }).click()
  const zip = path.join(SCREENSHOTS, 'download.zip')
  await (await download).saveAs(zip)
  const head = (await machine.git(work, ['rev-parse', 'HEAD'])).stdout.trim()
  const listed = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' })
    .split('\n')
    .filter((name) => name && !name.endsWith('/'))
    .sort()
  const tree = (await machine.git(work, ['ls-tree', '-r', '-z', '--name-only', head])).stdout.split('\0').filter(Boolean).sort()
  t.same(listed, tree, 'the files of the final commit, every one')
  for (const name of tree) {
    const inZip = execFileSync('unzip', ['-p', zip, name])
    const inCommit = execFileSync('git', ['show', `${head}:${name}`], { cwd: work })
    t.ok(inZip.equals(inCommit), `${name} is the commit's, byte for byte`)
  }
  t.comment(`screenshots: ${SCREENSHOTS}`)
})
