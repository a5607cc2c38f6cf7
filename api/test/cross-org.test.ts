// Review and mail routes across orgs and roles (DESIGN section 3): another org's owner finds
// nothing (404, never 403, so ids do not leak), viewers read but do not write, reviewers
// comment, rate and send follow-ups, only owners and admins read the mailbox.
import { createSourceRepo } from '@takehome/core/testing'
import t from 'tap'
import { build, expectError, invited, mailbox, member, rowCounts, signup } from './helper.ts'

t.test('the diff, commits, comments, feedback, follow-up and mail routes across orgs and roles', async (t) => {
  const built = await build(t)
  const { owner, invitations } = await invited(built, createSourceRepo().dir, ['ann@example.com'])
  const invitation = invitations[0]!
  t.equal((await mailbox(built, owner.headers, { kind: 'invite' })).length, 1, 'the invite is sent (before Start, which would make it moot)')
  const started = await built.app.inject({ method: 'POST', url: `/api/start/${invitation.token}` })
  t.equal(started.statusCode, 200)
  const detail = await built.app.inject({ method: 'GET', url: `/api/invitations/${invitation.id}`, headers: owner.headers })
  const repoId = detail.json().repo.id as string
  t.match(repoId, /^[0-9a-f-]{36}$/)
  const viewer = await member(built, owner, 'viewer')
  const reviewer = await member(built, owner, 'reviewer')
  const admin = await member(built, owner, 'admin')
  const stranger = await signup(built)
  const strangerViewer = await member(built, stranger, 'viewer')

  const get = (url: string, headers: Record<string, string>, accept?: string) =>
    built.app.inject({ method: 'GET', url, headers: accept ? { ...headers, accept } : headers })
  const post = (url: string, headers: Record<string, string>, payload: object) => built.app.inject({ method: 'POST', url, headers, payload })
  const comment = (headers: Record<string, string>) => post(`/api/invitations/${invitation.id}/comments`, headers, { path: 'README.md', line: 1, body: 'Nice.' })
  const feedback = (headers: Record<string, string>) => post(`/api/invitations/${invitation.id}/feedback`, headers, { rating: 4, summary: 'Solid.' })
  const followUp = (headers: Record<string, string>) => post('/api/followup', headers, { invitation_id: invitation.id })

  await t.test("another org's owner and members find nothing, and change nothing", async (t) => {
    const before = await rowCounts(built)
    for (const who of [stranger, strangerViewer]) {
      expectError(t, await get(`/api/repos/${repoId}/diff`, who.headers), 404, 'repo_not_found')
      expectError(t, await get(`/api/repos/${repoId}/diff`, who.headers, 'text/x-diff'), 404, 'repo_not_found')
      expectError(t, await get(`/api/repos/${repoId}/commits`, who.headers), 404, 'repo_not_found')
      expectError(t, await get(`/api/invitations/${invitation.id}`, who.headers), 404, 'invitation_not_found')
    }
    expectError(t, await comment(stranger.headers), 404, 'invitation_not_found')
    expectError(t, await feedback(stranger.headers), 404, 'invitation_not_found')
    expectError(t, await followUp(stranger.headers), 422, 'invitation_not_found')
    // A viewer elsewhere is refused for the role before anything about the invitation is looked up.
    expectError(t, await comment(strangerViewer.headers), 403, 'forbidden')
    expectError(t, await feedback(strangerViewer.headers), 403, 'forbidden')
    const theirMail = await get('/api/mail', stranger.headers)
    t.equal(theirMail.statusCode, 200)
    t.same(
      theirMail.json().messages.filter((m: { to: string }) => m.to === invitation.candidate_email),
      [],
      "another org's mailbox holds none of this org's emails",
    )
    t.same(await rowCounts(built), before, 'nothing was written')
  })

  await t.test('a viewer reads the review but writes nothing, and does not read the mailbox', async (t) => {
    t.equal((await get(`/api/repos/${repoId}/diff`, viewer.headers)).statusCode, 200, 'diff')
    t.equal((await get(`/api/repos/${repoId}/diff`, viewer.headers, 'text/x-diff')).statusCode, 200, 'raw diff')
    t.equal((await get(`/api/repos/${repoId}/commits`, viewer.headers)).statusCode, 200, 'commits')
    t.equal((await get(`/api/invitations/${invitation.id}`, viewer.headers)).statusCode, 200, 'the invitation with its comments')
    const before = await rowCounts(built)
    expectError(t, await comment(viewer.headers), 403, 'forbidden')
    expectError(t, await feedback(viewer.headers), 403, 'forbidden')
    expectError(t, await followUp(viewer.headers), 403, 'forbidden')
    expectError(t, await get('/api/mail', viewer.headers), 403, 'forbidden')
    t.same(await rowCounts(built), before, 'nothing was written')
  })

  await t.test('a reviewer comments, rates and sends a follow-up, but does not read the mailbox', async (t) => {
    t.equal((await comment(reviewer.headers)).statusCode, 201, 'comments')
    t.equal((await feedback(reviewer.headers)).statusCode, 201, 'rates')
    t.equal((await followUp(reviewer.headers)).statusCode, 202, 'sends a follow-up')
    expectError(t, await get('/api/mail', reviewer.headers), 403, 'forbidden')
  })

  await t.test('an admin does all of it, mailbox included', async (t) => {
    t.equal((await comment(admin.headers)).statusCode, 201)
    t.equal((await feedback(admin.headers)).statusCode, 201)
    const mail = await get('/api/mail', admin.headers)
    t.equal(mail.statusCode, 200)
    t.ok(mail.json().messages.some((m: { to: string }) => m.to === invitation.candidate_email), "the org's own emails")
  })

  const review = (await get(`/api/invitations/${invitation.id}`, owner.headers)).json()
  t.equal(review.comments.length, 2, 'the two comments allowed, no more')
  t.equal(review.feedback.length, 2, 'the two ratings allowed, no more')
})
