import { type ChildProcessByStdio, spawn } from 'node:child_process'
import { type Readable, Transform, type Writable } from 'node:stream'
import { AppError } from './errors.ts'

export interface GitResult {
  stdout: string
  stderr: string
  code: number
}

/**
 * Files above this size are stored whole, never delta-compressed: delta search over large
 * binaries costs minutes of CPU for packs that barely shrink. Set on every repository we
 * create too, since `git http-backend` reads the repository's own config.
 */
export const BIG_FILE_THRESHOLD = '4m'
const BIG_FILES = ['-c', `core.bigFileThreshold=${BIG_FILE_THRESHOLD}`]

/** What one git call may cost. Each caller sizes these for what it asks git to print. */
export interface GitCaps {
  timeoutMs?: number
  /** Bytes of stdout kept; past them git is killed. */
  maxStdoutBytes?: number
  /** Bytes of stderr kept; past them git is killed (a source can make git print without end). */
  maxStderrBytes?: number
}

export interface GitOptions extends GitCaps {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Written to git's stdin (e.g. object names for `cat-file --batch-check`). */
  input?: string
  /** Read stdout as bytes one to one (`latin1`), so paths that are not UTF-8 survive a round trip. */
  encoding?: 'utf8' | 'latin1'
}

export const GIT_DEFAULTS = { timeoutMs: 10 * 60_000, maxStdoutBytes: 1024 * 1024, maxStderrBytes: 64 * 1024 } as const

/**
 * git was stopped by one of its caps. An AppError, so a caller that does not translate it
 * still answers with a clear code; its message never carries what git printed.
 */
export class GitLimitError extends AppError {
  readonly limit: 'stdout' | 'stderr' | 'time'

  constructor(limit: 'stdout' | 'stderr' | 'time', command: string, cap: number) {
    super(
      limit === 'time' ? 504 : 422,
      limit === 'time' ? 'git_timeout' : 'git_output_too_large',
      limit === 'time' ? `git ${command} took longer than ${cap / 1000} s and was stopped` : `git ${command} printed more than ${cap} bytes on ${limit} and was stopped`,
    )
    this.limit = limit
  }
}

/**
 * git could not be started. Too many or too long arguments is the size of what a caller
 * asked for (a 4xx); anything else (no git, no directory, no processes left) is ours. Never
 * a raw spawn error, which the API would answer as an unexplained 500.
 */
function spawnFailure(err: unknown, command: string) {
  return (err as NodeJS.ErrnoException).code === 'E2BIG'
    ? new AppError(422, 'git_arguments_too_long', `git ${command} was given more arguments than the system allows`, { cause: err })
    : new AppError(500, 'git_unavailable', `git ${command} could not be started`, { cause: err })
}

/**
 * Starts git with no terminal, no user config prompts and transports from an allow-list:
 * `ext::` and friends would let a source URL run commands on the server. git runs in a
 * process group of its own, so a kill also stops what it started (remote helpers,
 * upload-pack, aliases), which would otherwise keep the pipes open.
 */
function startGit(args: string[], options: GitOptions, stdin: 'ignore' | 'pipe') {
  const safety = [
    '-c', 'protocol.allow=never',
    '-c', 'protocol.file.allow=always',
    '-c', 'protocol.git.allow=always',
    '-c', 'protocol.http.allow=always',
    '-c', 'protocol.https.allow=always',
    '-c', 'protocol.ssh.allow=always',
    '-c', 'credential.helper=',
    '-c', 'core.hooksPath=/dev/null',
    ...BIG_FILES,
  ]
  const command = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '-c') ?? 'git'
  let child: ChildProcessByStdio<Writable | null, Readable, Readable>
  try {
    child = spawn('git', [...safety, ...args], {
      cwd: options.cwd,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GIT_TERMINAL_PROMPT: '0',
        GIT_ASKPASS: '/bin/false',
        GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new',
        GIT_CONFIG_NOSYSTEM: '1',
        LANG: 'C',
        ...options.env,
      },
      stdio: [stdin, 'pipe', 'pipe'],
      detached: true,
    }) as ChildProcessByStdio<Writable | null, Readable, Readable>
  } catch (err) {
    // E2BIG and a few others are thrown here; ENOENT arrives as an 'error' event.
    throw spawnFailure(err, command)
  }
  let stopped: GitLimitError | undefined
  const kill = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  const stop = (limit: GitLimitError['limit'], cap: number) => {
    if (stopped) return
    stopped = new GitLimitError(limit, command, cap)
    kill()
  }
  const timeoutMs = options.timeoutMs ?? GIT_DEFAULTS.timeoutMs
  const timer = setTimeout(() => stop('time', timeoutMs), timeoutMs)
  child.on('close', () => clearTimeout(timer))
  // A git that never started never closes.
  child.on('error', () => clearTimeout(timer))

  const maxStderr = options.maxStderrBytes ?? GIT_DEFAULTS.maxStderrBytes
  const err: Buffer[] = []
  let errBytes = 0
  child.stderr.on('data', (b: Buffer) => {
    if (stopped) return
    errBytes += b.length
    if (errBytes > maxStderr) return stop('stderr', maxStderr)
    err.push(b)
  })
  return {
    child,
    command,
    stop,
    kill,
    stopped: () => stopped,
    stderr: () => Buffer.concat(err).toString('utf8'),
  }
}

/** Runs git to the end and returns what it printed, within `GIT_DEFAULTS` unless told otherwise. */
export function runGit(args: string[], options: GitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const git = startGit(args, options, options.input === undefined ? 'ignore' : 'pipe')
    const maxStdout = options.maxStdoutBytes ?? GIT_DEFAULTS.maxStdoutBytes
    const out: Buffer[] = []
    let outBytes = 0
    git.child.stdout.on('data', (b: Buffer) => {
      if (git.stopped()) return
      outBytes += b.length
      if (outBytes > maxStdout) return git.stop('stdout', maxStdout)
      out.push(b)
    })
    if (options.input !== undefined) {
      // git may exit before reading everything (a bad argument): that is its answer, not ours.
      git.child.stdin!.on('error', () => {})
      git.child.stdin!.end(options.input)
    }
    git.child.on('error', (err) => reject(spawnFailure(err, git.command)))
    git.child.on('close', (code) => {
      const stopped = git.stopped()
      if (stopped) return reject(stopped)
      resolve({ stdout: Buffer.concat(out).toString(options.encoding ?? 'utf8'), stderr: git.stderr(), code: code ?? 1 })
    })
  })
}

/**
 * git with its stdout as a stream, for bodies too large to hold: back-pressure holds git
 * while the reader is slow, so memory stays at a pipe's worth. Past `maxStdoutBytes` git
 * is stopped and the stream ends with `truncatedNote(cap)`: a clear end, not a cut-off
 * connection. A failure or a time-out after the first byte destroys the stream, which
 * aborts the response. Resolves once git has printed something or ended, so a git that
 * fails at once (a bad revision) rejects here and can still be answered as an error.
 */
export function streamGit(
  args: string[],
  options: GitOptions & { truncatedNote?: (cap: number) => string; onTruncated?: () => void } = {},
): Promise<Readable> {
  let git: ReturnType<typeof startGit>
  try {
    git = startGit(args, options, 'ignore')
  } catch (err) {
    return Promise.reject(err)
  }
  const maxStdout = options.maxStdoutBytes ?? GIT_DEFAULTS.maxStdoutBytes
  let sent = 0
  let truncated = false
  const capped = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (truncated) return callback()
      const room = maxStdout - sent
      if (chunk.length <= room) {
        sent += chunk.length
        return callback(null, chunk)
      }
      truncated = true
      options.onTruncated?.()
      this.push(chunk.subarray(0, room))
      this.push(options.truncatedNote?.(maxStdout) ?? '')
      git.kill()
      callback()
    },
  })
  // Whoever reads it may not listen for errors before the first one: never crash on that.
  capped.on('error', () => {})
  // The reader went away (the client closed the connection): nothing more to produce.
  capped.on('close', () => {
    if (git.child.exitCode === null && git.child.signalCode === null) git.kill()
  })
  git.child.stdout.pipe(capped)
  return new Promise((resolve, reject) => {
    let started = false
    git.child.stdout.once('data', () => {
      started = true
      resolve(capped)
    })
    git.child.on('error', (err) => reject(spawnFailure(err, git.command)))
    git.child.on('close', (code) => {
      const failure =
        git.stopped() ??
        (code !== 0 && !truncated && !capped.destroyed
          ? new AppError(500, 'git_failed', `git ${git.command} failed`, { cause: new Error(git.stderr()) })
          : undefined)
      if (!started) return failure ? reject(failure) : resolve(capped)
      if (failure) capped.destroy(failure)
    })
  })
}

// The user-info of a URL runs to its last `@` before the path: a password may hold an `@` of its own.
const USER_INFO = /([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@/gi

/** Removes credentials from anything that looks like a URL (`https://user:secret@host` → `https://***@host`). */
export function redactUrlCredentials(text: string): string {
  return text.replace(USER_INFO, '$1***@')
}

/** The URL without its user-info, which is what we store and show. */
export function stripUrlCredentials(url: string): string {
  try {
    const parsed = new URL(url)
    if (!parsed.username && !parsed.password) return url
    parsed.username = ''
    parsed.password = ''
    return parsed.toString()
  } catch {
    // WHATWG URLs refuse forms git accepts, such as `file://user:secret@/srv/repo`.
    return url.replace(USER_INFO, '$1')
  }
}
