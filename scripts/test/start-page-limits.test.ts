// The start page's rate limit as candidates meet it: through the real web app, which calls
// the API from its own process. One address hammering the page with bogus links must not
// lock out candidates at other addresses. Each client binds its own loopback address
// (Linux routes all of 127.0.0.0/8 to loopback).
import http from 'node:http'
import { rmSync } from 'node:fs'
import { createSourceRepo } from '@takehome/core/testing'
import t from 'tap'
import { requireWebBuild, startProduct } from './helpers.ts'

requireWebBuild()

// Issue 9: a hiring round of 50 starting in the same minute, which one shared bucket (the web
// process's own address) refused after about 20.
const CANDIDATES = 50
t.setTimeout(5 * 60_000)

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** One request over a socket bound to `localAddress`. */
async function send(url: string, localAddress: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

const decode = (value: string) =>
  value.replace(/&(quot|amp|lt|gt|#x27|#39);/g, (_, e: string) => ({ quot: '"', amp: '&', lt: '<', gt: '>', '#x27': "'", '#39': "'" })[e]!)

/**
 * Posts the page's Start form as a browser without JavaScript would: the form's own hidden
 * fields (the Server Action's reference and the token) as multipart form data.
 */
async function submitStartForm(pageUrl: string, html: string, origin: string, localAddress: string) {
  const form = /<form[^>]*>([\s\S]*?)<\/form>/.exec(html)?.[1]
  if (!form) throw new Error('the page has no Start form')
  const data = new FormData()
  for (const input of form.matchAll(/<input([^>]*)>/g)) {
    const name = /\bname="([^"]*)"/.exec(input[1]!)?.[1]
    const value = /\bvalue="([^"]*)"/.exec(input[1]!)?.[1] ?? ''
    if (name !== undefined) data.append(decode(name), decode(value))
  }
  // The Fetch API encodes the multipart body; the socket is ours, bound to the client's address.
  const encoded = new Request(pageUrl, { method: 'POST', body: data })
  return send(pageUrl, localAddress, {
    method: 'POST',
    headers: { 'content-type': encoded.headers.get('content-type')!, origin, 'sec-fetch-site': 'same-origin' },
    body: Buffer.from(await encoded.arrayBuffer()),
  })
}

t.test('60 bogus start-page requests from one address, then 50 candidates from 50 other addresses all start', async (t) => {
  const source = createSourceRepo()
  t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))
  const { base } = await startProduct(t)

  const post = async (url: string, body: unknown, cookie?: string) => {
    const res = await fetch(`${base}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base, ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
    })
    if (res.status !== 201) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`)
    return res
  }
  const signup = await post('/api/auth/signup', { email: 'owner@example.com', password: 'a long password', org_name: 'Acme' })
  const cookie = signup.headers.getSetCookie()[0]!.split(';')[0]!
  const seed = await (await post('/api/seeds', { source_url: source.dir }, cookie)).json()
  const assessment = await (await post('/api/assessments', { seed_id: seed.id, title: 'Exercise', time_to_start: 'P3D', time_to_complete: 'P2D' }, cookie)).json()
  const candidates = Array.from({ length: CANDIDATES }, (_, i) => ({ email: `candidate${i}@example.com` }))
  const { invitations } = (await (await post('/api/invitations', { assessment_id: assessment.id, candidates }, cookie)).json()) as {
    invitations: Array<{ start_url: string }>
  }

  const landing = await send(`${base}/`, '127.0.0.1')
  t.equal(landing.headers['x-content-type-options'], 'nosniff', 'pages say nosniff')
  t.equal(landing.headers['x-frame-options'], 'DENY', 'pages refuse framing')
  t.equal(landing.headers['content-security-policy'], "frame-ancestors 'none'")

  const abuser = '127.0.0.2'
  const bogusPage = `${base}/start/thi_${'0'.repeat(46)}`
  const bogus = []
  for (let i = 0; i < 60; i++) {
    const page = await send(bogusPage, abuser)
    bogus.push(page.status < 500 && !/Too many attempts/.test(page.body) && /This invitation link does not work/.test(page.body))
  }
  t.same(new Set(bogus), new Set([true]), '60 bogus start-page requests, each answered "not found"')
  const limited = await send(bogusPage, abuser)
  t.match(limited.body, /Too many attempts/, 'the 61st from that address is rate limited')

  const outcomes = await Promise.all(
    invitations.map(async (invitation, i) => {
      const address = `127.0.0.${i + 3}`
      const pageUrl = invitation.start_url.replace(/^https?:\/\/[^/]+/, base)
      const page = await send(pageUrl, address)
      if (page.status !== 200 || !page.body.includes('Start assessment')) return `page ${page.status}`
      const submitted = await submitStartForm(pageUrl, page.body, base, address)
      if (submitted.status !== 200) return `start ${submitted.status}`
      const token = pageUrl.split('/start/')[1]!
      const view = (await (await fetch(`${base}/api/start/${token}`)).json()) as { status: string }
      return view.status
    }),
  )
  t.same(outcomes, invitations.map(() => 'started'), `all ${CANDIDATES} candidates opened their page and started`)
  t.match((await send(bogusPage, abuser)).body, /Too many attempts/, 'and the abuser is still limited: all of it happened within its window')
})
