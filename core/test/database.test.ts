import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { DataDirLockedError, openPglite } from '../src/db/client.ts'
import { orgs } from '../src/db/schema/index.ts'
import { createTestDatabase } from '../testing/database.ts'

t.test('the file-backed embedded database migrates, keeps data and refuses a second opener', async (t) => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'takehome-db-')), 'pg')
  const first = await openPglite(dir)
  await first.db.insert(orgs).values({ name: 'Kept' })
  await t.rejects(openPglite(dir), DataDirLockedError, 'a second process on one data dir would lose writes')
  await first.close()

  const again = await openPglite(dir)
  t.teardown(() => again.close())
  const rows = await again.db.select().from(orgs)
  t.same(rows.map((r) => r.name), ['Kept'], 'data survives a restart; migrations re-apply as a no-op')
})

t.test('migrations apply on the test database and record themselves', async (t) => {
  const database = await createTestDatabase()
  t.teardown(() => database.close())
  await database.ping()
  const result = await database.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`)
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ n: number }>
  t.ok(rows[0]!.n >= 1, 'at least one migration recorded')
})
