import { DEFAULT_TEMPLATES, schema, TEMPLATE_VARIABLES } from '@takehome/core'
import { and, eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { type Built, build, expectError, member, rowCounts, signup } from './helper.ts'

type Headers = Record<string, string>
interface TemplateBody {
  id: string
  kind: string
  name: string
  subject: string
  body: string
  is_default: boolean
  created_at: string
  updated_at: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000'

const validBody = (overrides: object = {}) => ({
  kind: 'invite',
  name: 'Friendly invite',
  subject: 'Welcome, {candidate_name}',
  body: 'Hi **{candidate_name}**, start **{assessment_title}** here: {start_link}',
  ...overrides,
})

async function createTemplate(built: Built, headers: Headers, overrides: object = {}) {
  const res = await built.app.inject({ method: 'POST', url: '/api/email-templates', headers, payload: validBody(overrides) })
  if (res.statusCode !== 201) throw new Error(`template create failed: ${res.statusCode} ${res.body}`)
  return res.json() as TemplateBody
}

const getTemplate = (built: Built, headers: Headers, id: string) =>
  built.app.inject({ method: 'GET', url: `/api/email-templates/${id}`, headers })

const preview = (built: Built, headers: Headers, payload: object) =>
  built.app.inject({ method: 'POST', url: '/api/email-templates/preview', headers, payload })

/** The org's default templates, as (kind, name) pairs, straight from the database. */
async function defaults(built: Built, orgId: string) {
  const rows = await built.db
    .select({ kind: schema.emailTemplates.kind, name: schema.emailTemplates.key })
    .from(schema.emailTemplates)
    .where(and(eq(schema.emailTemplates.orgId, orgId), eq(schema.emailTemplates.isDefault, true)))
  return rows.map((r) => `${r.kind}:${r.name}`).sort()
}

const auditOf = (built: Built, kind: string) =>
  built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, kind))

/** An owner with one invite template. */
async function setup(t: Test) {
  const built = await build(t)
  const owner = await signup(built)
  const template = await createTemplate(built, owner.headers)
  return { built, owner, template }
}

t.test('an owner creates a template; name is stored as the key, scoped to the org', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const res = await built.app.inject({
    method: 'POST',
    url: '/api/email-templates',
    headers: owner.headers,
    payload: validBody({ name: '  Friendly invite  ' }),
  })
  t.equal(res.statusCode, 201)
  const body = res.json() as TemplateBody
  t.match(body.id, UUID)
  t.same(Object.keys(body).sort(), ['body', 'created_at', 'id', 'is_default', 'kind', 'name', 'subject', 'updated_at'])
  t.match(body, { kind: 'invite', name: 'Friendly invite', subject: 'Welcome, {candidate_name}', is_default: false })
  t.equal(body.created_at, built.clock.now().toISOString())
  t.equal(body.updated_at, body.created_at)

  const [row] = await built.db.select().from(schema.emailTemplates).where(eq(schema.emailTemplates.id, body.id))
  t.equal(row?.orgId, owner.org.id)
  t.equal(row?.key, 'Friendly invite')
  const audit = await auditOf(built, 'email_template.created')
  t.same(
    audit.map((a) => [a.target, a.actor, a.meta]),
    [[body.id, `user:${owner.user.id}`, { kind: 'invite', name: 'Friendly invite', is_default: false, replaced_default: null }]],
  )

  const other = await signup(built)
  const same = await createTemplate(built, other.headers)
  t.equal(same.name, body.name, 'another org may use the same name')
})

t.test('list and get show the org its own templates, by kind then name; ?kind= filters', async (t) => {
  const { built, owner, template: invite } = await setup(t)
  const reminder = await createTemplate(built, owner.headers, { kind: 'reminder', name: 'Nudge' })
  const another = await createTemplate(built, owner.headers, { name: 'Another invite' })
  const followUp = await createTemplate(built, owner.headers, { kind: 'follow_up', name: 'Thanks', body: 'Thank you, {candidate_name}.' })
  const stranger = await signup(built)
  const theirs = await createTemplate(built, stranger.headers)

  const list = await built.app.inject({ method: 'GET', url: '/api/email-templates', headers: owner.headers })
  t.equal(list.statusCode, 200)
  t.same(list.json(), { templates: [followUp, another, invite, reminder] })

  const invites = await built.app.inject({ method: 'GET', url: '/api/email-templates?kind=invite', headers: owner.headers })
  t.same(invites.json(), { templates: [another, invite] })

  const get = await getTemplate(built, owner.headers, invite.id)
  t.equal(get.statusCode, 200)
  t.same(get.json(), invite)

  const theirList = await built.app.inject({ method: 'GET', url: '/api/email-templates', headers: stranger.headers })
  t.same(theirList.json(), { templates: [theirs] })

  const badKind = await built.app.inject({ method: 'GET', url: '/api/email-templates?kind=welcome', headers: owner.headers })
  t.match(expectError(t, badKind, 400, 'validation_failed').message, /^querystring\.kind: must be one of invite, reminder, follow_up/)
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/email-templates' }), 401, 'unauthenticated')
})

t.test('PATCH changes only the fields sent', async (t) => {
  const { built, owner, template } = await setup(t)
  built.clock.advance(60_000)
  const res = await built.app.inject({
    method: 'PATCH',
    url: `/api/email-templates/${template.id}`,
    headers: owner.headers,
    payload: { name: 'Renamed', body: 'New body for {candidate_name}: {start_link}' },
  })
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    ...template,
    name: 'Renamed',
    body: 'New body for {candidate_name}: {start_link}',
    updated_at: built.clock.now().toISOString(),
  })
  t.same((await getTemplate(built, owner.headers, template.id)).json(), res.json(), 'the change was stored')

  const renamedBack = await built.app.inject({
    method: 'PATCH',
    url: `/api/email-templates/${template.id}`,
    headers: owner.headers,
    payload: { name: template.name },
  })
  t.equal(renamedBack.statusCode, 200, 'a template may take back its own old name')
  const audit = await auditOf(built, 'email_template.updated')
  t.same(
    audit.map((a) => a.meta),
    [
      { fields: ['name', 'body'], replaced_default: null },
      { fields: ['name'], replaced_default: null },
    ],
  )
})

t.test('setting is_default moves the default of that kind, and only that kind', async (t) => {
  const { built, owner, template: first } = await setup(t)
  const org = owner.org.id
  const nudge = await createTemplate(built, owner.headers, { kind: 'reminder', name: 'Nudge', is_default: true })
  t.equal(nudge.is_default, true)
  t.same(await defaults(built, org), ['reminder:Nudge'])

  const firstDefault = await built.app.inject({
    method: 'PATCH',
    url: `/api/email-templates/${first.id}`,
    headers: owner.headers,
    payload: { is_default: true },
  })
  t.equal(firstDefault.json().is_default, true)
  t.same(await defaults(built, org), ['invite:Friendly invite', 'reminder:Nudge'])

  built.clock.advance(1_000)
  const second = await createTemplate(built, owner.headers, { name: 'Second invite', is_default: true })
  t.equal(second.is_default, true)
  t.same(await defaults(built, org), ['invite:Second invite', 'reminder:Nudge'], 'the first invite is no longer the default')
  const firstNow = (await getTemplate(built, owner.headers, first.id)).json() as TemplateBody
  t.equal(firstNow.is_default, false)
  t.equal(firstNow.updated_at, built.clock.now().toISOString(), 'losing the flag is a change too')
  const [created] = await auditOf(built, 'email_template.created').then((a) => a.filter((e) => e.target === second.id))
  t.equal(created?.meta.replaced_default, first.id, 'the audit names the template that lost the flag')

  const back = await built.app.inject({
    method: 'PATCH',
    url: `/api/email-templates/${first.id}`,
    headers: owner.headers,
    payload: { is_default: true },
  })
  t.equal(back.statusCode, 200)
  t.same(await defaults(built, org), ['invite:Friendly invite', 'reminder:Nudge'])

  const again = await built.app.inject({
    method: 'PATCH',
    url: `/api/email-templates/${first.id}`,
    headers: owner.headers,
    payload: { is_default: true, subject: 'Still the default' },
  })
  t.equal(again.statusCode, 200, 'setting it on the default itself is harmless')
  t.same(await defaults(built, org), ['invite:Friendly invite', 'reminder:Nudge'])

  const moved = await built.app.inject({
    method: 'PATCH',
    url: `/api/email-templates/${first.id}`,
    headers: owner.headers,
    payload: { kind: 'reminder' },
  })
  t.match(moved.json(), { kind: 'reminder', is_default: true })
  t.same(await defaults(built, org), ['reminder:Friendly invite'], 'the default moves with the template to its new kind')

  const unset = await built.app.inject({
    method: 'PATCH',
    url: `/api/email-templates/${first.id}`,
    headers: owner.headers,
    payload: { is_default: false },
  })
  t.equal(unset.json().is_default, false)
  t.same(await defaults(built, org), [])
})

t.test('concurrent defaults of one kind leave exactly one', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      built.app.inject({
        method: 'POST',
        url: '/api/email-templates',
        headers: owner.headers,
        payload: validBody({ name: `Invite ${i}`, is_default: true }),
      }),
    ),
  )
  t.same(
    results.map((r) => r.statusCode),
    Array(6).fill(201),
  )
  t.equal((await defaults(built, owner.org.id)).length, 1)
})

t.test('DELETE removes a template; a deleted default falls back to the shipped one', async (t) => {
  const { built, owner, template } = await setup(t)
  await built.app.inject({
    method: 'PATCH',
    url: `/api/email-templates/${template.id}`,
    headers: owner.headers,
    payload: { is_default: true },
  })
  const res = await built.app.inject({ method: 'DELETE', url: `/api/email-templates/${template.id}`, headers: owner.headers })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')

  expectError(t, await getTemplate(built, owner.headers, template.id), 404, 'email_template_not_found')
  const again = await built.app.inject({ method: 'DELETE', url: `/api/email-templates/${template.id}`, headers: owner.headers })
  expectError(t, again, 404, 'email_template_not_found')
  t.equal((await rowCounts(built)).email_templates, 0)
  const audit = await auditOf(built, 'email_template.deleted')
  t.same(
    audit.map((a) => [a.target, a.meta]),
    [[template.id, { kind: 'invite', name: template.name, was_default: true }]],
  )
  const resolved = await built.services.emailTemplates.resolve(built.db, owner.org.id, 'invite')
  t.same(resolved, { ...DEFAULT_TEMPLATES.invite, templateId: null })
})

t.test('resolve: the named template, else the org default of the kind, else the shipped default', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  const org = owner.org.id
  const { resolve } = built.services.emailTemplates

  for (const kind of ['invite', 'reminder', 'follow_up'] as const) {
    t.same(await resolve(built.db, org, kind), { ...DEFAULT_TEMPLATES[kind], templateId: null }, `${kind}: shipped`)
  }
  const plain = await createTemplate(built, owner.headers, { kind: 'follow_up', name: 'Plain', body: 'Thanks.' })
  t.same(await resolve(built.db, org, 'follow_up'), { ...DEFAULT_TEMPLATES.follow_up, templateId: null }, 'not default: not used')

  const chosen = await createTemplate(built, owner.headers, { kind: 'follow_up', name: 'Chosen', body: 'Next steps.', is_default: true })
  t.same(await resolve(built.db, org, 'follow_up'), { subject: chosen.subject, body: 'Next steps.', templateId: chosen.id })
  t.same(await resolve(built.db, org, 'follow_up', null), { subject: chosen.subject, body: 'Next steps.', templateId: chosen.id })
  t.same(await resolve(built.db, org, 'follow_up', plain.id), { subject: plain.subject, body: 'Thanks.', templateId: plain.id })
  t.same(await resolve(built.db, org, 'reminder'), { ...DEFAULT_TEMPLATES.reminder, templateId: null }, 'other kinds unaffected')

  const stranger = await signup(built)
  const theirs = await createTemplate(built, stranger.headers, { kind: 'follow_up' })
  const refused: Array<[string, string]> = [
    ['of another kind', plain.id],
    ['of another org', theirs.id],
    ['unknown', UNKNOWN_ID],
  ]
  for (const [name, id] of refused) {
    const kind = name === 'of another kind' ? 'reminder' : 'follow_up'
    await t.rejects(resolve(built.db, org, kind, id), { statusCode: 422, code: 'email_template_not_found' }, `a template ${name}`)
  }
  await built.db.transaction(async (tx) => {
    t.equal((await resolve(tx, org, 'follow_up')).templateId, chosen.id, "inside the caller's transaction")
  })
})

t.test('the shipped defaults use only known variables and fill completely', async (t) => {
  const built = await build(t)
  const owner = await signup(built)
  for (const kind of ['invite', 'reminder', 'follow_up']) {
    const res = await preview(built, owner.headers, { kind })
    t.equal(res.statusCode, 200)
    const out = res.json() as { subject: string; text: string; html: string }
    t.notMatch(out.subject + out.text + out.html, /\{[a-z_]+\}/, `${kind}: nothing left unfilled`)
  }
})

t.test('preview renders with example values; supplied values are escaped in HTML', async (t) => {
  const { built, owner, template } = await setup(t)
  const stored = await preview(built, owner.headers, { template_id: template.id })
  t.equal(stored.statusCode, 200)
  const out = stored.json() as { subject: string; text: string; html: string }
  t.same(Object.keys(out).sort(), ['html', 'subject', 'text'])
  t.equal(out.subject, 'Welcome, Ada Lovelace')
  t.match(out.text, 'start **Backend exercise** here: https://')
  t.match(out.html, /<strong>Ada Lovelace<\/strong>/)
  t.match(out.html, /<a href="https:\/\/[^"]+\/start\/thi_example">/, 'the start link is clickable')

  const draft = await preview(built, owner.headers, {
    kind: 'reminder',
    subject: 'Hi {candidate_name}',
    body: 'Dear **{candidate_name}**, start by {start_deadline}, finish by {complete_deadline}.',
    variables: { candidate_name: '<script>alert("x")</script> & co' },
  })
  t.equal(draft.statusCode, 200)
  const d = draft.json() as { subject: string; text: string; html: string }
  t.equal(d.subject, 'Hi <script>alert("x")</script> & co', 'the subject is plain text')
  t.match(d.text, 'Dear **<script>alert("x")</script> & co**')
  t.match(d.html, '<strong>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co</strong>')
  t.notMatch(d.html, '<script>')
  t.match(d.text, /start by 2026-11-04 09:00 UTC, finish by 2026-11-06 09:00 UTC/, 'deadlines are dated from the clock')

  const current = await preview(built, owner.headers, { kind: 'invite', body: 'Only the body, {candidate_name}' })
  t.equal(current.json().subject, 'Your take-home assessment: Backend exercise', 'the missing subject is the shipped one')
  await built.app.inject({
    method: 'PATCH',
    url: `/api/email-templates/${template.id}`,
    headers: owner.headers,
    payload: { is_default: true },
  })
  const withDefault = await preview(built, owner.headers, { kind: 'invite', body: 'Only the body' })
  t.equal(withDefault.json().subject, 'Welcome, Ada Lovelace', "then the org's default subject")
  t.same(await preview(built, owner.headers, { kind: 'invite' }).then((r) => r.json()), out, 'kind alone: what would be sent')
})

t.test('unknown variables are refused with 422 and the list of them, on save and in preview', async (t) => {
  const { built, owner, template } = await setup(t)
  const before = await rowCounts(built)
  const cases: Array<[string, object, string[]]> = [
    ['in the subject', { subject: 'Hi {first_name}' }, ['{first_name}']],
    ['in the body', { body: 'Hi {candidate_name}, see {repo_url} and {repo_url}' }, ['{repo_url}']],
    ['in both', { subject: '{Candidate_Name}', body: '{ start_link } {{candidate_name}} {candidateName}' }, [
      '{Candidate_Name}',
      '{ start_link }',
      '{{candidate_name}}',
      '{candidateName}',
    ]],
  ]
  for (const [name, fields, unknown] of cases) {
    const requests = {
      create: await built.app.inject({ method: 'POST', url: '/api/email-templates', headers: owner.headers, payload: validBody({ name: 'New', ...fields }) }),
      patch: await built.app.inject({ method: 'PATCH', url: `/api/email-templates/${template.id}`, headers: owner.headers, payload: fields }),
      preview: await preview(built, owner.headers, { kind: 'invite', ...fields }),
    }
    t.test(name, async (t) => {
      for (const [what, res] of Object.entries(requests)) {
        const error = expectError(t, res, 422, 'unknown_template_variable')
        t.same(error.details, { unknown, allowed: TEMPLATE_VARIABLES }, `${what}: details list them`)
        t.match(error.message, unknown[0]!)
        t.match(error.message, '{candidate_name}', `${what}: the message says which variables exist`)
      }
    })
  }
  t.same(await rowCounts(built), before, 'nothing was written')
  t.same((await getTemplate(built, owner.headers, template.id)).json(), template, 'the template is unchanged')
})

t.test('bad input is refused with 400 naming the field, and writes nothing', async (t) => {
  const { built, owner, template } = await setup(t)
  const before = await rowCounts(built)
  const { name: _name, ...withoutName } = validBody()
  const { body: _body, ...withoutBody } = validBody()
  const creates: Array<[string, unknown, string]> = [
    ['empty body', {}, 'body.kind'],
    ['missing name', withoutName, 'body.name'],
    ['missing body', withoutBody, 'body.body'],
    ['unknown kind', validBody({ kind: 'welcome' }), 'body.kind: must be one of invite, reminder, follow_up'],
    ['kind a number', validBody({ kind: 1 }), 'body.kind'],
    ['blank name', validBody({ name: '  ' }), 'body.name: must not be empty'],
    ['name too long', validBody({ name: 'n'.repeat(101) }), 'body.name'],
    ['name a number', validBody({ name: 7 }), 'body.name'],
    ['blank subject', validBody({ subject: '' }), 'body.subject: must not be empty'],
    ['subject too long', validBody({ subject: 's'.repeat(301) }), 'body.subject'],
    ['subject on two lines', validBody({ subject: 'Hi\r\nBcc: x@example.com' }), 'body.subject: must be a single line'],
    ['body too long', validBody({ body: 'b'.repeat(20_001) }), 'body.body'],
    ['body null', validBody({ body: null }), 'body.body'],
    ['is_default a string', validBody({ is_default: 'yes' }), 'body.is_default'],
  ]
  for (const [name, payload, message] of creates) {
    const res = await built.app.inject({ method: 'POST', url: '/api/email-templates', headers: owner.headers, payload: payload as object })
    t.test(`create: ${name}`, async (t) => {
      const error = expectError(t, res, 400, 'validation_failed')
      t.match(error.message, message)
    })
  }
  const patches: Array<[string, unknown, string]> = [
    ['empty body', {}, 'send at least one field'],
    ['only unknown fields', { colour: 'blue' }, 'send at least one field'],
    ['null subject', { subject: null }, 'body.subject'],
    ['subject too long', { subject: 's'.repeat(301) }, 'body.subject'],
    ['body too long', { body: 'b'.repeat(20_001) }, 'body.body'],
    ['unknown kind', { kind: 'welcome' }, 'body.kind'],
    ['is_default null', { is_default: null }, 'body.is_default'],
  ]
  for (const [name, payload, message] of patches) {
    const res = await built.app.inject({
      method: 'PATCH',
      url: `/api/email-templates/${template.id}`,
      headers: owner.headers,
      payload: payload as object,
    })
    t.test(`patch: ${name}`, async (t) => void t.match(expectError(t, res, 400, 'validation_failed').message, message))
  }
  const previews: Array<[string, unknown, string]> = [
    ['neither template_id nor kind', { subject: 'x' }, 'send either template_id or kind'],
    ['both template_id and kind', { template_id: template.id, kind: 'invite' }, 'send either template_id or kind'],
    ['template_id with a body', { template_id: template.id, body: 'x' }, 'go with kind, not with template_id'],
    ['template_id not a UUID', { template_id: 'nope' }, 'body.template_id: must be a UUID'],
    ['an unknown sample variable', { kind: 'invite', variables: { repo_url: 'x' } }, 'body.variables'],
    ['a sample value not a string', { kind: 'invite', variables: { candidate_name: 3 } }, 'body.variables.candidate_name'],
    ['body too long', { kind: 'invite', body: 'b'.repeat(20_001) }, 'body.body'],
  ]
  for (const [name, payload, message] of previews) {
    const res = await preview(built, owner.headers, payload as object)
    t.test(`preview: ${name}`, async (t) => void t.match(expectError(t, res, 400, 'validation_failed').message, message))
  }
  const malformed = await built.app.inject({
    method: 'POST',
    url: '/api/email-templates',
    headers: { ...owner.headers, 'content-type': 'application/json' },
    payload: '{"name": ',
  })
  expectError(t, malformed, 400, 'invalid_json')
  for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
    const res = await built.app.inject({
      method,
      url: '/api/email-templates/nope',
      headers: owner.headers,
      payload: method === 'PATCH' ? { name: 'x' } : undefined,
    })
    t.test(`${method} malformed id`, async (t) => void expectError(t, res, 400, 'validation_failed'))
  }
  t.same(await rowCounts(built), before, 'nothing was written')
  t.same((await getTemplate(built, owner.headers, template.id)).json(), template, 'the template is unchanged')
})

t.test('a duplicate name is refused with 409, on create and on rename', async (t) => {
  const { built, owner, template } = await setup(t)
  const other = await createTemplate(built, owner.headers, { kind: 'reminder', name: 'Nudge' })
  const before = await rowCounts(built)
  const create = await built.app.inject({
    method: 'POST',
    url: '/api/email-templates',
    headers: owner.headers,
    payload: validBody({ kind: 'follow_up', name: template.name, is_default: true }),
  })
  expectError(t, create, 409, 'duplicate_template_name')
  const rename = await built.app.inject({
    method: 'PATCH',
    url: `/api/email-templates/${other.id}`,
    headers: owner.headers,
    payload: { name: template.name, is_default: true },
  })
  expectError(t, rename, 409, 'duplicate_template_name')
  t.same(await rowCounts(built), before, 'nothing was written')
  t.same(await defaults(built, owner.org.id), [], 'the refused default was rolled back')
  t.same((await getTemplate(built, owner.headers, other.id)).json(), other)
})

t.test("another org's template is not found for get, patch, delete and preview", async (t) => {
  const { built, template } = await setup(t)
  const stranger = await signup(built)
  const before = await rowCounts(built)
  for (const [method, url, payload] of [
    ['GET', `/api/email-templates/${template.id}`, undefined],
    ['PATCH', `/api/email-templates/${template.id}`, { name: 'Mine now', is_default: true }],
    ['DELETE', `/api/email-templates/${template.id}`, undefined],
    ['POST', '/api/email-templates/preview', { template_id: template.id }],
    ['GET', `/api/email-templates/${UNKNOWN_ID}`, undefined],
    ['PATCH', `/api/email-templates/${UNKNOWN_ID}`, { name: 'x' }],
    ['DELETE', `/api/email-templates/${UNKNOWN_ID}`, undefined],
    ['POST', '/api/email-templates/preview', { template_id: UNKNOWN_ID }],
  ] as const) {
    const res = await built.app.inject({ method, url, headers: stranger.headers, payload })
    t.test(`${method} ${url}`, async (t) => void expectError(t, res, 404, 'email_template_not_found'))
  }
  t.same(await rowCounts(built), before, 'nothing was written')
  const [row] = await built.db.select().from(schema.emailTemplates).where(eq(schema.emailTemplates.id, template.id))
  t.match(row, { key: template.name, isDefault: false }, 'the template is untouched')
})

t.test('viewers and reviewers can read and preview templates but not change them', async (t) => {
  const { built, owner, template } = await setup(t)
  const viewer = await member(built, owner, 'viewer')
  const reviewer = await member(built, owner, 'reviewer')
  const admin = await member(built, owner, 'admin')
  const before = await rowCounts(built)
  for (const [role, who] of [['viewer', viewer], ['reviewer', reviewer]] as const) {
    await t.test(role, async (t) => {
      const list = await built.app.inject({ method: 'GET', url: '/api/email-templates', headers: who.headers })
      t.same(list.json(), { templates: [template] })
      t.same((await getTemplate(built, who.headers, template.id)).json(), template)
      t.equal((await preview(built, who.headers, { template_id: template.id })).statusCode, 200)
      const writes = [
        { method: 'POST', url: '/api/email-templates', payload: validBody({ name: 'Mine' }) },
        { method: 'PATCH', url: `/api/email-templates/${template.id}`, payload: { is_default: true } },
        { method: 'DELETE', url: `/api/email-templates/${template.id}` },
      ] as const
      for (const write of writes) {
        expectError(t, await built.app.inject({ ...write, headers: who.headers }), 403, 'forbidden')
      }
    })
  }
  t.same(await rowCounts(built), before, 'nothing was written')

  const byAdmin = await built.app.inject({
    method: 'PATCH',
    url: `/api/email-templates/${template.id}`,
    headers: admin.headers,
    payload: { name: 'By an admin' },
  })
  t.equal(byAdmin.statusCode, 200, 'an admin may change it')
  t.equal(byAdmin.json().name, 'By an admin')
})

t.test('the routes are in the OpenAPI document', async (t) => {
  const built = await build(t)
  const doc = (await built.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
    paths: Record<string, Record<string, { tags?: string[] }>>
  }
  for (const [path, method] of [
    ['/api/email-templates', 'get'],
    ['/api/email-templates', 'post'],
    ['/api/email-templates/preview', 'post'],
    ['/api/email-templates/{id}', 'get'],
    ['/api/email-templates/{id}', 'patch'],
    ['/api/email-templates/{id}', 'delete'],
  ]) {
    t.same(doc.paths[path!]?.[method!]?.tags, ['email templates'], `${method!.toUpperCase()} ${path}`)
  }
})
