import argon2 from 'argon2'

export interface PasswordHasher {
  hash(password: string): Promise<string>
  verify(hash: string | null, password: string): Promise<boolean>
}

// Verifying against this when no user (or no password) exists keeps the response time
// of a failed login independent of whether the email is registered.
let dummyHash: Promise<string> | undefined

export function createPasswordHasher(): PasswordHasher {
  return {
    hash: (password) => argon2.hash(password, { type: argon2.argon2id }),
    async verify(hash, password) {
      dummyHash ??= argon2.hash('takehome-timing-equaliser', { type: argon2.argon2id })
      const ok = await argon2.verify(hash ?? (await dummyHash), password).catch(() => false)
      return hash !== null && ok
    },
  }
}
