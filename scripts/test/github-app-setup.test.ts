// `npm run github-app` as a user meets it, against the loopback GitHub double: the setup runs
// as a child process, its page is fetched as a browser would, GitHub's redirect is played
// with a code the double made for the page's manifest, and the .env it leaves must start
// the GitHub App host.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { loadConfig } from '@takehome/core'
import { type GitHubDouble, startGitHubDouble } from '@takehome/core/testing'
import t, { type Test } from 'tap'
import { root } from './helpers.ts'

const PUBLIC_URL = 'https://takehome.example.com'

interface Setup {
  output(): string
  exited: Promise<number | null>
  /** The local page's origin, once the setup prints it. */
  origin: Promise<string>
}

/** The environment of a user with nothing of Takehome or GitHub set, but the double's addresses. */
function cleanEnv(double: GitHubDouble): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(GITHUB_|PUBLIC_URL$)/.test(name)))
  return { ...env, GITHUB_URL: double.webUrl, GITHUB_API_URL: double.apiUrl }
}

function runSetup(t: Test, double: GitHubDouble, args: string[]): Setup {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/github-app/main.ts', ...args], {
    cwd: root,
    env: cleanEnv(double),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => void child.kill('SIGKILL'))
  let output = ''
  // 'close', not 'exit': by then everything it printed has been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  const origin = new Promise<string>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString()
      const found = /Open (http:\/\/127\.0\.0\.1:\d+)\//.exec(output)
      if (found) resolve(found[1]!)
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    void exited.then((code) => reject(new Error(`the setup exited with ${code} before showing its page:\n${output}`)))
  })
  origin.catch(() => {})
  return { output: () => output, exited, origin }
}

const unescapeHtml = (text: string) => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))

/** What a browser sees on the setup page: the form's target and the manifest it posts. */
async function readForm(origin: string) {
  const res = await fetch(`${origin}/`)
  const html = await res.text()
  const form = /<form action="([^"]+)" method="post">/.exec(html)
  const input = /<input type="hidden" name="manifest" value="([^"]*)">/.exec(html)
  if (!form || !input) throw new Error(`no manifest form on the page:\n${html}`)
  const action = new URL(unescapeHtml(form[1]!))
  return {
    status: res.status,
    action,
    state: action.searchParams.get('state') ?? '',
    manifest: JSON.parse(unescapeHtml(input[1]!)) as {
      name: string
      url: string
      description: string
      hook_attributes: { url: string; active: boolean }
      redirect_url: string
      public: boolean
      default_permissions: Record<string, string>
      default_events: string[]
    },
  }
}

/** GitHub's redirect back to the setup, as the browser follows it. */
async function callback(redirectUrl: string, params: Record<string, string>) {
  const res = await fetch(`${redirectUrl}?${new URLSearchParams(params)}`)
  return { status: res.status, html: await res.text() }
}

const mode = (file: string) => statSync(file).mode & 0o777

/** The lines of a PEM's body: none may appear in anything the setup prints. */
const pemBody = (pem: string) => pem.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'))

t.test('the manifest flow writes a .env that starts the GitHub App host, and keeps what else it held', async (t) => {
  const double = await startGitHubDouble({ org: 'acme-hiring' })
  t.teardown(() => double.close())
  const dir = mkdtempSync(path.join(tmpdir(), 'takehome-github-app-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const envFile = path.join(dir, '.env')
  const keyFile = path.join(dir, 'github-app.pem')
  // A user's file: their own settings, a multi-line value, and a stale key the new app replaces.
  const before = [
    '# Takehome',
    `PUBLIC_URL=${PUBLIC_URL}`,
    'NOTE="first line',
    'second line"',
    'GITHUB_APP_PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----',
    'c3RhbGU=',
    '-----END RSA PRIVATE KEY-----"',
    'LOG_LEVEL=warn',
    '',
  ].join('\n')
  writeFileSync(envFile, before)

  const setup = runSetup(t, double, ['--org', 'acme-hiring', '--dotenv', envFile, '--name', 'Takehome test'])
  const origin = await setup.origin
  const form = await readForm(origin)
  t.equal(form.status, 200)
  t.equal(`${form.action.origin}${form.action.pathname}`, `${double.webUrl}/organizations/acme-hiring/settings/apps/new`, 'the form posts to the organisation’s new-app page on GITHUB_URL')
  t.match(form.state, /^[0-9a-f]{48}$/, 'with a random state')
  t.same(
    form.manifest,
    {
      name: 'Takehome test',
      url: PUBLIC_URL,
      description: 'Takehome assessments: private seed and candidate repositories in acme-hiring.',
      hook_attributes: { url: `${PUBLIC_URL}/api/github/webhooks`, active: true },
      redirect_url: `${origin}/callback`,
      public: false,
      default_permissions: { administration: 'write', contents: 'write', metadata: 'read', workflows: 'write' },
      default_events: ['push', 'repository'],
    },
    'least-privilege permissions, push and repository events, webhooks to PUBLIC_URL (taken from .env)',
  )

  const code = double.manifestCode(form.manifest)
  const forged = await callback(form.manifest.redirect_url, { code, state: '0'.repeat(48) })
  t.equal(forged.status, 400, 'a callback with another state is refused')
  t.equal(readFileSync(envFile, 'utf8'), before, 'and writes nothing')

  const done = await callback(form.manifest.redirect_url, { code, state: form.state })
  t.equal(done.status, 200, 'the right state with GitHub’s code completes the setup')
  t.match(done.html, `${double.webUrl}/apps/takehome-test/installations/new`)
  t.equal(await setup.exited, 0)
  t.match(setup.output(), /refused a callback whose state is not this run's/, 'the refused callback was reported')

  t.equal(mode(envFile), 0o600, '.env is readable by its owner only')
  t.equal(mode(keyFile), 0o600, 'so is the key file')
  const env = parseEnv(readFileSync(envFile, 'utf8')) as Record<string, string>
  t.match(env, {
    GITHUB_APP_ID: /^\d+$/,
    GITHUB_APP_PRIVATE_KEY_PATH: keyFile,
    GITHUB_WEBHOOK_SECRET: /^.{16,}$/,
    GITHUB_ORG: 'acme-hiring',
    GITHUB_URL: double.webUrl,
    GITHUB_API_URL: double.apiUrl,
    PUBLIC_URL,
    NOTE: 'first line\nsecond line',
    LOG_LEVEL: 'warn',
  })
  t.notOk('GITHUB_APP_PRIVATE_KEY' in env, 'the stale inline key is gone (the server refuses both)')
  t.match(readFileSync(envFile, 'utf8'), /^# Takehome\n/, 'comments stay')

  const pem = readFileSync(keyFile, 'utf8')
  const config = loadConfig({ ...env, DATA_DIR: path.join(dir, 'data') })
  t.same(config.github, {
    appId: env.GITHUB_APP_ID,
    privateKey: pem.trim(),
    webhookSecret: env.GITHUB_WEBHOOK_SECRET,
    org: 'acme-hiring',
    apiUrl: double.apiUrl,
    webUrl: double.webUrl,
  }, 'the configuration loads the GitHub App host from it')

  const printed = setup.output()
  t.match(printed, `${double.webUrl}/apps/takehome-test/installations/new`, 'the next step: install the app')
  t.notOk(printed.includes(env.GITHUB_WEBHOOK_SECRET!), 'the webhook secret is never printed')
  t.notOk(pemBody(pem).some((line) => printed.includes(line)), 'nor the key')
  t.notMatch(printed, /PRIVATE KEY-----/)

  t.test('an app already in .env is kept unless --force', async (t) => {
    const again = runSetup(t, double, ['--org', 'acme-hiring', '--dotenv', envFile])
    t.equal(await again.exited, 1)
    t.match(again.output(), `already sets GITHUB_APP_ID=${env.GITHUB_APP_ID}: pass --force`)
    t.same(parseEnv(readFileSync(envFile, 'utf8')), env, '.env is unchanged')
  })

  t.test('--force --inline-key replaces the app, with the key in .env on one line', async (t) => {
    const forced = runSetup(t, double, ['--org', 'acme-hiring', '--dotenv', envFile, '--force', '--inline-key'])
    const form = await readForm(await forced.origin)
    const done = await callback(form.manifest.redirect_url, { code: double.manifestCode(form.manifest), state: form.state })
    t.equal(done.status, 200)
    t.equal(await forced.exited, 0)
    const text = readFileSync(envFile, 'utf8')
    t.match(text, /^GITHUB_APP_PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\\n[^\n]+\\n-----END RSA PRIVATE KEY-----"$/m, 'one line, `\\n` escapes')
    const replaced = parseEnv(text) as Record<string, string>
    t.notOk('GITHUB_APP_PRIVATE_KEY_PATH' in replaced, 'no key path beside it')
    t.equal(replaced.NOTE, 'first line\nsecond line')
    const config = loadConfig({ ...replaced, DATA_DIR: path.join(dir, 'data') })
    t.equal(config.github?.privateKey, replaced.GITHUB_APP_PRIVATE_KEY!.trim())
    t.equal(config.github?.webhookSecret, replaced.GITHUB_WEBHOOK_SECRET)
    t.notOk(forced.output().includes(replaced.GITHUB_WEBHOOK_SECRET!), 'the secret is not printed')
    t.notOk(pemBody(replaced.GITHUB_APP_PRIVATE_KEY!).some((line) => forced.output().includes(line)), 'nor the key')
  })
})

t.test('a code GitHub refuses ends the setup with GitHub’s message and writes nothing', async (t) => {
  const double = await startGitHubDouble({ org: 'acme-hiring' })
  t.teardown(() => double.close())
  const dir = mkdtempSync(path.join(tmpdir(), 'takehome-github-app-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const envFile = path.join(dir, '.env')

  const setup = runSetup(t, double, ['--org', 'acme-hiring', '--dotenv', envFile, '--url', 'http://localhost:3000'])
  const form = await readForm(await setup.origin)
  const code = double.manifestCode(form.manifest)
  t.equal((await callback(form.manifest.redirect_url, { code, state: form.state })).status, 200, 'the code is spent')
  t.equal(await setup.exited, 0)
  t.match(setup.output(), 'http://localhost:3000 is a loopback address: GitHub cannot deliver webhooks there')

  const other = mkdtempSync(path.join(tmpdir(), 'takehome-github-app-'))
  t.teardown(() => rmSync(other, { recursive: true, force: true }))
  const replay = runSetup(t, double, ['--org', 'acme-hiring', '--dotenv', path.join(other, '.env'), '--url', PUBLIC_URL])
  const replayForm = await readForm(await replay.origin)
  const refused = await callback(replayForm.manifest.redirect_url, { code, state: replayForm.state })
  t.equal(refused.status, 502)
  t.equal(await replay.exited, 1)
  t.match(replay.output(), /GitHub refused the code \(404: Not Found\)/)
  t.match(replay.output(), `${double.webUrl}/organizations/acme-hiring/settings/apps`, 'and says where to delete the app left behind')
  t.same(readdirSync(other), [], 'nothing is written')
})

t.test('inputs are checked before any page is served', async (t) => {
  const double = await startGitHubDouble({ org: 'acme-hiring' })
  t.teardown(() => double.close())
  const dir = mkdtempSync(path.join(tmpdir(), 'takehome-github-app-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const envFile = path.join(dir, '.env')
  const cases: Array<[string[], string | RegExp]> = [
    [['--url', PUBLIC_URL], '--org is required'],
    [['--org', 'acme-hiring'], '--url (or PUBLIC_URL) is required'],
    [['--org', 'acme-hiring', '--url', PUBLIC_URL, '--name', 'x'.repeat(35)], '--name must be at most 34 characters'],
    [['--org', 'no-such-org', '--url', PUBLIC_URL], `no-such-org is not an organisation on ${double.webUrl}: create it first`],
  ]
  for (const [args, message] of cases) {
    const setup = runSetup(t, double, [...args, '--dotenv', envFile])
    t.equal(await setup.exited, 1, args.join(' '))
    t.match(setup.output(), message)
    t.notMatch(setup.output(), /Open http/, 'no page was served')
  }
  t.notOk(existsSync(envFile))
})
