import { rmSync } from 'node:fs'
import { createPasswordHasher, generateToken, schema } from '@takehome/core'
import { createSourceRepo } from '@takehome/core/testing'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { type Built, build, emailedToken } from './helper.ts'

/**
 * The security promise of DESIGN §3: a secret we hand out (start link, API key, session)
 * or are handed (a password) is shown once and never stored or logged in the clear. A
 * whole flow runs against the real app; then every log line and every row of every table
 * is searched for every secret it produced.
 */

const source = createSourceRepo()
t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))

const rowsOf = (result: unknown) => (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<Record<string, unknown>>

async function dumpTables(built: Built) {
  const tables = rowsOf(
    await built.db.execute(
      sql.raw(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`),
    ),
  ).map((r) => String(r.table_name))
  const dump: Record<string, string> = {}
  for (const table of tables) dump[table] = JSON.stringify(rowsOf(await built.db.execute(sql.raw(`select * from "${table}"`))))
  return dump
}

t.test('no secret reaches a log line or a database row', async (t) => {
  const built = await build(t, { passwords: createPasswordHasher() })
  const { app } = built
  const secrets: Array<{ what: string; value: string; kind: 'password' | 'session' | 'api_key' | 'start' | 'link' }> = []
  const keep = (what: string, value: string, kind: (typeof secrets)[number]['kind']) => {
    t.ok(value.length >= 10, `${what} was captured`)
    secrets.push({ what, value, kind })
    return value
  }
  const sessionOf = (res: { cookies: Array<{ name: string; value: string }> }, what: string) => {
    const cookie = res.cookies.find((c) => c.name === 'takehome_session')!
    t.ok(cookie, `${what} set a session cookie`)
    keep(`${what} session cookie (signed)`, cookie.value, 'session')
    const raw = cookie.value.split('.')[0]!
    t.match(raw, /^ths_[0-9A-Za-z]{49}$/, 'the cookie carries a ths_ token')
    keep(`${what} session token`, raw, 'session')
    return { cookie: `takehome_session=${cookie.value}`, origin: built.origin }
  }

  // Sign up and log in again.
  const password = keep('password', 'Tr0ub4dor&3-horse-battery', 'password')
  const signedUp = await app.inject({
    method: 'POST',
    url: '/api/auth/signup',
    payload: { email: 'owner@example.com', password, name: 'Owner', org_name: 'Acme' },
  })
  t.equal(signedUp.statusCode, 201, signedUp.body)
  sessionOf(signedUp, 'signup')
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'owner@example.com', password } })
  t.equal(login.statusCode, 200, login.body)
  const owner = sessionOf(login, 'login')

  // A failed login: the wrong password someone typed is a secret too (often a real one, mistyped).
  const wrongPassword = keep('wrong password', 'Tr0ub4dor&3-horse-batterx', 'password')
  const failed = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { email: 'owner@example.com', password: wrongPassword },
  })
  t.equal(failed.statusCode, 401)

  // A member is invited by email and signs up through the link with a password of their own.
  const added = await app.inject({
    method: 'POST',
    url: '/api/members',
    headers: owner,
    payload: { email: 'viewer@example.com', role: 'viewer' },
  })
  t.equal(added.statusCode, 201, added.body)
  const invitationToken = keep('member invitation token', await emailedToken(built, 'viewer@example.com', 'member_invite'), 'link')
  const memberPassword = keep('member password', 'a-viewer-picked-this-one', 'password')
  const memberSignup = await app.inject({
    method: 'POST',
    url: '/api/auth/signup',
    payload: { invitation_token: invitationToken, password: memberPassword },
  })
  t.equal(memberSignup.statusCode, 201)
  sessionOf(memberSignup, 'member sign-up')

  // An API key, used for everything that follows.
  const created = await app.inject({ method: 'POST', url: '/api/api-keys', headers: owner, payload: { name: 'ci' } })
  t.equal(created.statusCode, 201, created.body)
  const key = keep('API key', (created.json() as { key: string }).key, 'api_key')
  t.match(key, /^thk_[0-9A-Za-z]{49}$/)
  const bearer = { authorization: `Bearer ${key}` }

  const seed = await app.inject({ method: 'POST', url: '/api/seeds', headers: bearer, payload: { source_url: source.dir } })
  t.equal(seed.statusCode, 201, seed.body)
  const assessment = await app.inject({
    method: 'POST',
    url: '/api/assessments',
    headers: bearer,
    payload: {
      seed_id: seed.json().id,
      title: 'Backend exercise',
      instructions: 'Build it.',
      time_to_start: 'P3D',
      time_to_complete: 'PT48H',
    },
  })
  t.equal(assessment.statusCode, 201, assessment.body)
  const invited = await app.inject({
    method: 'POST',
    url: '/api/invitations',
    headers: bearer,
    payload: {
      assessment_id: assessment.json().id,
      candidates: [{ email: 'ann@example.com', name: 'Ann' }, { email: 'bob@example.com' }, { email: 'cy@example.com' }],
    },
  })
  t.equal(invited.statusCode, 201, invited.body)
  const startTokens = (invited.json() as { invitations: Array<{ start_url: string }> }).invitations.map((i, n) =>
    keep(`start token ${n}`, i.start_url.split('/start/')[1]!, 'start'),
  )
  for (const token of startTokens) t.match(token, /^thi_[0-9A-Za-z]{49}$/)

  // The candidate opens the link (twice, and once with a query string a mail client might add).
  for (const url of [`/api/start/${startTokens[0]}`, `/api/start/${startTokens[0]}?utm_source=mail`, `/api/start/${startTokens[1]}`]) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 200, url.replace(/thi_\w+/, 'thi_…'))
  }
  // Unknown tokens and keys are secrets of whoever sent them: refused, and not logged either.
  const unknownStart = keep('unknown start token', generateToken('invitation'), 'start')
  t.equal((await app.inject({ method: 'GET', url: `/api/start/${unknownStart}` })).statusCode, 404)
  const badKey = keep('unknown API key', generateToken('apiKey'), 'api_key')
  t.equal((await app.inject({ method: 'GET', url: '/api/seeds', headers: { authorization: `Bearer ${badKey}` } })).statusCode, 401)
  const malformedKey = keep('malformed API key', 'thk_not-a-real-key-but-secret-anyway', 'api_key')
  t.equal((await app.inject({ method: 'GET', url: '/api/seeds', headers: { authorization: `Bearer ${malformedKey}` } })).statusCode, 401)
  // A token in a query string (as the git credential endpoint takes it) is redacted as well.
  t.equal((await app.inject({ method: 'GET', url: `/api/seeds?token=${startTokens[2]}`, headers: bearer })).statusCode, 200)
  await built.drain()
  const mail = await app.inject({ method: 'GET', url: '/api/mail', headers: owner })
  t.equal(mail.statusCode, 200)

  t.test('logs', async (t) => {
    const lines = built.logLines.join('').split('\n').filter(Boolean)
    t.ok(lines.length > 15, `the flow was logged (${lines.length} lines)`)
    for (const { what, value } of secrets) {
      const leaks = lines.filter((l) => l.includes(value) || l.includes(encodeURIComponent(value)))
      t.same(leaks, [], `${what} is in no log line`)
    }
    const urls = lines.map((l) => (JSON.parse(l) as { req?: { url?: string } }).req?.url).filter((u): u is string => !!u)
    const startUrls = urls.filter((u) => u.startsWith('/api/start/'))
    t.ok(startUrls.length >= 4, 'start requests were logged with their URL')
    for (const u of startUrls) t.match(u, /^\/api\/start\/thi_\[redacted\](\?utm_source=mail)?$/, `logged as ${u}`)
    t.ok(
      lines.some((l) => l.includes('/api/start/thi_[redacted]')),
      'redaction ran: the start path is logged with the token redacted',
    )
    t.ok(urls.includes('/api/seeds?token=[redacted]'), 'a token in a query string is redacted')
    for (const u of urls) t.notMatch(u, /th[iaks]_[0-9A-Za-z]{20,}/, `no token in the logged URL ${u}`)
    t.ok(
      lines.some((l) => l.includes('email stored in the local mailbox') && l.includes('ann@example.com')),
      'the mailbox logs who was mailed, without the body',
    )
  })

  t.test('database', async (t) => {
    const dump = await dumpTables(built)
    for (const table of ['users', 'sessions', 'api_keys', 'invitations', 'mailbox_messages', 'audit_events']) {
      t.ok(dump[table], `table ${table} was dumped`)
    }
    // Positive control: the search does find what is legitimately there.
    t.match(dump.users, 'owner@example.com')
    // The invite email in mailbox_messages is the message the candidate receives (the local
    // mailbox stands in for their inbox), so it must carry the start link: that one table is
    // excluded for start tokens (and the member invitation link, mailed the same way) only.
    // Every other secret, and every other table, stays clean.
    for (const token of startTokens) t.match(dump.mailbox_messages, token, 'the invite email carries the start link')
    for (const { what, value, kind } of secrets) {
      const found = Object.entries(dump)
        .filter(([table]) => !((kind === 'start' || kind === 'link') && table === 'mailbox_messages'))
        .filter(([, json]) => json.includes(value) || json.includes(encodeURIComponent(value)))
        .map(([table]) => table)
      t.same(found, [], `${what} is stored in no table`)
    }
    const users = await built.db.select().from(schema.users)
    t.equal(users.length, 2)
    for (const user of users) t.match(user.passwordHash, /^\$argon2id\$/, `${user.email}: argon2id hash`)
    const sessions = await built.db.select().from(schema.sessions)
    t.equal(sessions.length, 3)
    for (const s of sessions) t.match(s.tokenHash, /^[0-9a-f]{64}$/, 'sessions keep an HMAC only')
    const [apiKey] = await built.db.select().from(schema.apiKeys)
    t.match(apiKey!.keyHash, /^[0-9a-f]{64}$/)
    t.equal(apiKey!.hint, `${key.slice(0, 8)}…${key.slice(-4)}`, 'the hint is a short, non-secret label')
  })
})
