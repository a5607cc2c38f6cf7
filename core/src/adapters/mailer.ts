import type { Executor } from '../db/client.ts'
import type { EmailKind } from '../db/schema/index.ts'

export interface OutgoingEmail {
  /** Null for account emails that belong to no org (sign-up confirmation, password reset). */
  orgId: string | null
  kind: EmailKind
  to: string
  subject: string
  text: string
  html: string
  /**
   * Same key, same email: a provider that has seen it does not send again. The outbox
   * passes its job id, so a retry after a crash between "sent" and "recorded" is harmless.
   */
  idempotencyKey?: string
}

export interface Mailer {
  readonly kind: 'local' | 'resend'
  /** Sends one email; `exec` lets a mailer that stores messages join the caller's transaction. */
  send(exec: Executor, email: OutgoingEmail): Promise<{ providerId: string; status: string }>
}

/** A send that failed. `retryable` says whether trying again later can succeed (429, 5xx, network). */
export class MailerError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** How long the provider asked us to wait, when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(message)
    this.name = 'MailerError'
  }
}
