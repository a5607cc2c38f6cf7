import { type Actor, actorRef, MANAGE, requireRole } from '../actor.ts'
import { recordAudit } from '../audit.ts'
import type { Db } from '../db/client.ts'
import { notFound } from '../errors.ts'
import type { Outbox } from '../jobs/outbox.ts'

/** What admins see of the job system: their org's dead-lettered jobs, and a way to try one again. */
export function createJobAdminService({ db, outbox }: { db: Db; outbox: Outbox }) {
  return {
    failed(actor: Actor, limit: number) {
      requireRole(actor, MANAGE)
      return outbox.dead(actor.orgId, limit)
    },

    async retry(actor: Actor, id: string) {
      requireRole(actor, MANAGE)
      if (!(await outbox.retry(actor.orgId, id))) throw notFound('failed_job')
      await recordAudit(db, { orgId: actor.orgId, kind: 'job.retried', actor: actorRef(actor), target: id })
    },
  }
}
