import { rmSync } from 'node:fs'
import { createSourceRepo } from '@takehome/core/testing'
import t, { type Test } from 'tap'
import { type Built, build, expectError, invited, mailbox, member, rowCounts, signup } from './helper.ts'

async function setup(t: Test) {
  const built = await build(t)
  const src = createSourceRepo()
  t.teardown(() => rmSync(src.dir, { recursive: true, force: true }))
  const { owner, invitations } = await invited(built, src.dir, ['ann@example.com'])
  await built.drain()
  return { built, owner, invitation: invitations[0]! }
}

const followUp = (built: Built, headers: Record<string, string>, payload: object) =>
  built.app.inject({ method: 'POST', url: '/api/followup', headers, payload })

t.test("a follow-up is queued, then sent with the org's default or the named template", async (t) => {
  const { built, owner, invitation } = await setup(t)

  const queued = await followUp(built, owner.headers, { invitation_id: invitation.id })
  t.equal(queued.statusCode, 202, queued.body)
  t.match(queued.json(), { status: 'queued', job_id: /^[0-9a-f-]{36}$/ })
  let sent = await mailbox(built, owner.headers, { kind: 'follow_up' })
  t.equal(sent.length, 1, 'one follow-up')
  t.match(sent[0], { to: 'ann@example.com', subject: 'Thank you for your work on Backend exercise' })

  const template = await built.app.inject({
    method: 'POST',
    url: '/api/email-templates',
    headers: owner.headers,
    payload: { kind: 'follow_up', name: 'Next round', subject: 'Next steps, {candidate_name}', body: 'We would like to talk about {assessment_title}.' },
  })
  t.equal(template.statusCode, 201, template.body)
  const named = await followUp(built, owner.headers, { invitation_id: invitation.id, template_id: template.json().id })
  t.equal(named.statusCode, 202, named.body)
  sent = await mailbox(built, owner.headers, { kind: 'follow_up' })
  t.equal(sent.length, 2)
  t.match(sent[0], { subject: 'Next steps, there', text: 'We would like to talk about Backend exercise.' })

  const reviewer = await member(built, owner, 'reviewer')
  t.equal((await followUp(built, reviewer.headers, { invitation_id: invitation.id })).statusCode, 202, 'reviewers send follow-ups')
})

t.test('bad follow-up requests are refused and queue nothing', async (t) => {
  const { built, owner, invitation } = await setup(t)
  const stranger = await signup(built)
  const viewer = await member(built, owner, 'viewer')
  const invite = await built.app.inject({
    method: 'POST',
    url: '/api/email-templates',
    headers: owner.headers,
    payload: { kind: 'invite', name: 'Warm', subject: 'Hello', body: 'Start here: {start_link}' },
  })
  const before = await rowCounts(built)
  const cases: Array<[string, Record<string, string>, object, number, string]> = [
    ['no invitation_id', owner.headers, {}, 400, 'validation_failed'],
    ['a malformed invitation_id', owner.headers, { invitation_id: 'nope' }, 400, 'validation_failed'],
    ['a malformed template_id', owner.headers, { invitation_id: invitation.id, template_id: 42 }, 400, 'validation_failed'],
    ['an unknown invitation', owner.headers, { invitation_id: '00000000-0000-4000-8000-000000000000' }, 422, 'invitation_not_found'],
    ["another org's invitation", stranger.headers, { invitation_id: invitation.id }, 422, 'invitation_not_found'],
    ['a template of another kind', owner.headers, { invitation_id: invitation.id, template_id: invite.json().id }, 422, 'email_template_not_found'],
    ['a viewer', viewer.headers, { invitation_id: invitation.id }, 403, 'forbidden'],
  ]
  for (const [what, headers, payload, status, code] of cases) {
    t.test(what, async (t) => void expectError(t, await followUp(built, headers, payload), status, code))
  }
  const malformed = await built.app.inject({
    method: 'POST',
    url: '/api/followup',
    headers: { ...owner.headers, 'content-type': 'application/json' },
    payload: '{"invitation_id":',
  })
  expectError(t, malformed, 400)
  const anonymous = await followUp(built, {}, { invitation_id: invitation.id })
  expectError(t, anonymous, 401)
  t.same(await rowCounts(built), before, 'nothing queued or written')
})

t.test('a job that cannot succeed is dead-lettered, listed for admins, counted in /metrics and can be retried', async (t) => {
  const { built, owner, invitation } = await setup(t)
  const template = await built.app.inject({
    method: 'POST',
    url: '/api/email-templates',
    headers: owner.headers,
    payload: { kind: 'follow_up', name: 'Soon gone', subject: 'Hi', body: 'Bye' },
  })
  const templateId = template.json().id as string
  const queued = await followUp(built, owner.headers, { invitation_id: invitation.id, template_id: templateId })
  t.equal(queued.statusCode, 202)
  // Deleted after queuing: the job finds nothing to send with, every time.
  t.equal((await built.app.inject({ method: 'DELETE', url: `/api/email-templates/${templateId}`, headers: owner.headers })).statusCode, 204)
  t.same(await mailbox(built, owner.headers, { kind: 'follow_up' }), [], 'nothing sent')

  const failed = await built.app.inject({ method: 'GET', url: '/api/jobs/failed', headers: owner.headers })
  t.equal(failed.statusCode, 200)
  const jobs = failed.json().jobs as Array<{ id: string; kind: string; attempts: number; last_error: string; payload: object }>
  t.equal(jobs.length, 1)
  t.match(jobs[0], { id: queued.json().job_id, kind: 'email.follow_up', attempts: 1, last_error: /template/ })
  t.same(Object.keys(jobs[0]!.payload).sort(), ['invitationId', 'templateId'], 'ids only in the payload')

  const metrics = await built.app.inject({ method: 'GET', url: '/metrics' })
  t.equal(metrics.statusCode, 200)
  t.match(metrics.body, /^takehome_jobs\{state="dead"\} 1$/m)
  t.match(metrics.body, /^takehome_jobs\{state="done"\} 1$/m, 'the invite went out')

  const stranger = await signup(built)
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/jobs/failed', headers: (await member(built, owner, 'reviewer')).headers }), 403, 'forbidden')
  t.same((await built.app.inject({ method: 'GET', url: '/api/jobs/failed', headers: stranger.headers })).json(), { jobs: [] }, 'other orgs see none')
  expectError(t, await built.app.inject({ method: 'POST', url: `/api/jobs/${jobs[0]!.id}/retry`, headers: stranger.headers }), 404, 'failed_job_not_found')
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/jobs/failed?limit=0', headers: owner.headers }), 400, 'validation_failed')

  const retried = await built.app.inject({ method: 'POST', url: `/api/jobs/${jobs[0]!.id}/retry`, headers: owner.headers })
  t.equal(retried.statusCode, 202)
  await built.drain()
  const again = (await built.app.inject({ method: 'GET', url: '/api/jobs/failed', headers: owner.headers })).json().jobs
  t.match(again, [{ id: jobs[0]!.id, attempts: 1 }], 'tried again from scratch, and failed again')
  expectError(t, await built.app.inject({ method: 'POST', url: `/api/jobs/${invitation.id}/retry`, headers: owner.headers }), 404, 'failed_job_not_found')
})
