import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Seed Author',
  GIT_AUTHOR_EMAIL: 'seed@example.com',
  GIT_COMMITTER_NAME: 'Seed Author',
  GIT_COMMITTER_EMAIL: 'seed@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
}

export const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim()

/** A template repository on disk, as an admin would point a seed at. */
export function createSourceRepo(options: { branch?: string; files?: Record<string, string> } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'takehome-source-'))
  git(dir, 'init', '--quiet', `--initial-branch=${options.branch ?? 'main'}`)
  const commit = (files: Record<string, string>, message: string) => {
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
      writeFileSync(path.join(dir, name), content)
    }
    git(dir, 'add', '--all')
    git(dir, 'commit', '--quiet', '-m', message)
    return git(dir, 'rev-parse', 'HEAD')
  }
  const firstSha = commit(options.files ?? { 'README.md': '# Exercise\n', 'src/index.js': 'console.log(1)\n' }, 'Initial commit')
  return { dir, firstSha, commit }
}

export interface GitRun {
  code: number
  stdout: string
  stderr: string
  ms: number
}

/**
 * A candidate's machine: its own HOME (so no global config of ours leaks in), no
 * terminal prompts, and an identity for commits.
 */
export function candidateMachine() {
  const home = mkdtempSync(path.join(tmpdir(), 'takehome-home-'))
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Candidate',
    GIT_AUTHOR_EMAIL: 'candidate@example.com',
    GIT_COMMITTER_NAME: 'Candidate',
    GIT_COMMITTER_EMAIL: 'candidate@example.com',
    LANG: 'C',
  }
  /** Runs a command line through sh, as a person pasting it into a terminal would. */
  const shell = (command: string, cwd = home, extraEnv: NodeJS.ProcessEnv = {}) => run('sh', ['-c', command], cwd, { ...env, ...extraEnv })
  /** Runs git with an argument vector, no shell in between. */
  const gitIn = (cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) => run('git', args, cwd, { ...env, ...extraEnv })
  return { home, env, shell, git: gitIn }
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<GitRun> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr, ms: performance.now() - started }))
  })
}
