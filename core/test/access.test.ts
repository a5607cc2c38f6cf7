import t from 'tap'
import type { Db } from '../src/db/client.ts'
import { createAccessService } from '../src/services/access.ts'
import { createTokenHasher, generateToken } from '../src/tokens.ts'
import { createTestClock } from '../testing/clock.ts'

t.test('malformed access tokens are refused without touching the database', async (t) => {
  const untouchable = new Proxy({} as Db, {
    get() {
      throw new Error('the database was touched')
    },
  })
  const access = createAccessService({ db: untouchable, tokens: createTokenHasher('p'.repeat(40)), clock: createTestClock() })
  const real = generateToken('access')
  for (const token of ['', 'tha_', 'garbage', real.slice(0, -1) + (real.endsWith('a') ? 'b' : 'a'), generateToken('invitation')]) {
    t.same(await access.check(token, { context: 'git' }), { ok: false, refusal: 'malformed' }, JSON.stringify(token.slice(0, 12)))
  }
  await access.flushLastUsed() // nothing collected: nothing written
})
