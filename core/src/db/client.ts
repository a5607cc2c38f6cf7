import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import { currentOrgScope } from './org-scope.ts'
import * as schema from './schema/index.ts'

export type Schema = typeof schema
/** Both drivers give the same query builder; services only ever see this type. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
/** Query helpers take either, so they join their caller's transaction. */
export type Executor = Db | Tx

export interface Database {
  db: Db
  kind: 'pglite' | 'postgres'
  ping(): Promise<void>
  close(): Promise<void>
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url))

/** PGlite file-backed under `dir` (taking a lock: two processes on one data dir silently lose writes). */
export async function openPglite(dir: string, options: { loadDataDir?: Blob } = {}): Promise<Database> {
  const release = dir === 'memory://' ? () => {} : takeLock(dir)
  try {
    const client = await PGlite.create(dir === 'memory://' ? { loadDataDir: options.loadDataDir } : { dataDir: dir })
    const db = drizzlePglite({ client, schema }) as unknown as Db
    await migratePglite(db as never, { migrationsFolder: MIGRATIONS_DIR })
    return {
      db,
      kind: 'pglite',
      ping: async () => void (await client.query('select 1')),
      close: async () => {
        await client.close()
        release()
      },
    }
  } catch (err) {
    release()
    throw err
  }
}

export async function openPostgres(url: string, options: { max?: number } = {}): Promise<Database> {
  await migrateWithLock(url)
  const client = postgres(url, { max: options.max ?? 10, onnotice: () => {}, connect_timeout: 10 })
  const db = drizzlePostgres({ client: orgScoped(client), schema }) as unknown as Db
  return {
    db,
    kind: 'postgres',
    ping: async () => void (await db.execute(sql`select 1`)),
    close: () => client.end({ timeout: 5 }),
  }
}

/**
 * The client drizzle talks through: in an org's scope (org-scope.ts) each statement, and
 * each transaction, begins with `SET LOCAL ROLE takehome_app` and the org in `app.org_id`,
 * so row-level security applies to it; outside one, statements go to the pool as they are.
 * A statement gets a transaction of its own rather than the request one long transaction:
 * statements keep committing on their own, a caught error does not doom the rest of the
 * request, and work a request leaves running never holds a connection past it.
 */
function orgScoped(client: postgres.Sql): postgres.Sql {
  const enter = (tx: postgres.TransactionSql, orgId: string) =>
    tx`select set_config('role', 'takehome_app', true), set_config('app.org_id', ${orgId}, true)`
  const unsafe: postgres.Sql['unsafe'] = (query, parameters, queryOptions) => {
    const orgId = currentOrgScope()
    if (orgId === undefined) return client.unsafe(query, parameters, queryOptions)
    const run = <R>(pick: (statement: postgres.PendingQuery<postgres.Row[]>) => Promise<R>) =>
      client
        .begin(async (tx) => {
          await enter(tx, orgId)
          // Boxed: begin() would await an array as a list of queries and drop its result's fields.
          return { result: await pick(tx.unsafe(query, parameters, queryOptions)) }
        })
        .then(({ result }) => result as R)
    // What drizzle uses of postgres-js's pending query: awaiting it, or its rows as arrays.
    return { values: () => run((statement) => statement.values()), then: (ok: never, fail: never) => run((statement) => statement).then(ok, fail) } as never
  }
  const begin = (...args: unknown[]) => {
    const orgId = currentOrgScope()
    const fn = args.pop() as (tx: postgres.TransactionSql) => unknown
    return (client.begin as (...a: unknown[]) => Promise<unknown>)(...args, async (tx: postgres.TransactionSql) => {
      if (orgId !== undefined) await enter(tx, orgId)
      return fn(tx)
    })
  }
  return new Proxy(client, {
    get: (target, property, receiver) => (property === 'unsafe' ? unsafe : property === 'begin' ? begin : Reflect.get(target, property, receiver)),
  })
}

/** Replicas starting together must not race each other through the same migration. */
async function migrateWithLock(url: string) {
  // One connection, so the advisory lock and the migration share a session.
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 })
  try {
    await client`select pg_advisory_lock(7310001)`
    await migratePostgres(drizzlePostgres({ client }), { migrationsFolder: MIGRATIONS_DIR })
  } finally {
    await client.end({ timeout: 5 })
  }
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError'
}

function takeLock(dir: string): () => void {
  mkdirSync(dir, { recursive: true })
  const lockFile = path.join(path.dirname(dir), `${path.basename(dir)}.lock`)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(lockFile, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const owner = Number(readFileSync(lockFile, 'utf8'))
      if (owner && isAlive(owner)) {
        throw new DataDirLockedError(
          `the embedded database in ${dir} is in use by another Takehome process (pid ${owner}); stop it first, or give this one its own DATA_DIR`,
        )
      }
      rmSync(lockFile, { force: true }) // left by a process that no longer runs
    }
  }
  throw new DataDirLockedError(`could not take the lock ${lockFile}`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
