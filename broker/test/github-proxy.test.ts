// The gateway in GitHub mode, against an upstream the test scripts: what is forwarded each
// way, how GitHub's refusals and absence reach git, that bodies stream with backpressure
// both ways, and that pushes are cut at their size limit, their deadline and their end.
import { createHash, randomBytes } from 'node:crypto'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import net from 'node:net'
import t, { type Test } from 'tap'
import { ACCESS_TOKEN, basic, fakeAccess, fakeRemote, INSTALLATION_TOKEN, listen, REPO, serveBroker, SLUG } from './fakes.ts'

const MB = 1024 * 1024

interface Seen {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
}

/** An upstream that records what reached it and answers with `handler`. */
async function upstreamOf(t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: Seen[] = []
  const url = await listen(t, (req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers })
    handler(req, res)
  })
  return { url, seen }
}

async function gateway(t: Test, upstream: string, options: Parameters<typeof fakeAccess>[0] & { limits?: Parameters<typeof serveBroker>[1]['limits'] } = {}) {
  const fake = fakeAccess(options)
  const remote = fakeRemote(upstream)
  const served = await serveBroker(t, { access: fake.access, remote: remote.remote, limits: options.limits })
  return { ...served, ...fake, remote, repoUrl: `${served.base}/r/${SLUG}.git` }
}

/** One request to the gateway, with everything it answered (or how it ended). */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer }) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer } | { error: string }>((resolve) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false })
    req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }))
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', (err) => resolve({ error: err.message }))
    })
    req.end(options.body)
  })
}

const pkt = (payload: string | Buffer) => {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload)
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0')), body])
}
/** The start of a receive-pack body: one command with its capabilities, a flush, then the "pack". */
const pushBody = (capabilities: string, pack: Buffer) =>
  Buffer.concat([pkt(`${'0'.repeat(40)} ${'1'.repeat(40)} refs/heads/main\0${capabilities}`), Buffer.from('0000'), pack])

/** Polls `done` every 25 ms, at most `tries` times; the bound keeps a broken test from hanging. */
async function until(what: string, done: () => boolean, tries = 800) {
  for (let i = 0; i < tries; i++) {
    if (done()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`gave up waiting: ${what}`)
}

t.test('requests reach the repository with our installation token and the headers git needs; answers keep only what git needs', async (t) => {
  const upstream = await upstreamOf(t, (req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/x-git-upload-pack-advertisement',
        'cache-control': 'no-cache',
        'set-cookie': 'session=github',
        'www-authenticate': 'Basic realm="GitHub"',
        'x-github-request-id': 'ABC',
      })
      res.end('001e# service=git-upload-pack\n0000')
    })
  })
  const gw = await gateway(t, upstream.url)
  const refs = await send(`${gw.repoUrl}/info/refs?service=git-upload-pack`, {
    headers: { ...basic(ACCESS_TOKEN), 'git-protocol': 'version=2', 'user-agent': 'git/2.39.5', accept: '*/*', cookie: 'ours=1', 'x-forwarded-for': '10.0.0.1' },
  })
  t.match(refs, { status: 200, body: Buffer.from('001e# service=git-upload-pack\n0000') })
  const answered = (refs as { headers: http.IncomingHttpHeaders }).headers
  t.equal(answered['content-type'], 'application/x-git-upload-pack-advertisement')
  t.equal(answered['cache-control'], 'no-cache')
  for (const name of ['set-cookie', 'www-authenticate', 'x-github-request-id']) t.notOk(answered[name], `no ${name} from GitHub`)

  const post = await send(`${gw.repoUrl}/git-upload-pack`, {
    method: 'POST',
    headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-upload-pack-request', 'content-encoding': 'gzip', 'git-protocol': 'version=2' },
    body: Buffer.from('0000'),
  })
  t.match(post, { status: 200 })

  t.same(upstream.seen.map((s) => `${s.method} ${s.url}`), [`GET /${REPO}.git/info/refs?service=git-upload-pack`, `POST /${REPO}.git/git-upload-pack`])
  const ours = `Basic ${Buffer.from(`x-access-token:${INSTALLATION_TOKEN}`).toString('base64')}`
  for (const { headers } of upstream.seen) t.equal(headers.authorization, ours, 'our installation token, never the candidate\'s access token')
  t.match(upstream.seen[0]!.headers, { 'git-protocol': 'version=2', 'user-agent': 'git/2.39.5', accept: '*/*' })
  for (const name of ['cookie', 'x-forwarded-for']) t.notOk(upstream.seen[0]!.headers[name], `no ${name} forwarded`)
  t.match(upstream.seen[1]!.headers, { 'content-type': 'application/x-git-upload-pack-request', 'content-encoding': 'gzip', 'content-length': '4' })
  t.same(gw.remote.minted, [{ repoFullName: REPO, workflows: false }, { repoFullName: REPO, workflows: false }])
  t.notOk(gw.lines.some((l) => l.includes(INSTALLATION_TOKEN) || l.includes(ACCESS_TOKEN)), 'no token in any log line')
})

t.test('refused access never reaches GitHub; GitHub\'s refusals and absence reach git in words, quickly', async (t) => {
  let status = 200
  const upstream = await upstreamOf(t, (req, res) => {
    req.resume()
    res.writeHead(status, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="GitHub"' }).end('Repository not found.\n')
  })
  const gw = await gateway(t, upstream.url)
  const refs = (password: string) => send(`${gw.repoUrl}/info/refs?service=git-receive-pack`, { headers: basic(password) })
  const errLine = (res: Awaited<ReturnType<typeof send>>) => ('body' in res ? /ERR (.*)$/.exec(res.body.toString())?.[1] : undefined)

  t.equal(errLine(await refs(`${ACCESS_TOKEN.slice(0, -1)}x`)), 'this access token is not known')
  gw.state.refusal = 'submitted'
  t.equal(errLine(await refs(ACCESS_TOKEN)), 'the assessment was submitted; the repository is closed')
  const anonymous = await send(`${gw.repoUrl}/info/refs?service=git-receive-pack`, {})
  t.match(anonymous, { status: 401, headers: { 'www-authenticate': 'Basic realm="Takehome"' } })
  t.equal(upstream.seen.length, 0, 'none of these reached GitHub')
  gw.state.refusal = undefined

  const cases: Array<[number, string, number]> = [
    [401, 'GitHub did not accept the credential for this repository; try again in a minute', 403],
    [403, 'GitHub refused this request: the repository is read-only (archived) or the change is not allowed', 403],
    [404, 'the repository was not found on GitHub', 404],
    [500, 'GitHub answered 500; try again in a minute', 502],
    [301, 'GitHub answered 301; try again in a minute', 502],
  ]
  for (const [upstreamStatus, message, postStatus] of cases) {
    status = upstreamStatus
    const res = await refs(ACCESS_TOKEN)
    t.equal(errLine(res), message, `${upstreamStatus} in the advertisement`)
    t.notOk('headers' in res && res.headers['www-authenticate'], 'no challenge from GitHub: git would prompt')
    const post = await send(`${gw.repoUrl}/git-receive-pack`, {
      method: 'POST',
      headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-receive-pack-request' },
      body: Buffer.from('0000'),
    })
    t.match(post, { status: postStatus, body: Buffer.from(`${message}\n`) }, `${upstreamStatus} on a POST`)
  }

  gw.remote.state.failing = true
  t.equal(errLine(await refs(ACCESS_TOKEN)), 'GitHub could not be reached; try again in a minute', 'no token from GitHub')
  t.ok(gw.lines.some((l) => l.includes('no credential from GitHub')), 'logged for the operator')
})

t.test('GitHub unreachable: 502 with a message, never a hang', async (t) => {
  // A port that was just free: connections to it are refused.
  const closed = await new Promise<string>((resolve) => {
    const server = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(`http://127.0.0.1:${port}`))
    })
  })
  const gw = await gateway(t, closed)
  const refs = await send(`${gw.repoUrl}/info/refs?service=git-upload-pack`, { headers: basic(ACCESS_TOKEN) })
  t.match(refs, { status: 200 })
  t.match((refs as { body: Buffer }).body.toString(), /ERR GitHub could not be reached; try again in a minute$/)
  const post = await send(`${gw.repoUrl}/git-upload-pack`, {
    method: 'POST',
    headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-upload-pack-request' },
    body: Buffer.from('0000'),
  })
  t.match(post, { status: 502, body: Buffer.from('GitHub could not be reached; try again in a minute\n') })
  t.ok(gw.lines.some((l) => l.includes('GitHub could not be reached') && l.includes('ECONNREFUSED')), 'logged with the reason')
})

t.test('an upstream that never answers is ended by the idle timeout, with its upstream request', async (t) => {
  const upstreamClosed: string[] = []
  const upstream = await upstreamOf(t, (req) => req.on('close', () => upstreamClosed.push(req.url!)))
  const gw = await gateway(t, upstream.url, { limits: { idleTimeoutMs: 300 } })
  const res = await send(`${gw.repoUrl}/info/refs?service=git-upload-pack`, { headers: basic(ACCESS_TOKEN) })
  t.ok('error' in res, `the connection was ended (${JSON.stringify(res)})`)
  await until('the upstream request is closed', () => upstreamClosed.length === 1)
  t.ok(gw.lines.some((l) => l.includes('"reason":"idle"')))
})

t.test('a push GitHub answers, then works on quietly for longer than the idle timeout, reaches git whole', async (t) => {
  const idleTimeoutMs = 200
  const report = pkt('\u0001000eunpack ok\n0017ok refs/heads/main\n0000')
  const upstream = await upstreamOf(t, (req, res) => {
    // As git http-backend does: the head at once; then receive-pack checks the pack and runs
    // its hooks, saying nothing (git push --quiet) for several idle timeouts.
    res.writeHead(200, { 'content-type': 'application/x-git-receive-pack-result' })
    res.flushHeaders()
    req.resume()
    req.on('end', () => setTimeout(() => res.end(Buffer.concat([report, Buffer.from('0000')])), idleTimeoutMs * 5))
  })
  const gw = await gateway(t, upstream.url, { limits: { idleTimeoutMs } })
  const res = await send(`${gw.repoUrl}/git-receive-pack`, {
    method: 'POST',
    headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-receive-pack-request' },
    body: pushBody('report-status side-band-64k quiet', randomBytes(1024)),
  })
  t.match(res, { status: 200, body: Buffer.concat([report, Buffer.from('0000')]) }, 'the report arrived')
  t.notOk(gw.lines.some((l) => l.includes('"reason":"idle"')), 'not stopped as idle')
})

t.test('a git that stalls is still stopped at the idle timeout while GitHub waits on it', async (t) => {
  const upstream = await upstreamOf(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-git-receive-pack-result' })
    res.flushHeaders()
    req.resume()
  })
  const gw = await gateway(t, upstream.url, { limits: { idleTimeoutMs: 200 } })

  // Sending: part of a push, then nothing more.
  const pushing = http.request(`${gw.repoUrl}/git-receive-pack`, {
    method: 'POST',
    agent: false,
    headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-receive-pack-request', 'content-length': '100000' },
  })
  let ended = false
  pushing.on('error', () => (ended = true)).on('response', (r) => r.resume().on('close', () => (ended = true)))
  t.teardown(() => void pushing.destroy())
  pushing.write(pushBody('report-status side-band-64k', randomBytes(1024)))
  await until('the stalled push is stopped', () => gw.lines.some((l) => l.includes('"reason":"idle"')))
  await until('its connection is ended', () => ended)
  t.pass('a push that stops sending is stopped')
})

t.test('a git that stops reading GitHub\'s answer is still stopped at the idle timeout', async (t) => {
  const upstream = await upstreamOf(t, (req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-result' })
    const chunk = randomBytes(MB)
    const more = () => {
      while (res.write(chunk));
      res.once('drain', more)
    }
    more()
  })
  const gw = await gateway(t, upstream.url, { limits: { idleTimeoutMs: 200 } })
  const req = http.request(`${gw.repoUrl}/git-upload-pack`, {
    method: 'POST',
    agent: false,
    headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-upload-pack-request' },
  })
  const res = await new Promise<IncomingMessage>((resolve) => {
    req.on('response', resolve)
    req.end('0000')
  })
  t.teardown(() => void req.destroy())
  res.pause()
  await until('the clone that reads nothing is stopped', () => gw.lines.some((l) => l.includes('"reason":"idle"')))
  t.pass('stopped as idle')
})

t.test('a push streams to GitHub with backpressure: while GitHub reads nothing, the gateway holds only buffers', async (t) => {
  let release: () => void = () => {}
  const received = { bytes: 0, hash: createHash('sha256') }
  const upstream = await upstreamOf(t, (req, res) => {
    req.pause()
    release = () => {
      req.on('data', (chunk: Buffer) => {
        received.bytes += chunk.length
        received.hash.update(chunk)
      })
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-git-receive-pack-result' }).end('0000'))
      req.resume()
    }
  })
  const gw = await gateway(t, upstream.url)
  const size = 64 * MB
  const chunk = randomBytes(MB)
  const sent = createHash('sha256')
  const req = http.request(`${gw.repoUrl}/git-receive-pack`, {
    method: 'POST',
    agent: false,
    headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-receive-pack-request' },
  })
  const response = new Promise<number>((resolve, reject) => {
    req.on('error', reject)
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
    })
  })
  // Writes as fast as the gateway takes it: a write that returns false waits for drain.
  let written = 0
  let blockedSince = 0
  const writeAll = (async () => {
    while (written < size) {
      sent.update(chunk)
      written += chunk.length
      const more = written < size ? req.write(chunk) : (req.end(chunk), true)
      if (!more) {
        blockedSince = Date.now()
        await new Promise((resolve) => req.once('drain', resolve))
        blockedSince = 0
      }
    }
  })()
  // Blocked for a second with GitHub having read nothing: what was written sits in buffers.
  await until('the client is blocked', () => written >= size || (blockedSince > 0 && Date.now() - blockedSince > 1_000))
  t.ok(written < size / 2, `the client could write only ${Math.round(written / MB)} MiB of ${size / MB} MiB while GitHub read nothing`)
  t.equal(received.bytes, 0)
  release()
  await writeAll
  t.equal(await response, 200)
  t.equal(received.bytes, size, 'every byte arrived')
  t.equal(received.hash.digest('hex'), sent.digest('hex'), 'unchanged')
})

t.test('a clone streams from GitHub with backpressure: while git reads nothing, GitHub cannot send it all', async (t) => {
  const size = 64 * MB
  const chunk = randomBytes(MB)
  let written = 0
  let blockedSince = 0
  const upstream = await upstreamOf(t, (req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-result' })
    void (async () => {
      while (written < size) {
        written += chunk.length
        if (!res.write(chunk)) {
          blockedSince = Date.now()
          await new Promise((resolve) => res.once('drain', resolve))
          blockedSince = 0
        }
      }
      res.end()
    })()
  })
  const gw = await gateway(t, upstream.url)
  const req = http.request(`${gw.repoUrl}/git-upload-pack`, {
    method: 'POST',
    agent: false,
    headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-upload-pack-request' },
  })
  const res = await new Promise<IncomingMessage>((resolve) => {
    req.on('response', resolve)
    req.end('0000')
  })
  res.pause()
  await until('GitHub is blocked', () => written >= size || (blockedSince > 0 && Date.now() - blockedSince > 1_000))
  t.ok(written < size / 2, `GitHub could send only ${Math.round(written / MB)} MiB of ${size / MB} MiB while git read nothing`)
  let read = 0
  res.on('data', (c: Buffer) => (read += c.length))
  res.resume()
  await new Promise((resolve) => res.on('end', resolve))
  t.equal(read, size, 'every byte arrived')
})

t.test('a clone\'s pack is fetched on a connection of its own and reaches git byte for byte, however GitHub frames it', async (t) => {
  const pack = randomBytes(3 * MB + 123)
  let framing: 'chunked' | 'length' = 'chunked'
  const received: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }> = []
  const upstream = await upstreamOf(t, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) })
      res.writeContinue() // an interim answer first: skipped, never passed on
      const head = { 'content-type': 'application/x-git-upload-pack-result', 'set-cookie': 'session=github', 'x-github-request-id': 'ABC' }
      res.writeHead(200, framing === 'length' ? { ...head, 'content-length': pack.length } : head)
      // Odd-sized pieces, so chunk boundaries fall anywhere.
      for (let at = 0; at < pack.length; at += 70_001) res.write(pack.subarray(at, at + 70_001))
      res.end()
    })
  })
  const gw = await gateway(t, upstream.url)
  const wants = Buffer.from('0032want 0123456789012345678901234567890123456789\n00000009done\n')
  for (const how of ['chunked', 'length'] as const) {
    framing = how
    const res = await send(`${gw.repoUrl}/git-upload-pack`, {
      method: 'POST',
      headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-upload-pack-request', 'git-protocol': 'version=2' },
      body: wants,
    })
    if (!('body' in res)) return t.fail(`the clone failed: ${res.error}`)
    t.equal(res.status, 200, how)
    t.ok(res.body.equals(pack), `${how}: the pack arrived unchanged`)
    t.equal(res.headers['content-type'], 'application/x-git-upload-pack-result')
    for (const name of ['set-cookie', 'x-github-request-id']) t.notOk(res.headers[name], `${how}: no ${name} from GitHub`)
    t.equal(res.headers.connection, 'close', `${how}: the connection ends with the answer`)
  }
  for (const { headers, body } of received) {
    t.ok(body.equals(wants), 'git\'s request reached GitHub whole')
    t.match(headers, { connection: 'close', 'content-length': String(wants.length), 'git-protocol': 'version=2' })
    t.equal(headers.authorization, `Basic ${Buffer.from(`x-access-token:${INSTALLATION_TOKEN}`).toString('base64')}`)
  }

  // A request body git streams without a length (a large negotiation) reaches GitHub chunked, whole.
  const streamed = randomBytes(2 * MB)
  const answered = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${gw.repoUrl}/git-upload-pack`, {
      method: 'POST',
      agent: false,
      headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-upload-pack-request' },
    })
    req.on('error', reject)
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
    })
    req.write(streamed.subarray(0, MB))
    setTimeout(() => req.end(streamed.subarray(MB)), 20)
  })
  t.equal(answered, 200)
  t.equal(received.at(-1)!.headers['transfer-encoding'], 'chunked')
  t.ok(received.at(-1)!.body.equals(streamed), 'a streamed request body reached GitHub whole')
})

t.test('a clone\'s pack from something that does not answer HTTP: git gets a 502 in words', async (t) => {
  const answers: Array<[string, (socket: net.Socket) => void]> = [
    ['a head that is not HTTP', (socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n')],
    ['a head that never ends', (socket) => socket.write(`HTTP/1.1 200 OK\r\nx-filler: ${'a'.repeat(80 * 1024)}`)],
    ['a close before any answer', (socket) => socket.end()],
  ]
  for (const [what, reply] of answers) {
    const server = net.createServer((socket) => {
      socket.on('error', () => {})
      socket.once('data', () => reply(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => new Promise((resolve) => server.close(resolve)))
    const gw = await gateway(t, `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`)
    const res = await send(`${gw.repoUrl}/git-upload-pack`, {
      method: 'POST',
      headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-upload-pack-request' },
      body: Buffer.from('0000'),
    })
    t.match(res, { status: 502, body: Buffer.from('GitHub could not be reached; try again in a minute\n') }, what)
  }
})

t.test('a push past its size limit is cut before GitHub has it all, with the message on git\'s error band', async (t) => {
  const upstreamEnds: string[] = []
  const upstream = await upstreamOf(t, (req, res) => {
    // As git http-backend does: the head at once, the report after the whole pack.
    res.writeHead(200, { 'content-type': 'application/x-git-receive-pack-result', 'cache-control': 'no-cache' })
    req.resume()
    req.on('end', () => {
      upstreamEnds.push('complete')
      res.end('0000')
    })
    req.on('close', () => {
      if (!req.complete) upstreamEnds.push('aborted')
    })
  })
  const gw = await gateway(t, upstream.url, { grant: { maxPushBytes: 8 * 1024 } })
  const push = (body: Buffer) =>
    send(`${gw.repoUrl}/git-receive-pack`, { method: 'POST', headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-receive-pack-request' }, body })

  const small = await push(pushBody('report-status side-band-64k agent=git/2.39.5', randomBytes(4 * 1024)))
  t.match(small, { status: 200, body: Buffer.from('0000') }, 'under the limit: GitHub\'s answer')
  await until('upstream saw the small push', () => upstreamEnds.length === 1)

  // The big one in two parts, so that GitHub has begun receiving it when the limit is passed.
  const body = pushBody('report-status side-band-64k agent=git/2.39.5', randomBytes(256 * 1024))
  const req = http.request(`${gw.repoUrl}/git-receive-pack`, {
    method: 'POST',
    agent: false,
    headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-receive-pack-request' },
  })
  const big = new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }))
    })
  })
  req.write(body.subarray(0, 4 * 1024))
  await until('GitHub is receiving the big push', () => upstream.seen.length === 2)
  req.end(body.subarray(4 * 1024))
  const message = "push refused: the push is larger than this assessment's limit of 8 KiB\n"
  const answer = await big
  t.equal(answer.status, 200)
  t.same(answer.body, Buffer.concat([pkt(Buffer.concat([Buffer.from([3]), Buffer.from(message)])), Buffer.from('0000')]), 'on band 3, then a flush')
  await until('upstream saw the big push end', () => upstreamEnds.length === 2)
  t.same(upstreamEnds, ['complete', 'aborted'], 'GitHub never got the whole pack')
})

t.test('a push without side-band past its limit gets a 413 with the message', async (t) => {
  const upstream = await upstreamOf(t, (req) => req.resume()) // answers nothing: the cut comes first
  const gw = await gateway(t, upstream.url, { grant: { maxPushBytes: 8 * 1024 } })
  const res = await send(`${gw.repoUrl}/git-receive-pack`, {
    method: 'POST',
    headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-receive-pack-request' },
    body: pushBody('report-status agent=git/2.39.5', randomBytes(256 * 1024)),
  })
  t.match(res, { status: 413, body: Buffer.from("push refused: the push is larger than this assessment's limit of 8 KiB\n") })
})

t.test('a push in flight is stopped at its deadline and when the invitation ends, with its upstream request', async (t) => {
  for (const [name, remainingMs, reason, message] of [
    ['deadline', 1_000, 'deadline', 'the deadline has passed; the repository is closed'],
    ['ended', 3_600_000, 'ended', 'the assessment has ended; the repository is closed'],
  ] as const) {
    const upstreamClosed: boolean[] = []
    const upstream = await upstreamOf(t, (req) => {
      req.resume()
      req.on('close', () => upstreamClosed.push(req.complete))
    })
    const gw = await gateway(t, upstream.url, { remainingMs })
    const req = http.request(`${gw.repoUrl}/git-receive-pack`, {
      method: 'POST',
      agent: false,
      headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-receive-pack-request' },
    })
    const answer = new Promise<{ status: number; body: string } | 'ended'>((resolve) => {
      req.on('error', () => resolve('ended'))
      req.on('response', (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      })
    })
    req.write(pushBody('report-status side-band-64k', randomBytes(16 * 1024)))
    await until('the push reached GitHub', () => upstream.seen.length === 1)
    if (name === 'ended') gw.access.forget(gw.grant.invitationId)
    t.same(await answer, { status: 403, body: `${message}\n` }, name)
    await until('the upstream request is closed', () => upstreamClosed.length === 1)
    t.same(upstreamClosed, [false], `${name}: GitHub never got the whole push`)
    t.ok(gw.lines.some((l) => l.includes(`"reason":"${reason}"`)))
    req.destroy()
  }
})

t.test('a request whose deadline passes while GitHub is asked for a credential is refused, and never reaches GitHub', async (t) => {
  const upstream = await upstreamOf(t, (req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-git-receive-pack-result' }).end('0000'))
  })
  const remainingMs = 50
  const fake = fakeAccess({ remainingMs })
  const { remote } = fakeRemote(upstream.url)
  // GitHub slow to give a credential: it comes only once the deadline, as authorised, is behind us.
  const slow: typeof remote = {
    ...remote,
    async repoCredential(repoFullName, options) {
      const deadline = Date.now() + remainingMs
      await until('the deadline has passed', () => Date.now() > deadline)
      return remote.repoCredential(repoFullName, options)
    },
  }
  const gw = await serveBroker(t, { access: fake.access, remote: slow })
  const res = await send(`${gw.base}/r/${SLUG}.git/git-receive-pack`, {
    method: 'POST',
    headers: { ...basic(ACCESS_TOKEN), 'content-type': 'application/x-git-receive-pack-request' },
    body: pushBody('report-status side-band-64k', randomBytes(1024)),
  })
  t.match(res, { status: 403, body: Buffer.from('the deadline has passed; the repository is closed\n') })
  t.same(upstream.seen, [], 'nothing reached GitHub')
})

t.test('a git that leaves while GitHub is asked for a credential frees its slot and never reaches GitHub', async (t) => {
  const upstream = await upstreamOf(t, (req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' }).end('0000')
  })
  const fake = fakeAccess()
  const remote = fakeRemote(upstream.url)
  let release: () => void = () => {}
  const asked = new Promise<void>((resolve) => {
    const mint = remote.remote.repoCredential
    remote.remote.repoCredential = async (...args) => {
      resolve()
      await new Promise<void>((r) => (release = r))
      remote.remote.repoCredential = mint
      return mint(...args)
    }
  })
  const served = await serveBroker(t, { access: fake.access, remote: remote.remote, limits: { maxRequests: 1 } })
  const repoUrl = `${served.base}/r/${SLUG}.git`
  const leaving = http.request(`${repoUrl}/info/refs?service=git-upload-pack`, { headers: basic(ACCESS_TOKEN), agent: false })
  leaving.on('error', () => {})
  leaving.end()
  await asked
  leaving.destroy()
  await new Promise((resolve) => leaving.once('close', resolve))
  // The gateway, in this process, reads the close on the loopback socket within a few turns.
  await new Promise((resolve) => setTimeout(resolve, 100))
  release()
  // The one slot is free again: the next request is served by GitHub, not refused as busy.
  const next = await send(`${repoUrl}/info/refs?service=git-upload-pack`, { headers: basic(ACCESS_TOKEN) })
  t.match(next, { status: 200, body: Buffer.from('0000') })
  t.equal(upstream.seen.length, 1, 'only the request of the git still there reached GitHub')
})
