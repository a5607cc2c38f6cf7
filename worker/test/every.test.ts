import { pino } from 'pino'
import t from 'tap'
import { every } from '../src/every.ts'

const logger = pino({ level: 'silent' })

// Schedules unref their timers (they must not keep a closing server alive); this keeps
// the test process alive while it waits for them.
const keepAlive = setInterval(() => {}, 1_000)
t.teardown(() => clearInterval(keepAlive))

t.test('runs again and again, never two at once, and stop waits for the run in progress', async (t) => {
  let running = 0
  let overlapped = false
  let runs = 0
  let third: () => void = () => {}
  const thirdRun = new Promise<void>((resolve) => (third = resolve))
  const schedule = every(
    'test',
    5,
    async () => {
      running++
      overlapped ||= running > 1
      runs++
      if (runs === 3) third()
      await new Promise((resolve) => setImmediate(resolve))
      running--
    },
    logger,
  )
  await thirdRun
  await schedule.stop()
  const after = runs
  t.ok(after >= 3)
  t.equal(overlapped, false, 'no overlapping runs')
  t.equal(running, 0, 'stop waited for the run in progress')
  await schedule.runNow()
  t.equal(runs, after, 'a stopped schedule runs no more')
})

t.test('a failing run is logged and the schedule goes on', async (t) => {
  let calls = 0
  let second: () => void = () => {}
  const again = new Promise<void>((resolve) => (second = resolve))
  const schedule = every(
    'failing',
    5,
    async () => {
      calls++
      if (calls === 2) second()
      throw new Error('boom')
    },
    logger,
  )
  await again
  await schedule.stop()
  t.ok(calls >= 2, 'it ran again after failing')
})
