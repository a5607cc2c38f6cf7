// `pnpm bench`: broker throughput, clone overhead of the gateway and concurrent pushes, on
// the local git host and then in GitHub mode against the loopback GitHub double, each
// against a baseline measured in this same run; then the review diff of a large change. The
// report (stdout) is Markdown, to paste into a README, printed once everything has run;
// progress goes to stderr.
//
// In each mode the clones run first, on a fresh server: right after 300,000 broker requests
// the heap left behind adds tens of milliseconds to gateway clones that a fresh server does
// not pay, which would blur what the gateway itself costs.
import { rmSync } from 'node:fs'
import os from 'node:os'
import { BENCH_PACING, type BenchGitHub, startApp, startGitHub } from './app.ts'
import { benchClone, CLONES } from './clone.ts'
import { benchConcurrent, CONCURRENT } from './concurrent.ts'
import { benchDiff, DIFFS } from './diff.ts'
import { describeMachine } from './machine.ts'
import { createLargeRepo, createSmallRepo } from './repos.ts'
import { benchReviewPage } from './review-page.ts'
import { fmtInt, fmtMiB, fmtMs, fmtRatio, fmtS, verdict } from './stats.ts'
import { benchThroughput, THROUGHPUT } from './throughput.ts'

const started = performance.now()
const progress = (line: string) => process.stderr.write(`… ${line} (${fmtS(performance.now() - started)})\n`)
const print = (text: string) => process.stdout.write(`${text}\n\n`)

const header = `## Takehome benchmarks (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)\n\n${describeMachine()}`

progress('generating the seed repositories')
const large = createLargeRepo()
const small = createSmallRepo()
const smallDescription = `40 small text files, ${fmtMiB(small.packBytes)} of git objects`

/** (b), (a) and (c) on one git host: the local one, or GitHub's (the double) when given. */
async function benchMode(github?: BenchGitHub) {
  const mode = github ? 'GitHub mode' : 'local host'
  const bench = await startApp({ github })
  try {
    progress(`${mode}: starting a candidate on the large seed (copied into the candidate repository)`)
    const {
      candidates: [cloner],
    } = await bench.startCandidates(large.dir, 1, 'Large exercise')
    progress(`${mode}: starting ${CONCURRENT.candidates} candidates at once`)
    const crowd = await bench.startCandidates(small.dir, CONCURRENT.candidates, 'Small exercise')
    progress(`${mode}: ${CONCURRENT.candidates} started in ${fmtS(crowd.startMs)}`)

    const b = await benchClone(bench, cloner!, large.packBytes, progress, github)
    const a = await benchThroughput(bench, cloner!, progress)
    progress(`(c) ${mode}: ${CONCURRENT.candidates} candidates clone, commit and push at once`)
    const c = await benchConcurrent(bench, crowd.candidates, smallDescription, crowd.startMs)
    return { mode, a, b, c }
  } finally {
    await bench.close()
  }
}

let failed = false
let double: BenchGitHub | undefined
try {
  const local = await benchMode()
  progress('GitHub mode: starting the GitHub double, in a process of its own')
  double = await startGitHub()
  const github = await benchMode(double)
  await double.close()
  double = undefined
  // In a server process of its own, so its RSS is not this process's.
  const d = await benchDiff(progress)
  // (e) needs the built web app and Chromium; its report says so when either is missing.
  const e = await benchReviewPage(progress)
  const modes = [local, github]
  failed = modes.some((m) => !m.a.ok || !m.c.ok) || !d.ok || !e.ok

  print(header)
  for (const m of modes) {
    print(`## ${m.mode === 'local host' ? 'Local git host' : 'GitHub mode (against the loopback GitHub double)'}`)
    print(m.a.report)
    print(m.b.report)
    print(m.c.report)
  }
  print(d.report)
  print(
    [
      '### Summary',
      '',
      ...modes.flatMap((m) => [
        `- ${m.mode}, (a) broker / bare req/s: ${fmtRatio(m.a.ratio)} by the rounds' median, ${fmtRatio(m.a.totalRatio)} in all (${fmtInt(m.a.broker.reqPerSec)} vs ${fmtInt(m.a.bare.reqPerSec)}; target ≥ ${THROUGHPUT.target}: ${verdict(m.a.ratio >= THROUGHPUT.target)}); the control (the broker's answer, constant) / bare: ${fmtRatio(m.a.ceiling)}; server CPU ${m.a.broker.cpuUsPerReq.toFixed(1)} vs ${m.a.bare.cpuUsPerReq.toFixed(1)} µs/req`,
        `- ${m.mode}, (b) gateway / direct clone time: ${fmtRatio(m.b.medianRatio)} by median, ${fmtRatio(m.b.meanRatio)} by mean, ${fmtRatio(m.b.pairedRatio)} paired (target ≤ ${CLONES.target}: ${verdict(m.b.medianRatio <= CLONES.target)})`,
        `- ${m.mode}, (c) ${CONCURRENT.candidates} at once: ${m.c.failures} failures, ${m.c.verified}/${CONCURRENT.candidates} pushes landed, ${fmtS(m.c.wallMs)} wall; started in ${fmtS(m.c.startMs)}`,
      ]),
      `- GitHub mode pacing for the bench: a repository creation every ${BENCH_PACING.creations.intervalMs} ms at most, ${BENCH_PACING.creations.maxInFlight} at once, other writes ${BENCH_PACING.writeIntervalMs} ms apart (production: DEFAULT_PACING)`,
      `- diff of a 100,000-line change: JSON ${fmtMs(d.jsonMs)} ms, raw ${fmtMs(d.rawMs)} ms by median (target < ${DIFFS.targetMs} ms); server RSS growth ${d.growthMiB.toFixed(1)} MiB (target < ${DIFFS.targetGrowthMiB} MiB)`,
      `- total bench time: ${fmtS(performance.now() - started)}; load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    ].join('\n'),
  )
  print(e.report)
} finally {
  await double?.close()
  rmSync(large.dir, { recursive: true, force: true })
  rmSync(small.dir, { recursive: true, force: true })
}
process.exitCode = failed ? 1 : 0
