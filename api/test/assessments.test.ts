import { rmSync } from 'node:fs'
import { schema } from '@takehome/core'
import { createSourceRepo } from '@takehome/core/testing'
import { eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import {
  type Built,
  build,
  createSeed,
  expectError,
  member,
  rowCounts,
  signup,
} from './helper.ts'

type Headers = Record<string, string>
interface AssessmentBody {
  id: string
  seed_id: string
  title: string
  description: string | null
  instructions: string | null
  candidate_email_subject: string | null
  candidate_email_body: string | null
  time_to_start: string
  time_to_complete: string
  allow_workflow_changes: boolean
  created_at: string
  updated_at: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000'

/** A seed of the org behind `headers`, mirrored from a throwaway source repository. */
async function newSeed(t: Test, built: Built, headers: Headers) {
  const src = createSourceRepo()
  t.teardown(() => rmSync(src.dir, { recursive: true, force: true }))
  return (await createSeed(built, headers, src.dir)).id
}

const validBody = (seedId: string) => ({
  seed_id: seedId,
  title: 'Build a rate limiter',
  description: 'A small service',
  instructions: '# Task\n\nImplement `limit()`.',
  time_to_start: 'P3D',
  time_to_complete: 'PT48H',
})

async function createAssessment(built: Built, headers: Headers, body: object) {
  const res = await built.app.inject({ method: 'POST', url: '/api/assessments', headers, payload: body })
  if (res.statusCode !== 201) throw new Error(`assessment create failed: ${res.statusCode} ${res.body}`)
  return res.json() as AssessmentBody
}

/** An owner with a seed and one assessment on it. */
async function setup(t: Test) {
  const built = await build(t)
  const owner = await signup(built)
  const seedId = await newSeed(t, built, owner.headers)
  const assessment = await createAssessment(built, owner.headers, validBody(seedId))
  return { built, owner, seedId, assessment }
}

t.test('an owner creates an assessment; durations come back as canonical ISO 8601', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const seedId = await newSeed(t, built, owner.headers)
  const res = await built.app.inject({
    method: 'POST',
    url: '/api/assessments',
    headers: owner.headers,
    payload: { ...validBody(seedId), candidate_email_subject: 'Your exercise', candidate_email_body: 'Hi {candidate_name}, start here: {start_link}' },
  })
  t.equal(res.statusCode, 201)
  const body = res.json() as AssessmentBody
  t.match(body.id, UUID)
  t.same(Object.keys(body).sort(), [
    'allow_workflow_changes',
    'candidate_email_body',
    'candidate_email_subject',
    'created_at',
    'description',
    'id',
    'instructions',
    'max_push_bytes',
    'seed_id',
    'time_to_complete',
    'time_to_start',
    'title',
    'updated_at',
  ])
  t.match(body, {
    seed_id: seedId,
    title: 'Build a rate limiter',
    description: 'A small service',
    instructions: '# Task\n\nImplement `limit()`.',
    candidate_email_subject: 'Your exercise',
    candidate_email_body: 'Hi {candidate_name}, start here: {start_link}',
    time_to_start: 'P3D',
    time_to_complete: 'P2D',
  })
  t.equal(body.created_at, built.clock.now().toISOString())
  t.equal(body.updated_at, body.created_at)

  const [row] = await built.db.select().from(schema.assessments).where(eq(schema.assessments.id, body.id))
  t.equal(row?.timeToStartSeconds, 3 * 86_400)
  t.equal(row?.timeToCompleteSeconds, 48 * 3_600)
  t.equal(row?.orgId, owner.org.id)
  t.equal(row?.createdBy, owner.user.id)

  const minimal = await createAssessment(built, owner.headers, {
    seed_id: seedId,
    title: '  Trimmed  ',
    time_to_start: 'P1W',
    time_to_complete: 'PT36H',
  })
  t.match(minimal, {
    title: 'Trimmed',
    description: null,
    instructions: null,
    candidate_email_subject: null,
    candidate_email_body: null,
    time_to_start: 'P7D',
    time_to_complete: 'P1DT12H',
    allow_workflow_changes: false,
  })
  const short = await createAssessment(built, owner.headers, {
    seed_id: seedId,
    title: 'Short',
    time_to_start: 'pt90m',
    time_to_complete: 'PT1S',
  })
  t.match(short, { time_to_start: 'PT1H30M', time_to_complete: 'PT1S' }, 'any positive length is accepted')
})

t.test('list and get show the org its own assessments only', async (t) => {
  const { built, owner, seedId, assessment: first } = await setup(t)
  const second = await createAssessment(built, owner.headers, { ...validBody(seedId), title: 'Second' })
  const other = await signup(built)
  const theirSeed = await newSeed(t, built, other.headers)
  const theirs = await createAssessment(built, other.headers, validBody(theirSeed))

  const list = await built.app.inject({ method: 'GET', url: '/api/assessments', headers: owner.headers })
  t.equal(list.statusCode, 200)
  t.same(list.json(), { assessments: [second, first] }, 'newest first, exactly as created')

  const get = await built.app.inject({ method: 'GET', url: `/api/assessments/${first.id}`, headers: owner.headers })
  t.equal(get.statusCode, 200)
  t.same(get.json(), first)

  const theirList = await built.app.inject({ method: 'GET', url: '/api/assessments', headers: other.headers })
  t.same(theirList.json(), { assessments: [theirs] })

  expectError(t, await built.app.inject({ method: 'GET', url: '/api/assessments' }), 401, 'unauthenticated')
})

t.test('PATCH changes only the fields sent', async (t) => {
  const { built, owner, assessment } = await setup(t)
  const otherSeed = await newSeed(t, built, owner.headers)
  built.clock.advance(60_000)
  const res = await built.app.inject({
    method: 'PATCH',
    url: `/api/assessments/${assessment.id}`,
    headers: owner.headers,
    payload: { title: 'Renamed', time_to_complete: 'PT72H' },
  })
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    ...assessment,
    title: 'Renamed',
    time_to_complete: 'P3D',
    updated_at: built.clock.now().toISOString(),
  })

  const cleared = await built.app.inject({
    method: 'PATCH',
    url: `/api/assessments/${assessment.id}`,
    headers: owner.headers,
    payload: { description: null, seed_id: otherSeed },
  })
  t.equal(cleared.statusCode, 200)
  t.match(cleared.json(), { description: null, seed_id: otherSeed, title: 'Renamed', instructions: assessment.instructions })

  const get = await built.app.inject({ method: 'GET', url: `/api/assessments/${assessment.id}`, headers: owner.headers })
  t.same(get.json(), cleared.json(), 'the change was stored')
  const audit = await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'assessment.updated'))
  t.same(
    audit.map((a) => a.meta),
    [{ fields: ['title', 'timeToCompleteSeconds'] }, { fields: ['seedId', 'description'] }],
  )
})

t.test('allow_workflow_changes: false unless set, changed by PATCH, refused when not a boolean', async (t) => {
  const { built, owner, seedId, assessment } = await setup(t)
  t.equal(assessment.allow_workflow_changes, false, 'off by default')
  const allowed = await createAssessment(built, owner.headers, { ...validBody(seedId), allow_workflow_changes: true })
  t.equal(allowed.allow_workflow_changes, true)
  const patch = (payload: object) => built.app.inject({ method: 'PATCH', url: `/api/assessments/${assessment.id}`, headers: owner.headers, payload })
  t.equal((await patch({ allow_workflow_changes: true })).json().allow_workflow_changes, true)
  const get = await built.app.inject({ method: 'GET', url: `/api/assessments/${assessment.id}`, headers: owner.headers })
  t.equal(get.json().allow_workflow_changes, true, 'stored')
  expectError(t, await patch({ allow_workflow_changes: 'yes' }), 400, 'validation_failed')
  const [row] = await built.db.select().from(schema.assessments).where(eq(schema.assessments.id, assessment.id))
  t.equal(row?.allowWorkflowChanges, true, 'the refused change left it as it was')
})

t.test('bad durations are refused with a message naming the field', async (t) => {
  const { built, owner, seedId, assessment } = await setup(t)
  const before = await rowCounts(built)
  const values: Array<[unknown, RegExp]> = [
    ['P1M', /months have no fixed length/],
    ['P1Y', /years and months/],
    ['abc', /ISO 8601 duration/],
    ['P0D', /longer than zero/],
    ['PT0S', /longer than zero/],
    ['-P1D', /ISO 8601 duration/],
    ['P400D', /at most 366 days/],
    ['', /ISO 8601 duration/],
    [3, /.+/],
    [null, /.+/],
  ]
  for (const field of ['time_to_start', 'time_to_complete'] as const) {
    for (const [value, reason] of values) {
      const create = await built.app.inject({
        method: 'POST',
        url: '/api/assessments',
        headers: owner.headers,
        payload: { ...validBody(seedId), [field]: value },
      })
      const patch = await built.app.inject({
        method: 'PATCH',
        url: `/api/assessments/${assessment.id}`,
        headers: owner.headers,
        payload: { [field]: value },
      })
      t.test(`${field} = ${JSON.stringify(value)}`, async (t) => {
        for (const res of [create, patch]) {
          const error = expectError(t, res, 400, 'validation_failed')
          t.match(error.message, new RegExp(`^body\\.${field}: `), 'the message names the field')
          t.match(error.message, reason)
        }
      })
    }
  }
  t.same(await rowCounts(built), before, 'nothing was written')
  const get = await built.app.inject({ method: 'GET', url: `/api/assessments/${assessment.id}`, headers: owner.headers })
  t.same(get.json(), assessment, 'the assessment is unchanged')
})

t.test('other bad input is refused with 400 and writes nothing', async (t) => {
  const { built, owner, seedId, assessment } = await setup(t)
  const before = await rowCounts(built)
  const { title: _title, ...withoutTitle } = validBody(seedId)
  const creates: Array<[string, unknown, string]> = [
    ['empty body', {}, 'seed_id'],
    ['missing title', withoutTitle, 'title'],
    ['blank title', { ...validBody(seedId), title: '   ' }, 'title'],
    ['title too long', { ...validBody(seedId), title: 'x'.repeat(201) }, 'title'],
    ['seed_id not a uuid', { ...validBody(seedId), seed_id: 'seed-1' }, 'seed_id'],
    ['title a number', { ...validBody(seedId), title: 7 }, 'title'],
  ]
  for (const [name, payload, field] of creates) {
    const res = await built.app.inject({
      method: 'POST',
      url: '/api/assessments',
      headers: owner.headers,
      payload: payload as object,
    })
    t.test(`create: ${name}`, async (t) => {
      const error = expectError(t, res, 400, 'validation_failed')
      t.match(error.message, field)
    })
  }
  const patches: Array<[string, unknown]> = [
    ['empty body', {}],
    ['only unknown fields', { colour: 'blue' }],
    ['null title', { title: null }],
    ['blank title', { title: ' ' }],
  ]
  for (const [name, payload] of patches) {
    const res = await built.app.inject({
      method: 'PATCH',
      url: `/api/assessments/${assessment.id}`,
      headers: owner.headers,
      payload: payload as object,
    })
    t.test(`patch: ${name}`, async (t) => void expectError(t, res, 400, 'validation_failed'))
  }
  const malformed = await built.app.inject({
    method: 'POST',
    url: '/api/assessments',
    headers: { ...owner.headers, 'content-type': 'application/json' },
    payload: '{"title": ',
  })
  expectError(t, malformed, 400, 'invalid_json')
  for (const [method, url] of [
    ['GET', '/api/assessments/nope'],
    ['PATCH', '/api/assessments/nope'],
    ['DELETE', '/api/assessments/nope'],
  ] as const) {
    const res = await built.app.inject({
      method,
      url,
      headers: owner.headers,
      payload: method === 'PATCH' ? { title: 'x' } : undefined,
    })
    t.test(`${method} malformed id`, async (t) => void expectError(t, res, 400, 'validation_failed'))
  }
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test('a seed of another org, or no seed at all, is refused with 422 seed_not_found', async (t) => {
  const { built, owner, assessment } = await setup(t)
  const other = await signup(built)
  const theirSeed = await newSeed(t, built, other.headers)
  const before = await rowCounts(built)
  for (const seedId of [theirSeed, UNKNOWN_ID]) {
    const create = await built.app.inject({
      method: 'POST',
      url: '/api/assessments',
      headers: owner.headers,
      payload: validBody(seedId),
    })
    expectError(t, create, 422, 'seed_not_found')
    const patch = await built.app.inject({
      method: 'PATCH',
      url: `/api/assessments/${assessment.id}`,
      headers: owner.headers,
      payload: { seed_id: seedId },
    })
    expectError(t, patch, 422, 'seed_not_found')
  }
  t.same(await rowCounts(built), before, 'nothing was written')
  const get = await built.app.inject({ method: 'GET', url: `/api/assessments/${assessment.id}`, headers: owner.headers })
  t.equal(get.json().seed_id, assessment.seed_id)
})

t.test('DELETE removes an assessment and its unstarted invitations', async (t) => {
  const { built, owner, assessment } = await setup(t)
  const invited = await built.app.inject({
    method: 'POST',
    url: '/api/invitations',
    headers: owner.headers,
    payload: { assessment_id: assessment.id, candidates: [{ email: 'ada@example.com' }] },
  })
  t.equal(invited.statusCode, 201)
  const res = await built.app.inject({ method: 'DELETE', url: `/api/assessments/${assessment.id}`, headers: owner.headers })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')

  const gone = await built.app.inject({ method: 'GET', url: `/api/assessments/${assessment.id}`, headers: owner.headers })
  expectError(t, gone, 404, 'assessment_not_found')
  const again = await built.app.inject({ method: 'DELETE', url: `/api/assessments/${assessment.id}`, headers: owner.headers })
  expectError(t, again, 404, 'assessment_not_found')
  const patch = await built.app.inject({
    method: 'PATCH',
    url: `/api/assessments/${assessment.id}`,
    headers: owner.headers,
    payload: { title: 'x' },
  })
  expectError(t, patch, 404, 'assessment_not_found')
  const list = await built.app.inject({ method: 'GET', url: '/api/assessments', headers: owner.headers })
  t.same(list.json(), { assessments: [] })
  const counts = await rowCounts(built)
  t.equal(counts.assessments, 0)
  t.equal(counts.invitations, 0, 'the unstarted invitation went with it')
  const audit = await built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'assessment.deleted'))
  t.same(audit.map((a) => a.target), [assessment.id])
})

t.test('DELETE is refused once a candidate has started', async (t) => {
  const { built, owner, assessment } = await setup(t)
  const invited = await built.app.inject({
    method: 'POST',
    url: '/api/invitations',
    headers: owner.headers,
    payload: { assessment_id: assessment.id, candidates: [{ email: 'ada@example.com' }, { email: 'bob@example.com' }] },
  })
  t.equal(invited.statusCode, 201)
  const [first] = (invited.json() as { invitations: Array<{ id: string }> }).invitations
  // Start is not an API yet: record what it would.
  await built.db
    .update(schema.invitations)
    .set({ status: 'started', startedAt: built.clock.now(), completeDeadline: new Date(built.clock.now().getTime() + 172_800_000) })
    .where(eq(schema.invitations.id, first!.id))
  const before = await rowCounts(built)

  const res = await built.app.inject({ method: 'DELETE', url: `/api/assessments/${assessment.id}`, headers: owner.headers })
  const error = expectError(t, res, 409, 'assessment_has_started_invitations')
  t.match(error.message, /^1 candidate/)
  t.same(await rowCounts(built), before, 'nothing was deleted')
  const get = await built.app.inject({ method: 'GET', url: `/api/assessments/${assessment.id}`, headers: owner.headers })
  t.equal(get.statusCode, 200)
  t.same(get.json(), assessment, 'the assessment still exists')
})

t.test("another org's assessment is not found for get, patch and delete", async (t) => {
  const { built, assessment } = await setup(t)
  const stranger = await signup(built)
  await newSeed(t, built, stranger.headers)
  const before = await rowCounts(built)
  for (const [method, url, payload] of [
    ['GET', `/api/assessments/${assessment.id}`, undefined],
    ['PATCH', `/api/assessments/${assessment.id}`, { title: 'Mine now' }],
    ['DELETE', `/api/assessments/${assessment.id}`, undefined],
    ['GET', `/api/assessments/${UNKNOWN_ID}`, undefined],
    ['PATCH', `/api/assessments/${UNKNOWN_ID}`, { title: 'x' }],
    ['DELETE', `/api/assessments/${UNKNOWN_ID}`, undefined],
  ] as const) {
    const res = await built.app.inject({ method, url, headers: stranger.headers, payload })
    t.test(`${method} ${url}`, async (t) => void expectError(t, res, 404, 'assessment_not_found'))
  }
  t.same(await rowCounts(built), before, 'nothing was written')
  const [row] = await built.db.select().from(schema.assessments).where(eq(schema.assessments.id, assessment.id))
  t.equal(row?.title, assessment.title, 'the assessment is untouched')
})

t.test('viewers and reviewers can list and read assessments but not change them', async (t) => {
  const { built, owner, seedId, assessment } = await setup(t)
  const viewer = await member(built, owner, 'viewer')
  const reviewer = await member(built, owner, 'reviewer')
  const admin = await member(built, owner, 'admin')
  const before = await rowCounts(built)
  for (const [role, who] of [['viewer', viewer], ['reviewer', reviewer]] as const) {
    await t.test(role, async (t) => {
      const list = await built.app.inject({ method: 'GET', url: '/api/assessments', headers: who.headers })
      t.equal(list.statusCode, 200)
      t.same(list.json(), { assessments: [assessment] })
      const get = await built.app.inject({ method: 'GET', url: `/api/assessments/${assessment.id}`, headers: who.headers })
      t.same(get.json(), assessment)
      const writes = [
        { method: 'POST', url: '/api/assessments', payload: validBody(seedId) },
        { method: 'PATCH', url: `/api/assessments/${assessment.id}`, payload: { title: 'x' } },
        { method: 'DELETE', url: `/api/assessments/${assessment.id}` },
      ] as const
      for (const write of writes) {
        expectError(t, await built.app.inject({ ...write, headers: who.headers }), 403, 'forbidden')
      }
    })
  }
  t.same(await rowCounts(built), before, 'nothing was written')

  const byAdmin = await built.app.inject({
    method: 'PATCH',
    url: `/api/assessments/${assessment.id}`,
    headers: admin.headers,
    payload: { title: 'By an admin' },
  })
  t.equal(byAdmin.statusCode, 200, 'an admin may change it')
  t.equal(byAdmin.json().title, 'By an admin')
})
