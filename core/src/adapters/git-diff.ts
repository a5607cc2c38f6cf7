// The review diff of a repository on disk, bounded: what to include is decided from
// `--raw`, `--numstat` and blob sizes before any patch is built, patches are read as a
// stream under a byte cap, and each is matched to its file by path.
import type { Readable } from 'node:stream'
import { AppError } from '../errors.ts'
import { GitLimitError, runGit, streamGit } from '../git.ts'
import type { Diff, DiffLimits, FileChange } from './git-host.ts'

// Options that change how git names files in a patch are set here, whatever a config says.
const OPTIONS = ['-c', 'core.quotePath=true', 'diff', '--no-color', '--no-ext-diff', '--no-textconv']
const RENAMES = '--find-renames'
const PREFIXES = ['--src-prefix=a/', '--dst-prefix=b/']
// Pathspecs are paths, never patterns or magic (`:(exclude)`): a file may be named `*`.
const LITERAL = { GIT_LITERAL_PATHSPECS: '1' }
const NO_SHA = /^0+$/
const GITLINK = '160000'
/** Listing every changed file: ~100 bytes a file, so about 150,000 files. */
const LISTING_BYTES = 16 * 1024 * 1024
/** Pathspecs handed to one git call: far below the kernel's argument limit (2 MiB in all). */
const PATHSPEC_BYTES = 256 * 1024
/**
 * The longest path handed to git as an argument (the kernel takes 128 KiB for one): no file
 * system checks out a longer one, so only a tree made by hand can hold it.
 */
const PATH_BYTES = 4096

/** The raw diff, streamed; past `maxBytes` it ends with a line saying so. */
export function streamRawDiff(cwd: string, base: string, head: string, maxBytes: number): Promise<Readable> {
  return streamGit([...OPTIONS, RENAMES, '--full-index', ...PREFIXES, base, head, '--'], {
    cwd,
    maxStdoutBytes: maxBytes,
    timeoutMs: 5 * 60_000,
    truncatedNote: (cap) => `\n\\ Takehome: the diff is longer than ${cap} bytes and was cut here; the JSON diff lists every file.\n`,
  })
}

interface Entry extends Omit<FileChange, 'patch' | 'patchOmitted'> {
  oldSha: string
  newSha: string
  patch: string | null
  patchOmitted: FileChange['patchOmitted']
  /** Every patch section git printed for this file (a type change prints two). */
  sections: string[]
}

export async function boundedDiff(cwd: string, base: string, head: string, limits: DiffLimits): Promise<Diff> {
  const entries = parseRaw(await listing(cwd, [RENAMES, '--raw', '-z', '--no-abbrev', base, head, '--'])).map(
    (file): Entry => ({ ...file, additions: null, deletions: null, binary: false, patch: null, patchOmitted: null, sections: [] }),
  )
  for (const entry of entries) {
    if (pathspecsOf(entry).some((spec) => Buffer.byteLength(spec) > PATH_BYTES)) entry.patchOmitted = 'path_too_long'
  }
  const sizes = await blobSizes(cwd, entries)
  const blobBytes = (e: Entry) => (sizes.get(e.oldSha) ?? 0) + (sizes.get(e.newSha) ?? 0)
  await countLines(cwd, base, head, limits, entries, blobBytes)

  const selected: Entry[] = []
  let lines = 0
  let scanned = 0
  let specsBytes = 0
  for (const entry of entries) {
    if (entry.patchOmitted) continue
    const fileLines = (entry.additions ?? 0) + (entry.deletions ?? 0)
    // git prints at most both blobs for a file: that bounds what its patch costs to read.
    const bytes = blobBytes(entry)
    const specBytes = pathspecBytes(entry)
    if (fileLines > limits.fileLines) entry.patchOmitted = 'file_too_large'
    else if (
      lines + fileLines > limits.totalLines ||
      scanned + bytes > limits.scanBytes ||
      selected.length >= limits.files ||
      specsBytes + specBytes > PATHSPEC_BYTES
    ) {
      entry.patchOmitted = 'diff_too_large'
    } else {
      selected.push(entry)
      lines += fileLines
      scanned += bytes
      specsBytes += specBytes
    }
  }
  if (selected.length > 0) await readPatches(cwd, base, head, limits, selected, selected.length === entries.length)

  return {
    files: entries.map((file) => ({
      path: utf8(file.path),
      oldPath: utf8(file.oldPath),
      status: file.status,
      oldMode: file.oldMode,
      newMode: file.newMode,
      additions: file.additions,
      deletions: file.deletions,
      binary: file.binary,
      patch: file.patch === null ? null : utf8(file.patch),
      patchOmitted: file.patchOmitted,
    })),
  }
}

/**
 * Added and deleted lines from `--numstat`, which diffs every file to count them: that is
 * git's real cost, so it runs once per distinct pair of blobs (many paths may share one)
 * and only within `scanBytes` of blobs. Files past that are listed without counts.
 */
async function countLines(cwd: string, base: string, head: string, limits: DiffLimits, entries: Entry[], blobBytes: (e: Entry) => number) {
  const pairs = new Map<string, Entry[]>()
  for (const entry of entries) {
    if (entry.patchOmitted) continue
    const key = `${entry.oldSha}:${entry.newSha}`
    const same = pairs.get(key)
    if (same) same.push(entry)
    else pairs.set(key, [entry])
  }
  const counted: Entry[] = []
  let budget = limits.scanBytes
  for (const same of pairs.values()) {
    const bytes = blobBytes(same[0]!)
    if (bytes > budget) {
      for (const e of same) e.patchOmitted = bytes > limits.scanBytes ? 'file_too_large' : 'diff_too_large'
      continue
    }
    budget -= bytes
    counted.push(same[0]!)
  }
  if (counted.length === 0) return
  const counts = new Map<string, Count>()
  for (const call of calls(counted, counted.length === entries.length)) {
    for (const [key, count] of parseNumstat(await listing(cwd, ['--numstat', '-z', ...call.options, base, head, '--', ...call.pathspecs]))) {
      counts.set(key, count)
    }
  }
  for (const same of pairs.values()) {
    const count = counts.get(pairKey(same[0]!.oldPath, same[0]!.path))
    if (!count) continue
    for (const e of same) {
      e.additions = count.additions
      e.deletions = count.deletions
      e.binary = count.additions === null
    }
  }
}

/** Pathspecs naming a file: both paths of a rename, so git can pair them again. */
const pathspecsOf = (entry: Entry) => (entry.oldPath === entry.path ? [entry.path] : [entry.oldPath, entry.path]).map(utf8)
const pathspecBytes = (entry: Entry) => pathspecsOf(entry).reduce((n, spec) => n + Buffer.byteLength(spec) + 1, 0)

interface Call {
  options: string[]
  pathspecs: string[]
  entries: Entry[]
}

/**
 * The git calls that cover `entries`: one without pathspecs when they are every file, or
 * else batches of pathspecs under PATHSPEC_BYTES. git looks for renames again among the
 * paths it is given, and among fewer paths it may pair files the listing of every file
 * did not (past diff.renameLimit it pairs only exact copies), which would print a header
 * no file has. So renames go in batches of their own, and every other file in batches
 * that look for no renames at all.
 */
function calls(entries: Entry[], everyFile: boolean): Call[] {
  if (everyFile) return [{ options: [RENAMES], pathspecs: [], entries }]
  const batches: Call[] = []
  for (const renamed of [true, false]) {
    let batch: (Call & { bytes: number }) | undefined
    for (const entry of entries) {
      if ((entry.oldPath !== entry.path) !== renamed) continue
      const bytes = pathspecBytes(entry)
      if (!batch || batch.bytes + bytes > PATHSPEC_BYTES) {
        batch = { options: [renamed ? RENAMES : '--no-renames'], pathspecs: [], entries: [], bytes: 0 }
        batches.push(batch)
      }
      batch.pathspecs.push(...pathspecsOf(entry))
      batch.entries.push(entry)
      batch.bytes += bytes
    }
  }
  return batches.map(({ options, pathspecs, entries }) => ({ options, pathspecs, entries }))
}

async function listing(cwd: string, args: string[]) {
  let result
  try {
    result = await runGit([...OPTIONS, ...args], { cwd, env: LITERAL, encoding: 'latin1', maxStdoutBytes: LISTING_BYTES, timeoutMs: 60_000 })
  } catch (err) {
    if (err instanceof GitLimitError) throw tooManyFiles(err)
    throw err
  }
  if (result.code !== 0) throw new AppError(500, 'git_failed', 'git diff failed', { cause: new Error(result.stderr) })
  return result.stdout
}

const tooManyFiles = (cause: unknown) =>
  new AppError(422, 'diff_too_large', 'this change touches too many files to list; download the raw diff (Accept: text/x-diff) instead', { cause })

/** Blob sizes by object name, from one `cat-file --batch-check`. */
async function blobSizes(cwd: string, entries: Entry[]) {
  const names = new Set<string>()
  for (const e of entries) {
    for (const [sha, mode] of [[e.oldSha, e.oldMode], [e.newSha, e.newMode]] as const) {
      if (!NO_SHA.test(sha) && mode !== GITLINK) names.add(sha)
    }
  }
  const sizes = new Map<string, number>()
  if (names.size === 0) return sizes
  const result = await runGit(['cat-file', '--batch-check=%(objectname) %(objectsize)'], {
    cwd,
    input: `${[...names].join('\n')}\n`,
    // A 64-hex object name, a size of up to 20 digits, or `missing`.
    maxStdoutBytes: names.size * 100 + 1024,
    timeoutMs: 60_000,
  })
  if (result.code !== 0) throw new AppError(500, 'git_failed', 'git cat-file failed', { cause: new Error(result.stderr) })
  for (const line of result.stdout.split('\n')) {
    const [sha, size] = line.split(' ')
    if (sha && size && /^\d+$/.test(size)) sizes.set(sha, Number(size))
  }
  return sizes
}

/**
 * Streams the patches of `selected` and hands each section to its file by the path in its
 * `diff --git` line. A section over the per-file limit is dropped as it arrives; sections
 * past the overall limit are dropped whole. A selected file left without a section gets a
 * reason, never a silent `patch: null`.
 */
async function readPatches(cwd: string, base: string, head: string, limits: DiffLimits, selected: Entry[], all: boolean) {
  const byHeader = new Map<string, Entry>()
  for (const entry of selected) byHeader.set(`diff --git ${quoteC(`a/${entry.oldPath}`)} ${quoteC(`b/${entry.path}`)}`, entry)

  type Section = { header: string; headerDone: boolean; text: string; bytes: number; overflow: boolean }
  const open = (): Section => ({ header: '', headerDone: false, text: '', bytes: 0, overflow: false })
  let section = open()
  const append = (text: string) => {
    if (!section.headerDone) {
      const end = text.indexOf('\n')
      section.header += end < 0 ? text : text.slice(0, end)
      section.headerDone = end >= 0 || section.header.length > PATHSPEC_BYTES
    }
    section.bytes += text.length
    if (section.overflow) return
    if (section.bytes > limits.fileBytes) {
      section.overflow = true
      section.text = ''
    } else section.text += text
  }
  let total = 0
  const omit = (entry: Entry, reason: NonNullable<Entry['patchOmitted']>) => {
    entry.patchOmitted = reason
    total -= entry.sections.reduce((n, t) => n + t.length, 0)
    entry.sections = []
  }
  /** Ends the open section; one cut off by the stream cap is not a whole patch and is dropped. */
  const finish = (cut = false) => {
    const entry = byHeader.get(section.header)
    if (entry && !entry.patchOmitted) {
      if (cut) omit(entry, 'diff_too_large')
      else if (section.overflow) omit(entry, 'file_too_large')
      else if (total + section.text.length > limits.totalBytes) omit(entry, 'diff_too_large')
      else {
        entry.sections.push(section.text)
        total += section.text.length
      }
    }
    section = open()
  }

  // Lines of file content carry a prefix (`+`, `-`, ` `), so a line starting with
  // `diff --git ` always opens the next file's section.
  const BOUNDARY = '\ndiff --git '
  for (const call of calls(selected, all)) {
    let cut = false
    const out = await streamGit([...OPTIONS, ...call.options, '--full-index', ...PREFIXES, base, head, '--', ...call.pathspecs], {
      cwd,
      env: LITERAL,
      // Twice the blobs read is more than git prints for them but for headers of very long
      // quoted paths; reaching it ends the stream, and the patches not read say so.
      maxStdoutBytes: 2 * limits.scanBytes + 1024 * 1024,
      onTruncated: () => {
        cut = true
      },
      timeoutMs: 60_000,
    })
    let carry = ''
    for await (const chunk of out as AsyncIterable<Buffer>) {
      carry += chunk.toString('latin1')
      for (let at = carry.indexOf(BOUNDARY); at >= 0; at = carry.indexOf(BOUNDARY)) {
        append(carry.slice(0, at + 1))
        finish()
        carry = carry.slice(at + 1)
      }
      // Keep what could be the start of a boundary split across chunks.
      if (carry.length >= BOUNDARY.length) {
        append(carry.slice(0, carry.length - BOUNDARY.length + 1))
        carry = carry.slice(carry.length - BOUNDARY.length + 1)
      }
    }
    append(carry)
    finish(cut)
    for (const entry of call.entries) {
      if (!entry.patchOmitted && entry.sections.length === 0) entry.patchOmitted = cut ? 'diff_too_large' : 'patch_unavailable'
    }
  }

  for (const entry of selected) {
    if (!entry.patchOmitted) entry.patch = entry.sections.join('')
  }
}

const pairKey = (oldPath: string, path: string) => `${oldPath}\0${path}`

interface Count {
  additions: number | null
  deletions: number | null
}

/** `git diff --numstat -z`: `add\tdel\tpath\0`, or `add\tdel\t\0old\0new\0` for a rename. */
function parseNumstat(out: string) {
  const fields = out.split('\0')
  const counts = new Map<string, Count>()
  for (let i = 0; i < fields.length; i++) {
    const match = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(fields[i]!)
    if (!match) continue
    const count = (n: string) => (n === '-' ? null : Number(n))
    const renamed = match[3] === ''
    const oldPath = renamed ? fields[++i]! : match[3]!
    const newPath = renamed ? fields[++i]! : match[3]!
    counts.set(pairKey(oldPath, newPath), { additions: count(match[1]!), deletions: count(match[2]!) })
  }
  return counts
}

const STATUS = { A: 'added', D: 'deleted', R: 'renamed', C: 'added', M: 'modified', T: 'modified' } as const

/** `git diff --raw -z --no-abbrev`: `:oldmode newmode oldsha newsha X\0path\0`, two paths for a rename. */
function parseRaw(out: string) {
  const fields = out.split('\0')
  const files: Array<Omit<Entry, 'additions' | 'deletions' | 'binary' | 'patch' | 'patchOmitted' | 'sections'>> = []
  for (let i = 0; i < fields.length; i++) {
    const meta = /^:(\d{6}) (\d{6}) ([0-9a-f]{40,64}) ([0-9a-f]{40,64}) ([A-Z])\d*$/.exec(fields[i]!)
    if (!meta) continue
    const letter = meta[5]! as keyof typeof STATUS
    const oldPath = fields[++i]!
    const path = letter === 'R' || letter === 'C' ? fields[++i]! : oldPath
    files.push({
      path,
      oldPath,
      status: STATUS[letter] ?? 'modified',
      oldMode: meta[1] === '000000' ? null : meta[1]!,
      newMode: meta[2] === '000000' ? null : meta[2]!,
      oldSha: meta[3]!,
      newSha: meta[4]!,
    })
  }
  return files
}

// git's C-style quoting of a path (quote.c, core.quotePath=true), on the path's bytes as
// latin1 characters: a path with a control character, `"`, `\` or a byte ≥ 0x80 is quoted.
const ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 34: '\\"', 92: '\\\\' }
export function quoteC(name: string) {
  let quoted = ''
  let needed = false
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (ESCAPES[c]) quoted += ESCAPES[c]
    else if (c < 0x20 || c >= 0x7f) quoted += `\\${c.toString(8).padStart(3, '0')}`
    else {
      quoted += name[i]
      continue
    }
    needed = true
  }
  return needed ? `"${quoted}"` : name
}

/** Paths and patches are read byte for byte (latin1); what we answer is UTF-8. */
const utf8 = (latin1: string) => Buffer.from(latin1, 'latin1').toString('utf8')
