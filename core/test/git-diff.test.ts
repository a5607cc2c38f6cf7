// The bounded JSON diff on repositories built with git's plumbing, as a pushed pack can build
// them: tens of thousands of paths, paths no file system holds, rename pairs git only finds
// among few files, and output past the patch stream's cap.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { boundedDiff } from '../src/adapters/git-diff.ts'
import type { DiffLimits, FileChange } from '../src/adapters/git-host.ts'

const KiB = 1024
const MiB = 1024 * KiB
const LIMITS: DiffLimits = { fileLines: 1_000, fileBytes: 256 * KiB, totalLines: 20_000, totalBytes: 2 * MiB, files: 1_000, scanBytes: 32 * MiB }

/** A bare repository with two commits made by `git fast-import`: base holds `before`, head changes it to `after`. */
function repository(t: Test, before: Record<string, string>, after: Record<string, string | null>, objectFormat = 'sha1') {
  const dir = mkdtempSync(path.join(tmpdir(), 'takehome-git-diff-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  execFileSync('git', ['init', '--quiet', '--bare', `--object-format=${objectFormat}`, dir])
  const parts: Buffer[] = []
  const put = (text: string) => parts.push(Buffer.from(text))
  const commit = (ref: string, files: Record<string, string | null>, from?: string) => {
    put(`commit ${ref}\ncommitter Test <test@example.com> 0 +0000\ndata 0\n${from ? `from ${from}\n` : ''}`)
    for (const [name, content] of Object.entries(files)) {
      if (content === null) put(`D ${name}\n`)
      else put(`M 100644 inline ${name}\ndata ${Buffer.byteLength(content)}\n${content}\n`)
    }
    put('\n')
  }
  commit('refs/heads/base', before)
  commit('refs/heads/head', after, 'refs/heads/base')
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, input: Buffer.concat(parts), maxBuffer: 64 * MiB })
  const sha = (ref: string) => execFileSync('git', ['rev-parse', ref], { cwd: dir }).toString().trim()
  return { dir, base: sha('refs/heads/base'), head: sha('refs/heads/head') }
}

/** Every file has its patch or says why not. */
function accounted(t: Test, files: FileChange[]) {
  const silent = files.filter((f) => f.patch === null && f.patchOmitted === null)
  t.same(silent.map((f) => f.path), [], 'no file is left with neither a patch nor a reason')
}

t.test('tens of thousands of changed files and one over the scan budget: counted in batches, under the argument limit', async (t) => {
  const after: Record<string, string | null> = {}
  // 20,000 distinct files whose paths come to ~3 MB, past the kernel's 2 MiB for a command line.
  for (let i = 0; i < 20_000; i++) after[`dir-${i % 50}/${'n'.repeat(130)}-${i}.txt`] = `file ${i}`
  after['huge.txt'] = 'h\n'.repeat(1024 * 1024)
  const repo = repository(t, { 'README.md': '# x' }, after)
  // A name of 130 KiB, past the kernel's limit for one argument (fast-import cuts names short, mktree does not).
  const long = `long/${'x'.repeat(130 * KiB)}`
  const git = (args: string[], input?: string) => execFileSync('git', args, { cwd: repo.dir, input }).toString().trim()
  const blob = git(['hash-object', '-w', '--stdin'], 'a long name\n')
  const sub = git(['mktree'], `100644 blob ${blob}\t${long.slice('long/'.length)}\n`)
  const root = git(['mktree', '-z'], `${git(['ls-tree', '-z', repo.head])}040000 tree ${sub}\tlong\u0000`)
  const head = git(['commit-tree', root, '-p', repo.base, '-m', 'a long name'])

  const diff = await boundedDiff(repo.dir, repo.base, head, { ...LIMITS, scanBytes: 1 * MiB })
  t.equal(diff.files.length, 20_002)
  const small = diff.files.filter((f) => f.path.startsWith('dir-'))
  t.ok(small.every((f) => f.additions === 1 && f.deletions === 0), 'every small file is counted')
  t.equal(small.filter((f) => f.patch !== null).length, 1_000, 'the first 1,000 have patches')
  t.match(diff.files.find((f) => f.path === 'huge.txt'), { additions: null, patch: null, patchOmitted: 'file_too_large' })
  t.match(diff.files.find((f) => f.path === long), { additions: null, patch: null, patchOmitted: 'path_too_long' })
  accounted(t, diff.files)
})

t.test('files git pairs as renames only among fewer paths keep their own patches, and a rename keeps its pair', async (t) => {
  // 1,001 deleted and 1,001 added files, each added one nine tenths of a deleted one: past
  // diff.renameLimit the listing of every file pairs none of them. Among the first 1,000
  // files that get patches, git would pair them, and print headers no listed file has.
  const lines = (i: number, last: string) => `${Array.from({ length: 9 }, (_, n) => `file ${i} line ${n}`).join('\n')}\n${last}`
  const before: Record<string, string> = { '0-moved-from.txt': 'moved as it is\n' }
  const after: Record<string, string | null> = { '0-moved-from.txt': null, '0-moved-to.txt': 'moved as it is\n' }
  for (let i = 0; i < 1_001; i++) {
    const n = String(i).padStart(4, '0')
    before[`f-${n}-d.txt`] = lines(i, 'old')
    after[`f-${n}-d.txt`] = null
    after[`f-${n}-a.txt`] = lines(i, 'new')
  }
  const repo = repository(t, before, after)

  const diff = await boundedDiff(repo.dir, repo.base, repo.head, LIMITS)
  t.equal(diff.files.length, 2_003)
  t.match(diff.files[0], { path: '0-moved-to.txt', oldPath: '0-moved-from.txt', status: 'renamed', patch: /^rename from 0-moved-from\.txt$/m })
  const withPatch = diff.files.filter((f) => f.patch !== null)
  t.equal(withPatch.length, 1_000)
  for (const file of withPatch.slice(1)) {
    const header = `diff --git a/${file.path} b/${file.path}\n${file.status === 'added' ? 'new' : 'deleted'} file mode 100644\n`
    if (!file.patch!.startsWith(header)) t.fail(`${file.path} (${file.status}) has its own patch: ${file.patch!.slice(0, 80)}`)
  }
  accounted(t, diff.files)
})

t.test('patches past the stream cap: the section cut off is dropped, and every file after it says why', async (t) => {
  // Paths of non-ASCII letters are printed quoted, four characters a byte, four times a
  // file: with a scan budget of a few bytes, the patches run past the stream's cap.
  const after: Record<string, string> = {}
  for (let i = 0; i < 1_000; i++) after[`${'é'.repeat(60)}-${String(i).padStart(4, '0')}.txt`] = 'x'
  const repo = repository(t, { 'README.md': '# x' }, after)

  const diff = await boundedDiff(repo.dir, repo.base, repo.head, { ...LIMITS, totalBytes: 64 * MiB, scanBytes: 2_000 })
  t.equal(diff.files.length, 1_000)
  const whole = diff.files.filter((f) => f.patch !== null)
  t.ok(whole.length > 0 && whole.length < 1_000, `${whole.length} patches were read before the cap`)
  t.ok(
    whole.every((f) => f.patchOmitted === null && f.patch!.endsWith('+x\n\\ No newline at end of file\n')),
    'each patch kept is whole',
  )
  t.ok(
    diff.files.slice(whole.length).every((f) => f.patch === null && f.patchOmitted === 'diff_too_large'),
    'the rest, from the one cut off, say the diff was too large',
  )
  accounted(t, diff.files)
})

t.test('a SHA-256 repository: blob sizes are read for 64-hex object names', async (t) => {
  const after: Record<string, string> = {}
  for (let i = 0; i < 1_000; i++) after[`f-${i}.txt`] = `file ${i}`
  const repo = repository(t, { 'README.md': '# x' }, after, 'sha256')
  const diff = await boundedDiff(repo.dir, repo.base, repo.head, LIMITS)
  t.equal(diff.files.length, 1_000)
  t.ok(diff.files.every((f) => f.additions === 1 && f.patch !== null), 'every file is counted and has its patch')
})

t.test('a file whose name is not UTF-8 cannot be named to git from here: listed, counted, and its patch said to be unavailable', async (t) => {
  // A file over the per-file limit makes the patches be read for named paths only.
  const repo = repository(t, { 'README.md': '# x' }, { 'big.txt': 'line\n'.repeat(1_001), 'plain.txt': 'plain' })
  const git = (args: string[], input?: Buffer | string) => execFileSync('git', args, { cwd: repo.dir, input }).toString('latin1').trim()
  const blob = git(['hash-object', '-w', '--stdin'], 'latin-1 name\n')
  const name = Buffer.from('caf\xe9.txt', 'latin1')
  const root = git(['mktree', '-z'], Buffer.concat([Buffer.from(git(['ls-tree', '-z', repo.head]), 'latin1'), Buffer.from(`100644 blob ${blob}\t`), name, Buffer.from('\0')]))
  const head = git(['commit-tree', root, '-p', repo.base, '-m', 'a name that is not UTF-8'])

  const diff = await boundedDiff(repo.dir, repo.base, head, LIMITS)
  t.equal(diff.files.length, 3)
  t.match(diff.files.find((f) => f.path === 'big.txt'), { additions: 1_001, patchOmitted: 'file_too_large' })
  t.match(diff.files.find((f) => f.path === 'plain.txt'), { additions: 1, patch: /^\+plain$/m, patchOmitted: null })
  t.match(diff.files.find((f) => f.path === name.toString('utf8')), { additions: 1, patch: null, patchOmitted: 'patch_unavailable' })
  accounted(t, diff.files)
})
