import { randomUUID } from 'node:crypto'
import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm'
import { type Actor, actorRef, MANAGE, requireRole } from '../actor.ts'
import type { GitHost } from '../adapters/git-host.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db, Executor } from '../db/client.ts'
import { outsideOrgScope } from '../db/org-scope.ts'
import { orgs, seeds } from '../db/schema/index.ts'
import { AppError, notFound, unprocessable } from '../errors.ts'
import { stripUrlCredentials } from '../git.ts'
import { enqueue } from '../jobs/outbox.ts'
import { prepareSeedSource, type SeedSourceOptions, type SeedSourcePolicy } from '../seed-source.ts'

export interface SeedDeps {
  db: Db
  gitHost: GitHost
  clock: Clock
  /** Where seeds may come from; checked on every fetch, since a host's address or redirects can change. */
  sources: SeedSourcePolicy
  /** Name resolution and address checks, for tests that pin names to loopback. */
  network?: Pick<SeedSourceOptions, 'lookup' | 'addressAllowed'>
}

type Seed = typeof seeds.$inferSelect

/** A push to a repository, as the host's webhook reports it. */
export interface SeedPush {
  repoFullName: string
  ref: string
  before: string
  after: string
  deliveryId: string
  /** Who pushed, by the host's name for them; for the audit log. */
  sender: string | null
}

/** What a push did to a seed: moved it, found it already there, left a job to read the branch, or was to another branch. */
export type SeedPushOutcome = 'moved' | 'current' | 'queued' | 'other_ref'

/** git's name for "no commit": the `before` of a branch's first push, the `after` of its deletion. */
const NO_COMMIT = /^0+$/

export function createSeedService({ db, gitHost, clock, sources, network }: SeedDeps) {
  /**
   * The instance's first org: in the embedded default, the one its first user made. A
   * question about every org, so it is asked on the system path: in an org's scope each
   * org would see only itself, and be first.
   */
  const isFirstOrg = (orgId: string) =>
    outsideOrgScope(async () => {
      const [first] = await db.select({ id: orgs.id }).from(orgs).orderBy(asc(orgs.createdAt), asc(orgs.id)).limit(1)
      return first?.id === orgId
    })

  const prepare = (sourceUrl: string, orgId: string) =>
    prepareSeedSource(sourceUrl, { policy: sources, isFirstOrg: () => isFirstOrg(orgId), ...network })

  async function get(actor: Actor, id: string) {
    const [seed] = await db
      .select()
      .from(seeds)
      .where(and(eq(seeds.id, id), eq(seeds.orgId, actor.orgId)))
    if (!seed) throw notFound('seed')
    return seed
  }

  async function refresh(seed: Seed, sourceUrl: string, actor: string) {
    const mirror = await gitHost.syncSeed({ repoFullName: seed.seedRepoFullName, source: await prepare(sourceUrl, seed.orgId) })
    return db.transaction(async (tx) => {
      const [updated] = await tx
        .update(seeds)
        .set({ latestMainSha: mirror.headSha, sourceDefaultBranch: mirror.sourceDefaultBranch, syncedAt: clock.now() })
        .where(eq(seeds.id, seed.id))
        .returning()
      // A person's sync is always recorded; the schedule's only when it moved the seed.
      if (actor !== 'system' || mirror.headSha !== seed.latestMainSha) {
        await recordAudit(tx, { orgId: seed.orgId, kind: 'seed.synced', actor, target: seed.id, meta: { from: seed.latestMainSha, to: mirror.headSha } })
      }
      return updated!
    })
  }

  /** The seed's SHA is still `sha`: the guard that keeps two writers from moving it back. */
  const at = (sha: string | null) => (sha === null ? isNull(seeds.latestMainSha) : eq(seeds.latestMainSha, sha))
  // GitHub compares owners and names without case, and its webhooks spell the org as GitHub
  // does, which need not be how GITHUB_ORG (and so the stored name) spells it.
  const byRepo = async (exec: Executor, repoFullName: string): Promise<Seed | undefined> =>
    (await exec.select().from(seeds).where(sql`lower(${seeds.seedRepoFullName}) = lower(${repoFullName})`).limit(1))[0]

  return {
    get,

    list(actor: Actor) {
      return db.select().from(seeds).where(eq(seeds.orgId, actor.orgId)).orderBy(desc(seeds.createdAt))
    },

    /** Mirrors the source first (slow, outside any transaction), then records it; undoes the mirror if that fails. */
    async create(actor: Actor, input: { sourceUrl: string }) {
      requireRole(actor, MANAGE)
      const id = randomUUID()
      const mirror = await gitHost.mirrorSeed({ seedId: id, source: await prepare(input.sourceUrl, actor.orgId) })
      try {
        return await db.transaction(async (tx) => {
          const [seed] = await tx
            .insert(seeds)
            .values({
              id,
              orgId: actor.orgId,
              sourceRepoUrl: stripUrlCredentials(input.sourceUrl),
              seedRepoFullName: mirror.repoFullName,
              sourceDefaultBranch: mirror.sourceDefaultBranch,
              latestMainSha: mirror.headSha,
              syncedAt: clock.now(),
            })
            .returning()
          await recordAudit(tx, {
            orgId: actor.orgId,
            kind: 'seed.created',
            actor: actorRef(actor),
            target: id,
            meta: { source_url: seed!.sourceRepoUrl, sha: mirror.headSha },
          })
          return seed!
        })
      } catch (err) {
        await gitHost.removeSeed(mirror.repoFullName)
        throw err
      }
    },

    /**
     * Fetches the source again. Credentials are never stored, so a private source is
     * synced by passing its URL (with credentials) again; it must name the same repository.
     */
    async sync(actor: Actor, id: string, input: { sourceUrl?: string } = {}) {
      requireRole(actor, MANAGE)
      const seed = await get(actor, id)
      if (input.sourceUrl && stripUrlCredentials(input.sourceUrl) !== seed.sourceRepoUrl) {
        throw unprocessable('seed_source_mismatch', `source_url must name this seed's source, ${seed.sourceRepoUrl}`)
      }
      return refresh(seed, input.sourceUrl ?? seed.sourceRepoUrl, actorRef(actor))
    },

    /**
     * The scheduled sync of the local git host (GitHub seeds follow webhooks instead):
     * fetches every seed from its stored source. A source that needs credentials fails
     * here and keeps its last SHA until someone syncs it with them.
     */
    async syncAll() {
      const all = await db.select().from(seeds).orderBy(seeds.syncedAt)
      const failed: Array<{ seedId: string; error: string }> = []
      for (const seed of all) {
        try {
          await refresh(seed, seed.sourceRepoUrl, 'system')
        } catch (err) {
          const reason = err instanceof AppError ? (err.details as { reason?: string } | undefined)?.reason : undefined
          failed.push({ seedId: seed.id, error: `${err instanceof Error ? err.message : String(err)}${reason ? ` (${reason})` : ''}` })
        }
      }
      return { synced: all.length - failed.length, failed }
    },

    /**
     * A push to a seed repository on the host (GitHub's `push` webhook), in the caller's
     * transaction: the next candidate is pinned to where it left the default branch.
     * Deliveries can arrive out of order or not at all, so the SHA moves only from the one
     * the push started at; otherwise a job asks the host where the branch stands now.
     * Undefined when the repository is no seed's.
     */
    async recordPush(tx: Executor, push: SeedPush): Promise<SeedPushOutcome | undefined> {
      const seed = await byRepo(tx, push.repoFullName)
      if (!seed) return undefined
      // Takehome writes the seed's `main` (sync, and the job below, read it), and candidates
      // start from it: a default branch changed on GitHub is recorded, not followed. A deleted
      // `main` leaves the seed where it was.
      if (push.ref !== 'refs/heads/main' || NO_COMMIT.test(push.after)) return 'other_ref'
      if (seed.latestMainSha === push.after) return 'current'
      const inOrder = seed.latestMainSha === null || seed.latestMainSha === push.before
      const [moved] = inOrder
        ? await tx
            .update(seeds)
            .set({ latestMainSha: push.after, syncedAt: clock.now() })
            .where(and(eq(seeds.id, seed.id), at(seed.latestMainSha)))
            .returning({ id: seeds.id })
        : []
      if (!moved) {
        await enqueue(tx, [{ kind: 'seed.follow_head', orgId: seed.orgId, payload: { seedId: seed.id } }])
        return 'queued'
      }
      await recordAudit(tx, {
        orgId: seed.orgId,
        kind: 'seed.pushed',
        actor: 'github',
        target: seed.id,
        meta: { from: seed.latestMainSha, to: push.after, ref: push.ref, delivery_id: push.deliveryId, sender: push.sender },
      })
      return 'moved'
    },

    /** The job a push out of order leaves: records where the seed's `main` stands on the host now. */
    async followHead(seedId: string) {
      const [seed] = await db.select().from(seeds).where(eq(seeds.id, seedId))
      if (!seed) return
      const head = await gitHost.headOf(seed.seedRepoFullName)
      if (!head || head === seed.latestMainSha) return
      await db.transaction(async (tx) => {
        const [moved] = await tx
          .update(seeds)
          .set({ latestMainSha: head, syncedAt: clock.now() })
          .where(and(eq(seeds.id, seed.id), at(seed.latestMainSha)))
          .returning({ id: seeds.id })
        if (moved) {
          await recordAudit(tx, { orgId: seed.orgId, kind: 'seed.pushed', actor: 'system', target: seed.id, meta: { from: seed.latestMainSha, to: head } })
        }
      })
    },

    /**
     * The seed repository's default branch was changed on the host (GitHub's `repository`
     * `edited` webhook), in the caller's transaction. Undefined when the repository is no seed's.
     */
    async recordDefaultBranch(tx: Executor, change: { repoFullName: string; defaultBranch: string; deliveryId: string }) {
      const seed = await byRepo(tx, change.repoFullName)
      if (!seed) return undefined
      if (seed.defaultBranch === change.defaultBranch) return seed
      await tx.update(seeds).set({ defaultBranch: change.defaultBranch }).where(eq(seeds.id, seed.id))
      await recordAudit(tx, {
        orgId: seed.orgId,
        kind: 'seed.default_branch_changed',
        actor: 'github',
        target: seed.id,
        meta: { from: seed.defaultBranch, to: change.defaultBranch, delivery_id: change.deliveryId },
      })
      return seed
    },

    /** The seed whose repository this is, if any (in the caller's transaction). */
    byRepo,
  }
}

export type SeedService = ReturnType<typeof createSeedService>
