// What `npm test` says about a tap run beyond pass and fail: every test that did not run
// (skipped, or todo) with where it is and why, so that a suite which quietly shrank is seen.
// Plain JavaScript, like run.mjs, which imports it before any dependency exists.

/** tap's closing counts (`# { total: 9, pass: 7, fail: 1, skip: 1 }`), or undefined if it printed none. */
export function tapCounts(out) {
  const line = out.split('\n').filter((l) => l.startsWith('# { total')).pop()
  if (!line) return undefined
  const count = (name) => Number(new RegExp(`\\b${name}: (\\d+)`).exec(line)?.[1] ?? 0)
  return { total: count('total'), pass: count('pass'), fail: count('fail'), skip: count('skip'), todo: count('todo') }
}

// A test point with a SKIP or TODO directive. `#` inside a name is escaped (`\#`), so the
// first bare `#` starts the directive and a test named "… # SKIP …" is not taken for one.
const DIRECTIVE = /^(?:not )?ok \d+(?: - ((?:[^#\\]|\\.)*?))?\s*# (SKIP|TODO)\S*\s*(.*)$/i

/**
 * Every test point of a TAP stream that carries a SKIP or TODO directive, named by its place
 * (`file › subtest › test`, from the `# Subtest:` headers and the 4-space nesting) with its reason.
 */
export function notRun(out) {
  const names = []
  const found = []
  let yamlIndent = -1
  for (const line of out.split('\n')) {
    const text = line.trimStart()
    const indent = line.length - text.length
    // Diagnostics (YAML between `---` and `...`) may quote anything, test output included.
    if (yamlIndent >= 0) {
      if (text === '...' && indent === yamlIndent) yamlIndent = -1
      continue
    }
    if (text === '---') {
      yamlIndent = indent
      continue
    }
    const depth = Math.floor(indent / 4)
    const subtest = /^# Subtest: (.*)$/.exec(text)
    if (subtest) {
      names.length = depth
      names[depth] = subtest[1]
      continue
    }
    const point = DIRECTIVE.exec(text)
    if (!point) continue
    const name = (point[1] ?? '').replace(/\\(.)/g, '$1').trim()
    found.push({
      kind: point[2].toLowerCase() === 'todo' ? 'todo' : 'skip',
      test: [...names.slice(0, depth), name || '(unnamed)'].join(' › '),
      reason: point[3].replace(/\s*# time=\S+$/, '').trim() || 'no reason given',
    })
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
