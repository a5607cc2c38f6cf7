import { createHash, randomBytes } from 'node:crypto'
import { appendFileSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { drizzle } from 'drizzle-orm/pglite'
import { migrate } from 'drizzle-orm/pglite/migrator'
import postgres from 'postgres'
import { type Database, MIGRATIONS_DIR, openPglite, openPostgres } from '../src/db/client.ts'

export interface TestDatabase extends Database {
  /**
   * Another connection to this same database, as a second process would open it: its own
   * pool on PostgreSQL; on PGlite, which only one process can open, this one (closing it is a no-op).
   */
  connectAgain(): Promise<Database>
}

/**
 * A fresh, migrated database per test file. With TEST_DATABASE_URL set, a new database
 * on that PostgreSQL server (dropped afterwards); otherwise an in-memory PGlite loaded
 * from a migrated snapshot, which costs a fraction of migrating from scratch.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  recordDatabaseUse()
  const serverUrl = process.env.TEST_DATABASE_URL
  if (serverUrl) return createPostgresTestDatabase(serverUrl)
  const database = await openPglite('memory://', { loadDataDir: await snapshot() })
  return { ...database, connectAgain: async () => ({ ...database, close: async () => {} }) }
}

async function createPostgresTestDatabase(serverUrl: string): Promise<TestDatabase> {
  const scratch = await createScratchPostgres(serverUrl)
  const database = await openPostgres(scratch.url, { max: 5 })
  return {
    ...database,
    connectAgain: () => openPostgres(scratch.url, { max: 5 }),
    async close() {
      await database.close()
      await scratch.drop()
    },
  }
}

/**
 * `npm test` runs the suite on PGlite, then again on PostgreSQL, where a file that never
 * opens a database would only repeat itself: scripts/run.mjs names a file in
 * TAKEHOME_TEST_DATABASE_USERS, and each test file that opens one is listed there. So a
 * test opens its database through createTestDatabase or createScratchPostgres (or names
 * TEST_DATABASE_URL in its source); one opened any other way would miss the second pass.
 */
function recordDatabaseUse() {
  const users = process.env.TAKEHOME_TEST_DATABASE_USERS
  if (users && process.argv[1]) appendFileSync(users, `${process.argv[1]}\n`)
}

/** Migrated PGlite data dir, cached in the temp dir per version of the migrations. */
async function snapshot(): Promise<Blob> {
  const hash = createHash('sha256')
  for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort()) {
    hash.update(file).update(readFileSync(path.join(MIGRATIONS_DIR, file)))
  }
  const file = path.join(tmpdir(), `takehome-pglite-${hash.digest('hex').slice(0, 16)}.tar.gz`)
  if (!existsSync(file)) {
    const client = await PGlite.create()
    await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_DIR })
    const dump = await client.dumpDataDir('gzip')
    await client.close()
    // Written aside and renamed: test files starting together never read half a snapshot.
    const staging = `${file}.${process.pid}`
    writeFileSync(staging, Buffer.from(await dump.arrayBuffer()))
    renameSync(staging, file)
  }
  return new Blob([readFileSync(file)])
}

/**
 * A new, empty database on the PostgreSQL server at `serverUrl`, for a test that hands its
 * URL to a process of the product (which migrates it); `drop` removes it, connections and all.
 */
export async function createScratchPostgres(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  recordDatabaseUse()
  const name = `takehome_test_${randomBytes(6).toString('hex')}`
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end({ timeout: 5 })
    },
  }
}
