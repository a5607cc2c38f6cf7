import { and, desc, eq, lt, ne } from 'drizzle-orm'
import { type Actor, MANAGE, requireRole } from '../actor.ts'
import type { Mailer } from '../adapters/mailer.ts'
import type { Db } from '../db/client.ts'
import { mailboxMessages } from '../db/schema/index.ts'
import { AppError } from '../errors.ts'

export function createMailboxService({ db, mailer }: { db: Db; mailer: Mailer }) {
  return {
    /**
     * Newest first; `before` pages back by creation time. Invite emails carry start links,
     * so only those who may invite (owners, admins) may read them. Account emails of no org
     * (sign-up confirmations, password resets) are in no org's mailbox.
     */
    list(actor: Actor, options: { limit: number; before?: Date }) {
      requireRole(actor, MANAGE)
      if (mailer.kind !== 'local') {
        throw new AppError(404, 'mailbox_disabled', 'email is sent through a provider; there is no local mailbox')
      }
      return db
        .select()
        .from(mailboxMessages)
        .where(
          and(
            eq(mailboxMessages.orgId, actor.orgId),
            // A member invitation's link lets whoever holds it sign up as the invited address,
            // with the invited role (owner included): only owners may read those.
            actor.role === 'owner' ? undefined : ne(mailboxMessages.kind, 'member_invite'),
            options.before ? lt(mailboxMessages.createdAt, options.before) : undefined,
          ),
        )
        .orderBy(desc(mailboxMessages.createdAt))
        .limit(options.limit)
    },
  }
}
