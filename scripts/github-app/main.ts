// `npm run github-app -- --org ORG [--url PUBLIC_URL] [--name NAME]`: registers Takehome's
// GitHub App through GitHub's manifest flow and writes what the server needs to `.env`.
// GitHub sends the browser back to a server on 127.0.0.1 with a one-time code, which this
// exchanges for the app's id, private key and webhook secret. Nothing secret is printed.
import { createHash, createPrivateKey, randomBytes, timingSafeEqual } from 'node:crypto'
import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { envPem, envValue, mergeEnv, readEnvFile, writePrivateFile } from './env-file.ts'
import { appManifest, escapeHtml, formPage, htmlPage, type Manifest, webhookUrl } from './manifest.ts'

const DEFAULT_WEB_URL = 'https://github.com'
const DEFAULT_API_URL = 'https://api.github.com'
const WAIT_MS = 15 * 60_000
const REQUEST_TIMEOUT_MS = 30_000
const KEY_FILE = 'github-app.pem'

const USAGE = `usage: npm run github-app -- --org ORG [--url PUBLIC_URL] [--name NAME] [--port PORT]
                              [--dotenv PATH] [--inline-key] [--force]

  --org         the GitHub organisation that will hold seed and candidate repositories
  --url         where Takehome is reachable from GitHub (default: PUBLIC_URL); webhooks go to URL/api/github/webhooks
  --name        the app's name on GitHub, at most 34 characters (default: "Takehome (ORG)")
  --port        port of the local page on 127.0.0.1 (default: any free port)
  --dotenv      the file to write (default: .env); the key goes to ${KEY_FILE} beside it
  --inline-key  write the key into the file as GITHUB_APP_PRIVATE_KEY instead of ${KEY_FILE}
  --force       replace the GitHub App variables of an app made earlier

GITHUB_URL and GITHUB_API_URL (from the environment or the file) point it at GitHub Enterprise Server.`

/** A failure the user can act on: printed as one line, no stack. */
class SetupError extends Error {}

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .transform((v) => v.replace(/\/+$/, ''))

const optionsSchema = z.object({
  org: z
    .string({ error: 'is required: the GitHub organisation that will hold the repositories, e.g. --org acme-hiring' })
    .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/, { error: 'must be a GitHub organisation login, e.g. acme-hiring' }),
  url: z.string({ error: 'is required: where GitHub reaches Takehome, e.g. --url https://takehome.example.com' }).pipe(httpUrl),
  name: z.string().trim().min(1, { error: 'must not be empty' }).max(34, { error: 'must be at most 34 characters (GitHub’s limit)' }),
  port: z.coerce.number({ error: 'must be a port number' }).int({ error: 'must be a port number' }).min(0).max(65535, { error: 'must be a port number' }),
  envFile: z.string().min(1),
  force: z.boolean(),
  inlineKey: z.boolean(),
  githubUrl: httpUrl,
  apiUrl: httpUrl,
})

type Options = z.infer<typeof optionsSchema>

const LABELS: Record<keyof Options, string> = {
  org: '--org',
  url: '--url (or PUBLIC_URL)',
  name: '--name',
  port: '--port',
  envFile: '--dotenv',
  force: '--force',
  inlineKey: '--inline-key',
  githubUrl: 'GITHUB_URL',
  apiUrl: 'GITHUB_API_URL',
}

/** Flags first, then the environment, then the file being written (as Node's `--env-file` ranks them). */
function readOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      org: { type: 'string' },
      url: { type: 'string' },
      name: { type: 'string' },
      port: { type: 'string', default: '0' },
      dotenv: { type: 'string', default: '.env' },
      'inline-key': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const file = readEnvFile(path.resolve(values.dotenv))
  const setting = (name: string) => [env[name], file[name]].find((v) => v !== undefined && v.trim() !== '')
  const parsed = optionsSchema.safeParse({
    org: values.org,
    url: values.url ?? setting('PUBLIC_URL'),
    name: values.name ?? `Takehome (${values.org ?? ''})`,
    port: values.port,
    envFile: values.dotenv,
    force: values.force,
    inlineKey: values['inline-key'],
    githubUrl: setting('GITHUB_URL') ?? DEFAULT_WEB_URL,
    apiUrl: setting('GITHUB_API_URL') ?? DEFAULT_API_URL,
  })
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new SetupError(`${LABELS[issue.path[0] as keyof Options]} ${issue.message}`)
  }
  return parsed.data
}

const step = (text: string) => console.log(`▸ ${text}`)
const warn = (text: string) => console.error(`! ${text}`)

const GITHUB_HEADERS = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'takehome-github-app-setup' }

async function github(o: Options, method: string, route: string): Promise<Response> {
  try {
    return await fetch(`${o.apiUrl}${route}`, { method, headers: GITHUB_HEADERS, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  } catch (err) {
    const { cause } = err as Error & { cause?: { code?: string; message?: string } }
    const reason = cause?.code ?? cause?.message ?? (err as Error).message
    throw new SetupError(`cannot reach GitHub's API at ${o.apiUrl} (${reason}): check GITHUB_API_URL and the network`)
  }
}

/** Nothing that would stop start-up later, or overwrite a working app's credentials, goes unnoticed now. */
function checkTargets(o: Options, envFile: string, keyFile: string) {
  const existing = readEnvFile(envFile).GITHUB_APP_ID
  if (existing && !o.force) {
    throw new SetupError(`${o.envFile} already sets GITHUB_APP_ID=${existing}: pass --force to replace that app's variables (the old app stays on GitHub until you delete it)`)
  }
  if (!o.inlineKey && existsSync(keyFile) && !o.force) {
    throw new SetupError(`${keyFile} exists: pass --force to replace it`)
  }
  try {
    accessSync(path.dirname(envFile), constants.W_OK)
  } catch {
    throw new SetupError(`cannot write to ${path.dirname(envFile)}: the credentials would be lost after GitHub hands them over`)
  }
}

async function checkOrganisation(o: Options) {
  step(`Checking that ${o.org} is an organisation on ${o.githubUrl}`)
  const res = await github(o, 'GET', `/orgs/${o.org}`)
  await res.body?.cancel()
  if (res.status === 404) {
    throw new SetupError(`${o.org} is not an organisation on ${o.githubUrl}: create it first (${o.githubUrl}/account/organizations/new), or check --org and GITHUB_URL`)
  }
  // Enterprise Server in private mode answers anonymous calls with 401: GitHub's form will tell.
  if (!res.ok) warn(`could not check ${o.org} (GitHub answered ${res.status}); going on`)
}

const conversionSchema = z.object({
  id: z.number().int().positive(),
  slug: z.string().min(1),
  html_url: httpUrl,
  pem: z.string().regex(/-----BEGIN (RSA )?PRIVATE KEY-----/),
  webhook_secret: z.string().min(16),
  owner: z.object({ login: z.string().min(1) }),
})

type CreatedApp = z.infer<typeof conversionSchema>

/** The code works once, for an hour; a failure here leaves an app on GitHub without credentials here. */
async function convert(o: Options, code: string): Promise<CreatedApp> {
  step('GitHub created the app; exchanging the one-time code for its credentials')
  const res = await github(o, 'POST', `/app-manifests/${encodeURIComponent(code)}/conversions`)
  const body: unknown = await res.json().catch(() => undefined)
  const orphan = `If GitHub created the app, delete it (${o.githubUrl}/organizations/${o.org}/settings/apps) and run this again.`
  if (res.status !== 201) {
    const message = z.object({ message: z.string() }).safeParse(body).data?.message.slice(0, 300)
    throw new SetupError(`GitHub refused the code (${res.status}${message ? `: ${message}` : ''}); codes work once and expire after an hour. ${orphan}`)
  }
  const parsed = conversionSchema.safeParse(body)
  if (!parsed.success) {
    throw new SetupError(`GitHub's answer lacks a usable ${String(parsed.error.issues[0]!.path.join('.'))}. ${orphan}`)
  }
  const app = parsed.data
  if (app.owner.login.toLowerCase() !== o.org.toLowerCase()) {
    throw new SetupError(`the app was created under ${app.owner.login}, not ${o.org}; nothing was written. Delete it on GitHub and run this again.`)
  }
  try {
    createPrivateKey(app.pem)
  } catch {
    throw new SetupError(`GitHub's private key cannot be read. ${orphan}`)
  }
  return app
}

/** Relative to the directory the server starts in when the key sits under it, so the checkout can move. */
function keyPathSetting(keyFile: string) {
  const relative = path.relative(process.cwd(), keyFile)
  return relative.startsWith('..') || path.isAbsolute(relative) ? keyFile : relative
}

function writeCredentials(o: Options, app: CreatedApp, envFile: string, keyFile: string): string[] {
  const values: Record<string, string | undefined> = {
    GITHUB_APP_ID: String(app.id),
    GITHUB_APP_PRIVATE_KEY: o.inlineKey ? envPem(app.pem) : undefined,
    GITHUB_APP_PRIVATE_KEY_PATH: o.inlineKey ? undefined : envValue(keyPathSetting(keyFile)),
    GITHUB_WEBHOOK_SECRET: envValue(app.webhook_secret),
    GITHUB_ORG: app.owner.login,
    GITHUB_URL: o.githubUrl === DEFAULT_WEB_URL ? undefined : o.githubUrl,
    GITHUB_API_URL: o.apiUrl === DEFAULT_API_URL ? undefined : o.apiUrl,
  }
  if (!o.inlineKey) writePrivateFile(keyFile, `${app.pem.trim()}\n`)
  const current = existsSync(envFile) ? readFileSync(envFile, 'utf8') : ''
  writePrivateFile(envFile, mergeEnv(current, values))
  return Object.keys(values).filter((key) => values[key] !== undefined)
}

const callbackSchema = z.object({ code: z.string().regex(/^[\w-]{1,200}$/), state: z.string().max(200) })

const digest = (text: string) => createHash('sha256').update(text).digest()

function send(res: http.ServerResponse, status: number, html: string) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  })
  res.end(html)
}

async function listen(server: http.Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new SetupError(`port ${port} is in use: pass another --port, or none`) : err),
    )
    server.listen(port, '127.0.0.1', resolve)
  })
  return (server.address() as AddressInfo).port
}

/**
 * Serves the form, then waits for GitHub to send the browser back with a code and this run's
 * state. A callback with another state (a stale tab, another page) is refused and waiting
 * goes on; the first good one ends the run, written or failed.
 */
async function runManifestFlow(o: Options, envFile: string, keyFile: string) {
  const state = randomBytes(24).toString('hex')
  const server = http.createServer()
  const port = await listen(server, o.port)
  const origin = `http://127.0.0.1:${port}`
  const manifest: Manifest = appManifest({ name: o.name, org: o.org, publicUrl: o.url, redirectUrl: `${origin}/callback` })
  const action = `${o.githubUrl}/organizations/${o.org}/settings/apps/new?state=${state}`
  let claimed = false
  let timer: NodeJS.Timeout | undefined

  const finished = new Promise<{ app: CreatedApp; written: string[] }>((resolve, reject) => {
    timer = setTimeout(
      () => reject(new SetupError(`GitHub did not send the browser back within ${WAIT_MS / 60_000} minutes; nothing was written. Run the command again.`)),
      WAIT_MS,
    )
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      // A page on another origin that rebinds its name to 127.0.0.1 still sends its own Host.
      if (req.headers.host !== `127.0.0.1:${port}`) return send(res, 421, htmlPage('Wrong address', `<p>Open <a href="${origin}/">${origin}/</a>.</p>`))
      if (req.method !== 'GET') return send(res, 405, htmlPage('Not allowed', ''))
      const url = new URL(req.url ?? '/', origin)
      if (url.pathname === '/') return send(res, 200, formPage({ action, org: o.org, manifest }))
      if (url.pathname !== '/callback') return send(res, 404, htmlPage('Not found', `<p><a href="/">Start here</a>.</p>`))

      const callback = callbackSchema.safeParse(Object.fromEntries(url.searchParams))
      if (!callback.success || !timingSafeEqual(digest(callback.data.state), digest(state))) {
        warn(`refused a callback whose state is not this run's (a stale tab, or not GitHub's redirect); still waiting at ${origin}/`)
        return send(res, 400, htmlPage('Not from this setup', `<p>This link does not carry this setup run's state. Start again from <a href="/">the setup page</a>.</p>`))
      }
      if (claimed) return send(res, 409, htmlPage('Already done', '<p>This setup already received its app; see the terminal.</p>'))
      claimed = true
      convert(o, callback.data.code)
        .then((app) => ({ app, written: writeCredentials(o, app, envFile, keyFile) }))
        .then(
          (result) => {
            const install = `${result.app.html_url}/installations/new`
            send(res, 200, htmlPage('App created', `<p>Now install it on <b>${escapeHtml(o.org)}</b>: <a href="${escapeHtml(install)}">${escapeHtml(install)}</a>, then start Takehome (see the terminal).</p>`))
            resolve(result)
          },
          (err: Error) => {
            send(res, 502, htmlPage('Setup failed', `<p>${escapeHtml(err instanceof SetupError ? err.message : 'See the terminal.')}</p>`))
            reject(err)
          },
        )
    })
  })

  if (/^https?:\/\/(localhost|127\.|\[::1\])/.test(o.url)) {
    warn(`${o.url} is a loopback address: GitHub cannot deliver webhooks there; use Takehome's public URL (or a tunnel to it)`)
  }
  step(`Open ${origin}/ in a browser signed in to GitHub as an owner of ${o.org}, and press the button`)
  console.log(`  (waiting up to ${WAIT_MS / 60_000} minutes; Ctrl-C stops)`)
  try {
    return await finished
  } finally {
    clearTimeout(timer)
    server.close()
    server.closeAllConnections()
  }
}

async function main() {
  const o = readOptions(process.argv.slice(2), process.env)
  const envFile = path.resolve(o.envFile)
  const keyFile = path.join(path.dirname(envFile), KEY_FILE)
  checkTargets(o, envFile, keyFile)
  await checkOrganisation(o)
  const { app, written } = await runManifestFlow(o, envFile, keyFile)
  step(`Wrote ${written.join(', ')} to ${o.envFile}${o.inlineKey ? '' : ` and the private key to ${keyFile}`} (mode 0600; keep them out of git)`)
  console.log(`
Next:
  1. Install the app "${app.slug}" on ${app.owner.login}, for all repositories:
     ${app.html_url}/installations/new
  2. Where Takehome runs, set PUBLIC_URL=${o.url} (GitHub sends webhooks to ${webhookUrl(o.url)}),
     then start it (npm start) or restart it; /readyz says when the app is installed and ready.`)
}

main().catch((err: unknown) => {
  if (err instanceof SetupError) console.error(`✗ ${err.message}`)
  else if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) console.error(`✗ ${(err as Error).message}\n\n${USAGE}`)
  else console.error(err)
  process.exit(1)
})
