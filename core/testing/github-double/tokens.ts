import { randomInt } from 'node:crypto'

export type Permissions = Record<string, string>

/** An installation access token as the double keeps it. */
export interface InstallationToken {
  token: string
  installationId: number
  /** Repository ids it covers, or every repository of the installation (also ones made later). */
  repositoryIds: Set<number> | 'all'
  permissions: Permissions
  expiresAt: Date
  revoked: boolean
}

const LEVELS: Record<string, number> = { read: 1, write: 2, admin: 3 }

/** Whether `granted` allows `needed` (`write` allows `read`; `admin` allows both). */
export const allows = (granted: string | undefined, needed: 'read' | 'write' | 'admin') =>
  granted !== undefined && (LEVELS[granted] ?? 0) >= LEVELS[needed]!

/** The permissions asked for that the installation does not hold, or none. */
export function notGranted(asked: Permissions, installation: Permissions): string[] {
  return Object.entries(asked)
    .filter(([name, level]) => !(level in LEVELS) || !allows(installation[name], level as 'read' | 'write' | 'admin'))
    .map(([name]) => name)
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/**
 * `ghs_` and a random tail whose length varies from token to token: GitHub documents
 * that token formats and lengths change, so nobody may rely on either.
 */
export function newTokenValue(): string {
  const length = randomInt(36, 61)
  let tail = ''
  for (let i = 0; i < length; i++) tail += BASE62[randomInt(BASE62.length)]
  return `ghs_${tail}`
}

export function createTokenStore() {
  const byValue = new Map<string, InstallationToken>()
  return {
    add(token: InstallationToken) {
      byValue.set(token.token, token)
    },
    /** The token if it is live: known, not revoked, not expired. */
    live(value: string, nowMs = Date.now()): InstallationToken | undefined {
      const token = byValue.get(value)
      return token && !token.revoked && token.expiresAt.getTime() > nowMs ? token : undefined
    },
    all: () => [...byValue.values()],
  }
}
