import { once } from 'node:events'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { type AddressInfo, connect, createServer } from 'node:net'
import path from 'node:path'
import { candidateMachine } from '@takehome/core/testing'
import type { BenchApp, BenchGitHub, StartedCandidate } from './app.ts'
import { startDirectGitServer } from './git-cgi.ts'
import { countObjects } from './repos.ts'
import { fmtMiB, fmtMs, fmtRatio, mean, median, table, verdict } from './stats.ts'

/** ≤ 1.11 in time is at least 0.9× the direct clone's speed. */
export const CLONES = { runs: 9, target: 1.11 }

/**
 * The direct baseline: on the local host `git http-backend` behind bare node:http over the
 * same repositories; in GitHub mode GitHub's own smart HTTP (the double's) with an
 * installation token for the repository, as the broker hands it out, sent in a header.
 */
async function directRoute(bench: BenchApp, candidate: StartedCandidate, github?: BenchGitHub) {
  if (github) {
    const answer = await (await fetch(bench.credentialUrl(candidate))).text()
    const token = /^password=(.+)$/m.exec(answer)?.[1]
    if (!token) throw new Error(`no installation token for the direct clone: ${answer.split('\n')[0]}`)
    return {
      url: `${github.webUrl}/${github.org}/${candidate.slug}.git`,
      env: {
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'http.extraHeader',
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
      },
      label: "direct: the double's smart HTTP (GitHub's URL) with an installation token in a header",
      close: async () => {},
    }
  }
  const direct = await startDirectGitServer(bench.candidatesRoot!)
  return { url: `${direct.base}/${candidate.slug}.git`, env: {}, label: 'direct: git http-backend behind bare node:http, no auth', close: direct.close }
}

/**
 * A bare TCP relay in front of `target`, in this process as the gateway is: bytes piped both
 * ways, nothing parsed or checked. What any proxy between git and GitHub costs at least on
 * this machine, so the gateway's figure can be read against it.
 */
async function startTcpRelay(target: URL) {
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname)
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    client.pipe(upstream).pipe(client)
  }).listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

/**
 * (b) Clone of a large packed repository: through our gateway with the real clone command
 * (credential helper, Basic auth, access check; in GitHub mode the reverse proxy adding an
 * installation token) vs the direct route. Runs alternate (gateway, direct, gateway, …)
 * after one uncounted warm-up clone each, so drift on a shared machine hits both alike.
 */
export async function benchClone(bench: BenchApp, candidate: StartedCandidate, seedPackBytes: number, progress: (s: string) => void, github?: BenchGitHub) {
  const direct = await directRoute(bench, candidate, github)
  const machine = candidateMachine()
  const stored = countObjects(await bench.repoDir(candidate))

  const relay = github ? await startTcpRelay(new URL(github.webUrl)) : undefined
  const kinds = relay ? (['gateway', 'direct', 'relay'] as const) : (['gateway', 'direct'] as const)
  type Kind = (typeof kinds)[number]

  /** One clone into a fresh directory, removed afterwards; returns wall ms. */
  async function cloneOnce(kind: Kind) {
    const cwd = mkdtempSync(path.join(machine.home, `${kind}-`))
    try {
      const run =
        kind === 'gateway'
          ? await machine.shell(candidate.cloneCommand, cwd)
          : await machine.git(cwd, ['clone', '--quiet', kind === 'relay' ? direct.url.replace(github!.webUrl, relay!.base) : direct.url], direct.env)
      if (run.code !== 0) throw new Error(`${kind} clone failed: ${run.stderr}`)
      const [dir] = readdirSync(cwd)
      if (!dir || readdirSync(path.join(cwd, dir, 'data')).length === 0) throw new Error(`${kind} clone has no files`)
      return run.ms
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  }

  const times: Record<Kind, number[]> = { gateway: [], direct: [], relay: [] }
  try {
    progress(`(b) ${bench.mode}: warm-up clone each`)
    for (const kind of kinds) await cloneOnce(kind)
    for (let i = 0; i < CLONES.runs; i++) {
      progress(`(b) ${bench.mode}: clone ${i + 1}/${CLONES.runs}`)
      for (const kind of kinds) times[kind].push(await cloneOnce(kind))
    }
  } finally {
    await direct.close()
    await relay?.close()
    rmSync(machine.home, { recursive: true, force: true })
  }

  const medianRatio = median(times.gateway) / median(times.direct)
  const meanRatio = mean(times.gateway) / mean(times.direct)
  // Each gateway clone against the direct clone right after it: robust to slow drift.
  const pairedRatio = median(times.gateway.map((g, i) => g / times.direct[i]!))
  const relayRatio = relay ? median(times.relay) / median(times.direct) : undefined
  const row = (label: string, xs: number[]) => [
    label,
    fmtMs(median(xs)),
    fmtMs(mean(xs)),
    fmtMs(Math.min(...xs)),
    fmtMs(Math.max(...xs)),
    xs.map((x) => Math.round(x)).join(', '),
  ]
  const report = [
    `### (b) Clone, ${github ? 'GitHub mode: our gateway vs GitHub\'s URL directly' : 'local host: our gateway vs `git http-backend` directly'}`,
    '',
    `Seed: ${fmtMiB(seedPackBytes)} pack (pseudo-random files, one commit). Candidate repository: ${stored['count'] ?? '?'} loose objects, ${stored['packs'] ?? '?'} pack(s), ${fmtMiB(Number(stored['size-pack'] ?? 0) * 1024)}. ` +
      `${CLONES.runs} clones each, alternating, after one warm-up each, before (a) runs; each into a fresh directory (checkout included), deleted afterwards. ` +
      `${github ? 'The gateway runs in this process, the GitHub double in one of its own' : 'All servers run in this process'}; the gateway clone includes the 401 challenge and the credential helper (sh + curl)${github ? ', and the gateway\'s own request to GitHub with the installation token' : ''}.`,
    '',
    table(
      ['path', 'median ms', 'mean ms', 'min ms', 'max ms', 'runs ms'],
      [
        row('gateway: the real clone command (credential helper + Basic auth)', times.gateway),
        row(direct.label, times.direct),
        ...(relay ? [row('relay: the direct clone through a bare TCP relay in this process (the floor of any proxy)', times.relay)] : []),
      ],
    ),
    '',
    `gateway / direct time = **${fmtRatio(medianRatio)}** by median, ${fmtRatio(meanRatio)} by mean, ${fmtRatio(pairedRatio)} as the median of paired runs (target ≤ ${CLONES.target.toFixed(2)}, i.e. at least 0.9× the direct speed: ${verdict(medianRatio <= CLONES.target)})` +
      (relayRatio === undefined ? '' : `; a bare TCP relay / direct = ${fmtRatio(relayRatio)} by median in the same run`),
  ].join('\n')
  return { report, medianRatio, meanRatio, pairedRatio, relayRatio, times }
}
