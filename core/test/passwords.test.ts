import t from 'tap'
import { createPasswordHasher } from '../src/passwords.ts'

t.test('passwords are hashed with argon2id and verified', async (t) => {
  const hasher = createPasswordHasher()
  const hash = await hasher.hash('correct horse battery')
  t.match(hash, /^\$argon2id\$/)
  t.notMatch(hash, 'correct horse battery')
  t.equal(await hasher.verify(hash, 'correct horse battery'), true)
  t.equal(await hasher.verify(hash, 'Correct horse battery'), false)
  t.equal(await hasher.verify(null, 'correct horse battery'), false, 'no hash never verifies')
  t.equal(await hasher.verify('not-a-hash', 'x'), false, 'a malformed hash fails closed')
})
