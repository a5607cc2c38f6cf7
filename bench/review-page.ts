import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { candidateMachine, createSourceRepo } from '@takehome/core/testing'
import { chromium } from 'playwright-core'
import { freePort } from './app.ts'
import { fmtInt, fmtMs, median, table, verdict } from './stats.ts'

/** The change reviewed: 200 new files of 50 lines, 10,000 added lines. */
export const REVIEW_CHANGE = { files: 200, linesPerFile: 50 }
export const REVIEW_PAGE = { runs: 5, targetMs: 1000 }

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Records, in the page's own clock (0 = navigation start), when diff2html's first file is
 * drawn: the end of the first frame after it is in the DOM (a task queued from that
 * frame's requestAnimationFrame runs once the frame is done). In the DOM is not yet drawn:
 * the server's HTML can bring it while the browser is still busy with the scripts.
 */
const WATCH_FIRST_FILE = `
  new MutationObserver((_, observer) => {
    if (document.querySelector('.d2h-file-wrapper')) {
      observer.disconnect()
      requestAnimationFrame(() => setTimeout(() => (window.__firstFileMs = performance.now())))
    }
  }).observe(document, { subtree: true, childList: true })
`

/**
 * (e) The review page in Chromium: from navigation to the first file diff2html has drawn,
 * for a submission of 10,000 added lines in 200 files. The product runs as `npm start`
 * runs it (scripts/start.ts, the embedded default, the built web app) in a process of its
 * own; each run is a fresh browser context (no cache), so it includes the page's scripts,
 * the API's diff and the drawing.
 */
export async function benchReviewPage(progress: (s: string) => void) {
  const title = '### (e) Review page: first file drawn'
  const missing = !existsSync(path.join(root, 'web/.next/BUILD_ID'))
    ? 'the web app is not built (`cd web && corepack pnpm run build`)'
    : !existsSync(CHROMIUM)
      ? `no browser at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`
      : null
  if (missing) return { report: `${title}\n\nNot measured: ${missing}.`, ok: false, firstFileMs: NaN }

  progress('(e) starting the product with the web app')
  const port = await freePort()
  const base = `http://localhost:${port}`
  const dataDir = mkdtempSync(path.join(tmpdir(), 'takehome-bench-review-'))
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, NEXT_TELEMETRY_DISABLED: '1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const source = createSourceRepo({ files: { 'README.md': '# Exercise\n' } })
  const machine = candidateMachine()
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
  try {
    let output = ''
    child.stdout!.on('data', (b: Buffer) => (output += b.toString()))
    while (!output.includes('Takehome is running at')) {
      if (child.exitCode !== null) throw new Error(`the product exited with ${child.exitCode} before it was ready`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }

    let cookie = ''
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: { origin: base, ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      if (!res.ok) throw new Error(`${method} ${url.replace(/thi_\w+/, 'thi_…')}: ${res.status} ${await res.text()}`)
      if (!cookie) cookie = res.headers.getSetCookie()[0]?.split(';')[0] ?? ''
      return res.json()
    }
    progress(`(e) a submission of ${REVIEW_CHANGE.files} files × ${REVIEW_CHANGE.linesPerFile} lines`)
    await call('POST', '/api/auth/signup', { email: 'bench@example.com', password: 'a long password', org_name: 'Bench' })
    const seed = await call('POST', '/api/seeds', { source_url: source.dir })
    const assessment = await call('POST', '/api/assessments', { seed_id: seed.id, title: 'Review bench', time_to_start: 'P3D', time_to_complete: 'PT48H' })
    const { invitations } = await call('POST', '/api/invitations', { assessment_id: assessment.id, candidates: [{ email: 'c@example.com' }] })
    const invitation = invitations[0] as { id: string; start_url: string }
    const token = invitation.start_url.split('/start/')[1]!
    let git = (await call('POST', `/api/start/${token}`)).git as { clone_command: string; clone_url: string } | null
    while (!git) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      git = (await call('GET', `/api/start/${token}`)).git
    }
    const checked = async (run: Promise<{ code: number; stderr: string }>, what: string) => {
      const r = await run
      if (r.code !== 0) throw new Error(`${what}: ${r.stderr}`)
    }
    await checked(machine.shell(git.clone_command), 'clone')
    const work = path.join(machine.home, path.basename(git.clone_url, '.git'))
    const { files, linesPerFile } = REVIEW_CHANGE
    await checked(machine.shell(`mkdir -p gen && for i in $(seq -w 1 ${files}); do seq 1 ${linesPerFile} | sed "s/^/const line_$i = /" > gen/file-$i.js; done`, work), 'generate')
    await checked(machine.git(work, ['add', '--all']), 'add')
    await checked(machine.git(work, ['commit', '-qm', 'Generated']), 'commit')
    await checked(machine.git(work, ['push', '-q', 'origin', 'main']), 'push')
    await call('POST', `/api/submit/${token}`)

    const [name, value] = cookie.split(/=(.*)/s) as [string, string]
    const times: number[] = []
    /** When the page's HTML (with the diff, rendered on the server) had arrived, in the page's clock: the server's part of the wait. */
    const htmlDone: number[] = []
    let drawn = 0
    for (let i = 0; i < REVIEW_PAGE.runs; i++) {
      progress(`(e) review page ${i + 1}/${REVIEW_PAGE.runs}`)
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      try {
        await context.addCookies([{ name, value, url: base }])
        await context.addInitScript(WATCH_FIRST_FILE)
        const page = await context.newPage()
        await page.goto(`${base}/review/${invitation.id}`)
        await page.waitForFunction(() => (window as unknown as { __firstFileMs?: number }).__firstFileMs !== undefined, undefined, { timeout: 60_000 })
        times.push(await page.evaluate(() => (window as unknown as { __firstFileMs: number }).__firstFileMs))
        htmlDone.push(await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).responseEnd))
        await page.evaluate(async () => {
          for (let i = 0; i < 5; i++) await new Promise((resolve) => requestAnimationFrame(resolve))
        })
        drawn = await page.evaluate(() => document.querySelectorAll('.d2h-file-wrapper').length)
      } finally {
        await context.close()
      }
    }
    const firstFileMs = median(times)
    const ok = firstFileMs < REVIEW_PAGE.targetMs
    const report = [
      title,
      '',
      `${fmtInt(files * linesPerFile)} added lines in ${files} files, submitted with stock git; ${REVIEW_PAGE.runs} navigations to /review/:id in headless Chromium, ` +
        'each in a fresh browser context (no cache), timed in the page from navigation start to the end of the first frame with the first `.d2h-file-wrapper` in it. ' +
        `The product runs as \`npm start\` runs it, in a process of its own. Files drawn once the page settled: ${drawn} of ${files} (the rest wait until scrolled near).`,
      '',
      table(
        ['from navigation start', 'median ms', 'min ms', 'max ms'],
        [
          ['the page\'s HTML (the diff rendered on the server) has arrived', fmtMs(median(htmlDone)), fmtMs(Math.min(...htmlDone)), fmtMs(Math.max(...htmlDone))],
          ['the first file is drawn', fmtMs(firstFileMs), fmtMs(Math.min(...times)), fmtMs(Math.max(...times))],
        ],
      ),
      '',
      `Median **${fmtMs(firstFileMs)} ms** (target < ${REVIEW_PAGE.targetMs} ms: ${verdict(ok)})`,
    ].join('\n')
    return { report, ok, firstFileMs }
  } finally {
    await browser.close()
    child.kill('SIGTERM')
    if (child.exitCode === null) await once(child, 'exit')
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(source.dir, { recursive: true, force: true })
    rmSync(machine.home, { recursive: true, force: true })
  }
}
