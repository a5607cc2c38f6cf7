import { createHmac, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto'

/** A signing key of the double's project: ES256 (P-256), as new Supabase projects use. */
export interface SigningKey {
  kid: string
  privateKey: KeyObject
  /** The public half as the JWKS lists it. */
  jwk: Record<string, unknown>
}

export function newSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const kid = randomBytes(8).toString('hex')
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig', key_ops: ['verify'] } }
}

const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

/**
 * A compact JWS of `header` and `payload`, signed by `signer` (or unsigned, for `alg: none`).
 * Tests use it to forge the tokens the API must refuse.
 */
export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, signer?: (input: Buffer) => Buffer): string {
  const input = `${part(header)}.${part(payload)}`
  const signature = signer ? signer(Buffer.from(input)).toString('base64url') : ''
  return `${input}.${signature}`
}

/** ES256 as JWS wants it: the raw r||s pair, not DER. */
export const es256 = (privateKey: KeyObject) => (input: Buffer) => sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' })
export const rs256 = (privateKey: KeyObject) => (input: Buffer) => sign('sha256', input, privateKey)
export const hs256 = (secret: string) => (input: Buffer) => createHmac('sha256', secret).update(input).digest()
