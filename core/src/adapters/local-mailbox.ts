import type { Logger } from 'pino'
import { mailboxMessages } from '../db/schema/index.ts'
import { headerValue } from '../email.ts'
import type { Mailer } from './mailer.ts'

/** The embedded default: nothing leaves the machine; messages are listed at GET /api/mail. */
export function createLocalMailbox({ logger }: { logger: Logger }): Mailer {
  return {
    kind: 'local',
    async send(exec, email) {
      // Stored as a provider would send it: the subject is one header line.
      const [row] = await exec
        .insert(mailboxMessages)
        .values({ ...email, subject: headerValue(email.subject) })
        .returning({ id: mailboxMessages.id })
      // The body carries the start link, which is a secret: log who and what, not the text.
      logger.info({ mailbox_id: row!.id, kind: email.kind, to: email.to, subject: email.subject }, 'email stored in the local mailbox')
      return { providerId: row!.id, status: 'delivered_to_local_mailbox' }
    },
  }
}
