// `npm test` names every test that did not run, and under CI counts each as a failure.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import t from 'tap'
import { failureReport, failures, notRun, notRunReport, tapCounts, underCI } from '../tap-report.mjs'
import { root } from './helpers.ts'

/** The TAP stream of a real tap run over the fixtures, as scripts/run.mjs captures it. */
function tapOutput(...fixtures: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TAP')))
  const result = spawnSync('corepack', ['pnpm', 'exec', 'tap', '--reporter=tap', '--disable-coverage', ...fixtures.map((f) => path.join('scripts/test/fixtures', f))], {
    cwd: root,
    env,
    encoding: 'utf8',
  })
  return result.stdout
}

// Each run of tap takes seconds: the fixtures run twice in all, and the tests share the output.
const skipsOutput = tapOutput('skips.mjs', 'skipped-file.mjs')
const failuresOutput = tapOutput('failures.mjs')

t.test('every skip and todo is named with its place and reason, and no name is taken for a directive', async (t) => {
  const out = skipsOutput
  t.match(tapCounts(out), { skip: 3, todo: 1 }, "tap's own count")
  t.same(
    // Files report in the order they finish.
    notRun(out)
      .map(({ kind, test, reason }) => ({ kind, test: test.replace(/^.*fixtures\//, ''), reason }))
      .sort((a, b) => a.test.localeCompare(b.test)),
    [
      { kind: 'skip', test: 'skipped-file.mjs', reason: 'no browser at /usr/bin/chromium' },
      { kind: 'skip', test: 'skips.mjs › hosted mode › an assertion skipped without a reason', reason: 'no reason given' },
      { kind: 'skip', test: 'skips.mjs › hosted mode › BullMQ', reason: 'Redis is unreachable at redis://127.0.0.1:6379' },
      { kind: 'todo', test: 'skips.mjs › hosted mode › written later', reason: 'no reason given' },
    ],
  )
})

t.test('the report: listed locally, failures under CI, and a skip it cannot name fails everywhere', async (t) => {
  const out = skipsOutput
  const runs = [{ label: 'PGlite', out }]
  const pass = [{ label: 'the PostgreSQL pass', reason: 'nothing listens at 127.0.0.1:5432' }]

  const local = notRunReport(runs, pass, { ci: false })
  t.equal(local.failures, 0, 'locally a skip is reported, not failed')
  t.match(local.text, /^! Skipped: 5;/)
  t.match(local.text, '  the PostgreSQL pass: not run (nothing listens at 127.0.0.1:5432)')
  t.match(local.text, /\[PGlite\] SKIP .*skips\.mjs › hosted mode › BullMQ: Redis is unreachable/)
  t.match(local.text, /\[PGlite\] SKIP .*skipped-file\.mjs: no browser at \/usr\/bin\/chromium/)

  const ci = notRunReport(runs, pass, { ci: true })
  t.equal(ci.failures, 5, 'under CI each one fails the run')
  t.match(ci.text, /^✗ Skipped: 5 \(CI is set/)

  // A skip line the report cannot read (here: cut out of the stream) still counts in tap's total.
  const hidden = out.replace(/^.*# SKIP Redis.*$/m, '')
  const unnamed = notRunReport([{ label: 'PGlite', out: hidden }], [], { ci: false })
  t.equal(unnamed.failures, 1, 'a skip tap counted but the report cannot name fails the run')
  t.match(unnamed.text, 'tap counted 4 skipped or todo, of which only 3 are named above')

  t.same(notRunReport([{ label: 'PGlite', out: '# { total: 2, pass: 2 }\n' }], [], { ci: true }), { text: 'Skipped: none', failures: 0 }, 'nothing skipped: nothing fails')
})

t.test('CI is on for 1 and true only: CI=0 and CI=false are not CI', async (t) => {
  for (const value of ['1', 'true', 'TRUE', 'True']) t.equal(underCI({ CI: value }), true, `CI=${value}`)
  for (const value of [undefined, '', '0', 'false', 'FALSE', 'no', ' 1']) t.equal(underCI({ CI: value }), false, `CI=${value}`)
})

t.test('every failure is named once with the start of its diagnostics; todo failures are not failures', async (t) => {
  const out = failuresOutput
  const found = failures(out).map((f) => ({ ...f, test: f.test.replace(/^.*fixtures\//, '') }))
  t.same(
    found.map((f) => f.test),
    [
      'failures.mjs › submit › the state is submitted',
      'failures.mjs › submit › a nested failure › the grant is cut',
      'failures.mjs › a throw with no failed assertion › the database went away',
    ],
  )
  t.ok(found.every((f) => f.diagnostics.length > 0 && f.diagnostics.length <= 12), 'each with up to 12 lines of diagnostics')
  t.match(found[0]!.diagnostics.join('\n'), /fileName: scripts\/test\/fixtures\/failures\.mjs\s+lineNumber: 5\b/, 'where it failed')

  const report = failureReport([{ label: 'PGlite', out }], { limit: 2 })
  t.match(report, /^✗ Failed: 3\n {2}\[PGlite\] .*failures\.mjs › submit › the state is submitted\n {6}/)
  t.match(report, /… and 1 more, above in the log$/)
  t.equal(failureReport([{ label: 'PGlite', out: skipsOutput }]), '', 'nothing failed: nothing to say')
})
