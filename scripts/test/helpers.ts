// Starting the real product (scripts/start.ts, the embedded default) as a child process,
// for the tests that meet it as an outsider does: over HTTP, by its signals and its output.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium } from 'playwright-core'
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
