import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import { pushWebhooks } from './push.ts'
import { botJson, covers, type DoubleState, emitSubscribed } from './state.ts'
import { allows } from './tokens.ts'

/** `/OWNER/REPO.git/<endpoint>`, `.git` optional as on GitHub. */
const GIT_PATH = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/

/** No git request of a test should come near this; past it the backend is stopped. */
const MAX_REQUEST_MS = 5 * 60_000

export const isGitPath = (pathname: string) => GIT_PATH.test(pathname)

function basicPassword(header: string | undefined): string | undefined {
  const encoded = header && /^basic\s+(\S+)\s*$/i.exec(header)?.[1]
  if (!encoded) return undefined
  const decoded = Buffer.from(encoded, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? undefined : decoded.slice(colon + 1)
}

/**
 * git smart HTTP as GitHub serves it: Basic auth with an installation token as the
 * password (any user name), anonymous reads of public repositories, GitHub's refusals and
 * texts. `setStatus` learns the status answered, for the request log.
 */
export async function serveGit(state: DoubleState, req: IncomingMessage, res: ServerResponse, url: URL, setStatus: (status: number) => void) {
  const [, owner, name, endpoint] = GIT_PATH.exec(url.pathname) as unknown as [string, string, string, string]
  const service = endpoint === 'info/refs' ? url.searchParams.get('service') : endpoint
  const text = (status: number, body: string, headers: Record<string, string> = {}) => {
    setStatus(status)
    // The body of a refused push was never read: close rather than wait for the rest of it.
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close', ...headers }).end(`${body}\n`)
  }
  if (service !== 'git-upload-pack' && service !== 'git-receive-pack') return text(403, 'Service not enabled')
  if ((endpoint === 'info/refs') !== (req.method === 'GET')) return text(405, 'Method Not Allowed')
  const push = service === 'git-receive-pack'
  const repo = state.repos.get(`${owner}/${name}`)

  const password = basicPassword(req.headers.authorization)
  const askForCredentials = (message: string) => text(401, message, { 'www-authenticate': 'Basic realm="GitHub"' })
  const token = password === undefined ? undefined : state.tokens.live(password)
  if (password !== undefined && !token) return askForCredentials('Invalid username or token. Password authentication is not supported for Git operations.')
  const covered = repo !== undefined && token !== undefined && covers(state, token, repo)
  if (!token && (push || !repo || repo.private)) return askForCredentials('Authentication required')
  if (!repo || (!covered && repo.private)) return text(404, 'Repository not found.')
  const allowed = covered ? allows(token!.permissions.contents, push ? 'write' : 'read') : !push
  if (!allowed) return text(403, `Permission to ${repo.fullName}.git denied to ${botJson(state).login}.`)
  if (push && repo.archived) return text(403, 'This repository was archived so it is read-only.')

  const pushLog = push && endpoint !== 'info/refs' ? path.join(state.pushLogDir, randomUUID()) : undefined
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_PROJECT_ROOT: path.dirname(path.dirname(repo.dir)),
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: `/${repo.owner}/${repo.name}.git/${endpoint}`,
      REQUEST_METHOD: req.method ?? 'GET',
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: 'x-access-token',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      ...(typeof req.headers['git-protocol'] === 'string' ? { GIT_PROTOCOL: req.headers['git-protocol'] } : {}),
      DOUBLE_WORKFLOWS: token && allows(token.permissions.workflows, 'write') ? 'write' : 'none',
      ...(pushLog ? { DOUBLE_PUSH_LOG: pushLog } : {}),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
    detached: true,
  })
  const killGroup = () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
  }
  const tooLong = setTimeout(killGroup, MAX_REQUEST_MS)
  req.pipe(child.stdin)
  child.stdin.on('error', () => {}) // git may stop reading early (a refused push); its answer says why
  res.on('close', killGroup)

  // The CGI header block becomes the response head; the rest streams through.
  let head = Buffer.alloc(0)
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk])
    const end = head.indexOf('\r\n\r\n')
    if (end < 0) {
      if (head.length > 64 * 1024) killGroup()
      return
    }
    child.stdout.off('data', onData)
    let status = 200
    const headers: Record<string, string> = {}
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':')
      if (colon < 0) continue
      const field = line.slice(0, colon).trim()
      const value = line.slice(colon + 1).trim()
      if (field.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500
      else headers[field] = value
    }
    setStatus(status)
    res.writeHead(status, headers)
    res.write(head.subarray(end + 4))
    child.stdout.pipe(res)
  }
  child.stdout.on('data', onData)

  const exitCode = await new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(null))
    child.on('close', resolve)
  })
  clearTimeout(tooLong)
  if (!res.headersSent) text(502, 'git http-backend failed')
  if (!pushLog) return
  const updated = await readFile(pushLog, 'utf8').catch(() => '')
  await rm(pushLog, { force: true })
  if (exitCode !== 0 || updated === '') return
  repo.pushedAt = new Date()
  for (const { event, payload } of await pushWebhooks(state, repo, updated)) emitSubscribed(state, event, payload)
}
