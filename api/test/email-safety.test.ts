import { rmSync } from 'node:fs'
import { createResendMailer, schema } from '@takehome/core'
import { createSourceRepo, startResendDouble } from '@takehome/core/testing'
import { eq } from 'drizzle-orm'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { build, type BuildOptions, type Built, createAssessment, createSeed, expectError, invite, mailbox, rowCounts, signup } from './helper.ts'

const HEADER_BREAK = /[\r\n\u0085\u2028\u2029]/

async function setup(t: Test, options: BuildOptions = {}) {
  const built = await build(t, options)
  const owner = await signup(built)
  const src = createSourceRepo()
  t.teardown(() => rmSync(src.dir, { recursive: true, force: true }))
  const seed = await createSeed(built, owner.headers, src.dir)
  return { built, owner, seed }
}

/** Writes what the API now refuses straight into the row, as data from before the fix would be. */
async function legacyTitle(built: Built, assessmentId: string, title: string) {
  await built.db.update(schema.assessments).set({ title }).where(eq(schema.assessments.id, assessmentId))
}

t.test('a title or candidate name with CR/LF never reaches a subject as a header break: local mailbox', async (t) => {
  const { built, owner, seed } = await setup(t)
  const assessment = await createAssessment(built, owner.headers, seed.id, {
    candidate_email_subject: '{assessment_title} for {candidate_name}',
    candidate_email_body: 'Start here: {start_link}',
  })
  await legacyTitle(built, assessment.id, 'Exercise\r\nBcc: eve@example.com')
  const [invited] = await invite(built, owner.headers, assessment.id, [{ email: 'ada@example.com', name: 'Ada' }])
  await built.db.update(schema.invitations).set({ candidateName: 'Ada\nX-Evil: 1' }).where(eq(schema.invitations.id, invited!.id))

  const [mail] = await mailbox(built, owner.headers, { kind: 'invite' })
  t.ok(mail, 'the invite was sent')
  t.notMatch(mail!.subject, HEADER_BREAK, 'the subject is one line')
  t.equal(mail!.subject, 'Exercise Bcc: eve@example.com for Ada X-Evil: 1')
})

t.test('a title with CR/LF never reaches a subject as a header break: Resend', async (t) => {
  const double = await startResendDouble()
  t.teardown(() => double.close())
  const mailer = createResendMailer({ apiKey: double.apiKey, from: 'Takehome <noreply@takehome.test>', baseUrl: double.url, logger: pino({ level: 'silent' }) })
  const { built, owner, seed } = await setup(t, { mailer })
  const assessment = await createAssessment(built, owner.headers, seed.id)
  await legacyTitle(built, assessment.id, 'Exercise\r\nBcc: eve@example.com\u2028more')
  await invite(built, owner.headers, assessment.id, [{ email: 'ada@example.com' }])
  await built.drain()

  t.equal(double.sent.length, 1, 'Resend got the invite')
  const subject = double.sent[0]!.subject
  t.notMatch(subject, HEADER_BREAK, 'the subject Resend got is one line')
  t.match(subject, 'Exercise Bcc: eve@example.com more')
})

t.test('a value used as a link target becomes a link only when it is http(s) or mailto', async (t) => {
  const { built, owner, seed } = await setup(t)
  const assessment = await createAssessment(built, owner.headers, seed.id, {
    candidate_email_subject: 'Your exercise',
    candidate_email_body: '[Open your profile]({candidate_name}) ![logo]({assessment_title}) or start: {start_link}',
  })
  await invite(built, owner.headers, assessment.id, [{ email: 'eve@example.com', name: 'javascript:alert(document.cookie)' }])
  const [mail] = await mailbox(built, owner.headers, { kind: 'invite' })
  t.notMatch(mail!.html, /(?:href|src)="(?!https?:|mailto:)/i, 'no URL attribute other than http(s) or mailto')
  t.notMatch(mail!.html, 'href="javascript:')
  t.match(mail!.html, /<a href="http:\/\/takehome\.test\/start\/thi_[^"]+">/, 'the start link is still a link')

  const preview = await built.app.inject({
    method: 'POST',
    url: '/api/email-templates/preview',
    headers: owner.headers,
    payload: {
      kind: 'follow_up',
      body: '[a]({candidate_name}) [b]({start_link}) [c]({assessment_title})',
      variables: { candidate_name: 'JavaScript:alert(1)', start_link: 'mailto:hiring@example.com', assessment_title: 'data:text/html,<b>x</b>' },
    },
  })
  t.equal(preview.statusCode, 200)
  const { html } = preview.json() as { html: string }
  t.notMatch(html, /javascript:|data:/i, 'neither javascript: nor data: survives')
  t.match(html, '<a href="mailto:hiring@example.com">b</a>', 'mailto stays a link')
})

t.test("an assessment's own invite email gets the checks of an org template", async (t) => {
  const { built, owner, seed } = await setup(t)
  const create = (fields: object) =>
    built.app.inject({
      method: 'POST',
      url: '/api/assessments',
      headers: owner.headers,
      payload: { seed_id: seed.id, title: 'Exercise', time_to_start: 'P3D', time_to_complete: 'PT48H', ...fields },
    })
  const before = await rowCounts(built)
  const unknown = expectError(t, await create({ candidate_email_subject: 'Hi {candidateName}', candidate_email_body: 'Go: {start_link}' }), 422, 'unknown_template_variable')
  t.match(unknown.details, { unknown: ['{candidateName}'] })
  expectError(t, await create({ candidate_email_subject: 'Hi', candidate_email_body: 'Go: {start_link} {{candidate_name}}' }), 422, 'unknown_template_variable')
  const missing = expectError(t, await create({ candidate_email_subject: 'Hi', candidate_email_body: 'Hi {candidate_name}, good luck' }), 422, 'missing_start_link')
  t.match(missing.message, '{start_link}')
  t.same(await rowCounts(built), before, 'nothing was written')

  const ok = await create({ candidate_email_subject: 'Hi {candidate_name}', candidate_email_body: 'Start: {start_link}' })
  t.equal(ok.statusCode, 201, 'a complete invite is accepted')
  const id = (ok.json() as { id: string }).id
  const patch = (payload: object) => built.app.inject({ method: 'PATCH', url: `/api/assessments/${id}`, headers: owner.headers, payload })
  expectError(t, await patch({ candidate_email_body: 'No link here' }), 422, 'missing_start_link')
  expectError(t, await patch({ candidate_email_subject: '{ start_link }' }), 422, 'unknown_template_variable')
  t.equal((await patch({ candidate_email_subject: null, candidate_email_body: null })).statusCode, 200, 'clearing both falls back to the org template')
})

t.test('an org invite template must carry the start link, whichever way it becomes an invite', async (t) => {
  const { built, owner } = await setup(t)
  const create = (fields: object) =>
    built.app.inject({ method: 'POST', url: '/api/email-templates', headers: owner.headers, payload: { name: 'T', subject: 'Hi', ...fields } })
  expectError(t, await create({ kind: 'invite', body: 'Hi {candidate_name}' }), 422, 'missing_start_link')
  const followUp = await create({ kind: 'follow_up', body: 'Thanks {candidate_name}' })
  t.equal(followUp.statusCode, 201, 'other kinds need no start link')
  const id = (followUp.json() as { id: string }).id
  const patch = (payload: object) => built.app.inject({ method: 'PATCH', url: `/api/email-templates/${id}`, headers: owner.headers, payload })
  expectError(t, await patch({ kind: 'invite' }), 422, 'missing_start_link')
  t.equal((await patch({ kind: 'invite', body: 'Start: {start_link}' })).statusCode, 200)
  expectError(t, await patch({ body: 'Lost the link' }), 422, 'missing_start_link')
})
