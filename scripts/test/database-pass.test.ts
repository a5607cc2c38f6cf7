// `npm test` runs on PostgreSQL again only the files that use a database: the first pass
// records them, and the selection adds any file that reads TEST_DATABASE_URL itself.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestServices } from '@takehome/core/testing'
import t from 'tap'
import { postgresPassFiles } from '../database-pass.mjs'

t.test('a file whose test services open a database is recorded, by its path', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'takehome-db-users-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const log = path.join(dir, 'users')
  writeFileSync(log, '')
  const before = process.env.TAKEHOME_TEST_DATABASE_USERS
  process.env.TAKEHOME_TEST_DATABASE_USERS = log
  t.teardown(() => {
    if (before === undefined) delete process.env.TAKEHOME_TEST_DATABASE_USERS
    else process.env.TAKEHOME_TEST_DATABASE_USERS = before
  })
  const services = await createTestServices()
  await services.close()
  t.same(readFileSync(log, 'utf8').split('\n').filter(Boolean), [fileURLToPath(import.meta.url)])
})

t.test('the second pass: recorded files in scope, files naming TEST_DATABASE_URL, nothing else', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'takehome-db-pass-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const files = {
    'core/test/reads-url.test.ts': 'if (process.env.TEST_DATABASE_URL) {}',
    'api/test/opens.test.ts': 'await build(t)',
    'api/test/pure.test.ts': 'parses durations',
    'web/features/start/nested/format.test.ts': 'formats',
    'scripts/test/product.test.ts': 'starts the product',
    'api/test/helpers.ts': 'process.env.TEST_DATABASE_URL (not a test file)',
  }
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    writeFileSync(path.join(root, file), text)
  }
  const log = path.join(root, 'users')
  writeFileSync(log, ['api/test/opens.test.ts', 'api/test/opens.test.ts', 'scripts/test/product.test.ts', ''].map((f) => f && path.join(root, f)).join('\n'))
  t.same(postgresPassFiles(root, log), ['api/test/opens.test.ts', 'core/test/reads-url.test.ts'])
})
