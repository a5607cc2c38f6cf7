// The gateway streams: big clones and pushes through the real server process must not
// grow its memory by anything like the size of the pack, with git protocol v0 and v2.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { candidateMachine, git } from '@takehome/core/testing'
import t from 'tap'

// Hundreds of megabytes through git several times: minutes, not seconds, on two cores.
t.setTimeout(15 * 60_000)

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const MB = 1024 * 1024

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Resident and peak memory of a process, from /proc. */
function memory(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? 0) * 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

/** Starts counting the peak afresh (writing 5 to clear_refs resets VmHWM). */
const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, '5')

/** Incompressible files, committed: the pack is about as large as the data. */
function bigRepo(totalMb: number, name: string) {
  const dir = mkdtempSync(path.join(tmpdir(), `takehome-${name}-`))
  git(dir, 'init', '--quiet', '--initial-branch=main')
  mkdirSync(path.join(dir, 'data'))
  for (let i = 0; i < totalMb / 10; i++) writeFileSync(path.join(dir, 'data', `blob-${i}.bin`), randomBytes(10 * MB))
  writeFileSync(path.join(dir, 'README.md'), '# big\n')
  git(dir, 'add', '--all')
  git(dir, '-c', 'user.name=Seed', '-c', 'user.email=seed@example.com', 'commit', '--quiet', '-m', 'Big seed')
  return dir
}

t.test('a 300 MB clone (v0 and v2) and a 150 MB push stream through the gateway', async (t) => {
  const port = await freePort()
  const dataDir = mkdtempSync(path.join(tmpdir(), 'takehome-streaming-'))
  const base = `http://127.0.0.1:${port}`
  const server: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'api/src/server.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, PUBLIC_URL: base, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let serverErrors = ''
  server.stderr!.on('data', (b: Buffer) => (serverErrors += b.toString()))
  let mark = performance.now()
  const step = (what: string) => {
    t.comment(`${what}: ${((performance.now() - mark) / 1000).toFixed(1)} s`)
    mark = performance.now()
  }
  const source = bigRepo(300, 'seed')
  step('300 MB source repository made')
  t.teardown(() => {
    server.kill('SIGKILL')
    for (const dir of [dataDir, source]) rmSync(dir, { recursive: true, force: true })
  })
  // Polling the health check is how an outside client learns the server is up.
  let up = false
  for (let i = 0; i < 300 && !up && server.exitCode === null; i++) {
    up = await fetch(`${base}/healthz`).then((r) => r.ok, () => false)
    if (!up) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  if (!up) throw new Error(`the server did not come up (exit ${server.exitCode}): ${serverErrors}`)

  const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base, ...headers }, body: JSON.stringify(body) })
    if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`)
    return res.json()
  }
  const signup = await fetch(`${base}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'big@example.com', password: 'a long password', org_name: 'Big' }),
  })
  const cookie = signup.headers.getSetCookie()[0]!.split(';')[0]!
  const auth = { cookie }
  const seed = await post('/api/seeds', { source_url: source }, auth)
  step('seed mirrored')
  // Above the 100 MiB default push limit (PUSH_DEFAULT_MAX_BYTES): the pushes below carry 150 MB.
  const assessment = await post('/api/assessments', { seed_id: seed.id, title: 'Big', time_to_start: 'P1D', time_to_complete: 'P1D', max_push_bytes: 200 * MB }, auth)
  const { invitations } = await post('/api/invitations', { assessment_id: assessment.id, candidates: [{ email: 'c@example.com' }] }, auth)
  const started = await post(`/api/start/${invitations[0].start_url.split('/start/')[1]}`, {})
  step('candidate repository created')
  const pid = server.pid!
  const machine = candidateMachine()

  for (const version of ['0', '2']) {
    resetPeak(pid)
    const before = memory(pid)
    const cloned = await machine.shell(`git -c protocol.version=${version} clone -q -c credential.helper= -c 'credential.helper=!f() { test "$1" = get && curl -sS "${started.git.credential_url}"; }; f' ${started.git.clone_url} v${version}`)
    t.equal(cloned.code, 0, `protocol v${version} clone works: ${cloned.stderr}`)
    // Packed or loose (git unpacks small object counts), the bytes that came over the wire.
    const counts = git(path.join(machine.home, `v${version}`), 'count-objects', '-v')
    const packBytes = ['size', 'size-pack'].reduce((n, k) => n + Number(new RegExp(`^${k}: (\\d+)$`, 'm').exec(counts)![1]) * 1024, 0)
    const growth = memory(pid).peak - before.rss
    t.comment(`v${version} clone: ${(packBytes / MB).toFixed(0)} MB of objects in ${(cloned.ms / 1000).toFixed(1)} s; server peak RSS grew ${(growth / MB).toFixed(1)} MB`)
    t.ok(packBytes > 290 * MB, 'the objects really are about 300 MB')
    t.ok(growth < packBytes / 10, 'server memory grew by far less than the pack')
  }

  const work = path.join(machine.home, 'v2')
  mkdirSync(path.join(work, 'more'))
  for (let i = 0; i < 15; i++) writeFileSync(path.join(work, 'more', `blob-${i}.bin`), randomBytes(10 * MB))
  git(work, 'add', '--all')
  git(work, '-c', 'user.name=C', '-c', 'user.email=c@example.com', 'commit', '--quiet', '-m', '150 MB more')
  for (const version of ['0', '2']) {
    resetPeak(pid)
    const before = memory(pid)
    // The same 150 MB twice: the second push is a forced rewrite, so it carries the pack again.
    if (version === '2') git(work, '-c', 'user.name=C', '-c', 'user.email=c@example.com', 'commit', '--quiet', '--amend', '-m', '150 MB more, again')
    const pushed = await machine.git(work, ['-c', `protocol.version=${version}`, 'push', '--quiet', '--force', 'origin', 'main'])
    t.equal(pushed.code, 0, `protocol v${version} push works: ${pushed.stderr}`)
    const growth = memory(pid).peak - before.rss
    t.comment(`v${version} push of 150 MB in ${(pushed.ms / 1000).toFixed(1)} s; server peak RSS grew ${(growth / MB).toFixed(1)} MB`)
    t.ok(growth < 150 * MB / 10, 'server memory grew by far less than the pushed pack')
  }
  const remote = git(work, 'ls-remote', 'origin', 'refs/heads/main')
  t.ok(remote.startsWith(git(work, 'rev-parse', 'HEAD')), 'the pushed commit is on the server')
})
