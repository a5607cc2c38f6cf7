import { execFile, spawn } from 'node:child_process'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { basicAuthPassword, CANDIDATE_SLUG, type GitHost, httpBackendEnv, REFUSAL_MESSAGES, relayCgiAnswer, type Services } from '@takehome/core'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { type Endpoint, type GitBackend, type GitLimits, type GitRequest, type GitService, type Opened, pushLimit, refusal, type Running, size, supervise } from './exchange.ts'
import { createGitHubProxy } from './github-proxy.ts'
import { type Busy, createRequestLimiter, type Queueing } from './limiter.ts'

export type { GitLimits } from './exchange.ts'

export interface GatewayOptions {
  services: Pick<Services, 'access' | 'gitLimits'>
  /**
   * Where candidate repositories live. A host with `remote` (GitHub) is reverse-proxied to;
   * the local host's repositories (`<slug>.git` under `candidatesRoot`) are served by
   * `git http-backend`.
   */
  gitHost: Pick<GitHost, 'remote'> & { candidatesRoot?: string }
  rateLimit: { max: number; timeWindow: number }
  /** Overrides of `services.gitLimits`, the server's configuration (tests pass small ones). */
  limits?: Partial<GitLimits>
  /**
   * Whether a push still under way at its deadline is ended there (the default). Off, the
   * pre-receive hook alone keeps a late push out: tests turn it off to prove that it does.
   */
  stopAtDeadline?: boolean
  /** How long, and how many, requests past GIT_MAX_REQUESTS wait for a slot; DEFAULT_QUEUEING unless given (tests pass short waits). */
  queueing?: Partial<Queueing>
}

/** Holds `pre-receive`, named in core.hooksPath for every push. */
const HOOKS_DIR = fileURLToPath(new URL('./hooks', import.meta.url))
/** Node's timers hold at most this long; a later deadline is still checked by the hook. */
const MAX_TIMER_MS = 2 ** 31 - 1

const BUSY: Record<Busy, { status: number; message: string }> = {
  per_token: {
    status: 429,
    message: 'too many git requests at once with this access token; let the others finish, then try again',
  },
  // When the queue for a slot is full, or the wait for one ran out.
  overall: { status: 503, message: 'the server is busy with other git requests; try again in a minute' },
}

const SERVICES = new Set<string>(['git-upload-pack', 'git-receive-pack'])
const PATH = /^([^/]+)\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/

/**
 * git smart HTTP for candidate repositories. Every request is authorised on its own (Basic
 * auth, the password being the access token), at request time, and counted against the
 * limits; then served by the local host's `git http-backend` or proxied to GitHub. Bodies
 * stream both ways and never sit whole in memory.
 */
export const gitGateway: FastifyPluginAsync<GatewayOptions> = async (app, { services, gitHost, rateLimit, stopAtDeadline = true, queueing, ...options }) => {
  const limits = { ...services.gitLimits, ...options.limits }
  const limiter = createRequestLimiter({ max: limits.maxRequests, maxPerKey: limits.maxRequestsPerToken, queueing })
  const backend = gitHost.remote ? createGitHubProxy(gitHost.remote, limits) : localBackend(gitHost.candidatesRoot, limits)
  // Requests under way that an ending stops, by invitation: a push still sending at Submit,
  // expiry or revoke must not land afterwards.
  const pushes = new Map<string, Set<() => void>>()
  const unsubscribe = services.access.onForget((invitationId) => {
    for (const stop of pushes.get(invitationId) ?? []) stop()
  })
  app.addHook('onClose', async () => {
    unsubscribe()
    backend.close()
  })

  // Leave pack bodies unread: they are piped straight on.
  app.addContentTypeParser(
    ['application/x-git-upload-pack-request', 'application/x-git-receive-pack-request'],
    (_request, _payload, done) => done(null),
  )

  const refuse = (reply: FastifyReply, endpoint: Endpoint, service: string, status: number, message: string) => {
    const answer = refusal(endpoint, service, status, message)
    return reply.status(answer.status).headers(answer.headers).send(answer.body)
  }

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const wildcard = (request.params as { '*': string })['*']
    const match = PATH.exec(wildcard)
    const slug = match?.[1]
    const endpoint = match?.[2] as Endpoint | undefined
    const service = endpoint === 'info/refs' ? (request.query as { service?: string }).service : endpoint
    if (!slug || !endpoint || !CANDIDATE_SLUG.test(slug) || !service || !SERVICES.has(service)) {
      return reply.status(404).send({ error: { code: 'repository_not_found', message: 'no such repository', request_id: request.id } })
    }
    if ((endpoint === 'info/refs') !== (request.method === 'GET')) {
      return reply.status(405).send({ error: { code: 'method_not_allowed', message: `${request.method} is not used here`, request_id: request.id } })
    }

    const password = basicAuthPassword(request.headers.authorization)
    if (password === undefined) {
      // git sends credentials only after being asked for them.
      return reply.status(401).header('www-authenticate', 'Basic realm="Takehome"').send('authentication required\n')
    }
    const access = await services.access.check(password, { slug, context: 'git' })
    if (!access.ok) {
      request.log.info({ slug, service, refusal: access.refusal }, 'git access refused')
      return refuse(reply, endpoint, service, 403, REFUSAL_MESSAGES[access.refusal])
    }
    const { grant } = access
    const deadlineAt = Date.now() + access.remainingMs
    const gone = new AbortController()
    const onClose = () => gone.abort()
    reply.raw.once('close', onClose)
    let slot = limiter.acquire(grant.tokenId, gone.signal)
    if (slot instanceof Promise) {
      request.log.debug({ slug, service }, 'git request waits for a slot')
      slot = await slot
    }
    reply.raw.off('close', onClose)
    if (!slot.ok) {
      request.log.info({ slug, service, busy: slot.busy }, 'git request refused: too many at once')
      return refuse(reply, endpoint, service, BUSY[slot.busy].status, BUSY[slot.busy].message)
    }
    if (slot.queued) {
      // It waited for its slot: the client may have gone, or the invitation ended, meanwhile.
      const again = gone.signal.aborted ? undefined : await services.access.check(password, { slug, context: 'git' })
      if (!again?.ok) {
        slot.release()
        if (!again) return reply.hijack()
        request.log.info({ slug, service, refusal: again.refusal }, 'git access refused')
        return refuse(reply, endpoint, service, 403, REFUSAL_MESSAGES[again.refusal])
      }
    }

    let opened: Opened
    try {
      opened = await backend.open({ request, slug, endpoint, service: service as GitService, grant, deadlineAt })
    } catch (err) {
      slot.release()
      throw err
    }
    if (!opened.ok) {
      slot.release()
      return refuse(reply, endpoint, service, opened.status, opened.message)
    }
    // Opening may have waited past the deadline (GitHub slow to give a credential): nothing has run yet.
    const remainingMs = deadlineAt - Date.now()
    if (remainingMs <= 0) {
      slot.release()
      request.log.info({ slug, service }, 'git request refused: the deadline passed while it was opened')
      return refuse(reply, endpoint, service, 403, REFUSAL_MESSAGES.deadline_passed)
    }
    reply.hijack()
    const running = opened.run(reply.raw, slot.release)
    if (service === 'git-receive-pack') {
      // A push that is still sending at the deadline ends there; the local host's hook
      // refuses one that gets to updating refs later by any other path.
      const atDeadline = stopAtDeadline && remainingMs <= MAX_TIMER_MS ? setTimeout(() => running.stop('deadline'), remainingMs) : undefined
      const stopEnded = () => running.stop('ended')
      const ongoing = pushes.get(grant.invitationId) ?? new Set()
      pushes.set(grant.invitationId, ongoing.add(stopEnded))
      void running.done.then(() => {
        clearTimeout(atDeadline)
        ongoing.delete(stopEnded)
        if (ongoing.size === 0 && pushes.get(grant.invitationId) === ongoing) pushes.delete(grant.invitationId)
      })
    }
  }

  app.route({ method: ['GET', 'POST'], url: '/r/*', config: { rateLimit }, handler })
}

/**
 * The local host: `git http-backend` over the bare repositories in `projectRoot`. A push
 * is measured against the disk quota first and runs with the push size limit, object
 * checks and the pre-receive hook that holds the deadline and the quota.
 */
function localBackend(projectRoot: string | undefined, limits: GitLimits): GitBackend {
  if (!projectRoot) throw new Error('the local git host serves its repositories from candidatesRoot; none was given')
  return {
    close() {},
    async open({ request, slug, endpoint, service, grant, deadlineAt }: GitRequest): Promise<Opened> {
      let pushEnv: Record<string, string> = {}
      if (service === 'git-receive-pack') {
        const used = await diskUsage(path.join(projectRoot, `${slug}.git`)).catch((err: unknown) => {
          request.log.warn({ err, slug }, 'git push refused: the repository could not be measured')
          return undefined
        })
        if (used === undefined) {
          return { ok: false, status: 503, message: 'the size of the repository could not be measured; try again in a minute' }
        }
        if (used >= limits.repoQuotaBytes) {
          request.log.info({ slug, used, quota: limits.repoQuotaBytes }, 'git push refused: repository over quota')
          return { ok: false, status: 403, message: `the repository is over its disk limit of ${size(limits.repoQuotaBytes)}; no more pushes are accepted` }
        }
        pushEnv = {
          ...gitConfigEnv({
            'receive.maxInputSize': String(pushLimit(grant, limits)),
            'receive.fsckObjects': 'true',
            'core.hooksPath': HOOKS_DIR,
          }),
          // The hook compares with the system clock: the deadline is given on it, rounded down.
          TAKEHOME_DEADLINE: String(Math.floor(deadlineAt / 1000)),
          TAKEHOME_QUOTA_BYTES: String(limits.repoQuotaBytes),
        }
      }
      const cgiEnv = {
        ...httpBackendEnv(request.headers, {
          projectRoot,
          pathInfo: `/${slug}.git/${endpoint}`,
          method: request.method,
          queryString: endpoint === 'info/refs' ? `service=${service}` : '',
          remoteUser: `candidate-${grant.invitationId}`,
          remoteAddr: request.ip,
        }),
        ...pushEnv,
      }
      return { ok: true, run: (res, onDone) => runHttpBackend(request, res, cgiEnv, { ...limits, onDone }) }
    },
  }
}


/** Per-request git configuration, which git reads from the environment before any file. */
function gitConfigEnv(config: Record<string, string>): Record<string, string> {
  const entries = Object.entries(config)
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) }
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key
    env[`GIT_CONFIG_VALUE_${i}`] = value
  })
  return env
}

/** What one measurement of a repository may cost: `du` walks it in a child, not in this process. */
const DU_TIMEOUT_MS = 10_000
const DU_MAX_OUTPUT_BYTES = 4096

/**
 * Disk a repository takes, in bytes of allocated blocks, by one `du -sk` (as the hook
 * measures it). A file that vanishes during the walk (another push's quarantine being
 * removed) makes du exit 1 after printing its total: the total still counts. Rejects when
 * du printed no total or ran past its caps.
 */
function diskUsage(dir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(
      'du',
      ['-sk', '--', dir],
      { encoding: 'utf8', timeout: DU_TIMEOUT_MS, maxBuffer: DU_MAX_OUTPUT_BYTES, killSignal: 'SIGKILL', env: { PATH: process.env.PATH, LC_ALL: 'C' } },
      (err, stdout) => {
        const kib = /^(\d+)\t/.exec(stdout)?.[1]
        if (kib === undefined || (err && err.killed)) reject(err ?? new Error(`du printed no total: ${JSON.stringify(stdout.slice(0, 200))}`))
        else resolve(Number(kib) * 1024)
      },
    )
  })
}


/**
 * Runs `git http-backend` as CGI: the request body is piped to its stdin, its header
 * block becomes the response head and the rest is piped back, with backpressure. It runs
 * in its own process group, so stopping it also stops the git processes it started
 * (receive-pack, index-pack, the hook).
 */
function runHttpBackend(
  request: FastifyRequest,
  res: ServerResponse,
  cgiEnv: Record<string, string>,
  { idleTimeoutMs, maxRequestMs, onDone }: { idleTimeoutMs: number; maxRequestMs: number; onDone: () => void },
): Running {
  const log = request.log
  const child = spawn('git', ['http-backend'], {
    env: cgiEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  })
  // Tests count these lines: a refused request must start no backend.
  log.debug({ path: cgiEnv.PATH_INFO, pid: child.pid }, 'git http-backend started')
  // Only while the leader is not yet reaped: until then its pid, the group's id, cannot be reused.
  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null
  const killGroup = () => {
    if (running()) process.kill(-child.pid!, 'SIGKILL')
  }
  const watch = supervise(res, log, { idleTimeoutMs, maxRequestMs, isRunning: running, abort: killGroup })
  const done = new Promise<void>((resolve) => child.once('close', () => resolve()))
  void done.then(() => {
    watch.finish()
    onDone()
  })

  const raw: IncomingMessage = request.raw
  raw.on('data', watch.progress)
  raw.pipe(child.stdin)
  child.stdin.on('error', () => {}) // git may stop reading early (a refused push); the exit code tells
  raw.on('aborted', killGroup)
  res.on('close', killGroup)

  relayCgiAnswer(child.stdout, res, { onBadHead: () => fail(new Error('git http-backend sent no header block')) })
  // Bytes reaching the client count as progress; a client that stops reading stalls this.
  child.stdout.on('data', watch.progress)

  let stderr = ''
  child.stderr.on('data', (b: Buffer) => {
    if (stderr.length < 4096) stderr += b.toString('utf8')
  })
  child.on('close', (code) => {
    if (code !== 0 && code !== null) log.warn({ code, stderr: stderr.slice(0, 1000) }, 'git http-backend failed')
    if (!res.headersSent && !watch.stopped()) fail(new Error(`git http-backend exited with ${code}`))
  })
  child.on('error', fail)

  function fail(err: Error) {
    log.error({ err }, 'git gateway error')
    killGroup()
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('git backend failed\n')
    else res.destroy()
  }

  return { stop: watch.stop, done }
}
