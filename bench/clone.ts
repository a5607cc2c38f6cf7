import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { candidateMachine } from '@takehome/core/testing'
import type { BenchApp, StartedCandidate } from './app.ts'
import { startDirectGitServer } from './git-cgi.ts'
import { countObjects } from './repos.ts'
import { fmtMiB, fmtMs, fmtRatio, mean, median, table, verdict } from './stats.ts'

export const CLONES = { runs: 5, target: 1.1 }

/**
 * (b) Clone of a large packed repository: through our gateway with the real clone
 * command (credential helper, Basic auth, access check) vs `git http-backend` behind a
 * bare Node http server. Runs alternate (gateway, direct, gateway, …) after one
 * uncounted warm-up clone each, so drift on a shared machine hits both alike.
 */
export async function benchClone(bench: BenchApp, candidate: StartedCandidate, seedPackBytes: number, progress: (s: string) => void) {
  const direct = await startDirectGitServer(bench.candidatesRoot)
  const machine = candidateMachine()
  const directUrl = `${direct.base}/${candidate.slug}.git`
  const repoDir = path.join(bench.candidatesRoot, `${candidate.slug}.git`)
  const stored = countObjects(repoDir)

  /** One clone into a fresh directory, removed afterwards; returns wall ms. */
  async function cloneOnce(kind: 'gateway' | 'direct') {
    const cwd = mkdtempSync(path.join(machine.home, `${kind}-`))
    try {
      const run =
        kind === 'gateway'
          ? await machine.shell(candidate.cloneCommand, cwd)
          : await machine.git(cwd, ['clone', '--quiet', directUrl])
      if (run.code !== 0) throw new Error(`${kind} clone failed: ${run.stderr}`)
      const [dir] = readdirSync(cwd)
      if (!dir || readdirSync(path.join(cwd, dir, 'data')).length === 0) throw new Error(`${kind} clone has no files`)
      return run.ms
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  }

  const times = { gateway: [] as number[], direct: [] as number[] }
  try {
    progress('(b) warm-up clone each')
    await cloneOnce('gateway')
    await cloneOnce('direct')
    for (let i = 0; i < CLONES.runs; i++) {
      progress(`(b) clone ${i + 1}/${CLONES.runs}`)
      times.gateway.push(await cloneOnce('gateway'))
      times.direct.push(await cloneOnce('direct'))
    }
  } finally {
    await direct.close()
    rmSync(machine.home, { recursive: true, force: true })
  }

  const medianRatio = median(times.gateway) / median(times.direct)
  const meanRatio = mean(times.gateway) / mean(times.direct)
  // Each gateway clone against the direct clone right after it: robust to slow drift.
  const pairedRatio = median(times.gateway.map((g, i) => g / times.direct[i]!))
  const row = (label: string, xs: number[]) => [
    label,
    fmtMs(median(xs)),
    fmtMs(mean(xs)),
    fmtMs(Math.min(...xs)),
    fmtMs(Math.max(...xs)),
    xs.map((x) => Math.round(x)).join(', '),
  ]
  const report = [
    `### (b) Clone: our gateway vs \`git http-backend\` directly`,
    '',
    `Seed: ${fmtMiB(seedPackBytes)} pack (pseudo-random files, one commit). Candidate repository: ${stored['count'] ?? '?'} loose objects, ${stored['packs'] ?? '?'} pack(s), ${fmtMiB(Number(stored['size-pack'] ?? 0) * 1024)}. ` +
      `${CLONES.runs} clones each, alternating, after one warm-up each, before (a) runs; each into a fresh directory (checkout included), deleted afterwards. ` +
      'Both servers run in this process; the gateway clone includes the 401 challenge and the credential helper (sh + curl).',
    '',
    table(
      ['path', 'median ms', 'mean ms', 'min ms', 'max ms', 'runs ms'],
      [row('gateway: the real clone command (credential helper + Basic auth)', times.gateway), row('direct: git http-backend behind bare node:http, no auth', times.direct)],
    ),
    '',
    `gateway / direct = **${fmtRatio(medianRatio)}** by median, ${fmtRatio(meanRatio)} by mean, ${fmtRatio(pairedRatio)} as the median of paired runs (target ≤ ${CLONES.target.toFixed(2)}: ${verdict(medianRatio <= CLONES.target)})`,
  ].join('\n')
  return { report, medianRatio, meanRatio, pairedRatio, times }
}
