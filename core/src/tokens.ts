import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Secrets we hand out: a kind prefix, 32 random bytes in base62 and a CRC32 of that
 * body (as GitHub's tokens do), so scanners recognise them and garbage is refused
 * before any database look-up. Only an HMAC-SHA256 of the whole token is stored.
 */
export const TOKEN_PREFIXES = {
  invitation: 'thi_',
  access: 'tha_',
  apiKey: 'thk_',
  session: 'ths_',
  memberInvite: 'thm_',
  passwordReset: 'thr_',
  signupConfirm: 'thc_',
} as const

export type TokenKind = keyof typeof TOKEN_PREFIXES

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const BODY_LENGTH = 43 // ceil(256 bits / log2(62))
const CHECKSUM_LENGTH = 6 // ceil(32 bits / log2(62))

function toBase62(value: bigint, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value % 62n)] + out
    value /= 62n
  }
  return out
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

export function crc32(text: string): number {
  let crc = 0xffffffff
  for (const byte of Buffer.from(text, 'utf8')) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

/** 256 bits as a token of `kind`: prefix, base62 body, base62 CRC32 of the body. */
function formatToken(kind: TokenKind, value: bigint): string {
  const body = toBase62(value, BODY_LENGTH)
  return `${TOKEN_PREFIXES[kind]}${body}${toBase62(BigInt(crc32(body)), CHECKSUM_LENGTH)}`
}

export const generateToken = (kind: TokenKind): string => formatToken(kind, BigInt(`0x${randomBytes(32).toString('hex')}`))

/**
 * A token derived from another secret with a server key: the same input always gives the
 * same token. The start link derives the git access token this way, so the start page can
 * show the clone command again without the access token ever being stored.
 */
export function deriveToken(kind: TokenKind, key: string, from: string): string {
  return formatToken(kind, BigInt(`0x${createHmac('sha256', key).update(`${kind}:${from}`).digest('hex')}`))
}

const PREFIX_LETTERS = Object.values(TOKEN_PREFIXES)
  .map((prefix) => prefix[2])
  .join('')
const TOKEN_SHAPE = new RegExp(`^th[${PREFIX_LETTERS}]_[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}$`)

/** True when `token` has the right prefix, length, alphabet and checksum. Costs no I/O. */
export function isWellFormedToken(kind: TokenKind, token: string): boolean {
  if (!TOKEN_SHAPE.test(token) || !token.startsWith(TOKEN_PREFIXES[kind])) return false
  const rest = token.slice(TOKEN_PREFIXES[kind].length)
  const body = rest.slice(0, BODY_LENGTH)
  return toBase62(BigInt(crc32(body)), CHECKSUM_LENGTH) === rest.slice(BODY_LENGTH)
}

/** Matches any of our tokens inside a larger string (URLs, headers) for log redaction. */
export const TOKEN_PATTERN = new RegExp(`th[${PREFIX_LETTERS}]_[0-9A-Za-z]{20,}`, 'g')

export interface TokenHasher {
  hash(token: string): string
  /** A token of `kind` derived from `from` under the same key (see deriveToken). */
  derive(kind: TokenKind, from: string): string
  /** Constant-time comparison of a presented token with a stored hash. */
  matches(token: string, storedHash: string): boolean
}

export function createTokenHasher(pepper: string): TokenHasher {
  const hash = (token: string) => createHmac('sha256', pepper).update(token).digest('hex')
  return {
    hash,
    derive: (kind, from) => deriveToken(kind, pepper, from),
    matches(token, storedHash) {
      const a = Buffer.from(hash(token), 'hex')
      const b = Buffer.from(storedHash, 'hex')
      return a.length === b.length && timingSafeEqual(a, b)
    },
  }
}

/** A short, non-secret label shown in lists so people can tell keys apart. */
export const tokenHint = (token: string) => `${token.slice(0, 8)}…${token.slice(-4)}`
