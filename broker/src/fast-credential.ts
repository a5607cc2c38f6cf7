import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import proxyAddr from '@fastify/proxy-addr'
import { parse } from 'fast-querystring'
import type { FastifyServerFactory } from 'fastify'
import type { Logger } from 'pino'
import { ANSWER_HEADERS, type CredentialAnswer, createCredentialExchange, credentialQuery, type ExchangeLog, type ExchangeOptions, REFUSAL_HEADER, refusedQuery } from './credential.ts'

export interface FastCredentialOptions extends ExchangeOptions {
  rateLimit: { max: number; timeWindow: number }
  logger: Logger
  /** The app's request ids (`x-request-id`, `reqId` in log lines). */
  genReqId: () => string
  /** Headers every answer of the app carries. */
  headers: Readonly<Record<string, string>>
  /** The app's `trustProxy` as Fastify takes it: whose word on the client's address is believed. */
  trustProxy: false | string[] | ((address: string, hop: number) => boolean)
  /** Whom the rate limit counts a request against, given the address Fastify would call `request.ip`. */
  rateKey: (req: IncomingMessage, ip: string) => string
}

const PATH = '/git/credential'
/** Clients counted in one window at most; past it the window starts again for everyone (as an LRU store would forget them). */
const MAX_CLIENTS = 10_000
/** Answers kept for reuse at most; past it they are all forgotten. */
const MAX_REUSABLE = 10_000
/** git's request lines are a few hundred bytes; longer ones are answered but not kept, which bounds the memory kept. */
const MAX_REUSABLE_URL = 1024

/**
 * Requests per client in fixed windows of `timeWindow`, all clients' windows starting
 * together: memory is bounded by the clients seen in one window.
 */
export function createWindowCounter({ max, timeWindow }: { max: number; timeWindow: number }, now: () => number = Date.now) {
  let counts = new Map<string, number>()
  let windowEnds = 0
  return function allow(key: string): boolean {
    const at = now()
    if (at >= windowEnds || (counts.size >= MAX_CLIENTS && !counts.has(key))) {
      counts = new Map()
      windowEnds = at + timeWindow
    }
    const count = (counts.get(key) ?? 0) + 1
    counts.set(key, count)
    return count <= max
  }
}

/**
 * `GET /git/credential` served straight from node:http, past Fastify's routing, hooks and
 * plugins: git asks before every fetch and push, and on this path the framework cost
 * several times what the answer does. The answer is the Fastify route's (the same
 * exchange); what the app's plugins add to every answer is added here: the security
 * headers, `x-request-id`, a rate limit per client counted as the rate-limit plugin counts,
 * and the access log line (successful answers at debug, as the route's `quietAccessLog`
 * asks; refusals at info). Returns false, touching nothing, for any other request.
 */
export function createFastCredential(options: FastCredentialOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { logger, genReqId, rateKey, services } = options
  // Every answer's fixed headers as writeHead takes them, flat: no object is built per answer.
  const fixedHeaders = Object.entries({ ...options.headers, ...ANSWER_HEADERS }).flat()
  const exchange = createCredentialExchange(options)
  const allow = createWindowCounter(options.rateLimit)
  // Credentials given lately, by the exact request line (git repeats it byte for byte): a
  // repeat skips parsing and the exchange, but not the access token's check. Only answers
  // that give a credential are kept, so made-up requests cannot fill it.
  const reusable = new Map<string, { token: string; answer: CredentialAnswer }>()
  function reuse(url: string): CredentialAnswer | undefined {
    const kept = reusable.get(url)
    if (!kept) return undefined
    if (kept.answer.reusableUntil! > Date.now() && services.access.checkCached(kept.token, {})) return kept.answer
    reusable.delete(url)
    return undefined
  }
  function keep(url: string, token: string, answer: CredentialAnswer) {
    if (answer.reusableUntil === undefined || url.length > MAX_REUSABLE_URL) return
    if (reusable.size >= MAX_REUSABLE) reusable.clear()
    reusable.set(url, { token, answer })
  }
  // As Fastify reads `request.ip`: proxy-addr with the same trust, or the socket's address.
  const { trustProxy } = options
  const trust = trustProxy === false ? undefined : typeof trustProxy === 'function' ? trustProxy : proxyAddr.compile(trustProxy)
  const ipOf = trust ? (req: IncomingMessage) => proxyAddr(req, trust) : (req: IncomingMessage) => req.socket.remoteAddress ?? ''

  async function answerAfresh(url: string, log: RequestLog): Promise<CredentialAnswer> {
    // Fastify's own query string parser (find-my-way's), so both transports read a query alike.
    const query = credentialQuery.safeParse(url.length > PATH.length + 1 ? parse(url.slice(PATH.length + 1)) : {})
    if (!query.success) {
      log.info({ code: 'bad_request' }, 'credential request refused')
      return refusedQuery(400)
    }
    const answer = await exchange(query.data, log)
    keep(url, query.data.token, answer)
    return answer
  }

  async function serve(req: IncomingMessage, res: ServerResponse, url: string) {
    const started = performance.now()
    const id = genReqId()
    const ip = ipOf(req)
    const log = new RequestLog(logger, id)
    let answer: CredentialAnswer
    // Whatever goes wrong, as the route's error handler answers: git reads `quit=1`.
    try {
      if (!allow(rateKey(req, ip))) {
        log.info({ code: 'rate_limited' }, 'credential request refused')
        answer = refusedQuery(429)
      } else {
        answer = reuse(url) ?? (await answerAfresh(url, log))
      }
    } catch (err) {
      log.info({ code: (err as { code?: string }).code }, 'credential request refused')
      answer = refusedQuery(400)
    }
    const head = [...fixedHeaders, 'x-request-id', id, 'content-length', String(Buffer.byteLength(answer.body))]
    if (answer.refusal) head.push(REFUSAL_HEADER, answer.refusal)
    res.writeHead(answer.status, head)
    res.end(answer.body)

    const quiet = answer.status < 400
    if (quiet && !logger.isLevelEnabled('debug')) return
    log.child()[quiet ? 'debug' : 'info']({ req: { method: req.method, url, id, ip }, res, ms: Math.round(performance.now() - started) }, 'request')
  }

  return (req, res) => {
    const url = req.url ?? ''
    if (req.method !== 'GET' || !url.startsWith(PATH) || (url.length > PATH.length && url.charCodeAt(PATH.length) !== 63 /* ? */)) return false
    serve(req, res, url).catch((err: unknown) => logger.error({ err }, 'credential request errored'))
    return true
  }
}

/** A request's logger (`reqId` bound, as Fastify's), made only when a line is written: it costs more than a successful answer. */
class RequestLog implements ExchangeLog {
  #child: Logger | undefined
  constructor(
    private readonly logger: Logger,
    private readonly id: string,
  ) {}

  child(): Logger {
    return (this.#child ??= this.logger.child({ reqId: this.id }))
  }

  info(fields: object, message: string) {
    this.child().info(fields, message)
  }

  warn(fields: object, message: string) {
    this.child().warn(fields, message)
  }
}

/**
 * A Fastify `serverFactory`: node:http's server, set up from Fastify's options as Fastify
 * sets up its own, whose requests `first` answers when it takes them and Fastify otherwise.
 */
export function serverAnsweringFirst(first: (req: IncomingMessage, res: ServerResponse) => boolean): FastifyServerFactory {
  return (handler, options) => {
    const opts = options as { http?: http.ServerOptions; keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number; maxRequestsPerSocket?: number | null }
    const server = http.createServer(opts.http ?? {}, (req, res) => {
      if (!first(req, res)) handler(req, res)
    })
    server.keepAliveTimeout = opts.keepAliveTimeout
    server.requestTimeout = opts.requestTimeout
    server.setTimeout(opts.connectionTimeout)
    if (opts.maxRequestsPerSocket) server.maxRequestsPerSocket = opts.maxRequestsPerSocket
    return server
  }
}
