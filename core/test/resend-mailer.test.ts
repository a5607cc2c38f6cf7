import { pino } from 'pino'
import t, { type Test } from 'tap'
import { MailerError, type OutgoingEmail } from '../src/adapters/mailer.ts'
import { createResendMailer } from '../src/adapters/resend-mailer.ts'
import type { Executor } from '../src/db/client.ts'
import { startResendDouble } from '../testing/resend-double.ts'

const FROM = 'Takehome <noreply@takehome.test>'
const START_LINK = 'https://th.test/start/thi_secret_start_token'

/** The Resend mailer stores nothing locally: touching the executor fails the test. */
const noDatabase = new Proxy(
  {},
  {
    get() {
      throw new Error('the Resend mailer touched the database')
    },
  },
) as Executor

const invite = (overrides: Partial<OutgoingEmail> = {}): OutgoingEmail => ({
  orgId: 'org_1',
  kind: 'invite',
  to: 'ada@example.com',
  subject: 'Your take-home assessment: Backend exercise',
  text: `Open your start page: ${START_LINK}`,
  html: `<p>Open your start page: <a href="${START_LINK}">${START_LINK}</a></p>`,
  idempotencyKey: 'invite_inv_1',
  ...overrides,
})

/** A double, a mailer pointed at it with `apiKey` (the double's own key by default), and the log lines. */
async function setup(t: Test, { apiKey }: { apiKey?: string } = {}) {
  const double = await startResendDouble({ apiKey: 're_test_secret_key_123' })
  t.teardown(() => double.close())
  const logLines: string[] = []
  const logger = pino({ level: 'trace' }, { write: (line: string) => logLines.push(line) })
  const mailer = createResendMailer({ apiKey: apiKey ?? double.apiKey, from: FROM, baseUrl: double.url, logger })
  return { double, mailer, logLines }
}

/** Runs a send that must fail and returns its MailerError. */
async function failedSend(t: Test, send: Promise<unknown>): Promise<MailerError> {
  const err = await send.then(
    () => undefined,
    (e: unknown) => e,
  )
  t.type(err, MailerError, 'the send fails with a MailerError')
  return err as MailerError
}

t.test('sends the email with the bearer key, the idempotency key and both bodies', async (t) => {
  const { double, mailer, logLines } = await setup(t)
  const result = await mailer.send(noDatabase, invite())

  t.equal(mailer.kind, 'resend')
  t.equal(double.requests.length, 1)
  const [request] = double.requests
  t.equal(request!.method, 'POST')
  t.equal(request!.path, '/emails')
  t.equal(request!.headers.authorization, 'Bearer re_test_secret_key_123')
  t.equal(request!.headers['idempotency-key'], 'invite_inv_1')
  t.match(request!.headers['content-type'], /^application\/json/)

  t.equal(double.sent.length, 1)
  const [email] = double.sent
  t.same(
    { from: email!.from, to: email!.to, subject: email!.subject, html: email!.html, text: email!.text, idempotencyKey: email!.idempotencyKey },
    {
      from: FROM,
      to: 'ada@example.com',
      subject: 'Your take-home assessment: Backend exercise',
      html: invite().html,
      text: invite().text,
      idempotencyKey: 'invite_inv_1',
    },
  )
  t.same(result, { providerId: email!.id, status: 'sent' }, 'the provider id is the id Resend answered')
  t.match(result.providerId, /^[0-9a-f-]{36}$/)

  const logs = logLines.join('')
  t.match(logs, email!.id, 'the send is logged with its provider id')
  t.notMatch(logs, 're_test_secret_key_123', 'the API key is not logged')
  t.notMatch(logs, START_LINK, 'the body (with its start link) is not logged')
})

t.test('without an idempotency key no Idempotency-Key header is sent', async (t) => {
  const { double, mailer } = await setup(t)
  await mailer.send(noDatabase, invite({ idempotencyKey: undefined }))
  t.equal(double.requests[0]!.headers['idempotency-key'], undefined)
  t.equal(double.sent.length, 1)
})

t.test('a 429 is retryable with the wait Resend asked for, and the retry sends once', async (t) => {
  const { double, mailer } = await setup(t)
  double.failNext([429])

  const err = await failedSend(t, mailer.send(noDatabase, invite()))
  t.equal(err.retryable, true)
  t.equal(err.retryAfterMs, 1000, 'retry-after: 1 is one second')
  t.match(err.message, '429 rate_limit_exceeded')
  t.equal(double.sent.length, 0, 'nothing was sent by the refused request')

  const result = await mailer.send(noDatabase, invite())
  t.equal(double.requests.length, 2, 'the adapter itself made exactly one request per send')
  t.equal(double.sent.length, 1)
  t.equal(result.providerId, double.sent[0]!.id)
})

t.test('a 500 is retryable without a wait, and the retry sends once', async (t) => {
  const { double, mailer, logLines } = await setup(t)
  double.failNext([500])

  const err = await failedSend(t, mailer.send(noDatabase, invite()))
  t.equal(err.retryable, true)
  t.equal(err.retryAfterMs, undefined)
  t.match(err.message, '500 internal_server_error')
  t.match(logLines.join(''), '"error_name":"internal_server_error"', 'the failure is logged by name')

  const result = await mailer.send(noDatabase, invite())
  t.equal(double.requests.length, 2)
  t.equal(double.sent.length, 1)
  t.equal(result.providerId, double.sent[0]!.id)
})

t.test('failures are answered in the order scripted', async (t) => {
  const { double, mailer } = await setup(t)
  double.failNext([429, 503])
  t.match((await failedSend(t, mailer.send(noDatabase, invite()))).message, '429')
  const second = await failedSend(t, mailer.send(noDatabase, invite()))
  t.match(second.message, '503')
  t.equal(second.retryable, true)
  await mailer.send(noDatabase, invite())
  t.equal(double.sent.length, 1)
})

t.test('the same idempotency key twice records one email and answers the same id', async (t) => {
  const { double, mailer } = await setup(t)
  const first = await mailer.send(noDatabase, invite())
  const again = await mailer.send(noDatabase, invite())
  t.equal(double.requests.length, 2, 'both sends reached Resend')
  t.equal(double.sent.length, 1, 'only the first was sent')
  t.equal(again.providerId, first.providerId)

  const other = await mailer.send(noDatabase, invite({ idempotencyKey: 'invite_inv_2' }))
  t.equal(double.sent.length, 2, 'another key is another email')
  t.not(other.providerId, first.providerId)
})

t.test('the same idempotency key with another email is refused for good', async (t) => {
  const { double, mailer } = await setup(t)
  await mailer.send(noDatabase, invite())
  const err = await failedSend(t, mailer.send(noDatabase, invite({ subject: 'Something else' })))
  t.equal(err.retryable, false)
  t.match(err.message, '409 invalid_idempotent_request')
  t.equal(double.sent.length, 1)
})

t.test('a 422 for a missing field is not retryable', async (t) => {
  const { double, mailer } = await setup(t)
  const err = await failedSend(t, mailer.send(noDatabase, invite({ subject: '' })))
  t.equal(err.retryable, false)
  t.equal(err.retryAfterMs, undefined)
  t.match(err.message, '422 missing_required_field')
  t.match(err.message, 'Missing `subject` field.', "Resend's explanation is kept")
  t.equal(double.sent.length, 0)
})

t.test('a 401 is not retryable', async (t) => {
  const { double, mailer } = await setup(t)
  double.failNext([{ status: 401, name: 'restricted_api_key', message: 'This API key is restricted to only send emails.' }])
  const err = await failedSend(t, mailer.send(noDatabase, invite()))
  t.equal(err.retryable, false)
  t.match(err.message, '401 restricted_api_key')
  t.equal(double.sent.length, 0)
})

t.test('a wrong API key is refused for good, and the key is not in the error or the logs', async (t) => {
  const { double, mailer, logLines } = await setup(t, { apiKey: 're_wrong_key_456' })
  const err = await failedSend(t, mailer.send(noDatabase, invite()))
  t.equal(double.requests[0]!.status, 403)
  t.equal(err.retryable, false)
  t.match(err.message, '403 invalid_api_key')
  t.notMatch(err.message, 're_wrong_key_456')
  t.notMatch(logLines.join(''), 're_wrong_key_456')
  t.notMatch(logLines.join(''), START_LINK)
  t.equal(double.sent.length, 0)
})

t.test('an error that echoes the API key is redacted', async (t) => {
  const { double, mailer, logLines } = await setup(t)
  double.failNext([{ status: 400, name: 'validation_error', message: `Bad header: Bearer ${double.apiKey}` }])
  const err = await failedSend(t, mailer.send(noDatabase, invite()))
  t.equal(err.retryable, false)
  t.notMatch(err.message, double.apiKey)
  t.match(err.message, 'Bad header: Bearer [redacted]')
  t.notMatch(logLines.join(''), double.apiKey)
})

t.test('an unreachable Resend is retryable', async (t) => {
  const double = await startResendDouble()
  await double.close()
  const mailer = createResendMailer({ apiKey: double.apiKey, from: FROM, baseUrl: double.url, logger: pino({ level: 'silent' }) })
  const err = await failedSend(t, mailer.send(noDatabase, invite()))
  t.equal(err.retryable, true)
  t.equal(err.retryAfterMs, undefined)
  t.match(err.message, 'Resend could not be reached')
  t.notMatch(err.message, double.apiKey)
})

t.test('a mailer without an API key is refused rather than reading the environment', async (t) => {
  t.throws(() => createResendMailer({ apiKey: '', from: FROM, logger: pino({ level: 'silent' }) }), /needs an API key/)
})

t.test('the double answers like Resend to requests the SDK never makes', async (t) => {
  const { double } = await setup(t)
  const post = (headers: Record<string, string>, body: unknown) =>
    fetch(`${double.url}/emails`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const email = { from: FROM, to: 'ada@example.com', subject: 'Hi', text: 'Hello' }

  const missingKey = await post({}, email)
  t.equal(missingKey.status, 401)
  t.same(await missingKey.json(), { statusCode: 401, name: 'missing_api_key', message: 'Missing API key in the authorization header.' })

  const noBody = await post({ authorization: `Bearer ${double.apiKey}` }, { ...email, text: undefined })
  t.equal(noBody.status, 422)
  t.match(await noBody.json(), { statusCode: 422, name: 'missing_required_field' })

  double.failNext([429])
  const limited = await post({ authorization: `Bearer ${double.apiKey}` }, email)
  t.equal(limited.status, 429)
  t.equal(limited.headers.get('retry-after'), '1')
  t.match(await limited.json(), { statusCode: 429, name: 'rate_limit_exceeded' })

  t.equal(double.sent.length, 0)
  t.same(
    double.requests.map((r) => r.status),
    [401, 422, 429],
  )
})
