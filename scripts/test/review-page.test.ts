// The review page in a real browser, against the real embedded-default process
// (scripts/start.ts): a submission made with stock git is reviewed by clicking — the diff
// drawn by diff2html, the commit, both layouts, a line comment that stays after a reload,
// a rating and a follow-up found in the mailbox; a viewer sees no write controls; and a
// change of 200 files draws only the files near the viewport.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { candidateMachine, createSourceRepo } from '@takehome/core/testing'
import type { BrowserContext, Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { horizontalOverflow, launchChromium, requireWebBuild, seriousViolations, startProduct, waitFor } from './helpers.ts'

requireWebBuild()

// Three start-ups of the real product (15-30 s each on two busy cores) and a 200-file change.
t.setTimeout(10 * 60_000)

const shots = mkdtempSync(path.join(tmpdir(), 'takehome-review-shots-'))

interface Invited {
  id: string
  start_url: string
}

/** A fresh product with a signed-up owner, a seed and an assessment, set up over the API. */
async function product(t: Test) {
  const { base, request: api } = await startProduct(t)
  const call = async (method: string, url: string, options: { cookie?: string; body?: unknown } = {}) => {
    const res = await api(method, url, options)
    if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`)
    return res
  }
  const signup = await call('POST', '/api/auth/signup', { body: { email: 'owner@example.com', password: 'a long password', org_name: 'Acme' } })
  const cookie = signup.headers.getSetCookie()[0]!.split(';')[0]!
  const owner = (method: string, url: string, body?: unknown) => call(method, url, { cookie, body }).then((r) => r.body)
  const source = createSourceRepo({ files: { 'README.md': '# Exercise\n', 'src/app.js': 'export const answer = 0\n' } })
  const seed = await owner('POST', '/api/seeds', { source_url: source.dir })
  const assessment = await owner('POST', '/api/assessments', {
    seed_id: seed.id,
    title: 'Backend exercise',
    time_to_start: 'P3D',
    time_to_complete: 'PT48H',
  })

  /** A candidate invited, started, working in a clone with stock git, and submitted. */
  async function submission(email: string, name: string, work: (dir: string, machine: ReturnType<typeof candidateMachine>) => Promise<void>) {
    const { invitations } = await owner('POST', '/api/invitations', { assessment_id: assessment.id, candidates: [{ email, name }] })
    const invited = invitations[0] as Invited
    const token = invited.start_url.split('/start/')[1]!
    const started = await call('POST', `/api/start/${token}`)
    const git = (await waitFor(30_000, async () => (await api('GET', `/api/start/${token}`)).body.git ?? undefined)) ?? started.body.git
    const machine = candidateMachine()
    const clone = await machine.shell(git.clone_command)
    if (clone.code !== 0) throw new Error(`clone: ${clone.stderr}`)
    const dir = path.join(machine.home, path.basename(git.clone_url, '.git'))
    await work(dir, machine)
    const push = await machine.git(dir, ['push', '-q', 'origin', 'main'])
    if (push.code !== 0) throw new Error(`push: ${push.stderr}`)
    await call('POST', `/api/submit/${token}`)
    return invited.id
  }

  async function browserAs(t: Test, sessionCookie: string, width = 1200): Promise<{ context: BrowserContext; page: Page }> {
    const browser = await launchChromium(t)
    const context = await browser.newContext({ viewport: { width, height: 900 } })
    const [name, value] = sessionCookie.split(/=(.*)/s) as [string, string]
    await context.addCookies([{ name, value, url: base }])
    return { context, page: await context.newPage() }
  }

  return { base, api, call, cookie, owner, submission, browserAs }
}

async function noSeriousViolations(t: Test, page: Page, what: string) {
  t.same(await seriousViolations(page), [], `axe-core: no serious or critical violations (${what})`)
}

/** A few frames, for the intersection observers to report what the first layout put in view. */
const settled = (page: Page) =>
  page.evaluate(async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => requestAnimationFrame(resolve))
  })

t.test('a reviewer reads the diff and the commit, comments on a line, rates and sends a follow-up', async (t) => {
  const app = await product(t)
  const invitationId = await app.submission('ada@example.com', 'Ada', async (dir, machine) => {
    await machine.shell(`printf 'export const answer = 42\\nexport const question = "life"\\n' > src/app.js`, dir)
    await machine.git(dir, ['commit', '-qam', 'Answer the question'])
  })
  // The page's own HTML, as the server renders it for this session: the first file is drawn there already.
  const html = await (await fetch(`${app.base}/review/${invitationId}`, { headers: { cookie: app.cookie } })).text()
  t.match(html, /class="d2h-file-wrapper"/, 'the server\'s HTML carries the first file, drawn by diff2html')
  t.match(html, / UTC<\/time>/, 'its times in UTC, saying so: the server does not know the viewer\'s zone')

  const { page } = await app.browserAs(t, app.cookie)
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  // A failed resource (a favicon) is the network's business; React reports a mismatch as an error message.
  page.on('console', (message) => void (message.type() === 'error' && !message.text().startsWith('Failed to load resource') && errors.push(message.text())))
  await page.goto(`${app.base}/review/${invitationId}`)

  await page.locator('.d2h-file-wrapper').first().waitFor({ timeout: 30_000 })
  await page.getByRole('button', { name: 'Comment on line 2 of src/app.js' }).waitFor()
  t.same(errors, [], 'no script error, no hydration mismatch')
  t.same(await page.locator('time').evaluateAll((times) => times.filter((e) => e.textContent?.endsWith(' UTC')).length), 0, 'once live, times are in the viewer\'s zone')
  t.ok(await page.getByRole('heading', { name: 'Ada', level: 1 }).isVisible(), 'the candidate is named')
  t.ok(await page.getByText('ada@example.com').first().isVisible(), 'with their email')
  t.ok(await page.getByRole('heading', { name: 'src/app.js', level: 3 }).isVisible(), 'the changed file is shown')
  t.ok(await page.locator('.d2h-ins').first().isVisible(), 'its added lines are drawn by diff2html')
  // The commits come from the browser, after the server's HTML.
  await page.getByRole('region', { name: 'Commits' }).getByText('Answer the question').waitFor()
  t.pass('the commit is in the timeline')
  const detail = await app.owner('GET', `/api/invitations/${invitationId}`)
  t.equal(await page.locator(`code[title="${detail.repo.final_sha}"]`).first().textContent(), detail.repo.final_sha.slice(0, 7), 'the final SHA, short, full in its title')
  t.equal(
    await page.getByRole('link', { name: 'Download ZIP' }).getAttribute('href'),
    `/api/invitations/${invitationId}/archive.zip`,
    'the ZIP link points at the archive',
  )
  await noSeriousViolations(t, page, 'unified')

  await page.getByRole('button', { name: 'Side by side' }).click()
  await page.locator('.d2h-files-diff').first().waitFor()
  t.equal(await page.locator('.d2h-file-side-diff').count(), 2, 'side by side: the old and new versions')
  t.equal(await page.getByRole('button', { name: 'Side by side' }).getAttribute('aria-pressed'), 'true', 'the toggle says which layout is on')
  await page.getByRole('button', { name: 'Unified' }).click()
  await page.locator('.d2h-file-diff').first().waitFor()
  t.equal(await page.locator('.d2h-files-diff').count(), 0, 'and back to unified')

  await page.getByRole('button', { name: 'Comment on line 2 of src/app.js' }).click()
  await page.getByRole('textbox', { name: 'Comment on line 2 of src/app.js' }).fill('Why a string here?')
  await page.locator('.review-slot').getByRole('button', { name: 'Save comment' }).click()
  await page.locator('.review-slot').getByText('Why a string here?').waitFor()
  await page.reload()
  const placed = page.locator('.review-slot').getByText('Why a string here?')
  await placed.waitFor({ timeout: 30_000 })
  t.equal(
    await placed.evaluate((el) => el.closest('tr')?.previousElementSibling?.querySelector('.line-num2')?.textContent?.trim()),
    '2',
    'after a reload the comment sits under line 2',
  )
  const { comments } = await app.owner('GET', `/api/invitations/${invitationId}`)
  t.match(comments, [{ path: 'src/app.js', line: 2, body: 'Why a string here?' }], 'stored with its path and line')

  const feedback = page.getByRole('region', { name: 'Feedback' })
  await feedback.getByRole('radio', { name: '4 – Good' }).check()
  await feedback.getByRole('textbox', { name: 'Summary' }).fill('Clear and small.')
  await feedback.getByRole('button', { name: 'Save feedback' }).click()
  await feedback.getByText('Rated 4 of 5').waitFor()
  t.match((await app.owner('GET', `/api/invitations/${invitationId}`)).feedback, [{ rating: 4, summary: 'Clear and small.' }], 'the rating is saved')

  const followUp = page.getByRole('region', { name: 'Send a follow-up' })
  t.ok(await followUp.getByRole('combobox', { name: 'Template' }).isVisible(), 'a template is chosen from a labelled list')
  const preview = page.frameLocator('iframe[title="Follow-up email preview"]')
  await preview.getByText('Hi Ada').waitFor()
  t.ok(await followUp.getByText('Subject: Thank you for your work on Backend exercise').isVisible(), 'the rendered email is shown first')
  await followUp.getByRole('button', { name: 'Send follow-up' }).click()
  await followUp.getByText('Follow-up queued for ada@example.com').waitFor()
  const mail = await waitFor(30_000, async () => {
    const { messages } = await app.owner('GET', '/api/mail')
    return (messages as Array<{ kind: string; to: string; subject: string }>).find((m) => m.kind === 'follow_up' && m.to === 'ada@example.com')
  })
  t.equal(mail?.subject, 'Thank you for your work on Backend exercise', 'the follow-up is in the mailbox')

  await page.screenshot({ path: path.join(shots, 'review.png'), fullPage: true })
  await page.setViewportSize({ width: 375, height: 800 })
  await page.getByRole('button', { name: 'Side by side' }).click()
  await page.locator('.d2h-files-diff').first().waitFor()
  t.equal(await horizontalOverflow(page), 0, 'at 375 px the page does not scroll sideways, side by side')
  await page.getByRole('button', { name: 'Unified' }).click()
  t.equal(await horizontalOverflow(page), 0, 'nor unified')
  await noSeriousViolations(t, page, '375 px')
  await page.screenshot({ path: path.join(shots, 'review-375.png'), fullPage: true })
  t.comment(`screenshots: ${shots}`)
})

t.test('a viewer reads the review but gets no write controls', async (t) => {
  const app = await product(t)
  const invitationId = await app.submission('grace@example.com', 'Grace', async (dir, machine) => {
    await machine.shell(`printf 'export const answer = 7\\n' > src/app.js`, dir)
    await machine.git(dir, ['commit', '-qam', 'Seven'])
  })
  await app.owner('POST', '/api/members', { email: 'viewer@example.com', role: 'viewer' })
  const joinLink = await waitFor(30_000, async () => {
    const { messages } = await app.owner('GET', '/api/mail')
    const invite = (messages as Array<{ to: string; text: string }>).find((m) => m.to === 'viewer@example.com')
    return invite?.text.match(/\/join\/(\S+)/)?.[1]
  })
  t.ok(joinLink, 'the member invitation was mailed')
  const joined = await app.call('POST', '/api/auth/signup', { body: { invitation_token: joinLink, password: 'a long password' } })
  t.equal(joined.body.role, 'viewer', 'the teammate joined as a viewer')
  const { page } = await app.browserAs(t, joined.headers.getSetCookie()[0]!.split(';')[0]!)
  await page.goto(`${app.base}/review/${invitationId}`)
  await page.locator('.d2h-file-wrapper').first().waitFor({ timeout: 30_000 })
  await page.getByRole('region', { name: 'Commits' }).getByText('Seven').waitFor()
  t.pass('the viewer sees the commit')
  t.equal(await page.locator('.review-line-button').count(), 0, 'no comment buttons on lines')
  t.equal(await page.getByRole('button', { name: /Save/ }).count(), 0, 'no comment or feedback forms')
  t.equal(await page.getByRole('region', { name: 'Send a follow-up' }).count(), 0, 'no follow-up')
  await noSeriousViolations(t, page, 'viewer')
})

t.test('a change of 200 files draws only the files near the viewport', async (t) => {
  const app = await product(t)
  const FILES = 200
  const LINES = 50
  const invitationId = await app.submission('alan@example.com', 'Alan', async (dir, machine) => {
    const script = `mkdir -p gen && for i in $(seq -w 1 ${FILES}); do seq 1 ${LINES} | sed "s/^/line $i /" > gen/file-$i.txt; done`
    await machine.shell(script, dir)
    await machine.git(dir, ['add', '--all'])
    await machine.git(dir, ['commit', '-qm', 'Generate files'])
  })
  const { page } = await app.browserAs(t, app.cookie, 1000)
  await page.goto(`${app.base}/review/${invitationId}`)
  await page.locator('.d2h-file-wrapper').first().waitFor({ timeout: 30_000 })
  // The first files come first; the rest of the list and the placeholders follow.
  await page.locator('section.review-file').nth(FILES - 1).waitFor({ state: 'attached', timeout: 30_000 })
  await settled(page)
  const files = page.getByRole('navigation', { name: 'Changed files' }).getByRole('link')
  t.equal(await files.count(), FILES, 'every file is listed')
  t.ok(await files.first().getByText(`+${LINES}`).isVisible(), 'with its counts')
  const drawn = await page.locator('.d2h-file-wrapper').count()
  t.ok(drawn >= 1 && drawn <= 10, `only the files near the viewport are drawn at first (${drawn} of ${FILES})`)
  t.equal(await page.locator('section.review-file').count(), FILES, 'the others wait as placeholders with their headers')

  await files.last().click()
  const last = page.locator(`section.review-file`).last()
  await last.locator('.d2h-file-wrapper').waitFor({ timeout: 30_000 })
  t.ok(await last.getByText(`line ${FILES} ${LINES}`).isVisible(), 'a file jumped to from the list is drawn')
  t.ok((await page.locator('.d2h-file-wrapper').count()) < FILES, 'and the files skipped over are not')
})
