import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'

/** A CGI head is a few lines: one that never ends is not buffered without bound. */
export const MAX_CGI_HEAD_BYTES = 64 * 1024

/** The password of an `Authorization: Basic` header (git sends the credential it was given there), if it is one. */
export function basicAuthPassword(header: string | undefined): string | undefined {
  const encoded = header && /^basic\s+(\S+)\s*$/i.exec(header)?.[1]
  if (!encoded) return undefined
  const decoded = Buffer.from(encoded, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? undefined : decoded.slice(colon + 1)
}

export interface HttpBackendRequest {
  /** The directory the repository paths are under. */
  projectRoot: string
  /** `/<repository>.git/<endpoint>`. */
  pathInfo: string
  method: string
  queryString: string
  remoteUser?: string
  remoteAddr?: string
}

/**
 * The environment of `git http-backend` for one request: the CGI variables it reads, from
 * the headers git's client sent, and no system git configuration. Nothing else of this
 * process's environment reaches git.
 */
export function httpBackendEnv(headers: IncomingHttpHeaders, request: HttpBackendRequest): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_PROJECT_ROOT: request.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: request.pathInfo,
    REQUEST_METHOD: request.method,
    QUERY_STRING: request.queryString,
    CONTENT_TYPE: headers['content-type'] ?? '',
  }
  if (request.remoteUser !== undefined) env.REMOTE_USER = request.remoteUser
  if (request.remoteAddr !== undefined) env.REMOTE_ADDR = request.remoteAddr
  if (headers['content-length']) env.CONTENT_LENGTH = headers['content-length']
  if (headers['content-encoding']) env.HTTP_CONTENT_ENCODING = headers['content-encoding']
  if (typeof headers['git-protocol'] === 'string') env.GIT_PROTOCOL = headers['git-protocol']
  return env
}

/**
 * Relays `git http-backend`'s answer: its CGI header block becomes the response head (a
 * `Status:` line the status) and the rest is piped through with backpressure. `onHead` hears
 * the status once the head is written; `onBadHead` is called, and nothing written, when the
 * block grows past MAX_CGI_HEAD_BYTES without ending.
 */
export function relayCgiAnswer(stdout: Readable, res: ServerResponse, handlers: { onHead?: (status: number) => void; onBadHead: () => void }) {
  let head = Buffer.alloc(0)
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk])
    const end = head.indexOf('\r\n\r\n')
    if (end < 0) {
      if (head.length > MAX_CGI_HEAD_BYTES) {
        stdout.off('data', onData)
        handlers.onBadHead()
      }
      return
    }
    stdout.off('data', onData)
    let status = 200
    const fields: Record<string, string> = {}
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':')
      if (colon < 0) continue
      const name = line.slice(0, colon).trim()
      const value = line.slice(colon + 1).trim()
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500
      else fields[name] = value
    }
    handlers.onHead?.(status)
    res.writeHead(status, fields)
    res.write(head.subarray(end + 4))
    stdout.pipe(res)
  }
  stdout.on('data', onData)
}
