// The GitHub double in a process of its own, as GitHub is another machine: the git
// processes it starts (one `git http-backend` per request) are forked from this small
// process, not from the app's, where each fork of a process holding an embedded database
// costs tens of milliseconds of the app's event loop. Started by startGitHub() (bench/app.ts)
// with fork(): it sends what the app needs to reach it, then answers where a repository lives.
import { startGitHubDouble } from '@takehome/core/testing'

export type DoubleMessage = { ready: { config: Awaited<ReturnType<typeof startGitHubDouble>>['config']; webUrl: string; org: string } } | { id: number; dir?: string }
export type DoubleRequest = { id: number; repo: string } | 'close'

const double = await startGitHubDouble()
const send = (message: DoubleMessage) => process.send!(message)
send({ ready: { config: double.config, webUrl: double.webUrl, org: double.org } })
process.on('message', (request: DoubleRequest) => {
  if (request === 'close') void double.close().finally(() => process.exit(0))
  else send({ id: request.id, dir: double.repo(request.repo)?.dir })
})
