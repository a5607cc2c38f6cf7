#!/usr/bin/env node
// `npm start`, `npm test` and `pnpm bench` land here, so the README's two commands work on a fresh
// clone with only Node and git: this installs what is missing, then starts or tests.
// Plain JavaScript on purpose: it runs before any dependency (tsx included) exists.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { countTestFiles, postgresPassFiles } from './database-pass.mjs'
import { failureReport, notRunReport, tapCounts, underCI } from './tap-report.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const env = {
  ...process.env,
  COREPACK_ENABLE_DOWNLOAD_PROMPT: '0',
  NEXT_TELEMETRY_DISABLED: '1',
}

function step(title) {
  console.log(`\n▸ ${title}`)
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...env, ...options.env } })
  if (result.error) throw result.error
  return result.status ?? 1
}

function must(cmd, args, options) {
  const status = run(cmd, args, options)
  if (status !== 0) {
    console.error(`\n✗ ${cmd} ${args.join(' ')} failed (exit ${status})`)
    process.exit(status)
  }
}

const pnpm = (args, options) => must('corepack', ['pnpm', ...args], options)

function newestMtime(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === '.next') continue
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs)
  }
  return newest
}

function install() {
  const marker = path.join(root, 'node_modules', '.modules.yaml')
  const lock = path.join(root, 'pnpm-lock.yaml')
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return
  step('Installing dependencies (pnpm, through corepack)')
  pnpm(['install', '--frozen-lockfile'])
}

function buildWeb() {
  const buildId = path.join(root, 'web', '.next', 'BUILD_ID')
  if (existsSync(buildId) && statSync(buildId).mtimeMs >= newestMtime(path.join(root, 'web'))) return
  step('Building the web app (Next.js)')
  pnpm(['--filter', '@takehome/web', 'build'])
}

function reachable(url) {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 5432) })
    socket.setTimeout(2000)
    socket.once('connect', () => resolve(socket.end() && true))
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => resolve(socket.destroy() && false))
  })
}

/** Runs tap, echoing its output, and returns its pass/fail counts. */
function tap(label, extraEnv, args = []) {
  step(`Test suite on ${label}`)
  const result = spawnSync('corepack', ['pnpm', 'exec', 'tap', '--reporter=tap', ...args], {
    cwd: root,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 512 * 1024 * 1024,
  })
  const out = result.stdout.toString()
  process.stdout.write(out)
  const counts = tapCounts(out)
  return {
    label,
    out,
    status: result.status ?? 1,
    passed: counts?.pass ?? 0,
    failed: (counts?.fail ?? 0) + (counts ? 0 : 1),
  }
}

/** The browser tests drive Debian's Chromium through playwright-core (`npx playwright install` cannot reach its CDN). */
function ensureChromium() {
  const browser = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
  if (existsSync(browser)) return
  if (process.getuid?.() !== 0 || run('sh', ['-c', 'command -v apt-get >/dev/null']) !== 0) {
    console.error(`\n✗ the browser tests need Chromium at ${browser}: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH`)
    process.exit(1)
  }
  step("Installing Chromium for the browser tests (Debian's package)")
  must('apt-get', ['update', '-qq'])
  must('apt-get', ['install', '-y', '-qq', 'chromium'], { env: { DEBIAN_FRONTEND: 'noninteractive' } })
}

async function test() {
  install()
  ensureChromium()
  step('Type check')
  pnpm(['exec', 'tsc', '-p', 'tsconfig.json'])
  step('Lint')
  pnpm(['exec', 'eslint', '--max-warnings=0', '.'])
  buildWeb()
  // tap builds its plugin set from .taprc on first use; until then a fresh clone's first
  // pass would load its default TypeScript loader (ts-node), which resolves imports
  // differently from tsx (`next/headers` fails), so build it before any pass.
  step('Test runner plugins (.taprc)')
  pnpm(['exec', 'tap', 'build'])

  const started = Date.now()
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'takehome-test-'))
  process.on('exit', () => rmSync(scratch, { recursive: true, force: true }))
  const databaseUsers = path.join(scratch, 'database-users')
  writeFileSync(databaseUsers, '')
  const results = [tap('the embedded defaults (PGlite)', { TEST_DATABASE_URL: '', TAKEHOME_TEST_DATABASE_USERS: databaseUsers })]
  const skippedPasses = []
  const pgUrl = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
  if (await reachable(pgUrl)) {
    const files = postgresPassFiles(root, databaseUsers)
    if (files.length === 0) {
      console.error('\n✗ no test file opened a database in the first pass, so the PostgreSQL pass would test nothing: see core/testing/database.ts')
      process.exit(1)
    }
    results.push(tap(`PostgreSQL (${new URL(pgUrl).host})`, { TEST_DATABASE_URL: pgUrl }, files))
    console.log(
      `\n(the PostgreSQL pass ran the ${files.length} files that open a database or read TEST_DATABASE_URL; ` +
        `the other ${countTestFiles(root) - files.length} and scripts/test, which starts the product on its embedded default, ran once)`,
    )
  } else if (underCI()) {
    console.error(`\n✗ PostgreSQL is not reachable at ${new URL(pgUrl).host}; CI must run the suite on it`)
    process.exit(1)
  } else {
    console.log(`\n! PostgreSQL is not reachable at ${new URL(pgUrl).host}: the PostgreSQL pass did not run (set TEST_DATABASE_URL)`)
    skippedPasses.push({ label: 'the PostgreSQL pass', reason: `nothing listens at ${new URL(pgUrl).host}; set TEST_DATABASE_URL` })
  }
  // Last before the counts, so that what did not run is the first thing a reader sees.
  const skips = notRunReport(results, skippedPasses, { ci: underCI() })
  const passed = results.reduce((n, r) => n + r.passed, 0)
  const failed = results.reduce((n, r) => n + r.failed, 0) + skips.failures
  console.log(`\nSuite time: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  const failedText = failureReport(results)
  if (failedText) console.log(failedText)
  console.log(skips.text)
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed > 0 || results.some((r) => r.status !== 0) ? 1 : 0)
}

function start() {
  install()
  buildWeb()
  step('Starting Takehome')
  // `.env` (what `npm run github-app` writes) is read by Node itself; variables already in
  // the environment win over it.
  const envFile = path.join(root, '.env')
  const args = [...(existsSync(envFile) ? [`--env-file=${envFile}`] : []), '--import', 'tsx', 'scripts/start.ts']
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env })
  process.exit(result.status ?? 1)
}

function bench() {
  install()
  // (e) opens the review page in Chromium, served by the built web app.
  ensureChromium()
  buildWeb()
  step('Benchmarks (the report is printed when all have run)')
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts'], { cwd: root, stdio: 'inherit', env })
  process.exit(result.status ?? 1)
}

/** Registers the GitHub App (scripts/github-app/main.ts); its flags follow `--`. */
function githubApp(args) {
  install()
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/github-app/main.ts', ...args], { cwd: root, stdio: 'inherit', env })
  process.exit(result.status ?? 1)
}

const command = process.argv[2]
if (command === 'test') await test()
else if (command === 'start') start()
else if (command === 'bench') bench()
else if (command === 'github-app') githubApp(process.argv.slice(3))
else {
  console.error('usage: node scripts/run.mjs start|test|bench|github-app')
  process.exit(2)
}
