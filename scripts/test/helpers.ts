// Starting the real product (scripts/start.ts, the embedded default) as a child process,
// for the tests that meet it as an outsider does: over HTTP, by its signals and its output.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import AxeBuilder from '@axe-core/playwright'
import { type Browser, chromium, type Page } from 'playwright-core'
import type { Test } from 'tap'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** scripts/start.ts serves the built web app: without a build it cannot start. */
export function requireWebBuild() {
  if (!existsSync(path.join(root, 'web/.next/BUILD_ID'))) {
    throw new Error('the web app is not built: run `npm test`, which builds it first')
  }
}

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

export interface Running {
  child: ChildProcess
  stdout: string[]
  stderr: string[]
  exited: Promise<number | null>
}

export function launch(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: root,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stdout: string[] = []
  const stderr: string[] = []
  child.stdout!.on('data', (b: Buffer) => stdout.push(...b.toString().split('\n').filter(Boolean)))
  child.stderr!.on('data', (b: Buffer) => stderr.push(...b.toString().split('\n').filter(Boolean)))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, stdout, stderr, exited }
}

/** Resolves with the milliseconds until "Takehome is ready", or rejects if the process dies first. */
export async function ready(run: Running, started: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (run.stdout.some((l) => l.includes('Takehome is ready'))) {
        clearInterval(timer)
        resolve(Date.now() - started)
      }
    }, 50)
    void run.exited.then((code) => {
      clearInterval(timer)
      reject(new Error(`exited with ${code} before it was ready: ${run.stderr.join('\n')}`))
    })
  })
}

/** The real product on a free port with a DATA_DIR of its own, killed and its data removed when `t` ends. */
export async function startProduct(t: Test, env: Record<string, string> = {}) {
  const port = await freePort()
  const base = `http://localhost:${port}`
  const dataDir = mkdtempSync(path.join(tmpdir(), 'takehome-product-'))
  const run = launch({ PORT: String(port), DATA_DIR: dataDir, ...env })
  t.teardown(async () => {
    run.child.kill('SIGKILL')
    await run.exited
    rmSync(dataDir, { recursive: true, force: true })
  })
  await ready(run, Date.now())
  return { base, run, dataDir, request: productClient(base) }
}

/** JSON requests to a running product, as a browser on its own origin sends them (cookie writes need the Origin). */
export function productClient(base: string) {
  return async (method: string, url: string, options: { cookie?: string; body?: unknown } = {}) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        origin: base,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.cookie ? { cookie: options.cookie } : {}),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    })
    return { status: res.status, headers: res.headers, body: await res.json() }
  }
}

/** Outbox jobs by state, as `/metrics` reports them to a loopback caller. */
export async function jobCounts(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text()
  return Object.fromEntries([...text.matchAll(/^takehome_jobs\{state="(\w+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]))
}

/** Polls `probe` until it returns a value, or returns undefined once `capMs` has passed. */
export async function waitFor<T>(capMs: number, probe: () => Promise<T | undefined>, everyMs = 200): Promise<T | undefined> {
  const until = Date.now() + capMs
  for (;;) {
    const value = await probe()
    if (value !== undefined || Date.now() > until) return value
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Debian's Chromium, headless, closed when `t` ends. */
export async function launchChromium(t: Test): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`)
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  t.teardown(() => browser.close())
  return browser
}

/** The page's serious and critical axe-core violations, each as `rule: target (why)`. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze()
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => `${n.target.join(' ')} (${n.failureSummary})`).join(', ')}`)
}

/** How far the page scrolls sideways: 0 when it fits the viewport. */
export const horizontalOverflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)

/**
 * What every console page must pass, as a function of the page's name: no serious or
 * critical axe-core violation, no sideways scrolling at 375 px, and a screenshot at each
 * width in `dir`. The viewport is put back to `width` afterwards.
 */
export function pageChecker(page: Page, dir: string, width = 1280) {
  return async (t: Test, name: string) => {
    await page.getByRole('main').waitFor({ timeout: 30_000 })
    t.same(await seriousViolations(page), [], `${name}: no serious or critical axe-core violations`)
    await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true })
    const { height } = page.viewportSize() ?? { height: 900 }
    await page.setViewportSize({ width: 375, height: 800 })
    t.equal(await horizontalOverflow(page), 0, `${name}: no horizontal scroll at 375 px`)
    await page.screenshot({ path: path.join(dir, `${name}-375.png`), fullPage: true })
    await page.setViewportSize({ width, height })
    t.comment(`screenshots: ${path.join(dir, name)}*.png`)
  }
}
