import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { and, desc, eq, sql } from 'drizzle-orm'
import { createTestServices, type TestServicesOptions } from '@takehome/core/testing'
import type { Test } from 'tap'
import { type AppOptions, buildApp } from '../src/app.ts'
import { createLogger, schema } from '@takehome/core'

export interface BuildOptions extends TestServicesOptions {
  rateLimits?: AppOptions['rateLimits']
  publicUrl?: string
  trustProxy?: AppOptions['config']['trustProxy']
  metricsToken?: string
  fallback?: AppOptions['fallback']
}

const unlimited = { max: 100_000, timeWindow: 60_000 }
// Rate limits have their own tests; elsewhere they would only make tests order-dependent.
const UNLIMITED = { auth: unlimited, start: unlimited, credential: unlimited, git: unlimited, webhooks: unlimited }

/** A logger whose lines are kept for the test to read. */
export function capturingLogger(level: 'debug' | 'info' = 'debug') {
  const lines: string[] = []
  const logger = createLogger(
    level,
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk))
        done()
      },
    }),
  )
  return { logger, lines }
}

/** The real app on a fresh database; closed when the test ends. Log lines are kept for inspection. */
export async function build(t: Test, options: BuildOptions = {}) {
  const { logger, lines: logLines } = capturingLogger()
  const publicUrl = options.publicUrl ?? 'http://takehome.test'
  // Tests make many orgs: later ones sign up by emailed confirmation (see `signup`).
  const ts = await createTestServices({ appBaseUrl: publicUrl, signup: 'open', ...options, logger })
  const app = await buildApp({
    services: ts.services,
    logger,
    gitHost: ts.gitHost,
    rateLimits: { ...UNLIMITED, ...options.rateLimits },
    fallback: options.fallback,
    config: {
      publicUrl,
      appBaseUrl: publicUrl,
      secureCookies: publicUrl.startsWith('https:'),
      sessionSecret: 'test-session-secret-0123456789abcdef0123',
      trustProxy: options.trustProxy ?? false,
      metricsToken: options.metricsToken,
      github: options.github,
    },
  })
  t.teardown(async () => {
    await app.close()
    await ts.close()
  })
  // The origin a browser on our pages sends: cookie-authenticated writes must carry it.
  return { app, logLines, origin: new URL(publicUrl).origin, ...ts }
}
export type Built = Awaited<ReturnType<typeof build>>

let counter = 0


/**
 * The token of the newest emailed link of `kind` sent to `to`, after running the jobs. Account
 * emails of no org are not listed at /api/mail, so this reads the local mailbox's table. Drains
 * run one after another, so one running at the same moment (tests that sign up in parallel)
 * has finished, and this one has run what it left, by the time `drain` returns.
 */
export async function emailedToken(built: Pick<Built, 'db' | 'drain'>, to: string, kind: 'member_invite' | 'password_reset' | 'signup_confirm') {
  await built.drain()
  const [message] = await built.db
    .select()
    .from(schema.mailboxMessages)
    .where(and(eq(schema.mailboxMessages.kind, kind), eq(sql`lower(${schema.mailboxMessages.to})`, to.toLowerCase())))
    .orderBy(desc(schema.mailboxMessages.createdAt))
    .limit(1)
  const token = message && /\/(th[a-z]_[0-9A-Za-z]{49})\b/.exec(message.text)?.[1]
  if (!token) throw new Error(`no ${kind} link was emailed to ${to}`)
  return token
}

const sessionHeaders = (built: Pick<Built, 'origin'>, res: { cookies: Array<{ name: string; value: string }> }) => {
  const cookie = res.cookies.find((c) => c.name === 'takehome_session')!
  return { cookie: `${cookie.name}=${cookie.value}`, origin: built.origin }
}

/**
 * Signs up a new owner in a new org; returns headers that authenticate as them. The first
 * sign-up of a database creates the org at once; later ones (SIGNUP=open, `build`'s default)
 * follow the emailed confirmation link, so they need `db` and `drain` as well.
 */
export async function signup(
  built: Pick<Built, 'app' | 'origin'> & Partial<Pick<Built, 'db' | 'drain'>>,
  overrides: Partial<Record<'email' | 'password' | 'org_name', string>> = {},
) {
  counter++
  const body = {
    email: `owner${counter}-${Date.now()}@example.com`,
    password: 'correct horse battery',
    org_name: `Org ${counter}`,
    ...overrides,
  }
  let res = await built.app.inject({ method: 'POST', url: '/api/auth/signup', payload: body })
  if (res.statusCode === 202) {
    const { db, drain } = built
    if (!db || !drain) throw new Error('this sign-up is confirmed by email: pass the built app with db and drain')
    const token = await emailedToken({ db, drain }, body.email, 'signup_confirm')
    res = await built.app.inject({ method: 'POST', url: '/api/auth/signup/confirm', payload: { token } })
  }
  if (res.statusCode !== 201) throw new Error(`signup failed: ${res.statusCode} ${res.body}`)
  const json = res.json() as { user: { id: string; email: string }; org: { id: string } }
  return { ...json, password: body.password, headers: sessionHeaders(built, res) }
}

/** Invites a member with `role` to the org of `owner`; they sign up through the emailed link. */
export async function member(built: Pick<Built, 'app' | 'origin' | 'db' | 'drain'>, owner: { headers: Record<string, string> }, role: string) {
  counter++
  const email = `${role}${counter}-${Date.now()}@example.com`
  const password = 'correct horse battery'
  const invited = await built.app.inject({ method: 'POST', url: '/api/members', headers: owner.headers, payload: { email, role } })
  if (invited.statusCode !== 201) throw new Error(`invite member failed: ${invited.statusCode} ${invited.body}`)
  const token = await emailedToken(built, email, 'member_invite')
  const res = await built.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { invitation_token: token, password } })
  if (res.statusCode !== 201) throw new Error(`member signup failed: ${res.statusCode} ${res.body}`)
  const { user } = res.json() as { user: { id: string; email: string } }
  return { email, password, user, headers: sessionHeaders(built, res) }
}

/** Asserts the DESIGN error shape and returns the error. */
export function expectError(t: Test, res: { statusCode: number; json(): unknown }, status: number, code?: string) {
  t.equal(res.statusCode, status, `status ${status}`)
  const body = res.json() as { error?: { code?: unknown; message?: unknown } }
  t.type(body.error?.code, 'string', 'error.code is a string')
  t.type(body.error?.message, 'string', 'error.message is a string')
  if (code) t.equal(body.error?.code, code, `error.code ${code}`)
  return body.error as { code: string; message: string; details?: unknown }
}

/** Row counts of every table, to prove a refused request wrote nothing. */
export async function rowCounts(built: Pick<Built, 'db'>) {
  const tables = [
    'orgs', 'users', 'org_members', 'sessions', 'api_keys', 'seeds', 'assessments', 'invitations',
    'candidate_repos', 'access_tokens', 'submissions', 'review_comments', 'review_feedback',
    'email_templates', 'email_events', 'mailbox_messages', 'outbox',
    'member_invitations', 'password_resets', 'signup_requests',
  ]
  const counts: Record<string, number> = {}
  for (const table of tables) {
    const result = await built.db.execute(sql.raw(`select count(*)::int as n from ${table}`))
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ n: number }>
    counts[table] = rows[0]!.n
  }
  return counts
}

type Headers = Record<string, string>

async function created<T>(res: { statusCode: number; body: string; json(): unknown }, what: string): Promise<T> {
  if (res.statusCode !== 201) throw new Error(`${what} failed: ${res.statusCode} ${res.body}`)
  return res.json() as T
}

/** A seed mirrored from `sourceUrl` (usually a `createSourceRepo()` directory). */
export function createSeed(built: Pick<Built, 'app'>, headers: Headers, sourceUrl: string) {
  return built.app
    .inject({ method: 'POST', url: '/api/seeds', headers, payload: { source_url: sourceUrl } })
    .then((res) => created<{ id: string; latest_main_sha: string }>(res, 'seed'))
}

/** An assessment on `seedId`: 3 days to start, 48 hours to complete, unless overridden. */
export function createAssessment(built: Pick<Built, 'app'>, headers: Headers, seedId: string, overrides: object = {}) {
  const payload = { seed_id: seedId, title: 'Backend exercise', instructions: 'Build the thing.', time_to_start: 'P3D', time_to_complete: 'PT48H', ...overrides }
  return built.app
    .inject({ method: 'POST', url: '/api/assessments', headers, payload })
    .then((res) => created<{ id: string; title: string }>(res, 'assessment'))
}

export interface Invited {
  id: string
  candidate_email: string
  start_url: string
  start_deadline: string
  /** The start link's token, the last segment of start_url. */
  token: string
}

export async function invite(built: Pick<Built, 'app'>, headers: Headers, assessmentId: string, candidates: Array<{ email: string; name?: string }>) {
  const res = await built.app.inject({ method: 'POST', url: '/api/invitations', headers, payload: { assessment_id: assessmentId, candidates } })
  const { invitations } = await created<{ invitations: Array<Omit<Invited, 'token'>> }>(res, 'invitation')
  return invitations.map((i) => ({ ...i, token: i.start_url.split('/start/')[1]! }))
}

/** The app listening on a loopback port, with PUBLIC_URL set to it, for real git clients. */
export async function serve(t: Test, options: BuildOptions = {}) {
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  const base = `http://127.0.0.1:${port}`
  const built = await build(t, { ...options, publicUrl: base })
  const requests: string[] = []
  // At the server, not in a hook: git's credential requests are answered before Fastify's hooks.
  built.app.server.on('request', (req: IncomingMessage) => requests.push(`${req.method} ${req.url?.split('?')[0]}`))
  await built.app.listen({ port, host: '127.0.0.1' })
  return { ...built, base, requests }
}

/** An owner, a seed from `sourceDir`, an assessment on it and invitations for `emails`. */
export async function invited(built: Pick<Built, 'app' | 'origin'> & Partial<Pick<Built, 'db' | 'drain'>>, sourceDir: string, emails: string[], overrides: object = {}) {
  const owner = await signup(built)
  const seed = await createSeed(built, owner.headers, sourceDir)
  const assessment = await createAssessment(built, owner.headers, seed.id, overrides)
  const invitations = await invite(built, owner.headers, assessment.id, emails.map((email) => ({ email })))
  return { owner, seed, assessment, invitations }
}

export interface MailMessage {
  id: string
  kind: string
  to: string
  subject: string
  text: string
  html: string
  created_at: string
}

/** Runs the queued jobs (emails are jobs), then reads the local mailbox, newest first; of one kind if given. */
export async function mailbox(built: Pick<Built, 'app' | 'drain'>, headers: Headers, options: { kind?: string; limit?: number } = {}) {
  await built.drain()
  const res = await built.app.inject({ method: 'GET', url: `/api/mail?limit=${options.limit ?? 100}`, headers })
  if (res.statusCode !== 200) throw new Error(`mail failed: ${res.statusCode} ${res.body}`)
  const { messages } = res.json() as { messages: MailMessage[] }
  return options.kind ? messages.filter((m) => m.kind === options.kind) : messages
}
