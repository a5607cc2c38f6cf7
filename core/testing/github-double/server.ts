import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type createFaults, faultAnswer } from './faults.ts'
import { checkAppJwt, looksLikeJwt } from './jwt.ts'
import { type RestAnswer, type RestRequest, routes } from './rest.ts'
import { isGitPath, serveGit } from './smart-http.ts'
import { type DoubleState, emitSubscribed } from './state.ts'

/** Where REST lives on the double, as on GitHub Enterprise Server: nothing may assume api.github.com's root. */
export const REST_PREFIX = '/api/v3'

/** JSON bodies past this are refused (413) rather than read. */
const MAX_JSON_BYTES = 1024 * 1024
const DOCS = 'https://docs.github.com/rest'

export interface RecordedRequest {
  method: string
  /** The path as requested, without the query: `/api/v3/...` for REST, `/OWNER/REPO.git/...` for git. */
  path: string
  status: number
}

class BodyTooLarge extends Error {}

async function readJson(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false }> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_JSON_BYTES) throw new BodyTooLarge()
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return { ok: true, value: undefined }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

/** The credential of `Authorization: token X` or `Bearer X`. */
function credential(header: string | undefined): string | undefined {
  return header ? /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header)?.[1] : undefined
}

const requestId = () => [4, 4, 6, 6, 8].map((n) => randomBytes(n / 2).toString('hex').toUpperCase()).join(':')

/** GitHub's primary rate limit, counted per credential per hour, never enforced. */
function createRateLimits() {
  const windows = new Map<string, { used: number; resetS: number }>()
  return (key: string, limit: number): Record<string, string> => {
    const nowS = Math.floor(Date.now() / 1000)
    let window = windows.get(key)
    if (!window || window.resetS <= nowS) windows.set(key, (window = { used: 0, resetS: nowS + 3600 }))
    window.used += 1
    return {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(limit - window.used, 0)),
      'x-ratelimit-reset': String(window.resetS),
      'x-ratelimit-used': String(window.used),
      'x-ratelimit-resource': 'core',
    }
  }
}

export function createRequestHandler(state: DoubleState, faults: ReturnType<typeof createFaults>) {
  const recorded: RecordedRequest[] = []
  const rateLimits = createRateLimits()

  async function rest(req: IncomingMessage, res: ServerResponse, url: URL, entry: RecordedRequest) {
    const method = req.method ?? 'GET'
    const path = url.pathname.slice(REST_PREFIX.length) || '/'
    const given = credential(req.headers.authorization)
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'x-github-request-id': requestId(),
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
      // An app's JWTs change every few minutes; its limit does not.
      ...rateLimits(given === undefined ? `anonymous:${req.socket.remoteAddress}` : looksLikeJwt(given) ? 'app' : given, given ? 5000 : 60),
    }
    const send = ({ status, body, headers: extra }: RestAnswer) => {
      entry.status = status
      res.writeHead(status, { ...headers, ...extra })
      res.end(status === 204 || body === undefined ? undefined : JSON.stringify(body))
    }
    const failWith = (docs: string) => (status: number, message: string, errors?: object[]): RestAnswer => ({
      status,
      body: { message, ...(errors ? { errors } : {}), documentation_url: docs, status: String(status) },
    })

    const fault = faults.take(method, [url.pathname, path])
    if (fault && !(fault.kind === 'status' && fault.afterHandling)) return send(faultAnswer(fault))

    const matches = routes.filter((r) => r.pattern.test(path))
    const found = matches.find((r) => r.method === method)
    if (!found) return send(failWith(DOCS)(matches.length > 0 ? 405 : 404, matches.length > 0 ? 'Method Not Allowed' : 'Not Found'))
    const fail = failWith(found.docs)

    let token: RestRequest['token']
    if (found.auth === 'jwt') {
      const refusal = given === undefined ? 'A JSON web token could not be decoded' : checkAppJwt(given, state.publicKey, state.appId)
      if (refusal) return send(fail(401, refusal))
    } else if (found.auth === 'token' || found.auth === 'optional-token') {
      if (given === undefined && found.auth === 'token') return send(fail(401, 'Requires authentication'))
      if (given !== undefined) {
        token = state.tokens.live(given)
        if (!token) return send(fail(401, 'Bad credentials'))
      }
    }

    let body: unknown
    if (method !== 'GET' && method !== 'DELETE') {
      const parsed = await readJson(req)
      if (!parsed.ok) return send(fail(400, 'Problems parsing JSON'))
      body = parsed.value
    }
    const params = (found.pattern.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p))
    const answer = await found.handle({ method, path, params, query: url.searchParams, body, token, fail }, state)
    // The work is done; a scripted fault still answers in its place.
    send(fault ? faultAnswer(fault) : answer)
    for (const { event, payload } of answer.webhooks ?? []) emitSubscribed(state, event, payload)
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, entry: RecordedRequest) {
    if (url.pathname === REST_PREFIX || url.pathname.startsWith(`${REST_PREFIX}/`)) return rest(req, res, url, entry)
    if (isGitPath(url.pathname)) {
      const fault = faults.take(entry.method, [url.pathname])
      if (fault) {
        const { status, headers, body } = faultAnswer(fault)
        entry.status = status
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body))
        return
      }
      // A push's webhook follows its answer: waiting for webhooks covers the push from here.
      return state.webhooks.track(serveGit(state, req, res, url, (status) => (entry.status = status)))
    }
    entry.status = 404
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found\n')
  }

  return {
    recorded,
    handle(req: IncomingMessage, res: ServerResponse) {
      const url = new URL(req.url ?? '/', 'http://double')
      const entry: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, status: 0 }
      recorded.push(entry)
      route(req, res, url, entry).catch((err: unknown) => {
        if (res.headersSent) return res.destroy()
        entry.status = err instanceof BodyTooLarge ? 413 : 500
        res
          .writeHead(entry.status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' })
          .end(JSON.stringify({ message: entry.status === 413 ? 'Payload too large' : `GitHub double failed: ${String(err)}`, documentation_url: DOCS }))
      })
    },
  }
}
