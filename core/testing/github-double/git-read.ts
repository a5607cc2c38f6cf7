import { runGit } from '../../src/git.ts'

// What the double asks of git is small and about its own repositories; a minute and a few
// MiB of output are far past any of it.
const CAPS = { timeoutMs: 60_000, maxStdoutBytes: 16 * 1024 * 1024 }

/** Runs git in a repository of the double; a failure is an error, with what git said. */
export async function gitIn(dir: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const result = await runGit(args, { cwd: dir, ...CAPS, ...options })
  if (result.code !== 0) throw new Error(`git ${args[0]} failed in the GitHub double: ${result.stderr.trim()}`)
  return result.stdout
}

/** git's answer, or undefined when git said no (an unknown object, a missing ref). */
async function gitMaybe(dir: string, args: string[]): Promise<string | undefined> {
  const result = await runGit(args, { cwd: dir, ...CAPS })
  return result.code === 0 ? result.stdout.trim() : undefined
}

export const ZERO_SHA = '0000000000000000000000000000000000000000'

/** The commit a full ref name points at, or undefined. */
export function refSha(dir: string, ref: string): Promise<string | undefined> {
  return gitMaybe(dir, ['rev-parse', '--verify', '--quiet', '--end-of-options', ref])
}

/** Whether the repository has no refs at all (GitHub's "empty repository"). */
export async function isEmpty(dir: string): Promise<boolean> {
  return (await gitIn(dir, ['for-each-ref', '--count=1', '--format=%(refname)'])).trim() === ''
}

export async function objectType(dir: string, sha: string): Promise<string | undefined> {
  return gitMaybe(dir, ['cat-file', '-t', '--end-of-options', sha])
}

export interface CommitInfo {
  sha: string
  tree: string
  parents: string[]
  author: { name: string; email: string; date: string }
  committer: { name: string; email: string; date: string }
  message: string
  added: string[]
  removed: string[]
  modified: string[]
}

const FIELDS = ['%H', '%T', '%P', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%B'] as const

/** GitHub writes times in UTC, to the second. */
export const githubTime = (date: Date | string) => new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z')

/**
 * Commits as `git log` lists them for `revisions` (the double's own, never a caller's text) (oldest first when `reverse`), each with
 * the paths it added, removed and modified against its first parent.
 */
export async function readCommits(dir: string, revisions: string[], { max, reverse = false }: { max: number; reverse?: boolean }): Promise<CommitInfo[]> {
  const format = `%x1e${FIELDS.join('%x00')}%x00`
  const out = await gitIn(dir, [
    'log', `--max-count=${max}`, ...(reverse ? ['--reverse'] : []), '-z', '--name-status', '--no-renames',
    '--diff-merges=first-parent', `--format=${format}`, ...revisions, '--',
  ])
  return out.split('\x1e').slice(1).map((chunk) => {
    const parts = chunk.split('\0')
    const [sha, tree, parents, an, ae, ad, cn, ce, cd, message] = parts as string[] as [string, string, string, string, string, string, string, string, string, string]
    // After the header come the changed paths as status, path pairs, git's separators around them.
    const changes = parts.slice(FIELDS.length).map((p) => p.replace(/^\n/, '')).filter((p) => p !== '')
    const commit: CommitInfo = {
      sha,
      tree,
      parents: parents === '' ? [] : parents.split(' '),
      author: { name: an, email: ae, date: ad },
      committer: { name: cn, email: ce, date: cd },
      message: message.replace(/\n$/, ''),
      added: [],
      removed: [],
      modified: [],
    }
    for (let i = 0; i + 1 < changes.length; i += 2) {
      const status = changes[i]!
      const file = changes[i + 1]!
      if (status === 'A') commit.added.push(file)
      else if (status === 'D') commit.removed.push(file)
      else commit.modified.push(file)
    }
    return commit
  })
}

/** One commit by (possibly abbreviated) SHA, or undefined when there is no such commit. */
export async function readCommit(dir: string, sha: string): Promise<CommitInfo | undefined> {
  if (!/^[0-9a-f]{4,40}$/i.test(sha)) return undefined
  const full = await gitMaybe(dir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${sha}^{commit}`])
  if (!full) return undefined
  const [commit] = await readCommits(dir, [full], { max: 1 })
  return commit
}

/** Whether `ancestor` is `descendant` or one of its ancestors. */
export async function isAncestor(dir: string, ancestor: string, descendant: string): Promise<boolean> {
  const result = await runGit(['merge-base', '--is-ancestor', ancestor, descendant], { cwd: dir, ...CAPS })
  return result.code === 0
}
