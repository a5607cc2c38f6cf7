import t from 'tap'
import { createTokenHasher, crc32, generateToken, isWellFormedToken, TOKEN_PREFIXES } from '../src/tokens.ts'

t.test('tokens carry their prefix, 32 random bytes in base62 and a checksum', async (t) => {
  for (const kind of Object.keys(TOKEN_PREFIXES) as Array<keyof typeof TOKEN_PREFIXES>) {
    const token = generateToken(kind)
    t.match(token, new RegExp(`^${TOKEN_PREFIXES[kind]}[0-9A-Za-z]{49}$`), `${kind} shape`)
    t.ok(isWellFormedToken(kind, token), `${kind} validates`)
  }
  const seen = new Set(Array.from({ length: 1000 }, () => generateToken('access')))
  t.equal(seen.size, 1000, 'no repeats in 1000')
})

t.test('garbage is refused without any look-up', async (t) => {
  const token = generateToken('invitation')
  const flipped = token.slice(0, -1) + (token.endsWith('a') ? 'b' : 'a')
  t.notOk(isWellFormedToken('invitation', flipped), 'bad checksum')
  t.notOk(isWellFormedToken('access', token), 'wrong kind')
  t.notOk(isWellFormedToken('invitation', token.slice(0, -2)), 'too short')
  t.notOk(isWellFormedToken('invitation', `${token}x`), 'too long')
  t.notOk(isWellFormedToken('invitation', 'thi_' + '!'.repeat(49)), 'alphabet')
  t.notOk(isWellFormedToken('invitation', ''), 'empty')
})

t.test('crc32 matches the standard check value', async (t) => {
  t.equal(crc32('123456789'), 0xcbf43926)
})

t.test('the hasher is keyed and compares exactly', async (t) => {
  const token = generateToken('apiKey')
  const a = createTokenHasher('pepper-a'.repeat(4))
  const b = createTokenHasher('pepper-b'.repeat(4))
  t.match(a.hash(token), /^[0-9a-f]{64}$/)
  t.not(a.hash(token), b.hash(token), 'a different pepper gives a different hash')
  t.ok(a.matches(token, a.hash(token)))
  t.notOk(a.matches(generateToken('apiKey'), a.hash(token)))
  t.notOk(a.matches(token, 'abcd'), 'a malformed stored hash never matches')
})
