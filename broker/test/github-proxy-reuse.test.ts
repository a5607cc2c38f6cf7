// GitHub closing a kept-alive connection just as the gateway reuses it: a GET (which sent
// no body) is asked again once on a new connection; git never sees the reset.
import http from 'node:http'
import type { Socket } from 'node:net'
import t from 'tap'
import { ACCESS_TOKEN, basic, fakeAccess, fakeRemote, listen, serveBroker, SLUG } from './fakes.ts'

const ADVERTISEMENT = '001e# service=git-upload-pack\n0000'

/** A GET through the gateway, on a connection of its own. */
function get(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => (body += chunk.toString()))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      })
      .on('error', reject)
  })
}

t.test('a reset on a reused connection to GitHub: the GET is asked again on a new one, once', async (t) => {
  const served = new Map<Socket, number>()
  let resets = 0
  let resetEvery = false
  const upstream = await listen(t, (req, res) => {
    const count = (served.get(req.socket) ?? 0) + 1
    served.set(req.socket, count)
    // Every connection's second request is cut, as a server closing an idle connection would.
    if (count > 1 || resetEvery) {
      resets++
      req.socket.resetAndDestroy()
      return
    }
    res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' }).end(ADVERTISEMENT)
  })
  const { access } = fakeAccess()
  const { base, lines } = await serveBroker(t, { access, remote: fakeRemote(upstream).remote })
  const url = `${base}/r/${SLUG}.git/info/refs?service=git-upload-pack`

  t.match(await get(url, basic(ACCESS_TOKEN)), { status: 200, body: ADVERTISEMENT }, 'the first request opens the connection')
  t.match(await get(url, basic(ACCESS_TOKEN)), { status: 200, body: ADVERTISEMENT }, 'the second reuses it, is reset, and is asked again')
  t.equal(resets, 1)
  t.equal(served.size, 2, 'on a second connection')

  resetEvery = true
  const failed = await get(url, basic(ACCESS_TOKEN))
  t.match(failed.body, 'ERR GitHub could not be reached; try again in a minute', 'a second reset is answered, not retried again')
  t.equal(resets, 3, 'asked twice, not more')
  t.ok(lines.some((l) => l.includes('git request failed: GitHub could not be reached')))
})
