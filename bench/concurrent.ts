import { rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { candidateMachine } from '@takehome/core/testing'
import { BENCH_PACING, type BenchApp, type StartedCandidate } from './app.ts'
import { fmtMs, fmtS, median, table } from './stats.ts'

export const CONCURRENT = { candidates: 200 }

interface Outcome {
  ok: boolean
  step: string
  cloneMs: number
  pushMs: number
  totalMs: number
  sha?: string
  error?: string
}

/** One candidate: the pasted clone command, a small commit, a push. */
async function cloneCommitPush(candidate: StartedCandidate, index: number): Promise<Outcome> {
  const machine = candidateMachine()
  const started = performance.now()
  const fail = (step: string, stderr: string, cloneMs = 0, pushMs = 0): Outcome => ({
    ok: false,
    step,
    cloneMs,
    pushMs,
    totalMs: performance.now() - started,
    error: stderr.trim().split('\n').slice(-2).join(' '),
  })
  try {
    const clone = await machine.shell(candidate.cloneCommand)
    if (clone.code !== 0) return fail('clone', clone.stderr)
    const work = path.join(machine.home, candidate.slug)
    writeFileSync(path.join(work, 'ANSWER.md'), `Candidate ${index} was here.\n`)
    const add = await machine.git(work, ['add', 'ANSWER.md'])
    const commit = add.code === 0 ? await machine.git(work, ['commit', '--quiet', '-m', `Answer from candidate ${index}`]) : add
    if (commit.code !== 0) return fail('commit', commit.stderr, clone.ms)
    const push = await machine.git(work, ['push', '--quiet', 'origin', 'main'])
    if (push.code !== 0) return fail('push', push.stderr, clone.ms)
    const sha = (await machine.git(work, ['rev-parse', 'HEAD'])).stdout.trim()
    return { ok: true, step: 'done', cloneMs: clone.ms, pushMs: push.ms, totalMs: performance.now() - started, sha }
  } finally {
    rmSync(machine.home, { recursive: true, force: true })
  }
}

/** (c) Every candidate clones, commits and pushes through the gateway at the same moment. */
export async function benchConcurrent(bench: BenchApp, candidates: StartedCandidate[], seedDescription: string, startMs: number) {
  const wallStart = performance.now()
  const outcomes = await Promise.all(candidates.map((c, i) => cloneCommitPush(c, i)))
  const wallMs = performance.now() - wallStart

  // Did each repository's main, on the host, really move to what the candidate pushed?
  let verified = 0
  const problems: string[] = []
  for (const [i, outcome] of outcomes.entries()) {
    if (!outcome.ok) {
      problems.push(`candidate ${i}: ${outcome.step} failed: ${outcome.error}`)
      continue
    }
    const main = await bench.mainOf(candidates[i]!)
    if (main === outcome.sha) verified++
    else problems.push(`candidate ${i}: main is ${main}, pushed ${outcome.sha}`)
  }
  const failures = outcomes.filter((o) => !o.ok).length
  const ok = outcomes.filter((o) => o.ok)
  const pick = (f: (o: Outcome) => number) => ok.map(f)
  const stat = (label: string, xs: number[]) => [label, fmtMs(median(xs)), fmtMs(xs.length ? Math.max(...xs) : NaN)]
  const host = bench.mode === 'github' ? "on GitHub (the double's repository)" : 'in our repository'

  const report = [
    `### (c) ${candidates.length} candidates clone, commit and push at once through the gateway, ${bench.mode === 'github' ? 'GitHub mode' : 'local host'}`,
    '',
    `Seed: ${seedDescription}. The ${candidates.length} candidates were started at once in ${fmtS(startMs)}${bench.mode === 'github' ? ` (through the host's creation pacer, at the bench's pace: a creation every ${BENCH_PACING.creations.intervalMs} ms at most, ${BENCH_PACING.creations.maxInFlight} at once)` : ''}. ` +
      `Each has its own HOME and runs the real clone command, commits one file and pushes; all ${candidates.length} start together. ` +
      `The gateway serves GIT_MAX_REQUESTS (${bench.services.gitLimits.maxRequests}) git requests at once; the others wait their turn for a slot.`,
    '',
    table(['per candidate', 'median ms', 'max ms'], [stat('clone', pick((o) => o.cloneMs)), stat('push', pick((o) => o.pushMs)), stat('clone + commit + push', pick((o) => o.totalMs))]),
    '',
    `Failures: **${failures}** of ${candidates.length} (must be 0). Repositories whose main ${host} is the pushed commit: **${verified}/${candidates.length}**. Wall time for all: **${fmtS(wallMs)}**.`,
    ...(problems.length ? ['', ...problems.slice(0, 20).map((p) => `- ${p}`), ...(problems.length > 20 ? [`- … and ${problems.length - 20} more`] : [])] : []),
  ].join('\n')
  return { report, failures, verified, wallMs, startMs, ok: failures === 0 && verified === candidates.length }
}
