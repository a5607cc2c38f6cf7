import assert from 'node:assert/strict'
import { test } from 'node:test'
import { demoteHeadings, formatRemaining, formatUtc, humaniseDuration, shortSha, toSentence } from './format'

test('formatUtc writes the UTC wall time with a UTC suffix', () => {
  assert.equal(formatUtc('2026-11-25T10:00:00Z'), '25 Nov 2026, 10:00 UTC')
  assert.equal(formatUtc('2026-09-01T23:30:00+02:00'), '1 Sep 2026, 21:30 UTC')
  assert.equal(formatUtc('not a date'), 'not a date')
})

test('humaniseDuration reads ISO 8601 durations', () => {
  assert.equal(humaniseDuration('P2D'), '2 days')
  assert.equal(humaniseDuration('P1D'), '1 day')
  assert.equal(humaniseDuration('PT4H30M'), '4 hours and 30 minutes')
  assert.equal(humaniseDuration('P1W'), '1 week')
  assert.equal(humaniseDuration('P1DT2H3M'), '1 day, 2 hours and 3 minutes')
  assert.equal(humaniseDuration('PT1.5H'), '1.5 hours')
  assert.equal(humaniseDuration('PT0S'), 'no time')
})

test('humaniseDuration returns what it cannot read unchanged', () => {
  for (const bad of ['', 'P', 'PT', '2 days', 'P1H']) assert.equal(humaniseDuration(bad), bad)
})

test('formatRemaining rounds down and names the two largest units', () => {
  const m = 60_000
  const h = 60 * m
  const d = 24 * h
  assert.equal(formatRemaining(2 * d + 3 * h + 59 * m), '2 days and 3 hours')
  assert.equal(formatRemaining(d), '1 day')
  assert.equal(formatRemaining(47 * h + 59 * m + 59_000), '1 day and 23 hours')
  assert.equal(formatRemaining(3 * h + 12 * m + 30_000), '3 hours and 12 minutes')
  assert.equal(formatRemaining(h + m), '1 hour and 1 minute')
  assert.equal(formatRemaining(12 * m + 59_000), '12 minutes')
  assert.equal(formatRemaining(59_000), 'less than a minute')
  assert.equal(formatRemaining(0), null)
  assert.equal(formatRemaining(-5), null)
  assert.equal(formatRemaining(Number.NaN), null)
})

test('shortSha keeps the first seven characters', () => {
  assert.equal(shortSha('0123456789abcdef0123456789abcdef01234567'), '0123456')
})

test('toSentence capitalises, ends with a full stop and writes instants in UTC', () => {
  assert.equal(
    toSentence('the time to start this assessment ended at 2026-11-25T10:00:00.000Z'),
    'The time to start this assessment ended at 25 Nov 2026, 10:00 UTC.',
  )
  assert.equal(
    toSentence('the time to complete this assessment ended at 2026-11-25T10:00:00.000Z; your work as of then is kept'),
    'The time to complete this assessment ended at 25 Nov 2026, 10:00 UTC; your work as of then is kept.',
  )
  assert.equal(toSentence('start the assessment first'), 'Start the assessment first.')
  assert.equal(toSentence('Already a sentence!'), 'Already a sentence!')
  assert.equal(toSentence('  '), '')
})

test('demoteHeadings moves markdown headings below the page heading, capped at h6', () => {
  assert.equal(demoteHeadings('<h1 id="a">A</h1><h2>B</h2><h5>E</h5>', 2), '<h3 id="a">A</h3><h4>B</h4><h6>E</h6>')
  assert.equal(demoteHeadings('<p>a <code>&lt;h1&gt;</code></p><hr><header>', 2), '<p>a <code>&lt;h1&gt;</code></p><hr><header>')
})
