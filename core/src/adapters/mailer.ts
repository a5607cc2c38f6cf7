import type { Executor } from '../db/client.ts'
import type { EmailKind } from '../db/schema/index.ts'

export interface OutgoingEmail {
  orgId: string
  kind: EmailKind
  to: string
  subject: string
  text: string
  html: string
}

export interface Mailer {
  readonly kind: 'local' | 'resend'
  /** Sends one email; `exec` lets a mailer that stores messages join the caller's transaction. */
  send(exec: Executor, email: OutgoingEmail): Promise<{ providerId: string; status: string }>
}
