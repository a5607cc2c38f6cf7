// Only the database driver's errors are reduced to their SQLSTATE; Node's own errors, whose
// codes look alike (EPIPE), keep their message.
import t from 'tap'
import { databaseError, sqlState } from '../src/errors.ts'
import { createTestDatabase } from '../testing/database.ts'
import { sql } from 'drizzle-orm'

const nodeError = (code: string, message: string) => Object.assign(new Error(message), { code, errno: -32, syscall: 'write' })

t.test("Node's five-letter error codes are not SQLSTATE", async (t) => {
  for (const code of ['EPIPE', 'EPERM', 'EXDEV', 'EBADF', 'EEXIST', 'EROFS']) {
    const err = nodeError(code, `${code}: broken pipe, write`)
    t.equal(sqlState(err), undefined, code)
    t.equal(sqlState(new Error('wrapped', { cause: err })), undefined, `${code} as a cause`)
    t.equal(databaseError(err), undefined, `${code} is logged as the error it is`)
  }
})

t.test("the driver's errors are reduced to SQLSTATE and names, through drizzle's wrapper", async (t) => {
  const database = await createTestDatabase()
  t.teardown(() => database.close())
  const err = await database.db.execute(sql`select 'not a number'::int`).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.equal(sqlState(err), '22P02')
  t.match(databaseError(err), { type: 'DatabaseError', code: '22P02', message: 'database error 22P02' })
  t.notMatch(JSON.stringify(databaseError(err)), 'not a number', 'no value is kept')
})
