import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * The clone baseline: `git http-backend` as CGI behind a bare Node http server, with no
 * auth, no routing beyond the CGI variables and none of our code. Just enough for git's
 * smart HTTP clone and fetch (read-only: no REMOTE_USER, so receive-pack stays off).
 */
export async function startDirectGitServer(projectRoot: string) {
  const server = createServer((req, res) => serveCgi(projectRoot, req, res))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

function serveCgi(projectRoot: string, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const env: Record<string, string> = {
    // The same git configuration the gateway gives git, so only the code in front differs.
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_PROJECT_ROOT: projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: decodeURIComponent(url.pathname),
    REQUEST_METHOD: req.method ?? 'GET',
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
  }
  if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length']
  if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding']
  if (typeof req.headers['git-protocol'] === 'string') env.GIT_PROTOCOL = req.headers['git-protocol']

  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'inherit'] })
  req.pipe(child.stdin)
  child.stdin.on('error', () => {})
  let head = Buffer.alloc(0)
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk])
    const end = head.indexOf('\r\n\r\n')
    // A CGI head is a few lines: one that never ends is not buffered without bound.
    if (end < 0) {
      if (head.length > 64 * 1024) child.kill()
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
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10)
      else headers[name] = value
    }
    res.writeHead(status, headers)
    res.write(head.subarray(end + 4))
    child.stdout.pipe(res)
  }
  child.stdout.on('data', onData)
  child.on('close', () => {
    if (!res.headersSent) res.writeHead(502).end()
  })
}
