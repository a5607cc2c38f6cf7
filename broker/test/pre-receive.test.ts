// The pre-receive hook the gateway names for every push, run by real git receive-pack:
// each refusal leaves main where it was and tells the pusher why in one line.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { candidateMachine, createSourceRepo, git } from '@takehome/core/testing'
import t from 'tap'

const HOOKS_DIR = fileURLToPath(new URL('../src/hooks', import.meta.url))

/** A bare repository with main, and a clone with one new commit to push to it. */
function setup(blobBytes = 16) {
  const source = createSourceRepo()
  const bare = path.join(mkdtempSync(path.join(tmpdir(), 'takehome-hook-')), 'repo.git')
  git(path.dirname(bare), 'clone', '--quiet', '--bare', source.dir, bare)
  const machine = candidateMachine()
  const work = path.join(machine.home, 'work')
  git(machine.home, 'clone', '--quiet', bare, work)
  writeFileSync(path.join(work, 'new.bin'), randomBytes(blobBytes))
  git(work, 'add', 'new.bin')
  git(work, '-c', 'user.name=C', '-c', 'user.email=c@example.com', 'commit', '-qm', 'New')
  const before = git(bare, 'rev-parse', 'main')
  // The gateway sets this through the environment, which git does not pass across a local push.
  git(bare, 'config', 'core.hooksPath', HOOKS_DIR)
  /** Pushes with the TAKEHOME_* values the gateway gives http-backend; receive-pack passes them to the hook. */
  const push = (env: Record<string, string>) => machine.git(work, ['push', bare, 'main'], env)
  return { bare, before, push, head: () => git(bare, 'rev-parse', 'main') }
}

const inAnHour = () => String(Math.floor(Date.now() / 1000) + 3600)
const LARGE_QUOTA = String(1024 ** 3)

t.test('a push in time and within quota is let through', async (t) => {
  const repo = setup()
  const push = await repo.push({ TAKEHOME_DEADLINE: inAnHour(), TAKEHOME_QUOTA_BYTES: LARGE_QUOTA })
  t.equal(push.code, 0, push.stderr)
  t.not(repo.head(), repo.before, 'main moved')
})

t.test('a push whose refs would be updated at or after the deadline is refused', async (t) => {
  const repo = setup()
  const push = await repo.push({ TAKEHOME_DEADLINE: String(Math.floor(Date.now() / 1000)), TAKEHOME_QUOTA_BYTES: LARGE_QUOTA })
  t.not(push.code, 0)
  t.match(push.stderr, /remote: push refused: the deadline has passed; the repository is closed/)
  t.match(push.stderr, /pre-receive hook declined/)
  t.equal(repo.head(), repo.before, 'main did not move')
})

t.test('a push to an archived repository is refused', async (t) => {
  const repo = setup()
  git(repo.bare, 'config', 'http.receivepack', 'false')
  const push = await repo.push({ TAKEHOME_DEADLINE: inAnHour(), TAKEHOME_QUOTA_BYTES: LARGE_QUOTA })
  t.not(push.code, 0)
  t.match(push.stderr, /remote: push refused: the assessment has ended and the repository is closed/)
  t.equal(repo.head(), repo.before, 'main did not move')
})

t.test('the quarantined objects count against the quota', async (t) => {
  const repo = setup(512 * 1024)
  const usedBytes = Number(execFileSync('du', ['-sk', repo.bare], { encoding: 'utf8' }).split('\t')[0]) * 1024
  // Room for the repository as it is, not for the half megabyte on its way in.
  const push = await repo.push({ TAKEHOME_DEADLINE: inAnHour(), TAKEHOME_QUOTA_BYTES: String(usedBytes + 128 * 1024) })
  t.not(push.code, 0)
  t.match(push.stderr, /remote: push refused: the repository would take \d+ KiB of disk, over its limit of \d+ KiB/)
  t.equal(repo.head(), repo.before, 'main did not move')
})

t.test('without the gateway\'s values, or with values that are not numbers, every push is refused', async (t) => {
  const cases: Array<Record<string, string>> = [
    {},
    { TAKEHOME_DEADLINE: inAnHour() },
    { TAKEHOME_DEADLINE: 'soon', TAKEHOME_QUOTA_BYTES: LARGE_QUOTA },
    { TAKEHOME_DEADLINE: inAnHour(), TAKEHOME_QUOTA_BYTES: '-1' },
  ]
  for (const env of cases) {
    const repo = setup()
    const push = await repo.push(env)
    t.not(push.code, 0, JSON.stringify(env))
    t.match(push.stderr, /remote: push refused: the server did not give this push its limits/)
    t.equal(repo.head(), repo.before)
  }
})
