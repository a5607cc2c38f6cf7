// The review diff is bounded: a tiny push that expands to hundreds of MB answers at once
// with what was left out, the raw diff streams under a cap, and patches land on their own
// files whatever git prints for a type change or an odd path.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createSourceRepo, git } from '@takehome/core/testing'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t, { type Test } from 'tap'
import { type Built, invited, serve } from './helper.ts'

interface DiffFile {
  path: string
  old_path: string
  status: string
  old_mode: string | null
  new_mode: string | null
  additions: number | null
  deletions: number | null
  binary: boolean
  patch: string | null
  patch_truncated: boolean
  patch_truncated_reason: string | null
}
interface DiffBody {
  truncated: boolean
  truncation: { files: number; additions: number; deletions: number; uncounted_files: number; limits: Record<string, number> }
  totals: { files: number; additions: number; deletions: number }
  files: DiffFile[]
}

/**
 * A started candidate whose repository is a clone on disk: `change` edits the work tree,
 * and the result is pushed straight into the candidate's bare repository (these tests are
 * about the diff, not the gateway, which has tests of its own).
 */
async function candidate(t: Test, files: Record<string, string>) {
  const built = await serve(t)
  const source = createSourceRepo({ files })
  t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))
  const { owner, invitations } = await invited(built, source.dir, ['ada@example.com'])
  const started = await built.app.inject({ method: 'POST', url: `/api/start/${invitations[0]!.token}` })
  t.equal(started.statusCode, 200, 'started')
  const detail = (await built.app.inject({ method: 'GET', url: `/api/invitations/${invitations[0]!.id}`, headers: owner.headers })).json()
  const bare = path.join(built.gitHost.candidatesRoot, `${detail.repo.slug}.git`)
  const work = mkdtempSync(path.join(tmpdir(), 'takehome-diff-work-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  git(work, 'clone', '--quiet', bare, '.')
  return {
    built,
    work,
    repoId: detail.repo.id as string,
    invitationId: invitations[0]!.id,
    headers: owner.headers,
    push(message: string) {
      git(work, 'add', '--all')
      git(work, 'commit', '--quiet', '-m', message)
      git(work, 'push', '--quiet', 'origin', 'HEAD:main')
    },
  }
}

// A full collection on demand, so memory held can be told from garbage not yet collected.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const jsonDiff = async (t: Test, built: Built, repoId: string, headers: Record<string, string>) => {
  const res = await built.app.inject({ method: 'GET', url: `/api/repos/${repoId}/diff`, headers })
  t.equal(res.statusCode, 200, `the JSON diff answers 200: ${res.body.slice(0, 300)}`)
  return res.json() as DiffBody
}

t.test('a file that becomes a symlink keeps every later patch on its own file', async (t) => {
  const c = await candidate(t, { 'a.txt': 'alpha\n', 'b.txt': 'bravo\n', 'c.txt': 'charlie\n', 'd.txt': 'delta\n' })
  unlinkSync(path.join(c.work, 'b.txt'))
  symlinkSync('a.txt', path.join(c.work, 'b.txt'))
  writeFileSync(path.join(c.work, 'c.txt'), 'charlie, changed\n')
  writeFileSync(path.join(c.work, 'd.txt'), 'delta, changed\n')
  c.push('b becomes a link')

  const diff = await jsonDiff(t, c.built, c.repoId, c.headers)
  const byPath = new Map(diff.files.map((f) => [f.path, f]))
  t.same([...byPath.keys()], ['b.txt', 'c.txt', 'd.txt'])
  const b = byPath.get('b.txt')!
  t.match(b, { status: 'modified', old_mode: '100644', new_mode: '120000', patch_truncated: false })
  // git prints two sections for a type change; both belong to b.txt.
  t.equal(b.patch!.match(/^diff --git a\/b\.txt b\/b\.txt$/gm)?.length, 2, "both of b.txt's sections are b.txt's")
  t.match(b.patch, /^-bravo$/m)
  t.match(b.patch, /^\+a\.txt$/m)
  t.match(byPath.get('c.txt')!.patch, /^diff --git a\/c\.txt b\/c\.txt\n[^]*^\+charlie, changed$/m, "c.txt's patch is c.txt's")
  t.notMatch(byPath.get('c.txt')!.patch, /delta/, 'and holds nothing of d.txt')
  t.match(byPath.get('d.txt')!.patch, /^diff --git a\/d\.txt b\/d\.txt\n[^]*^\+delta, changed$/m, "d.txt's patch is d.txt's")
  t.equal(diff.truncated, false)
})

t.test('patches are matched to files with spaces, quotes, tabs and non-ASCII in their paths', async (t) => {
  const names = ['with space.txt', 'quote".txt', 'tab\there.txt', 'é/ünïcode.txt', 'back\\slash.txt']
  const c = await candidate(t, { 'README.md': '# x\n' })
  for (const name of names) {
    const file = path.join(c.work, name)
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, `content of ${name}\n`)
  }
  git(c.work, 'mv', 'README.md', 'renamed README.md')
  c.push('odd names')
  const diff = await jsonDiff(t, c.built, c.repoId, c.headers)
  for (const name of names) {
    const file = diff.files.find((f) => f.path === name)
    t.ok(file, `${JSON.stringify(name)} is listed`)
    t.match(file?.patch, new RegExp(`^\\+content of ${name.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}$`, 'm'), `${JSON.stringify(name)} has its own patch`)
    t.equal(file?.status, 'added')
  }
  t.match(diff.files.find((f) => f.path === 'renamed README.md'), { old_path: 'README.md', status: 'renamed', patch: /rename from README\.md/ })
})

t.test('per-file and overall limits leave patches out and say so, with every file still counted', async (t) => {
  const c = await candidate(t, { 'README.md': '# x\n' })
  const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} line ${i}\n`).join('')
  writeFileSync(path.join(c.work, 'a-too-many-lines.txt'), lines(1_001, 'many'))
  writeFileSync(path.join(c.work, 'b-one-long-line.txt'), `${'x'.repeat(300 * 1024)}\n`)
  // 21 files of 1,000 lines: with b's one line, the overall budget of 20,000 lines runs out at the 20th.
  for (let i = 0; i < 21; i++) writeFileSync(path.join(c.work, `c-part-${String(i).padStart(2, '0')}.txt`), lines(1_000, `part ${i}`))
  c.push('a large change')

  const diff = await jsonDiff(t, c.built, c.repoId, c.headers)
  const byPath = new Map(diff.files.map((f) => [f.path, f]))
  t.equal(diff.files.length, 23, 'every file is listed')
  t.match(byPath.get('a-too-many-lines.txt'), { additions: 1_001, patch: null, patch_truncated: true, patch_truncated_reason: 'file_too_large' })
  t.match(byPath.get('b-one-long-line.txt'), { additions: 1, patch: null, patch_truncated: true, patch_truncated_reason: 'file_too_large' })
  for (let i = 0; i < 19; i++) {
    const file = byPath.get(`c-part-${String(i).padStart(2, '0')}.txt`)!
    t.equal(file.patch_truncated, false, `part ${i} has its patch`)
    t.match(file.patch, new RegExp(`^\\+part ${i} line 999$`, 'm'))
  }
  for (const i of [19, 20]) {
    t.match(byPath.get(`c-part-${i}.txt`), { additions: 1_000, patch: null, patch_truncated: true, patch_truncated_reason: 'diff_too_large' })
  }
  t.equal(diff.truncated, true)
  t.same(diff.totals, { files: 23, additions: 1_001 + 1 + 21_000, deletions: 0 })
  t.match(diff.truncation, { files: 4, additions: 1_001 + 1 + 2_000, deletions: 0, uncounted_files: 0, limits: { file_lines: 1_000, total_lines: 20_000 } })
})

t.test('a push of a few KiB that expands to a diff of more than 500 MB: JSON answers with truncation, raw streams to a clear cap', async (t) => {
  const c = await candidate(t, { 'README.md': '# x\n' })
  // One ~3.9 MB blob of many short lines behind 140 paths: git stores it once, and the pack
  // that carries it is tiny. The paths go straight into the index, as an attacker would.
  const blobFile = path.join(c.work, '..', `${path.basename(c.work)}-blob`)
  writeFileSync(blobFile, 'ab\n'.repeat(1_300_000))
  t.teardown(() => rmSync(blobFile, { force: true }))
  const blob = git(c.work, 'hash-object', '-w', blobFile)
  const paths = Array.from({ length: 140 }, (_, i) => `copy-${String(i).padStart(3, '0')}.txt`)
  git(c.work, 'update-index', '--add', ...paths.flatMap((p) => ['--cacheinfo', `100644,${blob},${p}`]))
  git(c.work, 'commit', '--quiet', '-m', 'one blob, many paths')
  const pack = execFileSync('git', ['pack-objects', '--stdout', '--revs', '-q'], { cwd: c.work, input: 'HEAD\n^origin/main\n' })
  t.ok(pack.length < 16 * 1024, `the push carries a pack of ${pack.length} bytes`)
  git(c.work, 'push', '--quiet', 'origin', 'HEAD:main')

  const diff = await jsonDiff(t, c.built, c.repoId, c.headers)
  t.equal(diff.files.length, 140)
  t.ok(
    diff.files.every((f) => f.patch === null && f.patch_truncated_reason === 'file_too_large' && f.additions === 1_300_000),
    'every file listed with its counts, none with a patch',
  )
  t.match(diff.truncation, { files: 140, additions: 140 * 1_300_000 })

  // The raw diff over a real socket, read as it arrives. Three quarters of the way in, what
  // this process holds (server and reader, after a full GC) is compared with before: a server
  // that buffered the diff would hold tens of MB of it by then.
  const cap = 64 * 1024 * 1024
  const before = await liveBytes()
  let during = 0
  let bytes = 0
  const res = await fetch(`${c.built.base}/api/repos/${c.repoId}/diff`, { headers: { ...c.headers, accept: 'text/x-diff' } })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/x-diff/)
  // Only the last two chunks are kept: the reader must not be what holds memory either.
  let last: Uint8Array[] = []
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length
    last = [last.at(-1) ?? new Uint8Array(), chunk]
    if (!during && bytes > (cap / 4) * 3) during = await liveBytes()
  }
  const tail = Buffer.concat(last).toString('latin1').slice(-300)
  t.ok(bytes > cap && bytes < cap + 300, `the raw diff stopped at its cap (${bytes} bytes)`)
  t.match(tail, /\n\\ Takehome: the diff is longer than 67108864 bytes and was cut here; the JSON diff lists every file\.\n$/, 'and ends with a line saying so')
  const grown = during - before
  t.comment(`live memory grew ${(grown / 1024 / 1024).toFixed(1)} MB with ${((cap / 4) * 3) / 1024 / 1024} MB of the diff streamed`)
  t.ok(grown < cap / 4, 'the streamed diff is not held in memory')
})

t.test('20,000 paths to one blob: the JSON diff lists and counts them all', async (t) => {
  const c = await candidate(t, { 'README.md': '# x\n' })
  const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: c.work, input: 'the same line\n' }).toString().trim()
  const paths = Array.from({ length: 20_000 }, (_, i) => `same/${String(i).padStart(5, '0')}.txt`)
  execFileSync('git', ['update-index', '--add', '--index-info'], { cwd: c.work, input: paths.map((p) => `100644 ${blob}\t${p}\n`).join('') })
  git(c.work, 'commit', '--quiet', '-m', 'one blob, 20,000 paths')
  git(c.work, 'push', '--quiet', 'origin', 'HEAD:main')

  const diff = await jsonDiff(t, c.built, c.repoId, c.headers)
  t.equal(diff.files.length, 20_000)
  t.same(diff.totals, { files: 20_000, additions: 20_000, deletions: 0 })
  t.equal(diff.files.filter((f) => f.patch !== null).length, 1_000, 'patches for as many files as the limit allows')
  t.match(diff.truncation, { files: 19_000, uncounted_files: 0 })
  t.ok(diff.files.every((f) => f.patch !== null || f.patch_truncated_reason === 'diff_too_large'), 'the others say why')
})

t.test('files past the scan budget are listed uncounted, and the totals say they are partial', async (t) => {
  const c = await candidate(t, { 'README.md': '# x\n' })
  // Nine distinct blobs of 4 MiB: eight fill the 32 MiB git may read to count lines.
  for (let i = 0; i < 9; i++) writeFileSync(path.join(c.work, `big-${i}.txt`), `${i}\n`.repeat(2 * 1024 * 1024))
  c.push('nine large files')

  const diff = await jsonDiff(t, c.built, c.repoId, c.headers)
  const uncounted = diff.files.filter((f) => f.additions === null)
  t.equal(uncounted.length, 1, 'one file is not counted')
  t.match(uncounted[0], { binary: false, patch: null, patch_truncated: true, patch_truncated_reason: 'diff_too_large' })
  t.same(diff.totals, { files: 9, additions: 8 * 2 * 1024 * 1024, deletions: 0 }, 'totals hold the counted files')
  t.match(diff.truncation, { files: 9, uncounted_files: 1 })
})

t.test('a comment can name a file with a tab in its name', async (t) => {
  const c = await candidate(t, { 'README.md': '# x\n' })
  const name = 'tab\there.txt'
  writeFileSync(path.join(c.work, name), 'with a tab\n')
  c.push('a file with a tab')
  const diff = await jsonDiff(t, c.built, c.repoId, c.headers)
  t.ok(diff.files.some((f) => f.path === name), 'the diff lists it')
  const url = `/api/invitations/${c.invitationId}/comments`
  const res = await c.built.app.inject({ method: 'POST', url, headers: c.headers, payload: { path: name, line: 1, body: 'why a tab?' } })
  t.equal(res.statusCode, 201, res.body)
  t.equal(res.json().path, name, 'the path is kept as it is')
  const nul = await c.built.app.inject({ method: 'POST', url, headers: c.headers, payload: { path: 'a\u0000b', body: 'x' } })
  t.equal(nul.statusCode, 400, 'NUL is still refused')
})

/**
 * Heap and buffers still reachable after a full collection. V8 frees the memory of dead
 * buffers on a background thread after a collection, so on a loaded machine a reading taken
 * at once still counted them (a CI run saw 22 MB grown where 2-5 MB is usual): a second
 * collection after a pause lets the freeing finish.
 */
async function liveBytes() {
  gc()
  await new Promise((resolve) => setTimeout(resolve, 50))
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}
