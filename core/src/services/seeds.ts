import { randomUUID } from 'node:crypto'
import { and, asc, desc, eq } from 'drizzle-orm'
import { type Actor, actorRef, MANAGE, requireRole } from '../actor.ts'
import type { GitHost } from '../adapters/git-host.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import { orgs, seeds } from '../db/schema/index.ts'
import { AppError, notFound, unprocessable } from '../errors.ts'
import { stripUrlCredentials } from '../git.ts'
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

export function createSeedService({ db, gitHost, clock, sources, network }: SeedDeps) {
  /** The instance's first org: in the embedded default, the one its first user made. */
  async function isFirstOrg(orgId: string) {
    const [first] = await db.select({ id: orgs.id }).from(orgs).orderBy(asc(orgs.createdAt), asc(orgs.id)).limit(1)
    return first?.id === orgId
  }

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
  }
}

export type SeedService = ReturnType<typeof createSeedService>
