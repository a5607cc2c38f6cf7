// `pnpm bench`: broker throughput, clone overhead of the gateway, concurrent pushes, each
// against a baseline measured in this same run, and the review diff of a large change. The report (stdout) is Markdown, to
// paste into a README, printed once everything has run; progress goes to stderr.
//
// The clones run first, in a fresh process: right after 300,000 broker requests the heap
// left behind adds tens of milliseconds to gateway clones that a fresh server does not
// pay, which would blur what the gateway itself costs.
import { rmSync } from 'node:fs'
import os from 'node:os'
import { startApp } from './app.ts'
import { benchClone } from './clone.ts'
import { benchConcurrent, CONCURRENT } from './concurrent.ts'
import { benchDiff, DIFFS } from './diff.ts'
import { describeMachine } from './machine.ts'
import { createLargeRepo, createSmallRepo } from './repos.ts'
import { fmtMiB, fmtMs, fmtRatio, fmtS } from './stats.ts'
import { benchThroughput } from './throughput.ts'

const started = performance.now()
const progress = (line: string) => process.stderr.write(`… ${line} (${fmtS(performance.now() - started)})\n`)
const print = (text: string) => process.stdout.write(`${text}\n\n`)

const header = `## Takehome benchmarks (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)\n\n${describeMachine()}`

progress('generating the seed repositories')
const large = createLargeRepo()
const small = createSmallRepo()
const bench = await startApp()
let failed = false
try {
  progress('starting candidates (the large seed is copied into the candidate repository)')
  const [cloner] = await bench.startCandidates(large.dir, 1, 'Large exercise')
  const crowd = await bench.startCandidates(small.dir, CONCURRENT.candidates, 'Small exercise')

  const b = await benchClone(bench, cloner!, large.packBytes, progress)
  const a = await benchThroughput(bench, cloner!, progress)
  progress('(c) concurrent clone + commit + push')
  const c = await benchConcurrent(bench, crowd, `40 small text files, ${fmtMiB(small.packBytes)} of git objects`)
  // In a server process of its own, so its RSS is not this process's.
  const d = await benchDiff(progress)
  failed = !a.ok || !c.ok || !d.ok

  print(header)
  print(a.report)
  print(b.report)
  print(c.report)
  print(d.report)
  print(
    [
      '### Summary',
      '',
      `- broker / bare req/s: ${fmtRatio(a.ratio)} (target ≥ 0.50)`,
      `- gateway / direct clone time: ${fmtRatio(b.medianRatio)} by median, ${fmtRatio(b.meanRatio)} by mean, ${fmtRatio(b.pairedRatio)} paired (target ≤ 1.10)`,
      `- concurrent: ${c.failures} failures, ${c.verified}/${CONCURRENT.candidates} pushes landed, ${fmtS(c.wallMs)} wall`,
      `- diff of a 100,000-line change: JSON ${fmtMs(d.jsonMs)} ms, raw ${fmtMs(d.rawMs)} ms by median (target < ${DIFFS.targetMs} ms); server RSS growth ${d.growthMiB.toFixed(1)} MiB (target < ${DIFFS.targetGrowthMiB} MiB)`,
      `- total bench time: ${fmtS(performance.now() - started)}; load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    ].join('\n'),
  )
} finally {
  await bench.close()
  rmSync(large.dir, { recursive: true, force: true })
  rmSync(small.dir, { recursive: true, force: true })
}
process.exitCode = failed ? 1 : 0
