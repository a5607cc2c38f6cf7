import { and, count, desc, eq, isNotNull } from 'drizzle-orm'
import { type Actor, actorRef, MANAGE, requireRole } from '../actor.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import { assessments, invitations, seeds } from '../db/schema/index.ts'
import { conflict, notFound, unprocessable } from '../errors.ts'
import { assertInviteTemplate } from './email-templates.ts'

export interface AssessmentInput {
  seedId: string
  title: string
  description?: string | null
  instructions?: string | null
  candidateEmailSubject?: string | null
  candidateEmailBody?: string | null
  timeToStartSeconds: number
  timeToCompleteSeconds: number
  /** The largest push a candidate may make, in bytes; null: the server's default. */
  maxPushBytes?: number | null
  /** Whether candidates may push changes to `.github/workflows`; false unless given. */
  allowWorkflowChanges?: boolean
}

/** Below this, not even a one-line commit would fit. */
export const MIN_PUSH_BYTES = 1024

export function createAssessmentService({ db, clock, pushMaxBytes }: { db: Db; clock: Clock; pushMaxBytes: number }) {
  async function get(actor: Actor, id: string) {
    const [row] = await db
      .select()
      .from(assessments)
      .where(and(eq(assessments.id, id), eq(assessments.orgId, actor.orgId)))
    if (!row) throw notFound('assessment')
    return row
  }

  async function assertSeedInOrg(actor: Actor, seedId: string) {
    const [seed] = await db
      .select({ id: seeds.id })
      .from(seeds)
      .where(and(eq(seeds.id, seedId), eq(seeds.orgId, actor.orgId)))
    // Another org's seed answers exactly like a missing one.
    if (!seed) throw unprocessable('seed_not_found', 'seed_id does not name a seed of your organisation')
  }

  /** The server-wide cap is configuration, so it is checked here rather than at the edge. */
  function assertPushLimit(maxPushBytes: number | null | undefined) {
    if (maxPushBytes === undefined || maxPushBytes === null) return
    if (!Number.isSafeInteger(maxPushBytes) || maxPushBytes < MIN_PUSH_BYTES || maxPushBytes > pushMaxBytes) {
      throw unprocessable(
        'push_limit_out_of_range',
        `max_push_bytes must be a whole number from ${MIN_PUSH_BYTES} to ${pushMaxBytes} (this server's PUSH_MAX_BYTES)`,
      )
    }
  }

  return {
    get,

    list(actor: Actor) {
      return db
        .select()
        .from(assessments)
        .where(eq(assessments.orgId, actor.orgId))
        .orderBy(desc(assessments.createdAt))
    },

    async create(actor: Actor, input: AssessmentInput) {
      requireRole(actor, MANAGE)
      assertPushLimit(input.maxPushBytes)
      assertInviteTemplate({ subject: input.candidateEmailSubject, body: input.candidateEmailBody })
      await assertSeedInOrg(actor, input.seedId)
      // The same clock as update(), so updated_at never precedes created_at.
      const now = clock.now()
      return db.transaction(async (tx) => {
        const [row] = await tx
          .insert(assessments)
          .values({ ...input, orgId: actor.orgId, createdBy: actor.userId, createdAt: now, updatedAt: now })
          .returning()
        await recordAudit(tx, { orgId: actor.orgId, kind: 'assessment.created', actor: actorRef(actor), target: row!.id })
        return row!
      })
    },

    /** Changes apply to invitations sent afterwards; deadlines already given are kept. */
    async update(actor: Actor, id: string, patch: Partial<AssessmentInput>) {
      requireRole(actor, MANAGE)
      assertPushLimit(patch.maxPushBytes)
      assertInviteTemplate({ subject: patch.candidateEmailSubject, body: patch.candidateEmailBody })
      if (patch.seedId) await assertSeedInOrg(actor, patch.seedId)
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(assessments)
          .set({ ...patch, updatedAt: clock.now() })
          .where(and(eq(assessments.id, id), eq(assessments.orgId, actor.orgId)))
          .returning()
        if (!row) throw notFound('assessment')
        await recordAudit(tx, {
          orgId: actor.orgId,
          kind: 'assessment.updated',
          actor: actorRef(actor),
          target: id,
          meta: { fields: Object.keys(patch) },
        })
        return row
      })
    },

    /** Refused once any candidate has started: their repositories and reviews hang off it. */
    async remove(actor: Actor, id: string) {
      requireRole(actor, MANAGE)
      await db.transaction(async (tx) => {
        // Lock the assessment so a Start cannot slip in between the check and the delete.
        const [row] = await tx
          .select({ id: assessments.id })
          .from(assessments)
          .where(and(eq(assessments.id, id), eq(assessments.orgId, actor.orgId)))
          .for('update')
        if (!row) throw notFound('assessment')
        const [started] = await tx
          .select({ n: count() })
          .from(invitations)
          .where(and(eq(invitations.assessmentId, id), isNotNull(invitations.startedAt)))
        if (started && started.n > 0) {
          throw conflict(
            'assessment_has_started_invitations',
            `${started.n} candidate(s) have started this assessment; it cannot be deleted`,
          )
        }
        await tx.delete(assessments).where(and(eq(assessments.id, id), eq(assessments.orgId, actor.orgId)))
        await recordAudit(tx, { orgId: actor.orgId, kind: 'assessment.deleted', actor: actorRef(actor), target: id })
      })
    },

  }
}

export type AssessmentService = ReturnType<typeof createAssessmentService>
