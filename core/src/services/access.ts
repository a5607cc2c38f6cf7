import { eq, inArray, sql } from 'drizzle-orm'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import { accessTokens, assessments, candidateRepos, type InvitationStatus, invitations } from '../db/schema/index.ts'
import { isWellFormedToken, type TokenHasher } from '../tokens.ts'

/** What an access token may do, as last read from the database. */
interface Grant {
  tokenId: string
  orgId: string
  invitationId: string
  slug: string
  repoFullName: string
  status: InvitationStatus
  expiresAt: Date
  completeDeadline: Date | null
  revoked: boolean
  archived: boolean
  /** The assessment's push limit in bytes; null: the server's default. */
  maxPushBytes: number | null
  /** Whether pushes may change `.github/workflows` (GitHub refuses them without `workflows: write`). */
  allowWorkflowChanges: boolean
}

/** A known token's grant as read from the database, with its hash so a repeat presentation skips the HMAC. */
interface CacheEntry {
  hash: string
  grant: Readonly<Grant>
  readAt: number
}

export type Refusal =
  | 'malformed'
  | 'unknown'
  | 'revoked'
  | 'not_started'
  | 'submitted'
  | 'expired'
  | 'deadline_passed'
  | 'wrong_repository'
  | 'archived'

export const REFUSAL_MESSAGES: Record<Refusal, string> = {
  malformed: 'this is not a Takehome access token',
  unknown: 'this access token is not known',
  revoked: 'this access token was revoked',
  not_started: 'the assessment has not been started',
  submitted: 'the assessment was submitted; the repository is closed',
  expired: 'the time for this assessment is over; the repository is closed',
  deadline_passed: 'the deadline has passed; the repository is closed',
  wrong_repository: 'this access token does not open this repository',
  archived: 'the repository is archived',
}

export type Access =
  /** `remainingMs`: until `expiresAt` by the service's clock, so callers need no clock of their own. */
  | { ok: true; grant: Readonly<Grant>; expiresAt: Date; remainingMs: number }
  | { ok: false; refusal: Refusal; orgId?: string; invitationId?: string }

export interface AccessOptions {
  db: Db
  tokens: TokenHasher
  clock: Clock
  /**
   * How long a database read stays fresh. Deadlines are checked against the clock on every
   * request, and revocations in this process clear the cache at once, so this only bounds
   * how late another replica notices a revocation.
   */
  cacheTtlMs?: number
  /** At most one refusal audit event per token within this window. */
  refusalAuditWindowMs?: number
}

/**
 * Answers "may this access token do this, now?" for the broker and the gateway, at
 * memory speed on the hot path. Last use is collected in memory and written in batches,
 * never with a database write per git request.
 */
export function createAccessService({ db, tokens, clock, cacheTtlMs = 5_000, refusalAuditWindowMs = 60_000 }: AccessOptions) {
  // Keyed by the presented token, so git's repeated requests cost neither the checksum nor
  // the HMAC (most of a cached answer's time). The raw tokens live only in this process's
  // memory, as they do in every request; only known tokens are kept, so made-up ones
  // cannot fill it.
  const cache = new Map<string, CacheEntry>()
  const lastUsed = new Map<string, Date>()
  const lastRefusalAudit = new Map<string, number>()
  const forgetListeners = new Set<(invitationId: string) => void>()
  const MAX_ENTRIES = 10_000
  /** Counts `reread`s (and so `forget`s), to tell a read that raced one. */
  let forgets = 0

  async function load(hash: string): Promise<Grant | null> {
    const [row] = await db
      .select({
        tokenId: accessTokens.id,
        orgId: accessTokens.orgId,
        invitationId: accessTokens.invitationId,
        expiresAt: accessTokens.expiresAt,
        revokedAt: accessTokens.revokedAt,
        slug: candidateRepos.slug,
        repoFullName: candidateRepos.repoFullName,
        archived: candidateRepos.archived,
        status: invitations.status,
        completeDeadline: invitations.completeDeadline,
        maxPushBytes: assessments.maxPushBytes,
        allowWorkflowChanges: assessments.allowWorkflowChanges,
      })
      .from(accessTokens)
      .innerJoin(candidateRepos, eq(candidateRepos.id, accessTokens.candidateRepoId))
      .innerJoin(invitations, eq(invitations.id, accessTokens.invitationId))
      .innerJoin(assessments, eq(assessments.id, invitations.assessmentId))
      .where(eq(accessTokens.tokenHash, hash))
    if (!row) return null
    const { revokedAt, ...rest } = row
    return Object.freeze({ ...rest, revoked: revokedAt !== null })
  }

  function reread(invitationId: string) {
    forgets++
    for (const [token, { grant }] of cache) if (grant.invitationId === invitationId) cache.delete(token)
  }

  function freshEntry(token: string): CacheEntry | undefined {
    const cached = cache.get(token)
    return cached && Date.now() - cached.readAt < cacheTtlMs ? cached : undefined
  }

  /** The token's grant read afresh (null: unknown), remembered for the next presentations. */
  async function grantFor(token: string, hash: string): Promise<Grant | null> {
    const before = forgets
    const grant = await load(hash)
    // A revoke or submit that forgot the invitation while this read was in flight may have
    // committed after it: what was read then is not kept (this request still judges it).
    if (grant && forgets === before) {
      if (cache.size >= MAX_ENTRIES) cache.clear()
      cache.set(token, { hash, grant, readAt: Date.now() })
    } else cache.delete(token)
    return grant
  }

  function refuse(grant: Grant, refusal: Refusal): Access {
    return { ok: false, refusal, orgId: grant.orgId, invitationId: grant.invitationId }
  }

  function judge(grant: Grant | null, slug?: string): Access {
    if (!grant) return { ok: false, refusal: 'unknown' }
    const now = clock.now()
    if (grant.status === 'submitted') return refuse(grant, 'submitted')
    if (grant.status === 'expired') return refuse(grant, 'expired')
    if (grant.revoked || grant.status === 'revoked') return refuse(grant, 'revoked')
    if (grant.status !== 'started') return refuse(grant, 'not_started')
    if (grant.archived) return refuse(grant, 'archived')
    const deadline = grant.completeDeadline && grant.completeDeadline < grant.expiresAt ? grant.completeDeadline : grant.expiresAt
    if (now >= deadline) return refuse(grant, 'deadline_passed')
    if (slug !== undefined && slug !== grant.slug) return refuse(grant, 'wrong_repository')
    lastUsed.set(grant.tokenId, now)
    return { ok: true, grant, expiresAt: deadline, remainingMs: deadline.getTime() - now.getTime() }
  }

  async function auditRefusal(hash: string, access: Access & { ok: false }, context: string) {
    if (!access.orgId) return // unknown tokens have no tenant to report to; the log line suffices
    const last = lastRefusalAudit.get(hash)
    if (last !== undefined && Date.now() - last < refusalAuditWindowMs) return
    if (lastRefusalAudit.size >= MAX_ENTRIES) lastRefusalAudit.clear()
    lastRefusalAudit.set(hash, Date.now())
    await recordAudit(db, {
      orgId: access.orgId,
      kind: 'access.refused',
      actor: `candidate:${access.invitationId}`,
      target: access.invitationId,
      meta: { reason: access.refusal, context },
    })
  }

  return {
    /**
     * Checks a presented access token, optionally for one repository. Malformed tokens
     * are refused without touching the database.
     */
    async check(token: string, options: { slug?: string; context: 'credential' | 'git' }): Promise<Access> {
      const cached = freshEntry(token)
      if (!cached && !isWellFormedToken('access', token)) return { ok: false, refusal: 'malformed' }
      const hash = cached?.hash ?? tokens.hash(token)
      const access = judge(cached ? cached.grant : await grantFor(token, hash), options.slug)
      if (!access.ok) await auditRefusal(hash, access, options.context)
      return access
    },

    /**
     * `check` from memory alone, without I/O, for a token read within the cache's freshness:
     * undefined otherwise, and for any refusal (which `check` audits).
     */
    checkCached(token: string, options: { slug?: string }): (Access & { ok: true }) | undefined {
      const cached = freshEntry(token)
      const access = cached && judge(cached.grant, options.slug)
      return access?.ok ? access : undefined
    },

    /** Drops what this process remembers about an invitation's tokens, and stops its work under way (after submit, expiry, revoke). */
    forget(invitationId: string) {
      reread(invitationId)
      for (const listener of forgetListeners) listener(invitationId)
    },

    /** Makes the next check of an invitation's tokens read them afresh (a deadline moved), leaving its work under way alone. */
    reread,

    /**
     * Calls `listener` whenever an invitation's access ends in this process, so work already
     * under way for it (a push in flight) can be stopped. Returns the unsubscribe function.
     */
    onForget(listener: (invitationId: string) => void) {
      forgetListeners.add(listener)
      return () => forgetListeners.delete(listener)
    },

    /** Writes the collected last-use times in one statement. */
    async flushLastUsed() {
      if (lastUsed.size === 0) return
      const batch = [...lastUsed]
      lastUsed.clear()
      const cases = sql.join(
        batch.map(([id, at]) => sql`when ${accessTokens.id} = ${id} then ${at.toISOString()}::timestamptz`),
        sql` `,
      )
      await db
        .update(accessTokens)
        .set({ lastUsedAt: sql`case ${cases} end` })
        .where(inArray(accessTokens.id, batch.map(([id]) => id)))
    },
  }
}

export type AccessService = ReturnType<typeof createAccessService>
