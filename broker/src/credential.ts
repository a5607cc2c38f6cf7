import type { GitHost, Services } from '@takehome/core'
import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'

export interface ExchangeOptions {
  services: Pick<Services, 'access'>
  /** With `remote` (GitHub), git asking for GitHub's git host gets a token for the one repository. */
  gitHost: Pick<GitHost, 'remote'>
  /** Our own origin (PUBLIC_URL): git asking for it, the gateway, gets the access token back. */
  publicUrl: string
}

export interface CredentialOptions extends ExchangeOptions {
  rateLimit: { max: number; timeWindow: number }
}

/** What the broker answers, whichever transport carries it (the Fastify route, or the fast path in fast-credential.ts). */
export interface CredentialAnswer {
  status: 200 | 400 | 403 | 429 | 503
  body: string
  /** Why nothing was given: `x-takehome-refusal`. */
  refusal?: string
  /**
   * Until when (epoch ms) the same request may be answered with this answer again, as long
   * as the access token still passes `access.checkCached`. Only on answers that give a credential.
   */
  reusableUntil?: number
}

/**
 * How long a given credential may be handed out again for the same request: git asks before
 * every fetch and push, and each hit is still checked against the access token's grant
 * (deadline, revocation, state). A GitHub token handed out again is at most this much older
 * than the one the host would hand out, with minutes of validity left.
 */
const ANSWER_REUSE_MS = 5_000

/** Where the exchange says why it refused: the request's logger, or one made only when needed. */
export interface ExchangeLog {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
}

// git reads this body as credential lines: `quit=1` makes it stop at once instead of
// prompting, and anything that is not `key=value` would print "invalid credential line".
const QUIT = 'quit=1\n'

const NO_RATE_LIMIT_HEADERS = { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false }

/** git's request is a few short lines (`protocol=`, `host=`, maybe `path=`, `wwwauth[]=`). */
const MAX_REQUEST_BYTES = 4096
const KEY = /^[a-z][a-z0-9_]*(?:\[\])?$/

/**
 * The credential request git gave the helper on stdin, which it forwards as `request`:
 * `key=value` lines (a key of lower-case letters, digits and `_`, perhaps ending in `[]`; a
 * value without NUL). Only `protocol` and `host` decide anything here; given twice, the
 * request is ambiguous and refused. Undefined for anything else.
 */
function parseRequest(text: string): { protocol?: string; host?: string } | undefined {
  const fields: { protocol?: string; host?: string } = {}
  for (let start = 0; start < text.length; ) {
    const newline = text.indexOf('\n', start)
    const lineEnd = newline < 0 ? text.length : newline
    // A line may end in CRLF.
    const end = lineEnd > start && text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd
    const next = lineEnd + 1
    if (end > start) {
      const equals = text.indexOf('=', start)
      if (equals < 0 || equals >= end) return undefined
      const key = text.slice(start, equals)
      const value = text.slice(equals + 1, end)
      if (!KEY.test(key) || value.includes('\0')) return undefined
      if (key === 'protocol' || key === 'host') {
        if (fields[key] !== undefined) return undefined
        fields[key] = value
      }
    }
    start = next
  }
  return fields
}

/**
 * The query string the helper sends: the access token, and git's request as it read it
 * (read by the exchange: a zod transform costs more than the rest of a cached answer).
 */
export const credentialQuery = z.object({ token: z.string().max(100), request: z.string().max(MAX_REQUEST_BYTES).optional() })
export type CredentialQuery = z.infer<typeof credentialQuery>

/** A query that is not one (400), or too many of them (429): git still reads `quit=1`. */
export const refusedQuery = (status: 400 | 429): CredentialAnswer => ({ status, body: QUIT, refusal: status === 429 ? 'rate_limited' : 'bad_request' })

/** What every answer of the broker says about itself: git reads text, and nothing may keep it. */
export const ANSWER_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
/** Why nothing was given, in a header of its own. */
export const REFUSAL_HEADER = 'x-takehome-refusal'

/**
 * The credential broker's answer: git's credential helper asks (`get` only) and gets a
 * short-lived credential for one repository, in git's credential format, for the host git
 * asked about: for our own origin (the gateway), the access token itself; for GitHub's git
 * host, an installation token for exactly that one repository. A token is never sent for
 * any other host, nor ours to GitHub or GitHub's to us.
 */
export function createCredentialExchange({ services, gitHost, publicUrl }: ExchangeOptions) {
  const own = new URL(publicUrl)
  const remote = gitHost.remote

  /** Whom git is asking for: our gateway, the remote host, or someone else (refused). */
  function audience(request: { protocol?: string; host?: string } | undefined): 'gateway' | 'remote' | 'other' {
    // Without a request (an older helper, or none given), as the helper always answered: the
    // host's own credential.
    if (!request || (request.protocol === undefined && request.host === undefined)) return remote ? 'remote' : 'gateway'
    const host = request.host?.toLowerCase()
    if (request.protocol === own.protocol.slice(0, -1) && host === own.host) return 'gateway'
    if (remote && host === remote.gitHost.toLowerCase()) return 'remote'
    return 'other'
  }

  const refuse = (refusal: string): CredentialAnswer => ({ status: 403, body: QUIT, refusal })
  /** The scheme GitHub's git host is served with (GITHUB_URL's), the same for every repository. */
  let remoteProtocol: string | undefined

  return async function exchange(query: CredentialQuery, log: ExchangeLog): Promise<CredentialAnswer> {
    const request = query.request === undefined ? undefined : parseRequest(query.request)
    if (query.request !== undefined && request === undefined) {
      log.info({ code: 'bad_request' }, 'credential request refused')
      return refusedQuery(400)
    }
    const asked = audience(request)
    if (asked === 'other') {
      log.info({ host: request?.host?.slice(0, 200) }, 'credential refused: a host that is not ours')
      return refuse('other_host')
    }
    const access = await services.access.check(query.token, { context: 'credential' })
    if (!access.ok) {
      log.info({ refusal: access.refusal }, 'credential refused')
      return refuse(access.refusal)
    }
    if (asked === 'gateway') return { status: 200, body: credentialLines(access.expiresAt, 'takehome', query.token), reusableUntil: Date.now() + ANSWER_REUSE_MS }

    const { grant } = access
    // GitHub's git host over the scheme it is served with: a token never crosses plain HTTP by mistake.
    const protocol = request?.protocol
    if (protocol !== undefined && `${protocol}:` !== (remoteProtocol ??= new URL(remote!.cloneUrl(grant.repoFullName)).protocol)) {
      log.info({ protocol: protocol.slice(0, 20) }, 'credential refused: not the scheme GitHub is served with')
      return refuse('other_host')
    }
    try {
      const credential = await remote!.repoCredential(grant.repoFullName, { workflows: grant.allowWorkflowChanges })
      const expiresAt = credential.expiresAt < access.expiresAt ? credential.expiresAt : access.expiresAt
      const reusableUntil = Math.min(Date.now() + ANSWER_REUSE_MS, credential.expiresAt.getTime())
      return { status: 200, body: credentialLines(expiresAt, credential.username, credential.password), reusableUntil }
    } catch (err) {
      log.warn({ err, repo: grant.repoFullName }, 'credential refused: GitHub gave no token')
      return { status: 503, body: QUIT, refusal: 'host_unavailable' }
    }
  }
}

const credentialLines = (expiresAt: Date, username: string, password: string) =>
  [`username=${username}`, `password=${password}`, `password_expiry_utc=${Math.floor(expiresAt.getTime() / 1000)}`, ''].join('\n')

function send(reply: FastifyReply, answer: CredentialAnswer) {
  reply.status(answer.status).headers(ANSWER_HEADERS)
  if (answer.refusal) reply.header(REFUSAL_HEADER, answer.refusal)
  return reply.send(answer.body)
}

/**
 * The broker as a Fastify route: what the API docs show, and what answers HEAD and
 * `inject`. Over a socket, GET is answered by the fast path (fast-credential.ts) before
 * Fastify sees it, with the same exchange.
 */
export const credentialBroker: FastifyPluginAsyncZod<CredentialOptions> = async (app, { rateLimit, ...options }) => {
  const exchange = createCredentialExchange(options)
  app.get(
    '/git/credential',
    {
      config: {
        // git's helper ignores these headers; not building them is measurably cheaper here.
        rateLimit: { ...rateLimit, addHeaders: NO_RATE_LIMIT_HEADERS, addHeadersOnExceeding: NO_RATE_LIMIT_HEADERS },
        quietAccessLog: true,
      },
      schema: {
        tags: ['git'],
        summary:
          "git's credential helper: `username=…`, `password=…`, `password_expiry_utc=…` for the host named in `request` (git's request, as the helper read it), or 403 `quit=1`",
        querystring: credentialQuery,
        response: { 200: z.string(), 400: z.string(), 403: z.string(), 429: z.string(), 503: z.string() },
      },
      // Whatever goes wrong, git must read `quit=1`, never a JSON error.
      errorHandler: (err, request, reply) => {
        request.log.info({ code: (err as { code?: string }).code }, 'credential request refused')
        return send(reply, refusedQuery(err.statusCode === 429 ? 429 : 400))
      },
    },
    async (request, reply) => send(reply, await exchange(request.query, request.log)),
  )
}
