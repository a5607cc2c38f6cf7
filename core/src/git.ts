import { spawn } from 'node:child_process'

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

/**
 * Runs git with no terminal, no user config prompts and a time limit. Transports are an
 * allow-list: `ext::` and friends would let a source URL run commands on the server.
 */
export function runGit(
  args: string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<GitResult> {
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
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...safety, ...args], {
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
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 10 * 60_000,
      killSignal: 'SIGKILL',
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code, signal) =>
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (signal ? `\ngit was stopped (${signal}): it took too long` : ''),
        code: code ?? 1,
      }),
    )
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
