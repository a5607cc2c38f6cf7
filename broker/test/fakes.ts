// A gateway and a broker in GitHub mode in front of an upstream the test scripts: the
// access service and the remote host are stand-ins typed against the interfaces they
// replace, so each test decides what access says and what "GitHub" answers.
import { mkdtempSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { createLogger, type GitHost, type Services } from '@takehome/core'
import Fastify from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Test } from 'tap'
import { credentialBroker, gitGateway } from '../src/index.ts'

type Access = Awaited<ReturnType<Services['access']['check']>>
type Grant = Extract<Access, { ok: true }>['grant']
type Refusal = Extract<Access, { ok: false }>['refusal']
type Remote = NonNullable<GitHost['remote']>
type Limits = Services['gitLimits']

export const ACCESS_TOKEN = 'tha_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM'
export const INSTALLATION_TOKEN = 'ghs_installation-token-of-the-one-repository'
export const SLUG = 'backend-exercise-0123456789'
export const REPO = 'takehome-test/backend-exercise-0123456789'
export const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`takehome:${password}`).toString('base64')}` })

const LIMITS: Limits = {
  pushMaxBytes: 1024 * 1024 * 1024,
  pushDefaultMaxBytes: 100 * 1024 * 1024,
  repoQuotaBytes: 2048 * 1024 * 1024,
  maxRequests: 64,
  maxRequestsPerToken: 4,
  idleTimeoutMs: 30_000,
  maxRequestMs: 30 * 60_000,
}

/** What access.check answers for ACCESS_TOKEN; anything else is unknown. */
export function fakeAccess(options: { remainingMs?: number; grant?: Partial<Grant> } = {}) {
  const remainingMs = options.remainingMs ?? 3_600_000
  const expiresAt = new Date(Date.now() + remainingMs)
  const grant: Grant = {
    tokenId: 'token-1',
    orgId: 'org-1',
    invitationId: 'invitation-1',
    slug: SLUG,
    repoFullName: REPO,
    status: 'started',
    expiresAt,
    completeDeadline: expiresAt,
    revoked: false,
    archived: false,
    maxPushBytes: null,
    allowWorkflowChanges: false,
    ...options.grant,
  }
  const listeners = new Set<(invitationId: string) => void>()
  const state: { refusal?: Refusal; checks: number } = { checks: 0 }
  function check(token: string, slug: string | undefined): Access {
    state.checks++
    if (token !== ACCESS_TOKEN) return { ok: false, refusal: 'unknown' }
    if (state.refusal) return { ok: false, refusal: state.refusal }
    if (slug !== undefined && slug !== grant.slug) return { ok: false, refusal: 'wrong_repository' }
    return { ok: true, grant, expiresAt, remainingMs }
  }
  const access: Services['access'] = {
    async check(token, { slug }) {
      return check(token, slug)
    },
    // As the real service remembers every token it let in.
    checkCached(token, { slug }) {
      const answer = check(token, slug)
      return answer.ok ? answer : undefined
    },
    forget(invitationId) {
      for (const listener of listeners) listener(invitationId)
    },
    // Nothing is remembered here: every check reads `state` afresh.
    reread() {},
    onForget(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async flushLastUsed() {},
  }
  return { access, grant, expiresAt, state }
}

/** A stand-in for GitHub's side of `remote`: its smart HTTP is `upstream`. */
export function fakeRemote(upstream: string, options: { expiresAt?: Date } = {}) {
  const minted: Array<{ repoFullName: string; workflows: boolean }> = []
  const state: { failing: boolean } = { failing: false }
  const url = new URL(upstream)
  const remote: Remote = {
    gitHost: url.host,
    cloneUrl: (repoFullName) => `${upstream}/${repoFullName}.git`,
    htmlUrl: (repoFullName) => `${upstream}/${repoFullName}`,
    compareUrl: (repoFullName, base, head) => `${upstream}/${repoFullName}/compare/${base}...${head}`,
    async repoCredential(repoFullName, { workflows }) {
      minted.push({ repoFullName, workflows })
      if (state.failing) throw new Error('GitHub answered 502 Bad Gateway')
      return { username: 'x-access-token', password: INSTALLATION_TOKEN, expiresAt: options.expiresAt ?? new Date(Date.now() + 3_600_000) }
    },
  }
  return { remote, minted, state }
}

/** A loopback HTTP server whose handler the test gives; closed when the test ends. */
export async function listen(t: Test, handler: http.RequestListener) {
  const server = http.createServer(handler)
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A debug logger whose every line is kept in `lines`, for tests that check what was (not) logged. */
export function capturedLogger() {
  const lines: string[] = []
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk))
        done()
      },
    }),
  )
  return { lines, logger }
}

/** The gateway and the broker on a loopback port, in GitHub mode when `remote` is given. */
export async function serveBroker(
  t: Test,
  options: { access: Services['access']; remote?: Remote; limits?: Partial<Limits>; publicUrl?: (base: string) => string },
) {
  const { lines, logger } = capturedLogger()
  const app = Fastify({ loggerInstance: logger })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  const services = { access: options.access, gitLimits: { ...LIMITS, ...options.limits } }
  // The local host needs a directory of repositories; these tests never reach one.
  const gitHost = options.remote ? { remote: options.remote } : { candidatesRoot: mkdtempSync(path.join(tmpdir(), 'takehome-broker-')) }
  const rateLimit = { max: 100_000, timeWindow: 60_000 }
  // The broker must know its own origin before it listens: take a port first.
  const probe = http.createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => probe.once('listening', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  const base = `http://127.0.0.1:${port}`
  await app.register(credentialBroker, { services, gitHost, publicUrl: options.publicUrl?.(base) ?? base, rateLimit })
  await app.register(gitGateway, { services, gitHost, rateLimit })
  await app.listen({ port, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return { base, lines }
}
