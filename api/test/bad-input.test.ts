import { rmSync } from 'node:fs'
import { createSourceRepo } from '@takehome/core/testing'
import t, { type Test } from 'tap'
import { build, type Built, createAssessment, createSeed, expectError, invite, rowCounts, signup } from './helper.ts'

// Every input the API documents is found in its OpenAPI document, so a route added later
// is covered without anyone remembering to list it here.

interface Schema {
  type?: string | string[]
  format?: string
  enum?: unknown[]
  minLength?: number
  minimum?: number
  maximum?: number
  properties?: Record<string, Schema>
  items?: Schema
  anyOf?: Schema[]
  oneOf?: Schema[]
  allOf?: Schema[]
  additionalProperties?: Schema | boolean
  propertyNames?: { enum?: string[] }
}
interface Operation {
  parameters?: Array<{ in: 'path' | 'query'; name: string; schema: Schema }>
  requestBody?: { content?: Record<string, { schema: Schema }> }
}
type Location = 'params' | 'querystring' | 'body'
interface Input {
  method: string
  /** OpenAPI form: `/api/assessments/{id}`. */
  route: string
  location: Location
  path: Array<string | number>
  schema: Schema
}

const INT4_MAX = 2 ** 31 - 1
const INT8_MAX = 2n ** 63n - 1n
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000'
// Text inputs with a structure of their own, and an ordinary value for each.
const EXAMPLES: Record<string, string> = { time_to_start: 'P3D', time_to_complete: 'PT48H' }
// Integer inputs stored in `bigint` columns; every other integer goes to an `integer` one.
const BIGINT_INPUTS = new Set(['max_push_bytes'])

/** The leaves of a JSON schema (strings, numbers, booleans), each with its path. */
function leaves(schema: Schema, path: Array<string | number> = []): Array<{ path: Array<string | number>; schema: Schema }> {
  const alternatives = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]
  if (alternatives.length > 0) return alternatives.flatMap((s) => leaves(s, path))
  if (schema.properties) return Object.entries(schema.properties).flatMap(([name, s]) => leaves(s, [...path, name]))
  if (typeof schema.additionalProperties === 'object') {
    return leaves(schema.additionalProperties, [...path, schema.propertyNames?.enum?.[0] ?? 'key'])
  }
  if (schema.items) return leaves(schema.items, [...path, 0])
  return [{ path, schema }]
}

function documentedInputs(doc: { paths: Record<string, Record<string, Operation>> }): Input[] {
  const inputs = new Map<string, Input>()
  for (const [route, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const found: Array<Omit<Input, 'method' | 'route'>> = [
        ...(op.parameters ?? []).map((p) => ({
          location: (p.in === 'path' ? 'params' : 'querystring') as Location,
          path: [p.name],
          schema: p.schema,
        })),
        ...leaves(op.requestBody?.content?.['application/json']?.schema ?? {}).map((l) => ({ location: 'body' as const, ...l })),
      ]
      for (const input of found) {
        if (input.path.length === 0) continue
        inputs.set(`${method} ${route} ${input.location}.${input.path.join('.')}`, { method: method.toUpperCase(), route, ...input })
      }
    }
  }
  return [...inputs.values()]
}

const isType = (schema: Schema, type: string) => schema.type === type || (Array.isArray(schema.type) && schema.type.includes(type))

/** `value` at `path` in an otherwise empty body: the refusal must name that field, whatever else is missing. */
function nest(path: Array<string | number>, value: unknown): unknown {
  const [head, ...rest] = path
  if (head === undefined) return value
  return typeof head === 'number' ? [nest(rest, value)] : { [head]: nest(rest, value) }
}

/** The request that puts `value` into `input`; the route's other path parameters get harmless values. */
function requestFor(input: Input, value: string | number) {
  const url = input.route.replace(/\{([^}]+)\}/g, (_whole, name: string) => {
    if (input.location === 'params' && input.path[0] === name) return encodeURIComponent(String(value))
    return name === 'id' || name.endsWith('_id') ? UNKNOWN_ID : 'x'
  })
  const query = input.location === 'querystring' ? `?${encodeURIComponent(String(input.path[0]))}=${encodeURIComponent(String(value))}` : ''
  return {
    method: input.method as 'GET',
    url: url + query,
    ...(input.location === 'body' ? { payload: nest(input.path, value) as object } : {}),
  }
}

async function owner(built: Built) {
  const me = await signup(built)
  // An API key, so a rule about cookie-authenticated writes cannot answer before validation does.
  const res = await built.app.inject({
    method: 'POST',
    url: '/api/api-keys',
    headers: { ...me.headers, origin: 'http://takehome.test' },
    payload: { name: 'bad input' },
  })
  if (res.statusCode !== 201) throw new Error(`api key: ${res.statusCode} ${res.body}`)
  return { ...me, bearer: { authorization: `Bearer ${(res.json() as { key: string }).key}` } }
}

async function documented(built: Built) {
  await built.app.ready()
  return documentedInputs(built.app.swagger() as unknown as { paths: Record<string, Record<string, Operation>> })
}

const fieldOf = (input: Input) => `${input.location}.${input.path.join('.')}`
const describe = (input: Input, value: unknown) => `${input.method} ${input.route} ${fieldOf(input)} = ${JSON.stringify(value)}`

async function send(built: Built, headers: Record<string, string>, input: Input, value: string | number) {
  const res = await built.app.inject({ ...requestFor(input, value), headers })
  const json = String(res.headers['content-type']).startsWith('application/json') ? (res.json() as { error?: { code?: string; details?: unknown } }) : {}
  const issues = Array.isArray(json.error?.details) ? (json.error.details as Array<{ path?: string }>) : []
  return { status: res.statusCode, code: json.error?.code, named: issues.some((issue) => issue.path === fieldOf(input)) }
}

/** Sends `value` into `input` and asserts a 4xx; for JSON routes, a validation refusal naming the field. */
async function expectRefused(t: Test, built: Built, headers: Record<string, string>, input: Input, value: string | number) {
  const what = describe(input, value)
  const res = await send(built, headers, input, value)
  t.ok(res.status >= 400 && res.status < 500, `${what}: a 4xx (got ${res.status})`)
  // The git endpoints answer in git's formats, not in JSON; a 4xx is all they owe.
  if (!input.route.startsWith('/api/')) return
  t.equal(res.code, 'validation_failed', `${what}: refused by validation`)
  t.ok(res.named, `${what}: the refusal names ${fieldOf(input)}`)
}

t.test('NUL in any text input of any route is refused with a 400 naming the field', async (t) => {
  const built = await build(t)
  const { bearer } = await owner(built)
  const strings = (await documented(built)).filter((i) => isType(i.schema, 'string'))
  t.ok(strings.length >= 40, `${strings.length} text inputs found in the OpenAPI document`)
  for (const input of strings) {
    const freeText = input.schema.format === undefined && input.schema.enum === undefined
    const plain = EXAMPLES[String(input.path.at(-1))] ?? 'x'.repeat(Math.max(input.schema.minLength ?? 0, 3))
    await expectRefused(t, built, bearer, input, input.schema.format === 'email' ? 'a\u0000b@example.com' : `x\u0000${plain.slice(2)}`)
    // The same text without the NUL passes that field, so the NUL is what was refused.
    if (freeText && input.route.startsWith('/api/')) {
      t.notOk((await send(built, bearer, input, plain)).named, `${describe(input, plain)}: accepted by the field`)
    }
  }
})

t.test('every integer input is bounded by its column: one past either end is a 400 naming the field', async (t) => {
  const built = await build(t)
  const { bearer } = await owner(built)
  const numbers = (await documented(built)).filter((i) => isType(i.schema, 'integer') || isType(i.schema, 'number'))
  t.ok(numbers.length >= 4, `${numbers.length} numeric inputs found`)
  for (const input of numbers) {
    const name = String(input.path.at(-1))
    const { minimum, maximum } = input.schema
    const [low, high] = BIGINT_INPUTS.has(name) ? [-INT8_MAX - 1n, INT8_MAX] : [BigInt(-INT4_MAX - 1), BigInt(INT4_MAX)]
    t.ok(maximum !== undefined && BigInt(maximum) <= high, `${input.route} ${name}: maximum ${maximum} fits its column (${high})`)
    t.ok(minimum !== undefined && BigInt(minimum) >= low, `${input.route} ${name}: minimum ${minimum} fits its column (${low})`)
    if (maximum !== undefined) await expectRefused(t, built, bearer, input, maximum + 1)
    if (minimum !== undefined) await expectRefused(t, built, bearer, input, minimum - 1)
    if (!BIGINT_INPUTS.has(name)) await expectRefused(t, built, bearer, input, 2 ** 31)
  }
})

/** An owner, a seed, an assessment and one invitation. */
async function setup(t: Test) {
  const built = await build(t)
  const me = await signup(built)
  const src = createSourceRepo()
  t.teardown(() => rmSync(src.dir, { recursive: true, force: true }))
  const seed = await createSeed(built, me.headers, src.dir)
  const assessment = await createAssessment(built, me.headers, seed.id)
  const [invitation] = await invite(built, me.headers, assessment.id, [{ email: 'ada@example.com', name: 'Ada' }])
  return { built, me, seed, assessment, invitation: invitation! }
}

t.test('NUL in an otherwise valid request is a 400, not a database error, and writes nothing', async (t) => {
  const { built, me, seed, assessment, invitation } = await setup(t)
  const before = await rowCounts(built)
  const cases: Array<[string, string, string, object, string]> = [
    ['POST', '/api/assessments', 'title', { seed_id: seed.id, title: 'a\u0000b', time_to_start: 'P1D', time_to_complete: 'P1D' }, 'body.title'],
    ['POST', '/api/assessments', 'instructions', { seed_id: seed.id, title: 'T', instructions: 'x\u0000', time_to_start: 'P1D', time_to_complete: 'P1D' }, 'body.instructions'],
    ['PATCH', `/api/assessments/${assessment.id}`, 'description', { description: '\u0000' }, 'body.description'],
    ['POST', '/api/invitations', 'candidate name', { assessment_id: assessment.id, candidates: [{ email: 'eve@example.com', name: 'E\u0000ve' }] }, 'body.candidates.0.name'],
    ['POST', `/api/invitations/${invitation.id}/comments`, 'comment', { path: 'a.js', line: 1, body: 'why\u0000' }, 'body.body'],
    ['POST', `/api/invitations/${invitation.id}/feedback`, 'summary', { summary: 'ok\u0000', rating: 3 }, 'body.summary'],
    ['POST', '/api/email-templates', 'template body', { kind: 'follow_up', name: 'n', subject: 's', body: 'b\u0000' }, 'body.body'],
    ['POST', '/api/api-keys', 'key name', { name: 'k\u0000' }, 'body.name'],
  ]
  for (const [method, url, what, payload, field] of cases) {
    const res = await built.app.inject({ method: method as 'POST', url, headers: me.headers, payload })
    const error = expectError(t, res, 400, 'validation_failed')
    t.match(error.message, `${field}: must`, `${what}: the message names the field`)
  }
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test('a comment line past the integer column is a 400; the largest line is stored', async (t) => {
  const { built, me, invitation } = await setup(t)
  const comment = (line: number) =>
    built.app.inject({ method: 'POST', url: `/api/invitations/${invitation.id}/comments`, headers: me.headers, payload: { path: 'a.js', line, body: 'here' } })
  const error = expectError(t, await comment(2 ** 31), 400, 'validation_failed')
  t.match(error.message, /^body\.line: must be at most 2147483647/)
  expectError(t, await comment(Number.MAX_SAFE_INTEGER + 2), 400, 'validation_failed')
  const stored = await comment(INT4_MAX)
  t.equal(stored.statusCode, 201, 'the largest integer is stored')
  t.match(stored.json(), { line: INT4_MAX })
  const feedback = await built.app.inject({
    method: 'POST',
    url: `/api/invitations/${invitation.id}/feedback`,
    headers: me.headers,
    payload: { rating: 2 ** 31 },
  })
  expectError(t, feedback, 400, 'validation_failed')
})

t.test('line breaks and control characters are refused in one-line fields, kept in prose', async (t) => {
  const { built, me, seed, assessment, invitation } = await setup(t)
  const refused: Array<[string, string, object, string]> = [
    ['POST', '/api/assessments', { seed_id: seed.id, title: 'Exercise\r\nBcc: eve@example.com', time_to_start: 'P1D', time_to_complete: 'P1D' }, 'body.title'],
    ['PATCH', `/api/assessments/${assessment.id}`, { title: 'a\nb' }, 'body.title'],
    ['PATCH', `/api/assessments/${assessment.id}`, { candidate_email_subject: 'Hi\r\nBcc: eve@example.com' }, 'body.candidate_email_subject'],
    ['POST', '/api/invitations', { assessment_id: assessment.id, candidates: [{ email: 'eve@example.com', name: 'Eve\r\nBcc: x@example.com' }] }, 'body.candidates.0.name'],
    ['POST', '/api/invitations', { assessment_id: assessment.id, candidates: [{ email: 'eve@example.com', name: 'Eve\u2028x' }] }, 'body.candidates.0.name'],
    ['POST', '/api/email-templates', { kind: 'follow_up', name: 'n', subject: 'Thanks\u0085Bcc: x', body: 'b' }, 'body.subject'],
    ['POST', `/api/invitations/${invitation.id}/comments`, { body: 'bell\u0007' }, 'body.body'],
  ]
  for (const [method, url, payload, field] of refused) {
    const error = expectError(t, await built.app.inject({ method: method as 'POST', url, headers: me.headers, payload }), 400, 'validation_failed')
    t.match(error.message, new RegExp(`^${field.replaceAll('.', '\\.')}: must`), `${field} refused`)
  }
  const kept = await built.app.inject({
    method: 'POST',
    url: `/api/invitations/${invitation.id}/comments`,
    headers: me.headers,
    payload: { body: 'line one\r\nline two\n\tindented' },
  })
  t.equal(kept.statusCode, 201, 'prose keeps tabs and line breaks')
  t.match(kept.json(), { body: 'line one\r\nline two\n\tindented' })
})
