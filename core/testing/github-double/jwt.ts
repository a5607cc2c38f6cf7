import { generateKeyPairSync, type KeyObject, verify } from 'node:crypto'

/** A GitHub App key pair, the private half as GitHub hands it out: PKCS#1 PEM. */
export function generateAppKey(): { privateKey: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), publicKey }
}

/** GitHub tolerates this much clock drift between the app and itself. */
const SKEW_S = 60
/** The longest an app JWT may live. */
const MAX_LIFETIME_S = 600

/** The messages GitHub answers a refused app JWT with (all 401). */
export const JWT_REFUSALS = {
  undecodable: 'A JSON web token could not be decoded',
  expired: "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
  tooLong: "'Expiration time' claim ('exp') is too far in the future",
  issuedLater: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
} as const

/**
 * Checks an app JWT as GitHub does: RS256 signed by the app's key, `iss` the app id (a
 * string or a number), `iat` not in the future and `exp` not past, at most ten minutes
 * after `iat`, with a minute of drift either way. Answers why it was refused, if it was.
 */
export function checkAppJwt(jwt: string, publicKey: KeyObject, appId: string, nowMs = Date.now()): string | undefined {
  const parts = jwt.split('.')
  if (parts.length !== 3) return JWT_REFUSALS.undecodable
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string]
  const header = decodeJson(headerPart)
  const payload = decodeJson(payloadPart)
  if (!header || !payload || header.alg !== 'RS256') return JWT_REFUSALS.undecodable
  const signed = verify('RSA-SHA256', Buffer.from(`${headerPart}.${payloadPart}`), publicKey, Buffer.from(signaturePart, 'base64url'))
  if (!signed) return JWT_REFUSALS.undecodable
  // GitHub finds the key to check by `iss`: another app's id means no key that fits.
  if (String(payload.iss) !== appId) return JWT_REFUSALS.undecodable
  const { iat, exp } = payload
  if (typeof iat !== 'number' || !Number.isInteger(iat)) return JWT_REFUSALS.issuedLater
  if (typeof exp !== 'number') return JWT_REFUSALS.expired
  const now = Math.floor(nowMs / 1000)
  if (iat > now + SKEW_S) return JWT_REFUSALS.issuedLater
  if (exp <= now - SKEW_S) return JWT_REFUSALS.expired
  if (exp - iat > MAX_LIFETIME_S || exp > now + MAX_LIFETIME_S + SKEW_S) return JWT_REFUSALS.tooLong
  return undefined
}

/** A JWT is three base64url parts; anything else there is not a JWT. */
export const looksLikeJwt = (credential: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(credential)

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
