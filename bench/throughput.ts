import { execFile } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { promisify } from 'node:util'
import type autocannon from 'autocannon'
import Fastify from 'fastify'
import type { BenchApp, StartedCandidate } from './app.ts'
import { fmtInt, fmtRatio, median, table, verdict } from './stats.ts'

/** autocannon's latency histogram counts whole milliseconds. */
const fmtLatency = (ms: number) => (ms < 1 ? '<1' : String(Math.round(ms)))

/**
 * Rounds of the three targets in turn, each `durationS`. On a shared VM the speed of the
 * whole machine swings by up to 2x over seconds, so many short rounds, each ratio taken
 * within its round: the verdict is the median of those, with the totals beside it.
 */
export const THROUGHPUT = { connections: 20, durationS: 2, rounds: 12, warmupS: 2, target: 0.8 }

interface Run {
  label: string
  reqPerSec: number
  /** Standard deviation of the per-second request counts. */
  stddev: number
  p50: number
  p99: number
  requests: number
  non2xx: number
  errors: number
  /** CPU time of this process (where every server runs) per request answered. */
  cpuUsPerReq: number
}

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js')

/**
 * autocannon's CLI in a process of its own, as fastify/benchmarks runs it: inside the
 * servers' process (even in a worker thread) it caps near the bare route's speed and
 * measures itself rather than the server. Same settings for every target.
 */
async function cannon(label: string, url: string, durationS: number): Promise<Run> {
  const args = [AUTOCANNON, '--json', '-c', String(THROUGHPUT.connections), '-d', String(durationS), url]
  const cpu = process.cpuUsage()
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 16 * 1024 * 1024, timeout: (durationS + 30) * 1000 })
  const used = process.cpuUsage(cpu)
  const r = JSON.parse(stdout) as autocannon.Result
  return {
    label,
    reqPerSec: r.requests.average,
    stddev: r.requests.stddev,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    cpuUsPerReq: (used.user + used.system) / Math.max(1, r.requests.total),
  }
}

/** Runs of one target, as one: requests, seconds and CPU added up, latency the worst round's. */
function combined(label: string, runs: Run[]): Run {
  const requests = runs.reduce((n, r) => n + r.requests, 0)
  return {
    label,
    reqPerSec: requests / (runs.length * THROUGHPUT.durationS),
    stddev: Math.max(...runs.map((r) => r.stddev)),
    p50: Math.max(...runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    requests,
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    cpuUsPerReq: runs.reduce((n, r) => n + r.cpuUsPerReq * r.requests, 0) / Math.max(1, requests),
  }
}

/** Headers every HTTP answer carries anyway, or that depend on its body: not part of its shape. */
const TRANSPORT_HEADERS = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'])

/**
 * The control: node:http answering a constant copy of one broker answer, every header and
 * the body as the broker sent them, with no work behind it. The load generator parses each
 * answer's headers, so answers with more headers than the bare route's come back slower
 * whatever the server does; the control's speed is the ceiling for the broker's answer.
 */
async function startControl(answer: Response, body: string) {
  const headers: Record<string, string> = {}
  answer.headers.forEach((value, name) => {
    if (!TRANSPORT_HEADERS.has(name)) headers[name] = value
  })
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    headerCount: Object.keys(headers).length,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/**
 * (a) GET /git/credential with a real access token and git's request for this mode's host
 * (on the local host the gateway's origin: the access token back; in GitHub mode GitHub's git
 * host: a cached installation token) vs a bare Fastify route, with the control beside them.
 */
export async function benchThroughput(bench: BenchApp, candidate: StartedCandidate, progress: (s: string) => void) {
  const bare = Fastify()
  bare.get('/', async () => 'username=takehome\npassword=constant\n')
  await bare.listen({ port: 0, host: '127.0.0.1' })
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}/`
  const brokerUrl = bench.credentialUrl(candidate)
  const expected = bench.mode === 'github' ? 'username=x-access-token\n' : 'username=takehome\n'

  const check = await fetch(brokerUrl)
  const body = await check.text()
  if (check.status !== 200 || !body.startsWith(expected)) throw new Error(`the broker did not answer as expected: ${check.status} ${body.split('\n')[0]}`)
  const control = await startControl(check, body)
  const bareHeaders = [...(await fetch(bareUrl)).headers.keys()].filter((name) => !TRANSPORT_HEADERS.has(name)).length

  try {
    const targets = { bare: bareUrl, control: control.url, broker: brokerUrl }
    progress(`(a) ${bench.mode}: warm-up ${THROUGHPUT.warmupS} s each`)
    for (const url of Object.values(targets)) await cannon('warm-up', url, THROUGHPUT.warmupS)
    const runs = { bare: [] as Run[], control: [] as Run[], broker: [] as Run[] }
    for (let round = 1; round <= THROUGHPUT.rounds; round++) {
      progress(`(a) ${bench.mode}: round ${round}/${THROUGHPUT.rounds}, bare Fastify, the control, then the broker, ${THROUGHPUT.durationS} s each`)
      for (const [name, url] of Object.entries(targets) as Array<[keyof typeof runs, string]>) runs[name].push(await cannon(name, url, THROUGHPUT.durationS))
    }
    const bareRun = combined(`bare Fastify route (constant string; ${bareHeaders} header of its own)`, runs.bare)
    const controlRun = combined(`control: node:http, a constant copy of the broker's answer (${control.headerCount} headers of its own)`, runs.control)
    const brokerRun = combined(
      bench.mode === 'github' ? "GET /git/credential for GitHub's git host (a cached installation token)" : 'GET /git/credential for our origin (the access token)',
      runs.broker,
    )

    const perRound = (target: Run[]) => runs.bare.map((b, i) => target[i]!.reqPerSec / b.reqPerSec)
    const ratio = median(perRound(runs.broker))
    const ceiling = median(perRound(runs.control))
    const totalRatio = brokerRun.reqPerSec / bareRun.reqPerSec
    const rows = [bareRun, controlRun, brokerRun].map((r) => [
      r.label,
      fmtInt(r.reqPerSec),
      fmtInt(r.stddev),
      (1e6 / r.reqPerSec).toFixed(1),
      r.cpuUsPerReq.toFixed(1),
      fmtLatency(r.p50),
      fmtLatency(r.p99),
      fmtInt(r.requests),
      String(r.non2xx),
      String(r.errors),
    ])
    const report = [
      `### (a) Credential broker throughput, ${bench.mode === 'github' ? 'GitHub mode' : 'local host'}`,
      '',
      `autocannon -c ${THROUGHPUT.connections}, as a process of its own (the servers share another), after a ${THROUGHPUT.warmupS} s warm-up of each target; then ${THROUGHPUT.rounds} rounds of the three in turn, ${THROUGHPUT.durationS} s each; the table adds the rounds up. ` +
        "The broker is the real app (embedded PGlite, production logger writing to /dev/null, rate limits on with raised limits) answering a started candidate's real access token and git's request, as the helper sends them. " +
        'µs/req is 1 s / req/s; server CPU is this process\'s CPU time per request answered (all three servers run here); latencies are the worst round\'s. ' +
        'On two cores the load generator and the servers share the CPU, so the ratios move with other load on the machine.',
      '',
      table(['target', 'req/s', '± stddev', 'µs/req', 'server CPU µs/req', 'p50 ms', 'p99 ms', 'requests', 'non-2xx', 'errors'], rows),
      '',
      `broker / bare, median of the rounds = **${fmtRatio(ratio)}** (target ≥ ${THROUGHPUT.target}: ${verdict(ratio >= THROUGHPUT.target)}; ` +
        `rounds: ${perRound(runs.broker).map(fmtRatio).join(', ')}; all requests added up: ${fmtRatio(totalRatio)}); ` +
        `control / bare = ${fmtRatio(ceiling)} (median), the most an answer of this shape gets here; broker / control = ${fmtRatio(brokerRun.reqPerSec / controlRun.reqPerSec)} (totals)`,
    ].join('\n')
    const clean = brokerRun.non2xx === 0 && brokerRun.errors === 0
    return { report, ratio, totalRatio, ceiling, bare: bareRun, control: controlRun, broker: brokerRun, ok: clean }
  } finally {
    await bare.close()
    await control.close()
  }
}
