// GitHub closing a kept-alive connection just as the gateway reuses it: the request, with
// its body when that was small enough to keep, is sent again once on a connection of its
// own; git never sees the reset. A push's POST is the one sent on a kept connection (a
// clone's pack is fetched on one of its own: raw-upstream.ts).
import { createHash, randomBytes } from 'node:crypto'
import http, { type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import t, { type Test } from 'tap'
import { RESEND_MAX_BYTES } from '../src/github-proxy.ts'
import { ACCESS_TOKEN, basic, fakeAccess, fakeRemote, listen, serveBroker, SLUG } from './fakes.ts'

const ADVERTISEMENT = '001e# service=git-upload-pack\n0000'
const KIB = 1024

interface Answer {
  status: number
  body: string
}

/** One request through the gateway, on a connection of its own; `body` is written piece by piece, `between` awaited after the first. */
function request(url: string, options: { method?: string; body?: Buffer[]; between?: () => Promise<void> } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(url, {
      method: options.method ?? 'GET',
      headers: { ...basic(ACCESS_TOKEN), ...(options.body ? { 'content-type': 'application/x-git-receive-pack-request' } : {}) },
      agent: false,
    })
    req.on('error', reject)
    req.on('response', (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    })
    void (async () => {
      const [first, ...rest] = options.body ?? []
      if (first) req.write(first)
      await options.between?.()
      for (const piece of rest) req.write(piece)
      req.end()
    })()
  })
}

/** Reads a request's body to its end. */
async function bodyOf(req: IncomingMessage) {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex')

/**
 * An upstream that answers `info/refs` with an advertisement and a POST with the hash of its
 * body, and ends, with `close`, every connection that brings a second request (every
 * connection, once `closeEvery` is set).
 */
async function closingUpstream(t: Test, close: (req: IncomingMessage) => void) {
  const requests = new Map<Socket, number>()
  const seen = { closeEvery: false, closed: 0, answered: [] as Array<{ socket: Socket; connection: string | undefined; hash?: string }> }
  const url = await listen(t, (req, res) => {
    const count = (requests.get(req.socket) ?? 0) + 1
    requests.set(req.socket, count)
    if (count > 1 || seen.closeEvery) {
      seen.closed++
      return close(req)
    }
    const answered = { socket: req.socket, connection: req.headers.connection }
    seen.answered.push(answered)
    if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' }).end(ADVERTISEMENT)
    void bodyOf(req).then((body) => {
      Object.assign(answered, { hash: sha(body) })
      res.writeHead(200, { 'content-type': 'application/x-git-receive-pack-result' }).end(sha(body))
    })
  })
  const { access } = fakeAccess()
  const gw = await serveBroker(t, { access, remote: fakeRemote(url).remote })
  return { ...gw, seen, repoUrl: `${gw.base}/r/${SLUG}.git` }
}

/** The ways a server ends a connection under a request that reused it; `atArrival` before reading any of the body. */
const CLOSES: Array<{ how: string; atArrival: boolean; close: (req: IncomingMessage) => void }> = [
  { how: 'reset as the request arrives', atArrival: true, close: (req) => req.socket.resetAndDestroy() },
  { how: 'closed as the request arrives', atArrival: true, close: (req) => req.socket.destroy() },
  { how: 'reset once the body has arrived, before any answer', atArrival: false, close: (req) => void bodyOf(req).then(() => req.socket.resetAndDestroy()) },
]

t.test('a GET on a reused connection GitHub resets is asked again once, on a connection of its own', async (t) => {
  const gw = await closingUpstream(t, (req) => req.socket.resetAndDestroy())
  const refs = `${gw.repoUrl}/info/refs?service=git-upload-pack`

  t.same(await request(refs), { status: 200, body: ADVERTISEMENT }, 'the first request opens the connection')
  t.same(await request(refs), { status: 200, body: ADVERTISEMENT }, 'the second reuses it, is reset, and is asked again')
  t.equal(gw.seen.closed, 1)
  t.equal(gw.seen.answered.length, 2)
  t.not(gw.seen.answered[1]!.socket, gw.seen.answered[0]!.socket, 'on another connection')
  t.equal(gw.seen.answered[1]!.connection, 'close', 'one of its own, not one from the pool')

  // The pool has a connection again; then every request is reset, the one sent again too.
  t.same(await request(refs), { status: 200, body: ADVERTISEMENT })
  const closed = gw.seen.closed
  gw.seen.closeEvery = true
  const failed = await request(refs)
  t.match(failed.body, 'ERR GitHub could not be reached; try again in a minute', 'a second reset is answered, not asked again')
  t.equal(gw.seen.closed - closed, 2, 'asked twice, not more')
  t.ok(gw.lines.some((l) => l.includes('git request failed: GitHub could not be reached')))
})

for (const { how, atArrival, close } of CLOSES) {
  t.test(`a POST on a reused connection GitHub ends (${how}) is sent again, body and all, on a connection of its own`, async (t) => {
    const gw = await closingUpstream(t, close)
    t.same(await request(`${gw.repoUrl}/info/refs?service=git-upload-pack`), { status: 200, body: ADVERTISEMENT }, 'a connection is kept')

    // A body of several pieces; when GitHub ends the connection as the request arrives, the
    // rest is written only after that, so it is sent on the new connection as it comes.
    const body = [randomBytes(100 * KIB), randomBytes(100 * KIB), randomBytes(56 * KIB)]
    const whole = Buffer.concat(body)
    const between = async () => {
      // Bounded, so a broken gateway fails the test rather than hanging it.
      for (let i = 0; i < 400 && atArrival && gw.seen.closed === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25))
    }
    const answer = await request(`${gw.repoUrl}/git-receive-pack`, { method: 'POST', body, between })
    t.same(answer, { status: 200, body: sha(whole) }, 'git gets GitHub\'s answer to the whole body')
    t.equal(gw.seen.closed, 1, 'the reused connection was ended once')
    t.equal(gw.seen.answered.length, 2)
    t.equal(gw.seen.answered[1]!.hash, sha(whole), 'the body sent again arrived whole')
    t.equal(gw.seen.answered[1]!.connection, 'close', 'on a connection of its own')
  })
}

t.test('a POST whose body is too large to keep is not sent again: git gets a 502 in words', async (t) => {
  const gw = await closingUpstream(t, CLOSES[2]!.close)
  t.same(await request(`${gw.repoUrl}/info/refs?service=git-upload-pack`), { status: 200, body: ADVERTISEMENT })
  const answer = await request(`${gw.repoUrl}/git-receive-pack`, { method: 'POST', body: [randomBytes(RESEND_MAX_BYTES + 64 * KIB)] })
  t.same(answer, { status: 502, body: 'GitHub could not be reached; try again in a minute\n' })
  t.equal(gw.seen.closed, 1)
  t.equal(gw.seen.answered.length, 1, 'nothing was sent again')
  t.ok(gw.lines.some((l) => l.includes('git request failed: GitHub could not be reached') && l.includes('ECONNRESET')))
})
