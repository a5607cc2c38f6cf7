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

/** A database that holds one access token's row: what the access service's one query reads, after `gate` if given. */
function dbHolding(row: Record<string, unknown>, gate?: Promise<void>) {
  let reads = 0
  const query = {
    from: () => query,
    innerJoin: () => query,
    where: async () => {
      reads++
      await gate
      return [row]
    },
  }
  return { db: { select: () => query } as unknown as Db, reads: () => reads }
}

t.test('a read that a forget overtook is not remembered', async (t) => {
  const clock = createTestClock()
  const deadline = new Date(clock.now().getTime() + 60_000)
  let open = () => {}
  const gate = new Promise<void>((resolve) => (open = resolve))
  const { db, reads } = dbHolding(
    { tokenId: 't', orgId: 'o', invitationId: 'i', expiresAt: deadline, revokedAt: null, slug: 's', repoFullName: 'r', archived: false, status: 'started', completeDeadline: deadline, maxPushBytes: null, allowWorkflowChanges: false },
    gate,
  )
  const access = createAccessService({ db, tokens: createTokenHasher('p'.repeat(40)), clock })
  const token = generateToken('access')
  const checking = access.check(token, { context: 'git' })
  access.forget('i') // a submit committed while the row was being read
  open()
  t.match(await checking, { ok: true }, 'the request in flight is judged on what it read')
  t.equal(access.checkCached(token, {}), undefined, 'but that read is not kept')
  await access.check(token, { context: 'git' })
  t.equal(reads(), 2, 'the next check reads again')
})

t.test('a token presented again is judged from memory: no HMAC, no read, the deadline and forget still count', async (t) => {
  const clock = createTestClock()
  const deadline = new Date(clock.now().getTime() + 60_000)
  const { db, reads } = dbHolding({
    tokenId: 'token-1',
    orgId: 'org-1',
    invitationId: 'invitation-1',
    expiresAt: deadline,
    revokedAt: null,
    slug: 'exercise-1',
    repoFullName: 'takehome/exercise-1',
    archived: false,
    status: 'started',
    completeDeadline: deadline,
    maxPushBytes: null,
    allowWorkflowChanges: false,
  })
  const hasher = createTokenHasher('p'.repeat(40))
  let hashed = 0
  const access = createAccessService({ db, tokens: { ...hasher, hash: (token) => (hashed++, hasher.hash(token)) }, clock })
  const token = generateToken('access')

  t.equal(access.checkCached(token, {}), undefined, 'nothing known before the first check')
  t.match(await access.check(token, { context: 'git' }), { ok: true, remainingMs: 60_000 })
  t.match(access.checkCached(token, { slug: 'exercise-1' }), { ok: true, grant: { invitationId: 'invitation-1' } })
  t.equal(access.checkCached(token, { slug: 'another' }), undefined, 'another repository: left to check, which refuses it')
  t.match(await access.check(token, { context: 'git' }), { ok: true })
  t.same([hashed, reads()], [1, 1], 'one HMAC and one read for three presentations')

  clock.advance(60_000)
  t.equal(access.checkCached(token, {}), undefined, 'at the deadline, not from memory')
  clock.set(new Date(deadline.getTime() - 1000))
  access.forget('invitation-1')
  t.equal(access.checkCached(token, {}), undefined, 'forgotten: not from memory')
  t.match(await access.check(token, { context: 'git' }), { ok: true })
  t.same([hashed, reads()], [2, 2], 'read again after forget')

  const stopped: string[] = []
  access.onForget((id) => stopped.push(id))
  access.reread('invitation-1')
  t.equal(access.checkCached(token, {}), undefined, 'reread: not from memory')
  t.same(stopped, [], 'reread stops no work under way')
  access.forget('invitation-1')
  t.same(stopped, ['invitation-1'], 'forget does')
})
