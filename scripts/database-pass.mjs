// Which test files `npm test` runs a second time, on PostgreSQL. The first pass runs every
// file on PGlite; a file that never opens a database would only repeat itself on the second,
// so the second runs the files the first saw open one (core/testing/database.ts lists them)
// and any file that reads TEST_DATABASE_URL itself. Plain JavaScript, like run.mjs.
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

/** Where the suite's test files live, as in .taprc, but for scripts/test: those start the real product, on its embedded default, whatever the suite's database. */
export const DATABASE_PASS_DIRS = ['core/test', 'api/test', 'broker/test', 'worker/test', 'web/features']

function testFilesUnder(dir) {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
  return entries.flatMap((e) => {
    const full = path.join(dir, e.name)
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : testFilesUnder(full)
    return e.name.endsWith('.test.ts') ? [full] : []
  })
}

/**
 * The second pass's files, relative to `root` and sorted: those listed in `usersLog` (one
 * absolute path a line, a file once or many times) under DATABASE_PASS_DIRS, and those
 * whose source names TEST_DATABASE_URL.
 */
export function postgresPassFiles(root, usersLog) {
  const inScope = (file) => DATABASE_PASS_DIRS.some((dir) => file.startsWith(`${dir}/`))
  const chosen = new Set()
  for (const line of readFileSync(usersLog, 'utf8').split('\n')) {
    const file = line && path.relative(root, line).split(path.sep).join('/')
    if (file && inScope(file)) chosen.add(file)
  }
  for (const dir of DATABASE_PASS_DIRS) {
    for (const full of testFilesUnder(path.join(root, dir))) {
      if (readFileSync(full, 'utf8').includes('TEST_DATABASE_URL')) chosen.add(path.relative(root, full).split(path.sep).join('/'))
    }
  }
  return [...chosen].sort()
}

/** How many test files there are under DATABASE_PASS_DIRS, for the report of what ran once. */
export function countTestFiles(root) {
  return DATABASE_PASS_DIRS.reduce((n, dir) => n + testFilesUnder(path.join(root, dir)).length, 0)
}
