import { and, eq, gt, isNull, lte } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { Db } from '../../db/client.ts'
import { githubRepoTokens } from '../../db/schema/index.ts'
import type { RepoCredential } from '../git-host.ts'
import { type GitHubClients, githubError, statusOf } from './client.ts'
import type { GitHubInstallation, MintedToken } from './installation.ts'
import type { TokenVault } from './token-vault.ts'

/**
 * A token is handed out only with this much life left (DESIGN §5): a clone or push started
 * with it finishes before it expires. It also keeps GitHub's "reuse until five minutes
 * before expiry" with room to spare.
 */
export const MIN_TOKEN_LIFETIME_MS = 10 * 60_000

/** Minted tokens by key, reused while they have MIN_TOKEN_LIFETIME_MS left; concurrent misses of one key share one mint. */
export function createTokenCache(now: () => number) {
  const tokens = new Map<string, MintedToken>()
  const minting = new Map<string, Promise<MintedToken>>()

  return {
    get(key: string, mint: () => Promise<MintedToken>): Promise<MintedToken> {
      const hit = tokens.get(key)
      if (hit && hit.expiresAt.getTime() - now() >= MIN_TOKEN_LIFETIME_MS) return Promise.resolve(hit)
      let running = minting.get(key)
      if (!running) {
        // Mints are rare (one per key and hour): the moment to forget what has expired, so the map stays small.
        for (const [cachedKey, token] of tokens) if (token.expiresAt.getTime() <= now()) tokens.delete(cachedKey)
        running = mint()
          .then((minted) => {
            tokens.set(key, minted)
            return minted
          })
          .finally(() => minting.delete(key))
        minting.set(key, running)
      }
      return running
    },

    /** Removes one key's token from the cache and gives it back (to be revoked). */
    async take(key: string): Promise<MintedToken | undefined> {
      await minting.get(key)?.catch(() => undefined)
      const token = tokens.get(key)
      tokens.delete(key)
      return token
    },

    /** Forgets the keys `match` picks, after their mints in flight end: nothing minted before this call is handed out after it. */
    async drop(match: (key: string) => boolean): Promise<void> {
      await Promise.allSettled([...minting].filter(([key]) => match(key)).map(([, running]) => running))
      for (const key of [...tokens.keys()]) if (match(key)) tokens.delete(key)
    },
  }
}

/** `DELETE /installation/token` with the token itself: GitHub revokes a token only when called with it. */
export async function revokeToken(clients: GitHubClients, token: string): Promise<void> {
  try {
    await clients.rest.request('DELETE /installation/token', { headers: { authorization: `token ${token}` } })
  } catch (err) {
    // 401: expired or revoked already, which is what we want.
    if (statusOf(err) !== 401) throw githubError(err, 'revoke an installation token')
  }
}

/**
 * Candidates' git credentials: installation tokens for exactly one repository with
 * `contents: write` and `metadata: read` (and `workflows: write` when asked). Each one
 * minted is stored, encrypted, before it is handed out, so that ending the invitation can
 * revoke it, whichever process minted it.
 */
export function createRepoTokens(deps: {
  db: Db
  vault: TokenVault
  installation: GitHubInstallation
  clients: GitHubClients
  logger: Logger
  now: () => number
  /** The repository's name within the org, refusing any other org's. */
  nameOf: (repoFullName: string) => string
}) {
  const { db, vault, installation, clients, logger, now, nameOf } = deps
  const cache = createTokenCache(now)
  const keyOf = (repoFullName: string, workflows: boolean) => `${repoFullName}\n${workflows ? 'workflows' : 'contents'}`

  async function mint(repoFullName: string, workflows: boolean): Promise<MintedToken> {
    const minted = await installation.mint({
      repositories: [nameOf(repoFullName)],
      permissions: { contents: 'write', metadata: 'read', ...(workflows ? { workflows: 'write' } : {}) },
    })
    try {
      await db.insert(githubRepoTokens).values({
        repoFullName,
        tokenCiphertext: vault.seal(minted.token, repoFullName),
        expiresAt: minted.expiresAt,
      })
    } catch (err) {
      // A token we could not record could not be revoked later: it is never handed out.
      await revokeToken(clients, minted.token).catch((revokeErr: unknown) => logger.warn({ err: revokeErr, repo: repoFullName }, 'revoking an unrecorded token failed'))
      throw err
    }
    return minted
  }

  return {
    async credential(repoFullName: string, { workflows }: { workflows: boolean }): Promise<RepoCredential> {
      const minted = await cache.get(keyOf(repoFullName, workflows), () => mint(repoFullName, workflows))
      return { username: 'x-access-token', password: minted.token, expiresAt: minted.expiresAt }
    },

    /** Revokes every unexpired token recorded for the repository, and forgets the cached ones. Idempotent. */
    async revokeAll(repoFullName: string): Promise<number> {
      await cache.drop((key) => key.startsWith(`${repoFullName}\n`))
      const at = new Date(now())
      const live = await db
        .select()
        .from(githubRepoTokens)
        .where(and(eq(githubRepoTokens.repoFullName, repoFullName), isNull(githubRepoTokens.revokedAt), gt(githubRepoTokens.expiresAt, at)))
      let revoked = 0
      for (const row of live) {
        let token: string
        try {
          token = vault.open(row.tokenCiphertext, repoFullName)
        } catch (err) {
          // Sealed under another TOKEN_PEPPER: it cannot be revoked, only outlived (an hour at most).
          logger.error({ err, repo: repoFullName, token_id: row.id, expires_at: row.expiresAt }, 'a recorded installation token cannot be decrypted to revoke it')
          continue
        }
        await revokeToken(clients, token)
        await db.update(githubRepoTokens).set({ revokedAt: at }).where(eq(githubRepoTokens.id, row.id))
        revoked++
      }
      // Expired tokens are dead on their own: nothing is left to revoke with them.
      await db.delete(githubRepoTokens).where(and(eq(githubRepoTokens.repoFullName, repoFullName), lte(githubRepoTokens.expiresAt, at)))
      return revoked
    },
  }
}

export type RepoTokens = ReturnType<typeof createRepoTokens>
