import { spawn } from 'node:child_process'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { CANDIDATE_SLUG, REFUSAL_MESSAGES, type Services } from '@takehome/core'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'

export interface GatewayOptions {
  services: Services
  /** Directory holding the candidate repositories (`<slug>.git`). */
  projectRoot: string
  rateLimit: { max: number; timeWindow: number }
}

const SERVICES = new Set(['git-upload-pack', 'git-receive-pack'])
const PATH = /^([^/]+)\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/

/** A pkt-line: four hex digits of length (including themselves), then the payload. */
const pktLine = (payload: string) => `${(Buffer.byteLength(payload) + 4).toString(16).padStart(4, '0')}${payload}`

/**
 * git smart HTTP for candidate repositories, through `git http-backend`. Every request
 * is authorised on its own (Basic auth, the password being the access token), at request
 * time; bodies stream both ways and never sit whole in memory.
 */
export const gitGateway: FastifyPluginAsync<GatewayOptions> = async (app, { services, projectRoot, rateLimit }) => {
  // Leave pack bodies unread: they are piped straight into git.
  app.addContentTypeParser(
    ['application/x-git-upload-pack-request', 'application/x-git-receive-pack-request'],
    (_request, _payload, done) => done(null),
  )

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const wildcard = (request.params as { '*': string })['*']
    const match = PATH.exec(wildcard)
    const slug = match?.[1]
    const endpoint = match?.[2]
    const service = endpoint === 'info/refs' ? (request.query as { service?: string }).service : endpoint
    if (!slug || !CANDIDATE_SLUG.test(slug) || !service || !SERVICES.has(service)) {
      return reply.status(404).send({ error: { code: 'repository_not_found', message: 'no such repository', request_id: request.id } })
    }
    if ((endpoint === 'info/refs') !== (request.method === 'GET')) {
      return reply.status(405).send({ error: { code: 'method_not_allowed', message: `${request.method} is not used here`, request_id: request.id } })
    }

    const password = basicPassword(request.headers.authorization)
    if (password === undefined) {
      // git sends credentials only after being asked for them.
      return reply.status(401).header('www-authenticate', 'Basic realm="Takehome"').send('authentication required\n')
    }
    const access = await services.access.check(password, { slug, context: 'git' })
    if (!access.ok) {
      request.log.info({ slug, service, refusal: access.refusal }, 'git access refused')
      const message = REFUSAL_MESSAGES[access.refusal]
      if (endpoint === 'info/refs') {
        // An ERR line in the advertisement makes git print "remote error: <message>".
        return reply
          .status(200)
          .type(`application/x-${service}-advertisement`)
          .header('cache-control', 'no-cache')
          .send(`${pktLine(`# service=${service}\n`)}0000${pktLine(`ERR ${message}`)}`)
      }
      return reply.status(403).type('text/plain').send(`${message}\n`)
    }

    reply.hijack()
    runHttpBackend(request, reply.raw, {
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: `/${slug}.git/${endpoint}`,
      REQUEST_METHOD: request.method,
      QUERY_STRING: endpoint === 'info/refs' ? `service=${service}` : '',
      REMOTE_USER: `candidate-${access.grant.invitationId}`,
      REMOTE_ADDR: request.ip,
      CONTENT_TYPE: request.headers['content-type'] ?? '',
      ...(request.headers['content-length'] ? { CONTENT_LENGTH: request.headers['content-length'] } : {}),
      ...(request.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: request.headers['content-encoding'] } : {}),
      ...(typeof request.headers['git-protocol'] === 'string' ? { GIT_PROTOCOL: request.headers['git-protocol'] } : {}),
    })
  }

  app.route({ method: ['GET', 'POST'], url: '/r/*', config: { rateLimit }, handler })
}

function basicPassword(header: string | undefined): string | undefined {
  const encoded = header && /^basic\s+(\S+)\s*$/i.exec(header)?.[1]
  if (!encoded) return undefined
  const decoded = Buffer.from(encoded, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? undefined : decoded.slice(colon + 1)
}

/**
 * Runs `git http-backend` as CGI: the request body is piped to its stdin, its header
 * block becomes the response head and the rest is piped back, with backpressure.
 */
function runHttpBackend(request: FastifyRequest, res: ServerResponse, cgiEnv: Record<string, string>) {
  const log = request.log
  const child = spawn('git', ['http-backend'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GIT_CONFIG_NOSYSTEM: '1', ...cgiEnv },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const raw: IncomingMessage = request.raw
  raw.pipe(child.stdin)
  child.stdin.on('error', () => {}) // git may stop reading early (a refused push); the exit code tells
  raw.on('aborted', () => child.kill('SIGKILL'))
  res.on('close', () => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })

  let head = Buffer.alloc(0)
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk])
    const end = head.indexOf('\r\n\r\n')
    if (end < 0) {
      if (head.length > 64 * 1024) fail(new Error('git http-backend sent no header block'))
      return
    }
    child.stdout.off('data', onData)
    let status = 200
    const headers: Record<string, string> = {}
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':')
      if (colon < 0) continue
      const name = line.slice(0, colon).trim()
      const value = line.slice(colon + 1).trim()
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500
      else headers[name] = value
    }
    res.writeHead(status, headers)
    res.write(head.subarray(end + 4))
    child.stdout.pipe(res)
  }
  child.stdout.on('data', onData)

  let stderr = ''
  child.stderr.on('data', (b: Buffer) => {
    if (stderr.length < 4096) stderr += b.toString('utf8')
  })
  child.on('close', (code) => {
    if (code !== 0) log.warn({ code, stderr: stderr.slice(0, 1000) }, 'git http-backend failed')
    if (!res.headersSent) fail(new Error(`git http-backend exited with ${code}`))
  })
  child.on('error', fail)

  function fail(err: Error) {
    log.error({ err }, 'git gateway error')
    child.kill('SIGKILL')
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('git backend failed\n')
    else res.destroy()
  }
}
