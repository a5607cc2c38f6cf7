import t from 'tap'
import { durationSchema, formatDuration, parseDuration } from '../src/duration.ts'

t.test('fixed-length ISO 8601 durations parse to seconds', async (t) => {
  const cases: Array<[string, number]> = [
    ['P3D', 3 * 86_400],
    ['PT48H', 48 * 3_600],
    ['P1W', 7 * 86_400],
    ['P1DT12H', 36 * 3_600],
    ['PT90M', 5_400],
    ['PT30S', 30],
    ['p2d', 2 * 86_400],
  ]
  for (const [text, seconds] of cases) t.equal(parseDuration(text), seconds, text)
})

t.test('anything else is refused', async (t) => {
  for (const text of ['', 'P', 'PT', '3D', 'P1M', 'P1Y', 'P-1D', 'P1.5D', 'PT1H2D', 'P1DT', 'hello']) {
    t.equal(parseDuration(text), undefined, JSON.stringify(text))
  }
})

t.test('the schema explains why a value is refused', async (t) => {
  const months = durationSchema.safeParse('P1M')
  t.match(months.error?.issues[0]?.message, /months have no fixed length/)
  const zero = durationSchema.safeParse('PT0S')
  t.match(zero.error?.issues[0]?.message, /longer than zero/)
  const long = durationSchema.safeParse('P400D')
  t.match(long.error?.issues[0]?.message, /at most 366 days/)
  t.equal(durationSchema.parse('PT48H'), 172_800)
})

t.test('seconds format back to a canonical duration', async (t) => {
  t.equal(formatDuration(259_200), 'P3D')
  t.equal(formatDuration(172_800), 'P2D')
  t.equal(formatDuration(5_400), 'PT1H30M')
  t.equal(formatDuration(90_061), 'P1DT1H1M1S')
  t.equal(formatDuration(0), 'PT0S')
  for (const s of [1, 59, 3_600, 86_399, 604_800]) t.equal(parseDuration(formatDuration(s)), s, `round trip ${s}`)
})
