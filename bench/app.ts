import { execFile, fork } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { buildApp, DEFAULT_RATE_LIMITS } from '@takehome/api'
import { createTestServices, type TestServicesOptions } from '@takehome/core/testing'
import { pino } from 'pino'
import { createLogger } from '@takehome/core'
import { createAssessment, createSeed, invite, signup } from '../api/test/helper.ts'
import type { DoubleMessage, DoubleRequest } from './github-double.ts'

// High enough that no benchmark is capped by them; the rate limits still count every
// request, as in production.
const RAISED = Object.fromEntries(
  Object.keys(DEFAULT_RATE_LIMITS).map((name) => [name, { max: 100_000_000, timeWindow: 60_000 }]),
) as typeof DEFAULT_RATE_LIMITS

/**
 * Repository creation in GitHub mode for the bench. The double has no content-creation
 * limit, so the bench starts its candidates at a pace GitHub itself would not take
 * (production: DEFAULT_PACING, one creation a second, four at once, other writes a second
 * apart); they still all go through the host's pacer.
 */
export const BENCH_PACING: NonNullable<TestServicesOptions['githubPacing']> = {
  creations: { intervalMs: 10, maxInFlight: 8 },
  writeIntervalMs: 0,
  retryAfterBaseMs: 1000,
}

export async function freePort() {
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/** The GitHub double (bench/github-double.ts) in a process of its own. */
export async function startGitHub() {
  const child = fork(fileURLToPath(new URL('./github-double.ts', import.meta.url)), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [first] = (await once(child, 'message')) as [DoubleMessage]
  if (!('ready' in first)) throw new Error('the GitHub double did not start')
  const waiting = new Map<number, (dir: string | undefined) => void>()
  child.on('message', (message: DoubleMessage) => {
    if ('id' in message) waiting.get(message.id)?.(message.dir)
  })
  let next = 0
  const ask = (request: DoubleRequest) => child.send(request)
  return {
    ...first.ready,
    /** The bare repository the double keeps for `fullName`. */
    repoDir(fullName: string): Promise<string> {
      const id = next++
      return new Promise((resolve, reject) => {
        waiting.set(id, (dir) => {
          waiting.delete(id)
          if (dir) resolve(dir)
          else reject(new Error(`the GitHub double has no repository ${fullName}`))
        })
        ask({ id, repo: fullName })
      })
    },
    async close() {
      ask('close')
      await once(child, 'exit')
    },
  }
}
export type BenchGitHub = Awaited<ReturnType<typeof startGitHub>>

export interface StartedCandidate {
  invitationId: string
  cloneUrl: string
  credentialUrl: string
  cloneCommand: string
  /** The access token, as the credential helper would present it. */
  accessToken: string
  slug: string
}

/**
 * The real app as production composes it (production logger at `info`, written to
 * /dev/null; the rate limits on), on an embedded PGlite, listening on loopback: on the
 * local git host, or in GitHub mode against `github` (the loopback double).
 */
export async function startApp(options: { github?: BenchGitHub } = {}) {
  const { github } = options
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  // pino's default destination (stdout) writes synchronously too; /dev/null keeps the
  // report readable while every log line is still built and written. BENCH_LOG names a
  // file to keep them in instead, to see why something failed.
  const logger = createLogger('info', pino.destination({ dest: process.env.BENCH_LOG ?? '/dev/null', sync: true }))
  const ts = await createTestServices({ appBaseUrl: base, logger, ...(github ? { github: github.config, githubPacing: BENCH_PACING } : {}) })
  const app = await buildApp({
    services: ts.services,
    logger,
    gitHost: ts.gitHost,
    rateLimits: RAISED,
    config: {
      publicUrl: base,
      appBaseUrl: base,
      secureCookies: false,
      sessionSecret: 'bench-session-secret-0123456789abcdef0123',
      trustProxy: false,
      github: github?.config,
    },
  })
  await app.listen({ port, host: '127.0.0.1' })
  const built = { app, origin: base }
  const owner = await signup(built)

  /**
   * A seed from `sourceDir`, an assessment on it, `count` invitations, all started at once
   * (in GitHub mode, through the host's creation pacer). Returns them and how long starting took.
   */
  async function startCandidates(sourceDir: string, count: number, title: string) {
    const seed = await createSeed(built, owner.headers, sourceDir)
    const assessment = await createAssessment(built, owner.headers, seed.id, { title })
    const emails = Array.from({ length: count }, (_, i) => ({ email: `candidate${i}@example.com` }))
    const invitations = await invite(built, owner.headers, assessment.id, emails)
    const startedAt = performance.now()
    const started = await Promise.all(
      invitations.map(async (invitation): Promise<StartedCandidate> => {
        const res = await app.inject({ method: 'POST', url: `/api/start/${invitation.token}` })
        if (res.statusCode !== 200) throw new Error(`start failed: ${res.statusCode} ${res.body}`)
        const git = (res.json() as { git: { clone_url: string; credential_url: string; clone_command: string } }).git
        return {
          invitationId: invitation.id,
          cloneUrl: git.clone_url,
          credentialUrl: git.credential_url,
          cloneCommand: git.clone_command,
          accessToken: new URL(git.credential_url).searchParams.get('token')!,
          slug: /\/r\/([^/]+)\.git$/.exec(git.clone_url)![1]!,
        }
      }),
    )
    return { candidates: started, startMs: performance.now() - startedAt }
  }

  /** The bare repository on the host (ours, or the double's) that holds a candidate's work. */
  const repoDir = async (candidate: StartedCandidate) =>
    github ? github.repoDir(`${github.org}/${candidate.slug}`) : path.join(ts.gitHost.candidatesRoot!, `${candidate.slug}.git`)

  /** What git's credential request names: the host the candidate's git asks for in this mode. */
  const gitHostAsked = github ? new URL(github.webUrl) : new URL(base)

  /**
   * The broker's URL as the helper calls it, with git's request for this mode's host: the
   * gateway's origin on the local host, GitHub's git host (an installation token) in GitHub mode.
   */
  const credentialUrl = (candidate: StartedCandidate) =>
    `${candidate.credentialUrl}&request=${encodeURIComponent(`protocol=${gitHostAsked.protocol.slice(0, -1)}\nhost=${gitHostAsked.host}\n`)}`

  return {
    app,
    base,
    mode: github ? ('github' as const) : ('local' as const),
    services: ts.services,
    candidatesRoot: ts.gitHost.candidatesRoot,
    /** Headers that authenticate as the org's owner (a reviewer of every candidate). */
    ownerHeaders: owner.headers,
    startCandidates,
    repoDir,
    credentialUrl,
    /** Where `main` is on the host now. */
    async mainOf(candidate: StartedCandidate) {
      const { stdout } = await promisify(execFile)('git', ['rev-parse', 'refs/heads/main'], { cwd: await repoDir(candidate), encoding: 'utf8' })
      return stdout.trim()
    },
    /** The id of a candidate's repository, as the review routes take it. */
    async repoIdOf(invitationId: string) {
      const detail = await app.inject({ method: 'GET', url: `/api/invitations/${invitationId}`, headers: owner.headers })
      return (detail.json() as { repo: { id: string } }).repo.id
    },
    async close() {
      await app.close()
      await ts.close()
    },
  }
}
export type BenchApp = Awaited<ReturnType<typeof startApp>>
