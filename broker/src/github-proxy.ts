import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http'
import https from 'node:https'
import type { GitHost } from '@takehome/core'
import { type GitBackend, type GitLimits, type GitRequest, type Opened, pktLine, pushLimit, refusal, type Running, size, supervise } from './exchange.ts'
import { rawRequest, type RawUpstream } from './raw-upstream.ts'

type RemoteRepositories = NonNullable<GitHost['remote']>

/** What git sends that GitHub needs; the candidate's Authorization (our access token) is never among them. */
const REQUEST_HEADERS = ['content-type', 'content-encoding', 'content-length', 'accept', 'git-protocol', 'user-agent'] as const
/** What GitHub answers that git needs; never its cookies or authentication challenges. */
const RESPONSE_HEADERS = ['content-type', 'content-encoding', 'content-length', 'cache-control', 'expires', 'pragma'] as const

/** GitHub's refusals, in words for the candidate: its own would be about our credential, not theirs. */
const UPSTREAM_REFUSED: Record<number, { status: number; message: string }> = {
  401: { status: 403, message: 'GitHub did not accept the credential for this repository; try again in a minute' },
  403: { status: 403, message: 'GitHub refused this request: the repository is read-only (archived) or the change is not allowed' },
  404: { status: 404, message: 'the repository was not found on GitHub' },
}
const UNREACHABLE = 'GitHub could not be reached; try again in a minute'

/** How far into a push body its capabilities are looked for. */
const CAPABILITIES_WITHIN = 64 * 1024

/**
 * How long a connection to GitHub is kept unused for the next request. Node's agent keeps
 * it forever unless given a timeout (it heeds a server's `Keep-Alive: timeout=` hint only
 * then, closing a second before it), and a server closing an idle connection as a request
 * goes out on it fails that request. Below the 5 s of Node's own servers; a clone's or a
 * push's requests follow one another within milliseconds.
 */
const IDLE_CONNECTION_MS = 4000

/**
 * The most of a request body kept to send again when a reused connection is closed under
 * it: git's own http.postBuffer, the most git sends in one piece (and sends again itself).
 * Larger bodies (packs of big pushes) are not kept.
 */
export const RESEND_MAX_BYTES = 1024 * 1024

/**
 * The gateway in GitHub mode: a reverse proxy to the repository's smart-HTTP URL on GitHub,
 * authenticated with an installation token for that one repository, which the candidate
 * never sees. Bodies stream both ways with backpressure; a push is counted as it passes
 * and cut at the assessment's limit (GitHub keeps its own repository quota).
 */
export function createGitHubProxy(remote: RemoteRepositories, limits: GitLimits): GitBackend {
  // A clone or push is a few requests in a row: connections to GitHub are kept for the next.
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: limits.maxRequests, timeout: IDLE_CONNECTION_MS }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: limits.maxRequests, timeout: IDLE_CONNECTION_MS }),
  }
  return {
    close() {
      agents['http:'].destroy()
      agents['https:'].destroy()
    },
    async open(git: GitRequest): Promise<Opened> {
      const { request, endpoint, service, grant } = git
      let authorization: string
      try {
        const credential = await remote.repoCredential(grant.repoFullName, { workflows: grant.allowWorkflowChanges })
        authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`
      } catch (err) {
        request.log.warn({ err, repo: grant.repoFullName }, 'git request refused: no credential from GitHub')
        return { ok: false, status: 503, message: UNREACHABLE }
      }
      const target = new URL(`${remote.cloneUrl(grant.repoFullName)}/${endpoint}`)
      if (endpoint === 'info/refs') target.search = `service=${service}`
      const agent = target.protocol === 'https:' ? agents['https:'] : agents['http:']
      return {
        ok: true,
        run: (res, onDone) =>
          endpoint === 'git-upload-pack'
            ? proxyPack(git, res, { target, authorization, limits, onDone })
            : proxy(git, res, { target, agent, authorization, maxBodyBytes: service === 'git-receive-pack' ? pushLimit(grant, limits) : undefined, limits, onDone }),
      }
    },
  }
}

function proxy(
  git: GitRequest,
  res: ServerResponse,
  options: { target: URL; agent: http.Agent; authorization: string; maxBodyBytes: number | undefined; limits: GitLimits; onDone: () => void },
): Running {
  const { target, agent, authorization, maxBodyBytes, limits, onDone } = options
  const { request, service } = git
  const log = request.log
  const raw = request.raw
  if (raw.socket.destroyed) return gone(onDone)
  const headers = forwardedHeaders(raw, authorization)
  const send = (pooled: boolean) => (target.protocol === 'https:' ? https : http).request(target, { method: request.method, headers, agent: pooled ? agent : false })
  let upstream = send(true)
  let response: IncomingMessage | undefined

  // Set once the gateway answers in GitHub's place (a stop, a refusal, a cut push): what GitHub does after that is moot.
  let answered = false
  const { watch, done, answer, abandon, over } = control(git, res, limits, onDone, {
    abandon: () => {
      answered = true
      raw.unpipe(upstream)
      response?.unpipe(res)
      upstream.destroy()
    },
    answering: () => response !== undefined && !res.writableNeedDrain,
    closed: () => {
      if (!response?.complete) upstream.destroy()
    },
  })

  /** The body as sent so far, while it is small enough to send again; dropped once GitHub answers. */
  let sent: Buffer[] | undefined = []
  let sentBytes = 0
  let retried = false
  const onError = (err: Error) => {
    if (answered || over()) return
    const code = (err as NodeJS.ErrnoException).code
    // A kept-alive connection GitHub closed just as it was reused: the request is sent again
    // once, on a connection of its own (what Node's documentation advises), with the body
    // sent so far; one whose body was too large to keep fails. A push sent twice is still
    // applied at most once: its commands name the commits they replace.
    if (upstream.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE') && !retried && !response && sent) {
      retried = true
      raw.unpipe(upstream)
      upstream = send(false)
      upstream.on('error', onError)
      upstream.on('response', onResponse)
      if (request.method === 'GET') upstream.end()
      else {
        for (const chunk of sent) upstream.write(chunk)
        if (raw.readableEnded) upstream.end()
        else raw.pipe(upstream)
      }
      return
    }
    log.warn({ err: { code, message: err.message } }, 'git request failed: GitHub could not be reached')
    if (res.headersSent) res.destroy()
    else answer(502, UNREACHABLE)
  }
  upstream.on('error', onError)

  let forwardedLength = false
  const onResponse = (up: IncomingMessage) => {
    response = up
    sent = undefined
    if (answered) return void up.resume()
    const status = up.statusCode ?? 502
    if (status < 200 || status >= 300) {
      log.info({ upstream_status: status }, 'git request refused by GitHub')
      return answer(...refusedBy(status))
    }
    const forwarded = pick(up.headers, RESPONSE_HEADERS)
    forwardedLength = forwarded['content-length'] !== undefined
    res.writeHead(status, forwarded)
    up.on('data', watch.progress)
    up.on('error', () => {
      if (!answered) res.destroy()
    })
    up.pipe(res)
  }
  upstream.on('response', onResponse)

  if (request.method === 'GET') upstream.end()
  else {
    const pushed = maxBodyBytes === undefined ? undefined : { limit: maxBodyBytes, bytes: 0, capabilities: capabilities() }
    raw.on('data', (chunk: Buffer) => {
      watch.progress()
      if (sent) {
        sentBytes += chunk.length
        if (sentBytes <= RESEND_MAX_BYTES) sent.push(chunk)
        else sent = undefined
      }
      if (!pushed || answered) return
      pushed.capabilities.feed(chunk)
      pushed.bytes += chunk.length
      if (pushed.bytes > pushed.limit) cut(pushed.limit, pushed.capabilities.sideband())
    })
    raw.pipe(upstream)
  }

  /**
   * Ends a push past its size limit before GitHub has the whole pack, so nothing of it
   * lands. The message goes on git's error band when git asked for side-band (git prints
   * it as `remote: …`, where an HTTP status alone would show as "RPC failed"), else with a 413.
   */
  function cut(limit: number, sideband: boolean) {
    abandon()
    log.info({ limit }, 'git push refused: over the size limit')
    const message = `push refused: the push is larger than this assessment's limit of ${size(limit)}`
    if (sideband && !forwardedLength) {
      if (!res.headersSent) res.writeHead(200, { 'content-type': `application/x-${service}-result`, 'cache-control': 'no-cache' })
      res.end(Buffer.concat([pktLine(Buffer.concat([Buffer.from([3]), Buffer.from(`${message}\n`)])), Buffer.from('0000')]))
    } else if (!res.headersSent) res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end(`${message}\n`)
    else res.destroy()
  }

  return { stop: watch.stop, done }
}

/**
 * The clone's pack (`POST git-upload-pack`): like `proxy`, but the answer's body passes from
 * GitHub's connection to git's as bytes, without Node's HTTP client parsing it and its server
 * framing it again (raw-upstream.ts says why). Git's own request is small and sent whole; the
 * connection to GitHub is used once, so nothing is ever sent twice.
 */
function proxyPack(git: GitRequest, res: ServerResponse, options: { target: URL; authorization: string; limits: GitLimits; onDone: () => void }): Running {
  const { target, authorization, limits, onDone } = options
  const { request } = git
  const log = request.log
  const raw = request.raw
  if (raw.socket.destroyed) return gone(onDone)
  const socket = res.socket!

  /** Set once GitHub's answer began reaching git, or the gateway answered in its place. */
  let answering = false
  // Every use of `upstream` below runs once it is set: its handlers, timers and events come later.
  const { watch, done, answer, over } = control(git, res, limits, onDone, {
    abandon: () => {
      answering = true
      raw.unpipe(upstream.socket)
      upstream.destroy()
    },
    answering: () => answering && !socket.writableNeedDrain,
    closed: () => upstream.destroy(),
  })

  raw.on('data', watch.progress)
  const upstream: RawUpstream = rawRequest(
    target,
    { method: request.method, headers: forwardedHeaders(raw, authorization), body: raw },
    {
      onError(err) {
        if (over() || answering) return
        log.warn({ err: { code: (err as NodeJS.ErrnoException).code, message: err.message } }, 'git request failed: GitHub could not be reached')
        answer(502, UNREACHABLE)
      },
      onHead({ status, headers }, rest) {
        if (over() || answering) return
        if (status < 200 || status >= 300) {
          log.info({ upstream_status: status }, 'git request refused by GitHub')
          return answer(...refusedBy(status))
        }
        answering = true
        const from = upstream.socket
        // The head goes out through Node (with the headers set on this response so far); the
        // body then goes on the connection itself, ending with it, so git reads it as GitHub framed it.
        const framing = headers['transfer-encoding'] ? { 'transfer-encoding': headers['transfer-encoding'] } : {}
        res.writeHead(status, { ...pick(headers, RESPONSE_HEADERS), ...framing, connection: 'close' })
        res.flushHeaders()
        if (rest.length > 0) socket.write(rest)
        from.on('data', watch.progress)
        from.on('error', () => socket.destroy())
        from.pipe(socket)
        from.resume()
      },
    },
  )
  return { stop: watch.stop, done }
}

/**
 * What both ways of relaying to GitHub share: the request's bounds in time (supervise), its
 * end (the slot freed once git's connection closes), and answering in GitHub's place.
 * `upstream.abandon` stops talking to GitHub (the rest of git's body is then read and
 * dropped, so git reads our answer); `answering` says GitHub's answer is reaching git, which
 * reads it as it comes: GitHub is at work (a push's pack checked, its hooks run) and may be
 * quiet a while, and git would wait for it, so the gateway does too.
 */
function control(
  { request, endpoint, service }: GitRequest,
  res: ServerResponse,
  limits: GitLimits,
  onDone: () => void,
  upstream: { abandon(): void; answering(): boolean; closed(): void },
) {
  const raw = request.raw
  let over = false
  const abandon = () => {
    upstream.abandon()
    raw.resume()
  }
  const watch = supervise(res, request.log, {
    idleTimeoutMs: limits.idleTimeoutMs,
    maxRequestMs: limits.maxRequestMs,
    isRunning: () => !over,
    abort: abandon,
    awaitingWork: () => raw.complete && upstream.answering(),
  })
  const done = new Promise<void>((resolve) =>
    res.once('close', () => {
      over = true
      upstream.closed()
      watch.finish()
      onDone()
      resolve()
    }),
  )
  /** Answers in GitHub's place, when nothing was answered yet. */
  const answer = (status: number, message: string) => {
    abandon()
    const { status: code, headers: head, body } = refusal(endpoint, service, status, message)
    res.writeHead(code, head).end(body)
  }
  return { watch, done, answer, abandon, over: () => over }
}

/** git left while its request was opened (GitHub slow to give a credential): its close came before anyone listened for it, and would never free the slot. */
function gone(onDone: () => void): Running {
  onDone()
  return { stop: () => {}, done: Promise.resolve() }
}

/** What reaches GitHub: our credential and the request headers git needs, nothing else of git's. */
function forwardedHeaders(raw: IncomingMessage, authorization: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { authorization }
  for (const name of REQUEST_HEADERS) {
    const value = raw.headers[name]
    if (value !== undefined) headers[name as string] = value
  }
  return headers
}

/** GitHub's refusal, as the gateway answers it. */
function refusedBy(status: number): [number, string] {
  const refused = UPSTREAM_REFUSED[status]
  return [refused?.status ?? 502, refused?.message ?? `GitHub answered ${status}; try again in a minute`]
}

function pick(headers: IncomingHttpHeaders | Record<string, string>, names: readonly string[]): OutgoingHttpHeaders {
  const picked: OutgoingHttpHeaders = {}
  for (const name of names) if (headers[name] !== undefined) picked[name] = headers[name]
  return picked
}

/**
 * Reads a push's capabilities from the start of its body: the first command carries them
 * after a NUL (`<old> <new> <ref>\0report-status side-band-64k …`), after any `shallow`
 * lines. Looks no further than CAPABILITIES_WITHIN bytes.
 */
function capabilities() {
  let head = Buffer.alloc(0)
  let found: string[] | undefined
  let settled = false
  return {
    feed(chunk: Buffer) {
      if (settled) return
      head = Buffer.concat([head, chunk.subarray(0, CAPABILITIES_WITHIN - head.length)])
      for (let at = 0; ; ) {
        if (head.length < at + 4) break
        const hex = head.subarray(at, at + 4).toString('latin1')
        const length = /^[0-9a-f]{4}$/i.test(hex) ? Number.parseInt(hex, 16) : 0
        // A flush, a malformed length or a gzipped body: there are no capabilities to read.
        if (length < 4) {
          settled = true
          break
        }
        if (head.length < at + length) break
        const payload = head.subarray(at + 4, at + length)
        const nul = payload.indexOf(0)
        if (nul >= 0) {
          found = payload.subarray(nul + 1).toString('latin1').trim().split(' ')
          settled = true
          break
        }
        at += length
      }
      if (head.length >= CAPABILITIES_WITHIN) settled = true
      if (settled) head = Buffer.alloc(0)
    },
    sideband: () => found !== undefined && (found.includes('side-band-64k') || found.includes('side-band')),
  }
}
