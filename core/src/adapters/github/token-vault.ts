import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16

/**
 * Installation tokens at rest (`github_repo_tokens`): AES-256-GCM under a key derived from
 * TOKEN_PEPPER by HKDF, so a database dump alone yields no token. The repository's name is
 * bound in as associated data: a ciphertext moved to another row does not decrypt.
 */
export function createTokenVault(pepper: string) {
  const key = Buffer.from(hkdfSync('sha256', pepper, 'takehome', 'github_repo_tokens/aes-256-gcm', 32))

  return {
    seal(token: string, repoFullName: string): string {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(repoFullName))
      const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()])
      return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`
    },

    /** Throws when the ciphertext was not sealed for this repository under this key. */
    open(sealed: string, repoFullName: string): string {
      const [version, payload] = sealed.split('.')
      if (version !== VERSION || !payload) throw new Error('not a sealed token')
      const bytes = Buffer.from(payload, 'base64url')
      if (bytes.length < IV_BYTES + TAG_BYTES) throw new Error('not a sealed token')
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES))
      decipher.setAAD(Buffer.from(repoFullName))
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8')
    },
  }
}

export type TokenVault = ReturnType<typeof createTokenVault>
