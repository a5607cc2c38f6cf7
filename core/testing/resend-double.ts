import { randomUUID } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Every request the double received, answered or not, with the status it got. */
export interface ResendDoubleRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown
  status: number
}

/** An email Resend would have sent: the fields of `POST /emails`, plus the id it answered. */
export interface ResendDoubleEmail {
  id: string
  from: string
  to: string | string[]
  subject: string
  html?: string
  text?: string
  idempotencyKey?: string
  /** The email's own custom headers (Resend's `headers` field), not the HTTP request's. */
  headers?: Record<string, string>
}

/** A scripted answer for the next request: a status alone gets Resend's usual body for it. */
export type ScriptedFailure = number | { status: number; name?: string; message?: string; retryAfter?: string }

// Bodies as Resend's error reference documents them (https://resend.com/docs/api-reference/errors).
const USUAL_FAILURES: Record<number, { name: string; message: string; retryAfter?: string }> = {
  429: {
    name: 'rate_limit_exceeded',
    message: 'Too many requests. Please limit the number of requests per second.',
    retryAfter: '1',
  },
  500: { name: 'internal_server_error', message: 'An unexpected error occurred.' },
}

/**
 * A loopback stand-in for Resend's `POST /emails`: it checks the bearer key, validates the
 * body, honours `Idempotency-Key` like Resend (same key and body: the first answer again and
 * no second email) and records what it accepted. `failNext` scripts outages.
 */
export async function startResendDouble({ apiKey = 're_test_double_key' }: { apiKey?: string } = {}) {
  const sent: ResendDoubleEmail[] = []
  const requests: ResendDoubleRequest[] = []
  const scripted: ScriptedFailure[] = []
  const byIdempotencyKey = new Map<string, { payload: string; id: string }>()
  const holds: Array<(request: ResendDoubleRequest) => void> = []

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req)
    const request: ResendDoubleRequest = {
      method: req.method ?? '',
      path: new URL(req.url ?? '/', 'http://double').pathname,
      headers: req.headers,
      body: parseJson(raw),
      status: 0,
    }
    requests.push(request)
    const answer = (status: number, body: object, headers: Record<string, string> = {}) => {
      request.status = status
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
    }
    const fail = (status: number, name: string, message: string, headers?: Record<string, string>) =>
      answer(status, { statusCode: status, name, message }, headers)

    if (request.path !== '/emails') return fail(404, 'not_found', 'The requested endpoint does not exist.')
    if (req.method !== 'POST') return fail(405, 'method_not_allowed', 'Method is not allowed for the requested path.')

    // A provider that hangs: no answer at all, until the client gives up or the double closes.
    const hold = holds.shift()
    if (hold) return hold(request)

    const outage = scripted.shift()
    if (outage !== undefined) {
      const { status, ...given } = typeof outage === 'number' ? { status: outage } : outage
      const usual = USUAL_FAILURES[status] ?? { name: 'application_error', message: 'Scripted failure.' }
      const retryAfter = given.retryAfter ?? usual.retryAfter
      return fail(status, given.name ?? usual.name, given.message ?? usual.message, retryAfter ? { 'retry-after': retryAfter } : {})
    }

    const authorization = req.headers.authorization
    if (!authorization?.startsWith('Bearer ')) return fail(401, 'missing_api_key', 'Missing API key in the authorization header.')
    if (authorization !== `Bearer ${apiKey}`) return fail(403, 'invalid_api_key', 'API key is invalid.')

    const body = request.body
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return fail(422, 'validation_error', 'The request body must be a JSON object.')
    }
    const email = body as Record<string, unknown>
    const missing = (['from', 'to', 'subject'] as const).find((field) => !email[field])
    if (missing) return fail(422, 'missing_required_field', `Missing \`${missing}\` field.`)
    if (!email.html && !email.text) return fail(422, 'missing_required_field', 'Missing `html` or `text` field.')
    for (const field of ['from', 'subject', 'html', 'text'] as const) {
      if (email[field] !== undefined && typeof email[field] !== 'string') {
        return fail(422, 'validation_error', `Invalid \`${field}\` field.`)
      }
    }

    const idempotencyKey = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined
    if (idempotencyKey !== undefined) {
      if (idempotencyKey.length < 1 || idempotencyKey.length > 256) {
        return fail(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.')
      }
      const earlier = byIdempotencyKey.get(idempotencyKey)
      if (earlier && earlier.payload !== raw) {
        return fail(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.')
      }
      if (earlier) return answer(200, { id: earlier.id })
    }

    const id = randomUUID()
    sent.push({
      id,
      from: email.from as string,
      to: email.to as string | string[],
      subject: email.subject as string,
      html: email.html as string | undefined,
      text: email.text as string | undefined,
      idempotencyKey,
      headers: email.headers as Record<string, string> | undefined,
    })
    if (idempotencyKey !== undefined) byIdempotencyKey.set(idempotencyKey, { payload: raw, id })
    answer(200, { id })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`resend double failed: ${String(err)}`)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    sent,
    requests,
    /**
     * The next request to `POST /emails` is recorded and never answered (a send in flight for as
     * long as the test likes); resolves with it when it arrives.
     */
    holdNext() {
      return new Promise<ResendDoubleRequest>((resolve) => holds.push(resolve))
    },
    /** The next requests to `POST /emails` get these answers, in order, before any other check. */
    failNext(failures: ScriptedFailure[]) {
      scripted.push(...failures)
    },
    close() {
      const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))
      // fetch keeps connections alive; without this, close would wait for them to time out.
      server.closeAllConnections()
      return closed
    },
  }
}

export type ResendDouble = Awaited<ReturnType<typeof startResendDouble>>

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}
