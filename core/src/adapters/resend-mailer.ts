import type { Logger } from 'pino'
import { Resend, type ErrorResponse } from 'resend'
import { headerValue } from '../email.ts'
import { MailerError, type Mailer } from './mailer.ts'

const RESEND_API = 'https://api.resend.com'
const USER_AGENT = 'takehome-resend-mailer'
/** A send that hangs would hold a job worker; one that times out is retried like a network error. */
const SEND_TIMEOUT_MS = 30_000

export interface ResendMailerOptions {
  apiKey: string
  /** The sender, e.g. `Takehome <noreply@takehome.example.com>`, on a domain verified in Resend. */
  from: string
  /** Where the Resend API lives; tests point it at the loopback double. */
  baseUrl?: string
  logger: Logger
}

/**
 * Sends through Resend's API with the official SDK. It does not retry: a failure becomes a
 * `MailerError` saying whether a retry can help, and the caller (a job) retries with the same
 * idempotency key, so Resend sends the email at most once.
 */
export function createResendMailer({ apiKey, from, baseUrl = RESEND_API, logger }: ResendMailerOptions): Mailer {
  // The SDK falls back to RESEND_API_KEY, RESEND_BASE_URL and RESEND_USER_AGENT from the
  // environment for whatever it is not given; given everything, only config reads the
  // environment. (RESEND_DEBUG still makes it print Resend's error bodies, which hold neither
  // the key nor the email.)
  if (!apiKey) throw new Error('the Resend mailer needs an API key')
  const resend = new Resend(apiKey, { baseUrl, userAgent: USER_AGENT })

  return {
    kind: 'resend',
    // Nothing is stored locally, so the caller's executor is not needed.
    async send(_exec, email) {
      const result = await resend.emails.send(
        // Callers render subjects as one line already; the provider boundary holds whatever they pass.
        { from, to: email.to, subject: headerValue(email.subject), html: email.html, text: email.text },
        { idempotencyKey: email.idempotencyKey, signal: AbortSignal.timeout(SEND_TIMEOUT_MS) },
      )
      if (result.error) {
        const failure = toMailerError(result.error, result.headers, apiKey)
        // Name the failure, never Resend's message: it is the error's job to carry that.
        logger.warn(
          { kind: email.kind, to: email.to, status: result.error.statusCode, error_name: result.error.name, retryable: failure.retryable },
          'Resend did not accept the email',
        )
        throw failure
      }
      // The body carries the start link, which is a secret: log who and what, not the text.
      logger.info({ provider_id: result.data.id, kind: email.kind, to: email.to, subject: email.subject }, 'email sent through Resend')
      return { providerId: result.data.id, status: 'sent' }
    },
  }
}

/**
 * The SDK does not throw: it returns Resend's JSON error body, or `statusCode: null` when no
 * answer came (refused, reset, DNS, our timeout). A body without a numeric status (a proxy's,
 * not Resend's) is treated like no answer: we cannot tell, and a retry is safe with the key.
 */
function toMailerError(error: ErrorResponse, headers: Record<string, string> | null, apiKey: string): MailerError {
  const status = typeof error.statusCode === 'number' ? error.statusCode : null
  const retryable =
    status === null ||
    status === 429 ||
    status >= 500 ||
    // Our own earlier attempt with this key is still in flight; Resend says to try again later.
    error.name === 'concurrent_idempotent_requests'
  const what = status === null ? 'Resend could not be reached' : `Resend answered ${status} ${error.name}`
  // Resend's messages name fields, not values; redact the key anyway in case something echoes it.
  const message = `${what}: ${String(error.message).replaceAll(apiKey, '[redacted]')}`
  return new MailerError(message, retryable, retryable ? retryAfterMs(headers?.['retry-after']) : undefined)
}

/** Resend sends `retry-after` in seconds; anything else leaves the wait to the job's backoff. */
function retryAfterMs(value: string | undefined): number | undefined {
  if (!value?.trim()) return undefined
  const seconds = Number(value)
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined
}
