// What `npm test` says about a tap run beyond its counts: every test that did not run (skipped,
// or todo) with where it is and why, so that a suite which quietly shrank is seen; and every
// test that failed, so that the last screen of a long CI log names it.
// Plain JavaScript, like run.mjs, which imports it before any dependency exists.

/** tap's closing counts (`# { total: 9, pass: 7, fail: 1, skip: 1 }`), or undefined if it printed none. */
export function tapCounts(out) {
  const line = out.split('\n').filter((l) => l.startsWith('# { total')).pop()
  if (!line) return undefined
  const count = (name) => Number(new RegExp(`\\b${name}: (\\d+)`).exec(line)?.[1] ?? 0)
  return { total: count('total'), pass: count('pass'), fail: count('fail'), skip: count('skip'), todo: count('todo') }
}

// A test point. `#` inside a name is escaped (`\#`), so the first bare `#` starts the directive
// and a test named "… # SKIP …" is not taken for one.
const POINT = /^(not )?ok \d+(?: - ((?:[^#\\]|\\.)*?))?\s*(?:# (SKIP|TODO)\S*\s*(.*))?$/i

/**
 * Every test point of a TAP stream, named by its place (`file › subtest › test`, from the
 * `# Subtest:` headers and the 4-space nesting), with its directive and its YAML diagnostics.
 * `closes` says the point is a subtest's own result rather than an assertion inside it.
 */
function testPoints(out) {
  const names = []
  const points = []
  let yaml
  for (const line of out.split('\n')) {
    const text = line.trimStart()
    const indent = line.length - text.length
    // Diagnostics (YAML between `---` and `...`) may quote anything, test output included.
    if (yaml) {
      if (text === '...' && indent === yaml.indent) yaml = undefined
      else yaml.lines.push(line.slice(yaml.indent))
      continue
    }
    if (text === '---' && points.length > 0) {
      yaml = { indent, lines: points.at(-1).diagnostics }
      continue
    }
    const depth = Math.floor(indent / 4)
    const subtest = /^# Subtest: (.*)$/.exec(text)
    if (subtest) {
      names.length = depth
      names[depth] = subtest[1]
      continue
    }
    const point = POINT.exec(text)
    if (!point) continue
    const name = (point[2] ?? '').replace(/\\(.)/g, '$1').trim()
    // A subtest's header and its result sit at the same depth.
    const closes = names[depth] !== undefined && names[depth] === name
    points.push({
      ok: !point[1],
      directive: point[3]?.toLowerCase(),
      reason: (point[4] ?? '').replace(/\s*# time=\S+$/, '').trim(),
      test: [...names.slice(0, depth), name || '(unnamed)'].join(' › '),
      depth,
      closes,
      diagnostics: [],
    })
    if (closes) names.length = depth
  }
  return points
}

/** Every test point of a TAP stream that carries a SKIP or TODO directive, with its place and reason. */
export function notRun(out) {
  return testPoints(out)
    .filter((p) => p.directive)
    .map((p) => ({ kind: p.directive === 'todo' ? 'todo' : 'skip', test: p.test, reason: p.reason || 'no reason given' }))
}

/**
 * What failed, each once: a failed assertion, or a subtest that failed with no failed
 * assertion of its own (a timeout, a throw, a file that crashed), with the first lines of
 * its diagnostics, so that the end of a long log says what broke.
 */
export function failures(out, { diagnosticLines = 12 } = {}) {
  const found = []
  // By depth: whether a failure was listed inside the open subtest whose result comes at that depth.
  const listedInside = []
  for (const p of testPoints(out)) {
    const failed = !p.ok && p.directive !== 'todo'
    const covered = p.closes && listedInside[p.depth] === true
    if (p.closes) listedInside[p.depth] = false
    if (!failed) continue
    if (!covered) found.push({ test: p.test, diagnostics: p.diagnostics.slice(0, diagnosticLines) })
    for (let d = 0; d < p.depth; d++) listedInside[d] = true
  }
  return found
}

/** Whether `CI` says this is a CI run: `1` or `true` (any case); `0`, `false` or unset say it is not. */
export function underCI(env = process.env) {
  return /^(1|true)$/i.test(env.CI ?? '')
}

/**
 * The end-of-run report on tests that did not run, across tap runs (`{ label, out }`) and
 * whole passes left out (`{ label, reason }`). Under CI every one of them is a failure; so is,
 * anywhere, a skip that tap counted but the report could not name: nothing is skipped unseen.
 */
export function notRunReport(runs, skippedPasses, { ci }) {
  const lines = []
  let listed = 0
  let unnamed = 0
  for (const { label, reason } of skippedPasses) {
    lines.push(`  ${label}: not run (${reason})`)
    listed++
  }
  for (const { label, out } of runs) {
    const points = notRun(out)
    for (const p of points) lines.push(`  [${label}] ${p.kind === 'todo' ? 'TODO' : 'SKIP'} ${p.test}: ${p.reason}`)
    listed += points.length
    const counts = tapCounts(out)
    const counted = counts ? counts.skip + counts.todo : 0
    if (counted > points.length) {
      lines.push(`  [${label}] tap counted ${counted} skipped or todo, of which only ${points.length} are named above`)
      unnamed += counted - points.length
    }
  }
  if (lines.length === 0) return { text: 'Skipped: none', failures: 0 }
  const heading = ci
    ? `✗ Skipped: ${listed} (CI is set, so each counts as a failure)`
    : `! Skipped: ${listed}; these did not run (under CI, each would fail the run)`
  return { text: [heading, ...lines].join('\n'), failures: (ci ? listed : 0) + unnamed }
}

/** The end-of-run list of what failed across tap runs (`{ label, out }`), or '' when nothing did. */
export function failureReport(runs, { limit = 20 } = {}) {
  const all = runs.flatMap(({ label, out }) => failures(out).map((f) => ({ label, ...f })))
  if (all.length === 0) return ''
  const lines = [`✗ Failed: ${all.length}`]
  for (const f of all.slice(0, limit)) {
    lines.push(`  [${f.label}] ${f.test}`, ...f.diagnostics.map((l) => `      ${l}`))
  }
  if (all.length > limit) lines.push(`  … and ${all.length - limit} more, above in the log`)
  return lines.join('\n')
}
