import { createCipheriv } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { git } from '@takehome/core/testing'

/**
 * A repository of `files` files of `fileBytes` each, filled with AES-CTR keystream: looks
 * random to zlib (so the pack is as large as the files) yet is the same on every run.
 * One commit, then repacked into a single pack, as a seed an admin had packed.
 */
export function createLargeRepo({ files = 400, fileBytes = 128 * 1024 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'takehome-bench-large-'))
  git(dir, 'init', '--quiet', '--initial-branch=main')
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0))
  const zeros = Buffer.alloc(fileBytes)
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, 'data', String(i % 20).padStart(2, '0'))
    mkdirSync(sub, { recursive: true })
    writeFileSync(path.join(sub, `blob-${String(i).padStart(4, '0')}.bin`), cipher.update(zeros))
  }
  writeFileSync(path.join(dir, 'README.md'), '# Large exercise\n\nPseudo-random data for the clone benchmark.\n')
  git(dir, 'add', '--all')
  git(dir, 'commit', '--quiet', '-m', 'Large seed')
  git(dir, 'repack', '-adfq')
  git(dir, 'prune-packed')
  return { dir, packBytes: packBytes(path.join(dir, '.git')) }
}

/** A typical small exercise: a few dozen text files. */
export function createSmallRepo() {
  const dir = mkdtempSync(path.join(tmpdir(), 'takehome-bench-small-'))
  git(dir, 'init', '--quiet', '--initial-branch=main')
  writeFileSync(path.join(dir, 'README.md'), '# Small exercise\n')
  mkdirSync(path.join(dir, 'src'))
  for (let i = 0; i < 40; i++) {
    const body = Array.from({ length: 60 }, (_, line) => `export const value${i}_${line} = ${i * 1000 + line}\n`).join('')
    writeFileSync(path.join(dir, 'src', `module${i}.ts`), body)
  }
  git(dir, 'add', '--all')
  git(dir, 'commit', '--quiet', '-m', 'Small seed')
  return { dir, packBytes: packBytes(path.join(dir, '.git')) }
}

/** Bytes in a bare or non-bare git dir's packs and loose objects. */
export function packBytes(gitDir: string) {
  const objects = path.join(gitDir, 'objects')
  let total = 0
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name)
      if (entry.isDirectory()) walk(p)
      else total += statSync(p).size
    }
  }
  walk(objects)
  return total
}

/** How a repository's objects are stored: `git count-objects -v` as a record. */
export function countObjects(gitDir: string) {
  const out = git(gitDir, 'count-objects', '-v')
  return Object.fromEntries(out.split('\n').map((l) => l.split(': ') as [string, string]))
}
