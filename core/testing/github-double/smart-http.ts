import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import { basicAuthPassword, httpBackendEnv, relayCgiAnswer } from '../../src/git-cgi.ts'
import { pushWebhooks } from './push.ts'
import { botJson, covers, type DoubleState, emitSubscribed } from './state.ts'
import { allows } from './tokens.ts'

/** `/OWNER/REPO.git/<endpoint>`, `.git` optional as on GitHub. */
const GIT_PATH = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/

/** No git request of a test should come near this; past it the backend is stopped. */
const MAX_REQUEST_MS = 5 * 60_000

export const isGitPath = (pathname: string) => GIT_PATH.test(pathname)


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

  const password = basicAuthPassword(req.headers.authorization)
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
      ...httpBackendEnv(req.headers, {
        projectRoot: path.dirname(path.dirname(repo.dir)),
        pathInfo: `/${repo.owner}/${repo.name}.git/${endpoint}`,
        method: req.method ?? 'GET',
        queryString: url.search.slice(1),
        remoteUser: 'x-access-token',
        remoteAddr: req.socket.remoteAddress ?? '127.0.0.1',
      }),
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

  relayCgiAnswer(child.stdout, res, { onHead: setStatus, onBadHead: killGroup })

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
