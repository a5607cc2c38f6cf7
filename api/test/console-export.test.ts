// The invitation table as CSV: RFC 4180, no cell a spreadsheet would run as a formula, the
// same final commit and time taken as the JSON listing, every row however many there are.
import { createSourceRepo } from '@takehome/core/testing'
import t from 'tap'
import { build, createAssessment, createSeed, expectError, invite, invited, member, signup } from './helper.ts'

/** RFC 4180 read back: quoted cells may hold commas, quotes (doubled) and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(cell)
      cell = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
      i++
    } else cell += c
  }
  if (cell !== '' || row.length > 0) throw new Error('the CSV does not end with CRLF')
  return rows
}

const HEADER = ['name', 'email', 'status', 'start_deadline', 'complete_deadline', 'started_at', 'submitted_at', 'time_taken', 'final_sha']

t.test('the export: one quoted, formula-safe row per invitation with the time taken and final commit', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const seed = await createSeed(built, owner.headers, createSourceRepo().dir)
  const assessment = await createAssessment(built, owner.headers, seed.id, { title: 'Backend: Exercise #1' })
  const candidates = [
    { email: 'ada@example.com', name: 'Ada "The Countess", Lovelace' },
    { email: 'bob@example.com', name: '=HYPERLINK("http://evil.example","click")' },
    { email: '-cy@example.com', name: '+1 555 0100' },
    { email: 'dee@example.com', name: '@SUM(A1:A9)' },
    { email: 'eve@example.com' },
  ]
  const invitations = await invite(built, owner.headers, assessment.id, candidates)
  const ada = invitations.find((i) => i.candidate_email === 'ada@example.com')!
  t.equal((await built.app.inject({ method: 'POST', url: `/api/start/${ada.token}` })).statusCode, 200)
  built.clock.advance(((1 * 60 + 2) * 60 + 3) * 1000)
  const submitted = await built.app.inject({ method: 'POST', url: `/api/submit/${ada.token}` })
  t.equal(submitted.statusCode, 200)
  const finalSha = submitted.json().final_sha as string

  const res = await built.app.inject({ method: 'GET', url: `/api/assessments/${assessment.id}/invitations.csv`, headers: owner.headers })
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8')
  t.equal(res.headers['content-disposition'], 'attachment; filename="backend-exercise-1-invitations.csv"')
  t.ok(res.body.startsWith('\ufeff'), 'a byte order mark, so spreadsheets read UTF-8')
  const rows = parseCsv(res.body.slice(1))
  t.same(rows[0], HEADER)
  const byEmail = new Map(rows.slice(1).map((r) => [r[1], r]))
  t.same([...byEmail.keys()].sort(), ["'-cy@example.com", 'ada@example.com', 'bob@example.com', 'dee@example.com', 'eve@example.com'], 'one row each')
  const adaRow = byEmail.get('ada@example.com')!
  t.equal(adaRow[0], 'Ada "The Countess", Lovelace', 'quotes and commas survive')
  t.equal(adaRow[2], 'submitted')
  t.equal(adaRow[7], '1:02:03', 'the time taken')
  t.equal(adaRow[8], finalSha, 'the final commit')
  t.match(adaRow[5], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'started_at in ISO 8601')
  t.equal(byEmail.get('bob@example.com')![0], `'=HYPERLINK("http://evil.example","click")`, 'a formula is text')
  t.equal(byEmail.get("'-cy@example.com")![0], "'+1 555 0100")
  t.equal(byEmail.get('dee@example.com')![0], "'@SUM(A1:A9)")
  t.same(byEmail.get('eve@example.com')!.slice(4), ['', '', '', '', ''], 'nothing yet for who has not started')
  t.ok(res.body.includes(`\r\n"'=HYPERLINK(""http://evil.example"",""click"")",bob@example.com,`), 'quotes inside a cell are doubled, the cell quoted')

  const listed = await built.app.inject({ method: 'GET', url: `/api/invitations?assessment_id=${assessment.id}`, headers: owner.headers })
  t.match(listed.json().invitations.find((i: { id: string }) => i.id === ada.id), { final_sha: finalSha, time_taken_seconds: 3723 }, 'the JSON listing agrees')
  t.match(listed.json().invitations.find((i: { candidate_email: string }) => i.candidate_email === 'eve@example.com'), { final_sha: null, time_taken_seconds: null })
})

t.test('every invitation is exported, past one page of rows', async (t) => {
  const built = await build(t)
  const { owner, assessment } = await invited(built, createSourceRepo().dir, ['first@example.com'])
  const emails = Array.from({ length: 520 }, (_, i) => `c${String(i).padStart(3, '0')}@example.com`)
  for (let i = 0; i < emails.length; i += 500) {
    await invite(built, owner.headers, assessment.id, emails.slice(i, i + 500).map((email) => ({ email })))
  }
  const res = await built.app.inject({ method: 'GET', url: `/api/assessments/${assessment.id}/invitations.csv`, headers: owner.headers })
  t.equal(res.statusCode, 200)
  const exported = parseCsv(res.body.slice(1)).slice(1).map((r) => r[1])
  t.same(exported, [...emails, 'first@example.com'], 'each once, in order')
})

t.test('any member exports; another org, a bad id and no session are refused', async (t) => {
  const built = await build(t)
  const { owner, assessment } = await invited(built, createSourceRepo().dir, ['ada@example.com'])
  const url = `/api/assessments/${assessment.id}/invitations.csv`
  for (const role of ['viewer', 'reviewer', 'admin']) {
    const who = await member(built, owner, role)
    const res = await built.app.inject({ method: 'GET', url, headers: who.headers })
    t.equal(res.statusCode, 200, `a ${role} exports`)
    t.match(res.body, /ada@example\.com/)
  }
  const stranger = await signup(built)
  expectError(t, await built.app.inject({ method: 'GET', url, headers: stranger.headers }), 404, 'assessment_not_found')
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/assessments/nope/invitations.csv', headers: owner.headers }), 400, 'validation_failed')
  expectError(t, await built.app.inject({ method: 'GET', url }), 401)
})
