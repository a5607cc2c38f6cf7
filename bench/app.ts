import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import { buildApp, DEFAULT_RATE_LIMITS } from '@takehome/api'
import { createTestServices } from '@takehome/core/testing'
import { pino } from 'pino'
import { createLogger } from '@takehome/core'
import { createAssessment, createSeed, invite, signup } from '../api/test/helper.ts'

// High enough that no benchmark is capped by them; the rate-limit plugin still runs on
// every request, as in production.
const RAISED = Object.fromEntries(
  Object.keys(DEFAULT_RATE_LIMITS).map((name) => [name, { max: 100_000_000, timeWindow: 60_000 }]),
) as typeof DEFAULT_RATE_LIMITS

export async function freePort() {
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

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
 * /dev/null; the rate-limit plugin on), on an embedded PGlite, listening on loopback.
 */
export async function startApp() {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  // pino's default destination (stdout) writes synchronously too; /dev/null keeps the
  // report readable while every log line is still built and written.
  const logger = createLogger('info', pino.destination({ dest: '/dev/null', sync: true }))
  const ts = await createTestServices({ appBaseUrl: base, logger })
  const app = await buildApp({
    services: ts.services,
    logger,
    gitHost: ts.gitHost,
    rateLimits: RAISED,
    config: { publicUrl: base, appBaseUrl: base, secureCookies: false, sessionSecret: 'bench-session-secret-0123456789abcdef0123', trustProxy: false },
  })
  await app.listen({ port, host: '127.0.0.1' })
  const built = { app, origin: base }
  const owner = await signup(built)

  /** A seed from `sourceDir`, an assessment on it, `count` invitations, all started. */
  async function startCandidates(sourceDir: string, count: number, title: string): Promise<StartedCandidate[]> {
    const seed = await createSeed(built, owner.headers, sourceDir)
    const assessment = await createAssessment(built, owner.headers, seed.id, { title })
    const emails = Array.from({ length: count }, (_, i) => ({ email: `candidate${i}@example.com` }))
    const invitations = await invite(built, owner.headers, assessment.id, emails)
    const started: StartedCandidate[] = []
    for (const invitation of invitations) {
      const res = await app.inject({ method: 'POST', url: `/api/start/${invitation.token}` })
      if (res.statusCode !== 200) throw new Error(`start failed: ${res.statusCode} ${res.body}`)
      const git = (res.json() as { git: { clone_url: string; credential_url: string; clone_command: string } }).git
      started.push({
        invitationId: invitation.id,
        cloneUrl: git.clone_url,
        credentialUrl: git.credential_url,
        cloneCommand: git.clone_command,
        accessToken: new URL(git.credential_url).searchParams.get('token')!,
        slug: /\/r\/([^/]+)\.git$/.exec(git.clone_url)![1]!,
      })
    }
    return started
  }

  /** The id of a candidate's repository, as the review routes take it. */
  async function repoIdOf(invitationId: string) {
    const detail = await app.inject({ method: 'GET', url: `/api/invitations/${invitationId}`, headers: owner.headers })
    return (detail.json() as { repo: { id: string } }).repo.id
  }

  /** The commits on a candidate's main since the base, as a reviewer sees them. */
  async function commitsOf(invitationId: string) {
    const repoId = await repoIdOf(invitationId)
    const res = await app.inject({ method: 'GET', url: `/api/repos/${repoId}/commits`, headers: owner.headers })
    if (res.statusCode !== 200) throw new Error(`commits failed: ${res.statusCode} ${res.body}`)
    return (res.json() as { commits: Array<{ sha: string; message: string }> }).commits
  }

  return {
    app,
    base,
    candidatesRoot: ts.gitHost.candidatesRoot,
    /** Headers that authenticate as the org's owner (a reviewer of every candidate). */
    ownerHeaders: owner.headers,
    startCandidates,
    repoIdOf,
    commitsOf,
    async close() {
      await app.close()
      await ts.close()
    },
  }
}
export type BenchApp = Awaited<ReturnType<typeof startApp>>
