import t from 'tap'
import { parseCandidates } from './parse-candidates'

t.test('emails alone and name,email lines are candidates; blank lines are skipped', async (t) => {
  const parsed = parseCandidates('ada@example.com\n\nGrace Hopper, grace@example.com\r\n"Lovelace, Ada",ada2@example.com\n')
  t.same(
    parsed.candidates.map(({ email, name }) => ({ email, name })),
    [
      { email: 'ada@example.com', name: undefined },
      { email: 'grace@example.com', name: 'Grace Hopper' },
      { email: 'ada2@example.com', name: 'Lovelace, Ada' },
    ],
    'a quoted name keeps its comma',
  )
  t.same(parsed.bad, [])
})

t.test('bad rows are reported by line and the good rows kept', async (t) => {
  const parsed = parseCandidates('one@example.com\nnot-an-email\nBob,bob@example\nthree@example.com\na,b,c')
  t.same(parsed.candidates.map((c) => c.email), ['one@example.com', 'three@example.com'])
  t.same(
    parsed.bad.map((b) => [b.line, b.text]),
    [
      [2, 'not-an-email'],
      [3, 'Bob,bob@example'],
      [5, 'a,b,c'],
    ],
  )
  t.match(parsed.bad[0]!.message, /not an email address/)
})

t.test("a CSV's header row is skipped and repeated emails are kept once", async (t) => {
  const parsed = parseCandidates('name,email\nAda,ada@example.com\nAda again,ADA@example.com\n')
  t.same(parsed.candidates.map(({ email, name, line }) => ({ email, name, line })), [{ email: 'ada@example.com', name: 'Ada', line: 2 }])
  t.same(parsed.bad, [])
})
