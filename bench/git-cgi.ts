import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { httpBackendEnv, relayCgiAnswer } from '@takehome/core'

/**
 * The clone baseline: `git http-backend` as CGI behind a bare Node http server, with no
 * auth, no routing beyond the CGI variables and none of the gateway's code but the CGI
 * relay it uses too (core's git-cgi.ts). Just enough for git's
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
  // The same git configuration the gateway gives git, so only the code in front differs.
  const env = httpBackendEnv(req.headers, {
    projectRoot,
    pathInfo: decodeURIComponent(url.pathname),
    method: req.method ?? 'GET',
    queryString: url.search.slice(1),
  })
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'inherit'] })
  req.pipe(child.stdin)
  child.stdin.on('error', () => {})
  relayCgiAnswer(child.stdout, res, { onBadHead: () => child.kill() })
  child.on('close', () => {
    if (!res.headersSent) res.writeHead(502).end()
  })
}
