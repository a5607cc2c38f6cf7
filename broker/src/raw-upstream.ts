import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import net from 'node:net'
import tls from 'node:tls'

/** An answer's head is a few lines: one that never ends is not buffered without bound. */
export const MAX_HEAD_BYTES = 64 * 1024

export interface RawHead {
  status: number
  /** Field names in lower case; a repeated field keeps its last value (git's answers repeat none we pass on). */
  headers: Record<string, string>
}

export interface RawUpstream {
  /** The connection: after `onHead`, the rest of the answer, exactly as GitHub framed it. */
  socket: net.Socket
  destroy(): void
}

/**
 * One HTTP/1.1 request on a connection of its own that ends with the answer
 * (`Connection: close`), whose body is handed on as the connection's bytes, framing and
 * all, instead of through Node's HTTP client. A clone's pack is the one large answer git
 * gets: parsing every byte of it here and framing it again for git cost more CPU than the
 * copy itself (a third more wall time for a clone on two cores), while git can read
 * GitHub's framing as well as ours.
 *
 * The request body, when there is one, is sent as git sent it: with its Content-Length,
 * else chunked. `onHead` hears the final head (1xx heads are skipped) with the body bytes
 * that came with it; `onError` hears a failure before it, or a head that is not HTTP.
 */
export function rawRequest(
  target: URL,
  request: { method: string; headers: OutgoingHttpHeaders; body?: IncomingMessage },
  handlers: { onHead(head: RawHead, rest: Buffer): void; onError(err: Error): void },
): RawUpstream {
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1')
  const https = target.protocol === 'https:'
  const port = Number(target.port) || (https ? 443 : 80)
  const socket = https ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'] }) : net.connect({ host, port })
  socket.setNoDelay(true)

  const { body } = request
  const chunked = body !== undefined && body.headers['content-length'] === undefined
  const lines = [`${request.method} ${target.pathname}${target.search} HTTP/1.1`, `host: ${target.host}`]
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name === 'content-length' || name === 'transfer-encoding' || name === 'connection') continue
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`)
  }
  if (body !== undefined) lines.push(chunked ? 'transfer-encoding: chunked' : `content-length: ${body.headers['content-length']}`)
  lines.push('connection: close', '', '')
  socket.write(lines.join('\r\n'))
  if (body !== undefined) sendBody(body, socket, chunked)

  let head: Buffer = Buffer.alloc(0)
  let settled = false
  const fail = (err: Error) => {
    if (settled) return
    settled = true
    socket.off('data', onData)
    handlers.onError(err)
  }
  const onData = (chunk: Buffer) => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk])
    for (;;) {
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) fail(new Error('the answer\'s head is too long'))
        return
      }
      const parsed = parseHead(head.subarray(0, end).toString('latin1'))
      if (!parsed) return fail(new Error('the answer is not HTTP'))
      head = head.subarray(end + 4)
      // An interim answer (100 Continue, 103 Early Hints) comes before the real one.
      if (parsed.status >= 100 && parsed.status < 200) continue
      settled = true
      socket.off('data', onData)
      socket.pause()
      return handlers.onHead(parsed, head)
    }
  }
  socket.on('data', onData)
  socket.on('error', fail)
  socket.on('end', () => fail(Object.assign(new Error('GitHub closed the connection before answering'), { code: 'ECONNRESET' })))
  return { socket, destroy: () => socket.destroy() }
}

/** Sends git's body on the connection, never half-closing it: some servers take that for the client leaving. */
function sendBody(body: IncomingMessage, socket: net.Socket, chunked: boolean) {
  if (!chunked) return void body.pipe(socket, { end: false })
  body.on('data', (chunk: Buffer) => {
    if (chunk.length === 0) return
    socket.cork()
    socket.write(`${chunk.length.toString(16)}\r\n`)
    if (!socket.write(chunk)) body.pause()
    socket.write('\r\n')
    socket.uncork()
  })
  socket.on('drain', () => body.resume())
  body.on('end', () => socket.write('0\r\n\r\n'))
}

function parseHead(text: string): RawHead | undefined {
  const [statusLine, ...fields] = text.split('\r\n')
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine ?? '')?.[1]
  if (!status) return undefined
  const headers: Record<string, string> = {}
  for (const field of fields) {
    const colon = field.indexOf(':')
    if (colon <= 0) return undefined
    headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim()
  }
  return { status: Number(status), headers }
}
