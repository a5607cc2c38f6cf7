import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { promisify } from 'node:util'
import type autocannon from 'autocannon'
import Fastify from 'fastify'
import type { BenchApp, StartedCandidate } from './app.ts'
import { fmtInt, fmtRatio, table, verdict } from './stats.ts'

/** autocannon's latency histogram counts whole milliseconds. */
const fmtLatency = (ms: number) => (ms < 1 ? '<1' : String(Math.round(ms)))

export const THROUGHPUT = { connections: 20, durationS: 10, warmupS: 2, target: 0.5 }

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
}

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js')

/**
 * autocannon's CLI in a process of its own, as fastify/benchmarks runs it: inside the
 * servers' process (even in a worker thread) it caps near the bare route's speed and
 * measures itself rather than the server. Same settings for both targets.
 */
async function cannon(label: string, url: string, durationS: number): Promise<Run> {
  const args = [AUTOCANNON, '--json', '-c', String(THROUGHPUT.connections), '-d', String(durationS), url]
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 16 * 1024 * 1024, timeout: (durationS + 30) * 1000 })
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
  }
}

/** (a) GET /git/credential with a real access token vs a bare Fastify route. */
export async function benchThroughput(bench: BenchApp, candidate: StartedCandidate, progress: (s: string) => void) {
  const bare = Fastify()
  bare.get('/', async () => 'username=takehome\npassword=constant\n')
  await bare.listen({ port: 0, host: '127.0.0.1' })
  const { port } = bare.server.address() as { port: number }
  const bareUrl = `http://127.0.0.1:${port}/`
  const path = `/git/credential?token=${candidate.accessToken}`
  const brokerUrl = `${bench.base}${path}`

  try {
    const check = await fetch(brokerUrl)
    const body = await check.text()
    if (check.status !== 200 || !body.startsWith('username=')) throw new Error(`the broker refused the token: ${check.status} ${body}`)

    progress(`(a) warm-up ${THROUGHPUT.warmupS} s each`)
    await cannon('warm-up bare', bareUrl, THROUGHPUT.warmupS)
    await cannon('warm-up broker', brokerUrl, THROUGHPUT.warmupS)
    progress(`(a) bare Fastify, ${THROUGHPUT.durationS} s`)
    const bareRun = await cannon('bare Fastify route (constant string)', bareUrl, THROUGHPUT.durationS)
    progress(`(a) credential broker, ${THROUGHPUT.durationS} s`)
    const brokerRun = await cannon('GET /git/credential, LOG_LEVEL=info (default)', brokerUrl, THROUGHPUT.durationS)

    const ratio = brokerRun.reqPerSec / bareRun.reqPerSec
    const rows = [bareRun, brokerRun].map((r) => [
      r.label,
      fmtInt(r.reqPerSec),
      fmtInt(r.stddev),
      (1e6 / r.reqPerSec).toFixed(1),
      fmtLatency(r.p50),
      fmtLatency(r.p99),
      fmtInt(r.requests),
      String(r.non2xx),
      String(r.errors),
    ])
    const report = [
      `### (a) Credential broker throughput`,
      '',
      `autocannon -c ${THROUGHPUT.connections} -d ${THROUGHPUT.durationS}, as a process of its own (both servers share another), after a ${THROUGHPUT.warmupS} s warm-up of each; bare first, then broker. ` +
        'The broker is the real app (embedded PGlite, production logger writing to /dev/null, rate-limit plugin on with raised limits) answering a started candidate\'s real access token. ' +
        'µs/req is 1 s / req/s. On two cores the load generator and the servers share the CPU, so the ratio moves with other load on the machine; compare µs/req across runs.',
      '',
      table(['target', 'req/s', '± stddev', 'µs/req', 'p50 ms', 'p99 ms', 'requests', 'non-2xx', 'errors'], rows),
      '',
      `broker / bare = **${fmtRatio(ratio)}** (target ≥ ${THROUGHPUT.target}: ${verdict(ratio >= THROUGHPUT.target)})`,
    ].join('\n')
    const clean = brokerRun.non2xx === 0 && brokerRun.errors === 0
    return { report, ratio, bare: bareRun, broker: brokerRun, ok: clean }
  } finally {
    await bare.close()
  }
}
