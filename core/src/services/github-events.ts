import { and, eq, inArray, isNull, lte } from 'drizzle-orm'
import type { Logger } from 'pino'
import { z } from 'zod'
import type { WebhookDelivery, WebhookDeliveryLog } from '../adapters/webhook-deliveries.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db, Tx } from '../db/client.ts'
import { candidateRepos, githubInstallations, pushLedger, webhookDeliveries } from '../db/schema/index.ts'
import { AppError } from '../errors.ts'
import { enqueue } from '../jobs/outbox.ts'
import type { AccessService } from './access.ts'
import type { SeedService } from './seeds.ts'

export interface GitHubEventDeps {
  db: Db
  clock: Clock
  seeds: Pick<SeedService, 'recordPush' | 'recordDefaultBranch' | 'byRepo'>
  access: Pick<AccessService, 'forget'>
  logger: Logger
  /** The app's own record of its deliveries (GitHub App mode); without it nothing is redelivered. */
  deliveries?: WebhookDeliveryLog
}

const HOUR = 3_600_000

/**
 * Failed deliveries are looked for this far back (GitHub keeps three days of them) and at
 * most this many are redelivered per run, so an outage of ours is caught up in bounded steps.
 */
export const REDELIVERY = { windowMs: 6 * HOUR, maxPerRun: 25 }

// The parts of GitHub's payloads we read (docs.github.com, "Webhook events and payloads");
// everything else in them is ignored.
const repository = z.object({ id: z.number(), full_name: z.string().min(1).max(300) })
const sender = z.object({ login: z.string() }).nullish()
const sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, { error: 'must be a commit SHA' })

const pushPayload = z.object({
  ref: z.string().min(1).max(1000),
  before: sha,
  after: sha,
  forced: z.boolean(),
  // GitHub lists at most 2048 commits of a push here; that is the count the ledger keeps.
  commits: z.array(z.unknown()),
  repository,
  sender,
})

const repositoryPayload = z.object({
  action: z.string(),
  repository: repository.extend({ default_branch: z.string().min(1).max(255) }),
  changes: z.object({ default_branch: z.object({ from: z.string() }).optional() }).optional(),
  sender,
})

const installationPayload = z.object({
  action: z.string(),
  installation: z.object({
    id: z.number().int().positive(),
    // An organisation or a user has a login; an enterprise a slug.
    account: z.object({ login: z.string().optional(), slug: z.string().optional() }).nullish(),
    permissions: z.record(z.string(), z.string()).default({}),
    events: z.array(z.string()).default([]),
    suspended_at: z.string().nullish(),
  }),
  sender,
})

// Of another event only its action is kept, whatever it is.
const anyEvent = z.record(z.string(), z.unknown())

export type DeliveryOutcome = 'applied' | 'ignored' | 'duplicate'

/** What applying one delivery did, and what to do once it has committed. */
interface Applied {
  applied: boolean
  /** Invitations whose access may have changed: their cached grants are dropped after commit. */
  forget?: string[]
}

const ok = (status: number) => status >= 200 && status < 300

/**
 * GitHub's webhooks, after their signature was checked: each delivery is recorded in
 * `webhook_deliveries` in the same transaction as its effect, so a delivery that comes
 * twice (GitHub's redelivery, ours, a retry after a lost answer) takes effect once.
 */
export function createGitHubEventService({ db, clock, seeds, access, logger, deliveries }: GitHubEventDeps) {
  async function handle<T extends z.ZodType>(
    id: string,
    event: string,
    schema: T,
    payload: unknown,
    apply: (tx: Tx, data: z.infer<T>, now: Date) => Promise<Applied>,
  ): Promise<DeliveryOutcome> {
    const parsed = schema.safeParse(payload)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new AppError(400, 'webhook_payload_invalid', `the ${event} payload is not as GitHub documents it: ${issue ? `${issue.path.join('.') || 'payload'}: ${issue.message}` : 'invalid'}`)
    }
    const data = parsed.data
    const given = (data as { action?: unknown }).action
    const action = typeof given === 'string' ? given : null
    const log = logger.child({ delivery_id: id, event, action })
    const now = clock.now()
    const result = await db.transaction(async (tx) => {
      const [fresh] = await tx
        .insert(webhookDeliveries)
        .values({ id, event, action, receivedAt: now })
        .onConflictDoNothing()
        .returning({ id: webhookDeliveries.id })
      if (!fresh) return { outcome: 'duplicate' as const }
      const applied = await apply(tx, data, now)
      await tx.update(webhookDeliveries).set({ processedAt: clock.now() }).where(eq(webhookDeliveries.id, id))
      return { outcome: applied.applied ? ('applied' as const) : ('ignored' as const), forget: applied.forget }
    })
    for (const invitationId of result.forget ?? []) access.forget(invitationId)
    log.info({ outcome: result.outcome }, 'webhook delivery handled')
    return result.outcome
  }

  /**
   * The candidate repository GitHub names: by its id where we stored it, else by its name.
   * A name can pass to another repository (renamed away, deleted and made again), an id
   * never does: a row that has an id is never matched by name alone.
   */
  async function candidateRepo(tx: Tx, repo: z.infer<typeof repository>) {
    const [byId] = await tx.select().from(candidateRepos).where(eq(candidateRepos.githubRepoId, repo.id)).limit(1)
    if (byId) return byId
    const [byName] = await tx
      .select()
      .from(candidateRepos)
      .where(and(eq(candidateRepos.repoFullName, repo.full_name), isNull(candidateRepos.githubRepoId)))
      .limit(1)
    return byName
  }

  async function redeliverFailed(log: WebhookDeliveryLog) {
    const attempts = await log.listSince(new Date(clock.now().getTime() - REDELIVERY.windowMs))
    const byGuid = new Map<string, WebhookDelivery[]>()
    for (const attempt of attempts) byGuid.set(attempt.guid, [...(byGuid.get(attempt.guid) ?? []), attempt])
    // Every attempt failed and none was a redelivery: each failed delivery is asked for again once.
    const failed = [...byGuid].filter(([, tries]) => tries.every((a) => !ok(a.statusCode) && !a.redelivery))
    const due: WebhookDelivery[] = []
    for (let i = 0; i < failed.length && due.length < REDELIVERY.maxPerRun; i += 100) {
      const batch = failed.slice(i, i + 100)
      const known = await db
        .select({ id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .where(inArray(webhookDeliveries.id, batch.map(([guid]) => guid)))
      const seen = new Set(known.map((k) => k.id))
      for (const [guid, tries] of batch) if (!seen.has(guid)) due.push(tries[0]!)
    }
    let redelivered = 0
    let errors = 0
    for (const attempt of due.slice(0, REDELIVERY.maxPerRun)) {
      try {
        await log.redeliver(attempt.id)
        redelivered++
      } catch (err) {
        errors++
        logger.warn({ err, delivery_id: attempt.guid }, 'webhook redelivery request failed')
      }
    }
    const counts = { attempts: attempts.length, failed: failed.length, redelivered, errors }
    logger.info(counts, 'webhook redelivery')
    return counts
  }

  return {
    /**
     * `push`: to a seed repository, moves the seed's latest SHA (the next candidate is
     * pinned to it); to a candidate repository, appends to the push ledger, the record of
     * when work actually arrived (commit dates are the candidate's to set).
     */
    push: (id: string, payload: unknown) =>
      handle(id, 'push', pushPayload, payload, async (tx, push, now): Promise<Applied> => {
        const seed = await seeds.recordPush(tx, {
          repoFullName: push.repository.full_name,
          ref: push.ref,
          before: push.before,
          after: push.after,
          deliveryId: id,
          sender: push.sender?.login ?? null,
        })
        if (seed) return { applied: seed === 'moved' || seed === 'queued' }
        const repo = await candidateRepo(tx, push.repository)
        if (!repo) return { applied: false }
        const entry = { ref: push.ref, before: push.before, after: push.after, forced: push.forced, commit_count: push.commits.length }
        await tx
          .insert(pushLedger)
          .values({
            orgId: repo.orgId,
            candidateRepoId: repo.id,
            deliveryId: id,
            ref: entry.ref,
            beforeSha: entry.before,
            afterSha: entry.after,
            forced: entry.forced,
            commitCount: entry.commit_count,
            receivedAt: now,
          })
          .onConflictDoNothing({ target: pushLedger.deliveryId })
        await recordAudit(tx, { orgId: repo.orgId, kind: 'repo.pushed', actor: 'github', target: repo.id, meta: { ...entry, delivery_id: id } })
        return { applied: true }
      }),

    /**
     * `repository`: archive state of candidate repositories and the default branch of seeds
     * stay as GitHub has them; an ended invitation's repository reopened on GitHub is closed
     * again by a job; a deletion is noted in the audit log.
     */
    repository: (id: string, payload: unknown) =>
      handle(id, 'repository', repositoryPayload, payload, async (tx, event, now): Promise<Applied> => {
        const meta = { delivery_id: id, repository: event.repository.full_name, sender: event.sender?.login ?? null }
        if (event.action === 'edited') {
          const branch = event.changes?.default_branch
          if (!branch) return { applied: false }
          const seed = await seeds.recordDefaultBranch(tx, { repoFullName: event.repository.full_name, defaultBranch: event.repository.default_branch, deliveryId: id })
          return { applied: seed !== undefined }
        }
        if (!['archived', 'unarchived', 'deleted'].includes(event.action)) return { applied: false }
        const repo = await candidateRepo(tx, event.repository)
        if (event.action === 'deleted') {
          const owner = repo ?? (await seeds.byRepo(tx, event.repository.full_name))
          if (!owner) return { applied: false }
          await recordAudit(tx, { orgId: owner.orgId, kind: repo ? 'repo.deleted_on_github' : 'seed.deleted_on_github', actor: 'github', target: owner.id, meta })
          return { applied: true }
        }
        if (!repo) return { applied: false }
        if (event.action === 'archived') {
          const [changed] = await tx
            .update(candidateRepos)
            .set({ archived: true, archivedAt: now })
            .where(and(eq(candidateRepos.id, repo.id), eq(candidateRepos.archived, false)))
            .returning({ id: candidateRepos.id })
          if (!changed) return { applied: false }
          await recordAudit(tx, { orgId: repo.orgId, kind: 'repo.archived', actor: 'github', target: repo.id, meta })
          return { applied: true, forget: [repo.invitationId] }
        }
        // Unarchived. An ended invitation's repository stays closed: a job archives it again.
        if (!repo.active) {
          await enqueue(tx, [{ kind: 'repo.finalize', orgId: repo.orgId, payload: { invitationId: repo.invitationId } }])
          await recordAudit(tx, { orgId: repo.orgId, kind: 'repo.unarchived_on_github', actor: 'github', target: repo.id, meta: { ...meta, archived_again: true } })
          return { applied: true }
        }
        const [reopened] = await tx
          .update(candidateRepos)
          .set({ archived: false, archivedAt: null })
          .where(and(eq(candidateRepos.id, repo.id), eq(candidateRepos.archived, true)))
          .returning({ id: candidateRepos.id })
        if (!reopened) return { applied: false }
        await recordAudit(tx, { orgId: repo.orgId, kind: 'repo.unarchived_on_github', actor: 'github', target: repo.id, meta: { ...meta, archived_again: false } })
        return { applied: true, forget: [repo.invitationId] }
      }),

    /**
     * `installation` (created, deleted, suspend, unsuspend, new_permissions_accepted) and
     * `installation_repositories`: the installation as GitHub last described it.
     */
    installation: (id: string, event: 'installation' | 'installation_repositories', payload: unknown) =>
      handle(id, event, installationPayload, payload, async (tx, { action, installation, sender: by }, now): Promise<Applied> => {
        const row = {
          accountLogin: installation.account?.login ?? installation.account?.slug ?? '',
          permissions: installation.permissions,
          events: installation.events,
          suspendedAt: installation.suspended_at ? new Date(installation.suspended_at) : null,
          deletedAt: event === 'installation' && action === 'deleted' ? now : null,
          updatedAt: now,
        }
        await tx
          .insert(githubInstallations)
          .values({ id: installation.id, ...row, createdAt: now })
          .onConflictDoUpdate({ target: githubInstallations.id, set: row })
        await recordAudit(tx, {
          orgId: null,
          kind: `github.${event}.${action}`,
          actor: 'github',
          target: String(installation.id),
          meta: { delivery_id: id, account: row.accountLogin, permissions: row.permissions, sender: by?.login ?? null },
        })
        return { applied: true }
      }),

    /** Any other event: recorded, so a redelivery of it is not asked for, and otherwise ignored. */
    ignore: (id: string, event: string, payload: unknown) => handle(id, event, anyEvent, payload, async () => ({ applied: false })),

    /**
     * The scheduled catch-up (GitHub does not retry failed deliveries): asks once for each
     * recent delivery whose every attempt failed and that we never recorded. Undefined
     * without the app's delivery log (the local git host).
     */
    redeliverFailed: deliveries ? () => redeliverFailed(deliveries) : undefined,

    /**
     * Forgets deliveries received more than `ageMs` ago. Only the redelivery window needs
     * them (a delivery GitHub still lists must be known to be neither applied nor asked for
     * twice), so anything well past it can go.
     */
    async pruneDeliveries(ageMs: number) {
      const before = new Date(clock.now().getTime() - Math.max(ageMs, REDELIVERY.windowMs))
      await db.delete(webhookDeliveries).where(lte(webhookDeliveries.receivedAt, before))
    },
  }
}

export type GitHubEventService = ReturnType<typeof createGitHubEventService>
