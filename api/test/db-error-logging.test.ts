import { sql } from 'drizzle-orm'
import t from 'tap'
import { build, capturingLogger, expectError, signup } from './helper.ts'

// Looks like what must never be logged: an argon2id hash.
const SECRET = '$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0LXNhbHQ$SECRETHASHdoNotLogMe0123456789'

t.test('a database error is logged with its code and names, never its parameters, query or values', async (t) => {
  const built = await build(t)
  // Routes of the test's own, so each provokes one kind of database error with a secret parameter.
  built.app.post('/test/duplicate-user', async () => {
    await built.db.execute(sql`insert into users (email, password_hash) select email, ${SECRET} from users limit 1`)
  })
  built.app.post('/test/bad-cast', async () => {
    await built.db.execute(sql`select ${SECRET}::int as n`)
  })
  const owner = await signup(built)

  const duplicate = await built.app.inject({ method: 'POST', url: '/test/duplicate-user' })
  const error = expectError(t, duplicate, 500, 'internal_error')
  t.notMatch(error.message, 'users', 'the client learns nothing of the database')
  const cast = await built.app.inject({ method: 'POST', url: '/test/bad-cast' })
  expectError(t, cast, 500, 'internal_error')

  const logs = built.logLines.join('')
  t.notMatch(logs, 'SECRETHASH', 'the password hash is in no log line')
  t.notMatch(logs, '$argon2id$', 'nor any part of it')
  t.notMatch(logs, owner.user.email, 'nor the value the unique index refused (its detail)')
  t.notMatch(logs, /insert into|select .*::int/i, 'nor the query text')
  const entries = built.logLines.map((line) => JSON.parse(line) as { msg: string; db?: Record<string, string> })
  const logged = entries.filter((e) => e.msg === 'database error').map((e) => e.db)
  t.match(logged, [
    { type: 'DatabaseError', code: '23505', constraint: 'users_email_lower_idx', table: 'users', message: 'database error 23505' },
    { type: 'DatabaseError', code: '22P02', message: 'database error 22P02' },
  ])
})

t.test('the logger reduces a database error logged anywhere (a job, a plugin) to its code and names', async (t) => {
  const built = await build(t)
  const { logger, lines } = capturingLogger('info')
  const err = await built.db.execute(sql`select ${SECRET}::int as n`).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(err, 'the query failed')
  t.match(String((err as Error).message), 'SECRETHASH', 'the driver error carries the parameter, which is why this matters')
  logger.error({ err }, 'job failed')
  const [line] = lines
  t.notMatch(line, 'SECRETHASH')
  t.match(JSON.parse(line!), { msg: 'job failed', err: { type: 'DatabaseError', code: '22P02' } })

  logger.error({ err: new Error('plain failure') }, 'other')
  t.match(JSON.parse(lines[1]!), { err: { type: 'Error', message: 'plain failure' } }, 'other errors log as before')
})
