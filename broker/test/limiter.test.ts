// Git requests in flight: the per-token cap refuses at once; past the overall cap requests
// wait their turn, first come first served, within a bounded time and a bounded queue.
import t from 'tap'
import { type Acquired, createRequestLimiter } from '../src/limiter.ts'

/** A settled-or-not view of a promise, to tell "still waiting" from an answer without timing. */
function watch(acquired: Acquired | Promise<Acquired>) {
  const state: { result?: Acquired; waited: boolean } = { waited: acquired instanceof Promise }
  void Promise.resolve(acquired).then((result) => (state.result = result))
  return state
}
const turn = () => new Promise((resolve) => setImmediate(resolve))
const release = (acquired: Acquired | undefined) => {
  if (!acquired?.ok) throw new Error(`no slot: ${JSON.stringify(acquired)}`)
  acquired.release()
}

t.test('within the caps a slot is given at once; past the per-token cap a request is refused at once', async (t) => {
  const limiter = createRequestLimiter({ max: 10, maxPerKey: 2 })
  const [a, b] = [limiter.acquire('ada'), limiter.acquire('ada')]
  t.match([a, b], [{ ok: true, queued: false }, { ok: true, queued: false }], 'no promise: nothing to wait for')
  t.same(limiter.acquire('ada'), { ok: false, busy: 'per_token' })
  release(a as Acquired)
  t.match(await limiter.acquire('ada'), { ok: true }, 'a released slot counts no more')
})

t.test('past the overall cap requests wait and get slots in the order they came as slots free', async (t) => {
  const limiter = createRequestLimiter({ max: 2, maxPerKey: 4, queueing: { maxWaitMs: 60_000 } })
  const first = [await limiter.acquire('ada'), await limiter.acquire('bob')]
  const waiting = ['cy', 'dee', 'eve'].map((key) => ({ key, state: watch(limiter.acquire(key)) }))
  await turn()
  t.equal(limiter.waiting(), 3)
  t.ok(waiting.every((w) => w.state.waited && w.state.result === undefined), 'all three wait')

  release(first[0])
  await turn()
  t.same(waiting.map((w) => w.state.result?.ok), [true, undefined, undefined], 'the first to come gets the freed slot')
  t.equal(waiting[0]!.state.result!.ok && waiting[0]!.state.result!.queued, true, 'and knows it waited')
  release(first[1])
  await turn()
  t.same(waiting.map((w) => w.state.result?.ok), [true, true, undefined], 'then the second')
  const newcomer = watch(limiter.acquire('fay'))
  await turn()
  t.equal(newcomer.result, undefined, 'a newcomer queues behind the third')
  release(waiting[0]!.state.result)
  await turn()
  t.same([waiting[2]!.state.result?.ok, newcomer.result], [true, undefined], 'the third before the newcomer')
  release(waiting[1]!.state.result)
  await turn()
  t.equal(newcomer.result?.ok, true, 'then the newcomer')
})

t.test('a request waiting past the bound is refused as today, and frees its place and its token count', async (t) => {
  const limiter = createRequestLimiter({ max: 1, maxPerKey: 1, queueing: { maxWaitMs: 50 } })
  const held = await limiter.acquire('ada')
  t.same(await limiter.acquire('bob'), { ok: false, busy: 'overall' }, 'no slot freed within the bound')
  t.equal(limiter.waiting(), 0)
  release(held)
  t.match(await limiter.acquire('bob'), { ok: true, queued: false }, "bob's token is not held by the request that gave up")
})

t.test('the queue is bounded: past its length a request is refused at once', async (t) => {
  const limiter = createRequestLimiter({ max: 1, maxPerKey: 10, queueing: { maxWaitMs: 60_000, maxWaiting: 2 } })
  const held = await limiter.acquire('ada')
  const queued = [watch(limiter.acquire('bob')), watch(limiter.acquire('cy'))]
  t.same(await limiter.acquire('dee'), { ok: false, busy: 'overall' })
  release(held)
  await turn()
  release(queued[0]!.result)
  await turn()
  release(queued[1]!.result)
})

t.test('a waiting request whose client went away leaves the queue; waiting requests count against their token', async (t) => {
  const limiter = createRequestLimiter({ max: 1, maxPerKey: 2, queueing: { maxWaitMs: 60_000 } })
  const held = await limiter.acquire('ada')
  const gone = new AbortController()
  const leaving = watch(limiter.acquire('bob', gone.signal))
  const staying = watch(limiter.acquire('bob'))
  t.same(await limiter.acquire('bob'), { ok: false, busy: 'per_token' }, 'two waiting already: the per-token cap holds')
  gone.abort()
  await turn()
  t.same(leaving.result, { ok: false, busy: 'overall' })
  t.equal(limiter.waiting(), 1)
  release(held)
  await turn()
  t.match(staying.result, { ok: true, queued: true }, 'the slot goes to the one still there')
  release(staying.result)
})
