import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { PassThrough } from 'node:stream'
import t, { type Test } from 'tap'
import { httpBackendEnv, MAX_CGI_HEAD_BYTES, relayCgiAnswer } from '../src/git-cgi.ts'

t.test("git http-backend's environment: the CGI variables from git's request, nothing else of ours", async (t) => {
  process.env.TAKEHOME_SECRET_FOR_THIS_TEST = 'never passed on'
  t.teardown(() => delete process.env.TAKEHOME_SECRET_FOR_THIS_TEST)
  const env = httpBackendEnv(
    { 'content-type': 'application/x-git-upload-pack-request', 'content-length': '42', 'content-encoding': 'gzip', 'git-protocol': 'version=2' },
    { projectRoot: '/repos', pathInfo: '/r.git/git-upload-pack', method: 'POST', queryString: '', remoteUser: 'candidate-1', remoteAddr: '127.0.0.1' },
  )
  t.match(env, {
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_PROJECT_ROOT: '/repos',
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: '/r.git/git-upload-pack',
    REQUEST_METHOD: 'POST',
    CONTENT_TYPE: 'application/x-git-upload-pack-request',
    CONTENT_LENGTH: '42',
    HTTP_CONTENT_ENCODING: 'gzip',
    GIT_PROTOCOL: 'version=2',
    REMOTE_USER: 'candidate-1',
    REMOTE_ADDR: '127.0.0.1',
  })
  t.notOk('TAKEHOME_SECRET_FOR_THIS_TEST' in env, "the process's own variables stay here")
  const bare = httpBackendEnv({}, { projectRoot: '/repos', pathInfo: '/r.git/info/refs', method: 'GET', queryString: 'service=git-upload-pack' })
  t.same(Object.keys(bare).filter((k) => /^(CONTENT_LENGTH|HTTP_CONTENT_ENCODING|GIT_PROTOCOL|REMOTE_USER|REMOTE_ADDR)$/.test(k)), [], 'absent headers set nothing')
})

/** A server whose one answer is relayed from what the test writes as the CGI's stdout. */
async function relayed(t: Test, write: (stdout: PassThrough) => void) {
  const events: string[] = []
  const server = http.createServer((_req, res) => {
    const stdout = new PassThrough()
    relayCgiAnswer(stdout, res, {
      onHead: (status) => events.push(`head ${status}`),
      onBadHead: () => {
        events.push('bad head')
        res.writeHead(502).end()
      },
    })
    write(stdout)
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
  return { status: res.status, headers: res.headers, body: await res.text(), events }
}

t.test('the CGI head becomes the response head, split anywhere; the rest streams through', async (t) => {
  const answer = await relayed(t, (stdout) => {
    stdout.write('Status: 403 Forbidden\r\nContent-Ty')
    stdout.write('pe: text/plain\r\nExpires: Fri, 01 Jan 1980 00:00:00 GMT\r\n\r\nrefused')
    stdout.end(' at once\n')
  })
  t.same([answer.status, answer.headers.get('content-type'), answer.headers.get('expires'), answer.body], [403, 'text/plain', 'Fri, 01 Jan 1980 00:00:00 GMT', 'refused at once\n'])
  t.same(answer.events, ['head 403'])
  const plain = await relayed(t, (stdout) => stdout.end('Content-Type: application/x-git-upload-pack-advertisement\r\n\r\n001e# service=git-upload-pack\n'))
  t.same([plain.status, plain.body], [200, '001e# service=git-upload-pack\n'], 'no Status line: 200')
})

t.test('a head that never ends is not buffered past its bound', async (t) => {
  const answer = await relayed(t, (stdout) => stdout.write(`X-Long: ${'x'.repeat(MAX_CGI_HEAD_BYTES)}`))
  t.same([answer.status, answer.events], [502, ['bad head']])
})
