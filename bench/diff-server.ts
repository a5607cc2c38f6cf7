// The server side of the diff bench, in a process of its own so that its RSS is the
// server's alone: the real app with one candidate whose repository holds a 100,000-line
// change. Prints one JSON line (where to ask) on stdout, then serves until killed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { git } from '@takehome/core/testing'
import { startApp } from './app.ts'
import { DIFF_CHANGE } from './diff.ts'

const { files, linesPerFile } = DIFF_CHANGE
const seed = mkdtempSync(path.join(tmpdir(), 'takehome-bench-diff-seed-'))
const work = mkdtempSync(path.join(tmpdir(), 'takehome-bench-diff-work-'))
const lines = (file: number, tag: string) =>
  Array.from({ length: linesPerFile }, (_, line) => `export const value_${file}_${line} = '${tag} ${file * linesPerFile + line}'\n`).join('')

git(seed, 'init', '--quiet', '--initial-branch=main')
for (let i = 0; i < files; i++) writeFileSync(path.join(seed, `module${i}.ts`), lines(i, 'seed'))
git(seed, 'add', '--all')
git(seed, 'commit', '--quiet', '-m', 'Diff seed')

const bench = await startApp()
const {
  candidates: [candidate],
} = await bench.startCandidates(seed, 1, 'Diff exercise')
// Every line of every file rewritten: `files` × `linesPerFile` deletions and as many additions.
git(work, 'clone', '--quiet', await bench.repoDir(candidate!), '.')
for (let i = 0; i < files; i++) writeFileSync(path.join(work, `module${i}.ts`), lines(i, 'candidate'))
git(work, 'commit', '--quiet', '-am', 'Rewrite everything')
git(work, 'push', '--quiet', 'origin', 'HEAD:main')
rmSync(work, { recursive: true, force: true })

const repoId = await bench.repoIdOf(candidate!.invitationId)
process.stdout.write(`${JSON.stringify({ base: bench.base, repoId, headers: bench.ownerHeaders })}\n`)

process.once('SIGTERM', () => {
  void bench.close().finally(() => {
    rmSync(seed, { recursive: true, force: true })
    process.exit(0)
  })
})
