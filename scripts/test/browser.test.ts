// The candidate's journey in a real browser, against the real embedded-default process
// (scripts/start.ts): open the start link, Start, clone with the command the page shows,
// push, Submit; the same without JavaScript; and the messages for links that do not work.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { candidateMachine, createSourceRepo } from '@takehome/core/testing'
import type { Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { launchChromium } from './helpers.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SCREENSHOT = '/tmp/takehome-start.png'
const UTC_TIME = /^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC$/

if (!existsSync(path.join(root, 'web/.next/BUILD_ID'))) {
  throw new Error('the web app is not built: run `npm test`, which builds it first')
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

interface Running {
  child: ChildProcess
  output: string[]
  exited: Promise<number | null>
}

function launch(args: string[], cwd: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  child.stdout!.on('data', (b: Buffer) => output.push(b.toString()))
  child.stderr!.on('data', (b: Buffer) => output.push(b.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, output, exited }
}

/** Resolves once `marker` shows in the output, or rejects if the process dies first. */
async function ready(run: Running, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (run.output.join('').includes(marker)) {
        clearInterval(timer)
        resolve()
      }
    }, 50)
    void run.exited.then((code) => {
      clearInterval(timer)
      reject(new Error(`exited with ${code} before it was ready: ${run.output.join('')}`))
    })
  })
}

interface Invitation {
  id: string
  start_url: string
  start_deadline: string
}

interface StartBody {
  status: string
  final_sha: string | null
  git: { clone_url: string; clone_command: string; clone_command_powershell: string } | null
}

/** A fresh product with one assessment, as an admin would set it up over the API. */
async function product(t: Test) {
  const port = await freePort()
  const base = `http://localhost:${port}`
  const run = launch(['--import', 'tsx', 'scripts/start.ts'], root, {
    PORT: String(port),
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'takehome-browser-')),
  })
  t.teardown(() => {
    run.child.kill('SIGKILL')
  })
  await ready(run, 'Takehome is ready')

  const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base, ...headers },
      body: JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`POST ${url.replace(/thi_\w+/, 'thi_…')}: ${res.status} ${await res.text()}`)
    return res
  }
  const signup = await post('/api/auth/signup', { email: 'owner@example.com', password: 'a long password', org_name: 'Acme' })
  const cookie = signup.headers.getSetCookie()[0]!.split(';')[0]!
  const { key } = await (await post('/api/api-keys', { name: 'browser test' }, { cookie })).json()
  const auth = { authorization: `Bearer ${key}` }
  const source = createSourceRepo({ files: { 'README.md': '# Exercise\n', 'src/app.js': 'export const answer = 0\n' } })
  const seed = await (await post('/api/seeds', { source_url: source.dir }, auth)).json()
  const assessment = await (
    await post(
      '/api/assessments',
      {
        seed_id: seed.id,
        title: 'Backend exercise',
        description: 'A small HTTP service.',
        instructions: '# Build it\n\nUse **any** stack you like.\n\n## Hand in\n\nPush to `main`.',
        time_to_start: 'P3D',
        time_to_complete: 'PT48H',
      },
      auth,
    )
  ).json()

  const invite = async (email: string, name?: string): Promise<Invitation & { token: string }> => {
    const { invitations } = await (
      await post('/api/invitations', { assessment_id: assessment.id, candidates: [{ email, name }] }, auth)
    ).json()
    const invitation = invitations[0] as Invitation
    return { ...invitation, token: invitation.start_url.split('/start/')[1]! }
  }
  const revoke = (id: string) => post(`/api/invitations/${id}/revoke`, {}, auth)
  const startView = async (token: string) => (await (await fetch(`${base}/api/start/${token}`)).json()) as StartBody

  return { base, run, invite, revoke, startView }
}

const text = async (page: Page, selector: string) => ((await page.locator(selector).textContent()) ?? '').trim()

/** The command shown under a heading, read the way a person would copy it. */
const commandUnder = (page: Page, heading: string) => page.getByRole('region', { name: heading }).locator('code')

t.test('a candidate starts, clones with the command shown, pushes and submits', async (t) => {
  const app = await product(t)
  const b = await launchChromium(t)
  const ada = await app.invite('ada@example.com', 'Ada')
  const context = await b.newContext({ viewport: { width: 1000, height: 900 } })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.base })
  const page = await context.newPage()

  const referers: string[] = []
  page.on('request', (request) => {
    const referer = request.headers()['referer']
    if (referer) referers.push(referer)
  })

  const opened = await page.goto(ada.start_url)
  t.equal(opened?.status(), 200)
  t.equal(opened?.headers()['referrer-policy'], 'no-referrer', 'the page is served with no-referrer')
  t.equal(await page.locator('meta[name="referrer"]').getAttribute('content'), 'no-referrer')
  t.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Backend exercise', 'the title is shown')
  t.ok(await page.getByText('Hi Ada, you have been invited').isVisible(), 'the candidate is greeted')
  t.ok(await page.getByRole('heading', { name: 'Instructions', level: 2 }).isVisible(), 'the instructions are shown')
  t.ok(await page.getByRole('heading', { name: 'Build it', level: 3 }).isVisible(), 'markdown headings sit below the h2')
  t.equal(await text(page, '.prose strong'), 'any')
  const startBy = page.locator('time').first()
  t.equal(await startBy.getAttribute('datetime'), ada.start_deadline, 'the start deadline is shown')
  t.match(await startBy.textContent(), UTC_TIME, 'in UTC')

  // Watch for the pending text: it shows only while Start runs.
  await page.evaluate(() => {
    const w = window as unknown as { sawPending: boolean }
    w.sawPending = false
    new MutationObserver(() => {
      if (document.body.textContent?.includes('Creating your repository…')) w.sawPending = true
    }).observe(document.body, { subtree: true, childList: true, characterData: true })
  })
  await page.getByRole('button', { name: 'Start assessment' }).click()
  const bash = commandUnder(page, 'macOS and Linux (bash, zsh)')
  await bash.waitFor({ timeout: 30_000 })
  t.ok(await page.evaluate(() => (window as unknown as { sawPending: boolean }).sawPending), 'a pending state showed while starting')

  const view = await app.startView(ada.token)
  t.equal(view.status, 'started')
  const shown = (await bash.textContent())!
  t.equal(shown, view.git!.clone_command, 'the bash command on the page is the one the API gives')
  t.equal(
    await commandUnder(page, 'Windows (PowerShell)').textContent(),
    view.git!.clone_command_powershell,
    'and so is the PowerShell one',
  )
  t.ok(await page.getByText('Keep these commands to yourself.').isVisible(), 'the secret is called out')
  t.ok(await page.getByRole('heading', { name: 'How to work', level: 2 }).isVisible())
  t.ok(await page.getByText('In progress').isVisible(), 'the status reads In progress')
  const deadline = page.locator('dt:has-text("Complete by") + dd time')
  t.match(await deadline.textContent(), UTC_TIME, 'the completion deadline is shown in UTC')
  t.match(await text(page, 'dt:has-text("Time left") + dd'), /^1 day and 23 hours left$/, 'with the time remaining')

  await page.getByRole('button', { name: 'Copy the macOS and Linux command' }).click()
  await page.getByRole('button', { name: 'Copied the macOS and Linux command' }).waitFor()
  t.equal(await page.evaluate(() => navigator.clipboard.readText()), view.git!.clone_command, 'Copy puts the command on the clipboard')

  await page.screenshot({ path: SCREENSHOT, fullPage: true })
  t.comment(`screenshot of the started page: ${SCREENSHOT}`)

  const machine = candidateMachine()
  const clone = await machine.shell(shown)
  t.equal(clone.code, 0, `the command from the page clones: ${clone.stderr}`)
  const work = path.join(machine.home, path.basename(view.git!.clone_url, '.git'))
  t.ok(existsSync(path.join(work, 'src/app.js')), 'with the seed files')
  await machine.shell(`printf 'export const answer = 42\\n' > src/app.js`, work)
  t.equal((await machine.git(work, ['commit', '-qam', 'Answer'])).code, 0)
  const push = await machine.git(work, ['push', '-q', 'origin', 'main'])
  t.equal(push.code, 0, `push works: ${push.stderr}`)
  const head = (await machine.git(work, ['rev-parse', 'HEAD'])).stdout.trim()

  const submit = page.getByRole('button', { name: 'Submit assessment' })
  const confirm = page.getByRole('checkbox', { name: 'I have pushed everything I want reviewed' })
  await submit.click()
  t.ok(await confirm.evaluate((el: HTMLInputElement) => el.validity.valueMissing), 'Submit waits for the confirmation')
  t.equal((await app.startView(ada.token)).status, 'started', 'and nothing was submitted')
  await confirm.check()
  await submit.click()
  const finalCommit = page.locator('dt:has-text("Final commit") + dd code')
  await finalCommit.waitFor({ timeout: 30_000 })

  t.ok(await page.getByText('You have submitted this assessment.').isVisible(), 'the page says Submitted')
  t.equal(await text(page, '.status .badge'), 'Submitted')
  t.equal(await finalCommit.textContent(), head.slice(0, 7), 'the short final SHA is the clone HEAD')
  t.equal(await finalCommit.getAttribute('title'), head, 'the full SHA is the clone HEAD')
  t.match(await text(page, 'dt:has-text("Submitted") + dd time'), UTC_TIME, 'the submitted time is shown')
  t.equal(await page.getByRole('region', { name: 'macOS and Linux (bash, zsh)' }).count(), 0, 'the clone commands are gone')
  t.equal((await app.startView(ada.token)).final_sha, head)

  t.same(referers.filter((r) => r.includes('thi_')), [], 'no request carried the start link as a Referer')
  const logs = app.run.output.join('')
  t.notOk(logs.includes(ada.token), 'the start token is in no log')
  t.notOk(/tha_[0-9A-Za-z]{20}/.test(logs), 'nor any access token')
  await context.close()
})

t.test('without JavaScript: the same forms start and submit', async (t) => {
  const app = await product(t)
  const b = await launchChromium(t)
  const alan = await app.invite('alan@example.com')
  const context = await b.newContext({ javaScriptEnabled: false })
  const page = await context.newPage()

  await page.goto(alan.start_url)
  await page.getByRole('button', { name: 'Start assessment' }).click()
  const bash = commandUnder(page, 'macOS and Linux (bash, zsh)')
  await bash.waitFor({ timeout: 30_000 })
  const view = await app.startView(alan.token)
  t.equal(await bash.textContent(), view.git!.clone_command, 'the posted form started the assessment')
  t.equal(await page.getByRole('button', { name: /^Copy/ }).count(), 0, 'no Copy buttons without JavaScript')
  t.ok(page.url().endsWith(`/start/${alan.token}`), 'the page stays on its own URL')

  const machine = candidateMachine()
  const clone = await machine.shell(view.git!.clone_command)
  t.equal(clone.code, 0, `the clone works: ${clone.stderr}`)

  await page.getByRole('checkbox', { name: 'I have pushed everything I want reviewed' }).check()
  await page.getByRole('button', { name: 'Submit assessment' }).click()
  const finalCommit = page.locator('dt:has-text("Final commit") + dd code')
  await finalCommit.waitFor({ timeout: 30_000 })
  const head = (await machine.git(path.join(machine.home, path.basename(view.git!.clone_url, '.git')), ['rev-parse', 'HEAD'])).stdout.trim()
  t.equal(await finalCommit.getAttribute('title'), head, 'the posted form submitted: the final commit is the clone HEAD')
  t.equal(await text(page, '.status .badge'), 'Submitted')
  await context.close()
})

t.test('refusals and broken links read clearly', async (t) => {
  const app = await product(t)
  const b = await launchChromium(t)
  const page = await b.newPage()

  await page.goto(`${app.base}/start/thi_${'x'.repeat(49)}`)
  t.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'This invitation link does not work')

  const grace = await app.invite('grace@example.com')
  await page.goto(grace.start_url)
  await app.revoke(grace.id)
  await page.getByRole('button', { name: 'Start assessment' }).click()
  // Next adds a role=alert route announcer of its own: pick ours by its words.
  const alert = page.getByRole('alert').filter({ hasText: 'could not be started' })
  await alert.waitFor({ timeout: 30_000 })
  t.equal(
    (await alert.textContent())?.trim(),
    'The assessment could not be started. This invitation was withdrawn.',
    "a refused Start shows the API's message",
  )
  t.equal(await text(page, '.status .badge'), 'Withdrawn', 'and the page shows the new status')
  t.equal(await page.getByRole('button', { name: 'Start assessment' }).count(), 0, 'with nothing left to click')
})

t.test('the start page says so when the API cannot be reached', async (t) => {
  // `next start` alone, pointed at a port where nothing listens.
  const port = await freePort()
  const run = launch([path.join(root, 'web/node_modules/next/dist/bin/next'), 'start', '-p', String(port), '-H', '127.0.0.1'], path.join(root, 'web'), {
    TAKEHOME_API_URL: `http://127.0.0.1:${await freePort()}`,
  })
  t.teardown(() => {
    run.child.kill('SIGKILL')
  })
  await ready(run, 'Ready in')
  const b = await launchChromium(t)
  const page = await b.newPage()
  const token = `thi_${'y'.repeat(49)}`
  await page.goto(`http://127.0.0.1:${port}/start/${token}`)
  t.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'We could not load your invitation')
  t.ok(await page.getByText('Your link is still valid').isVisible())
  t.notOk(run.output.join('').includes(token), 'the token is not logged')
})
