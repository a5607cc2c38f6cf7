// Bounded git work through the gateway: push size, object checks, disk quota, deadlines and
// endings that hold mid-push, concurrency caps, idle timeouts, and refusals of tokens sent
// straight as Basic auth. Real git, real http-backend processes, a loopback server.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type GatewayOptions, gitGateway } from '@takehome/broker'
import { candidateMachine, createSourceRepo, git } from '@takehome/core/testing'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { type Built, capturingLogger, createAssessment, expectError, invite, serve, signup } from './helper.ts'

type Served = Built & { base: string; requests: string[] }

interface Started {
  completeDeadline: Date
  cloneUrl: string
  cloneCommand: string
  accessToken: string
  token: string
  invitationId: string
  slug: string
  basic: { authorization: string }
}

/** An owner, a seed, an assessment (with `overrides`) and `count` started candidates. */
async function startedCandidates(built: Served, count: number, overrides: object = {}) {
  const owner = await signup(built)
  const seed = await built.app.inject({ method: 'POST', url: '/api/seeds', headers: owner.headers, payload: { source_url: createSourceRepo().dir } })
  const assessment = await createAssessment(built, owner.headers, seed.json().id, overrides)
  const invitations = await invite(built, owner.headers, assessment.id, Array.from({ length: count }, (_, i) => ({ email: `c${i}@example.com` })))
  const candidates: Started[] = []
  for (const invitation of invitations) {
    const res = await built.app.inject({ method: 'POST', url: `/api/start/${invitation.token}` })
    if (res.statusCode !== 200) throw new Error(`start failed: ${res.statusCode} ${res.body}`)
    const gitInfo = res.json().git as { clone_url: string; credential_url: string; clone_command: string }
    const accessToken = gitInfo.credential_url.split('token=')[1]!
    candidates.push({
      completeDeadline: new Date(res.json().complete_deadline),
      cloneUrl: gitInfo.clone_url,
      cloneCommand: gitInfo.clone_command,
      accessToken,
      token: invitation.token,
      invitationId: invitation.id,
      slug: path.basename(gitInfo.clone_url, '.git'),
      basic: { authorization: `Basic ${Buffer.from(`takehome:${accessToken}`).toString('base64')}` },
    })
  }
  return { owner, assessment, candidates }
}

/** A clone of the candidate's repository on a fresh machine. */
async function cloned(t: Test, candidate: Started) {
  const machine = candidateMachine()
  const clone = await machine.shell(candidate.cloneCommand)
  t.equal(clone.code, 0, `clone: ${clone.stderr}`)
  return { machine, work: path.join(machine.home, candidate.slug) }
}

const repoDir = (built: Served, candidate: Started) => path.join(built.gitHost.candidatesRoot, `${candidate.slug}.git`)
const headOf = (built: Served, candidate: Started) => git(repoDir(built, candidate), 'rev-parse', 'refs/heads/main')

/** `git http-backend` processes this test process started and that are still there. */
function backends(): number {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-f', 'http-backend'], { encoding: 'utf8' }).trim().split('\n').length
  } catch {
    return 0 // pgrep exits 1 when nothing matches
  }
}

/** How many `git http-backend` processes the gateway logged starting (one debug line each). */
const spawns = (logLines: string[]) => logLines.filter((line) => line.includes('"msg":"git http-backend started"')).length

/**
 * A second gateway on the same services, with options of its own: its deadline timer off (so
 * that only the pre-receive hook stands between a late pack and main), or other limits.
 */
async function anotherGateway(t: Test, built: Served, options: Pick<GatewayOptions, 'stopAtDeadline' | 'limits' | 'queueing'>) {
  const logger = capturingLogger()
  const app = Fastify({ loggerInstance: logger.logger })
  await app.register(gitGateway, { services: built.services, gitHost: built.gitHost, rateLimit: { max: 1000, timeWindow: 60_000 }, ...options })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return { base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, lines: logger.lines }
}

/** Polls `done` every 25 ms, at most `tries` times; the bound keeps a broken test from hanging. */
async function until(what: string, done: () => boolean, tries = 400) {
  for (let i = 0; i < tries; i++) {
    if (done()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`gave up waiting: ${what}`)
}

const pktLine = (payload: string | Buffer) => {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload)
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0')), body])
}

/**
 * A receive-pack request body, as git sends it, for a new commit on main: the update
 * command, a flush, then the pack.
 */
function pushBody(work: string, size: number) {
  writeFileSync(path.join(work, 'late.bin'), randomBytes(size))
  git(work, 'add', 'late.bin')
  git(work, '-c', 'user.name=Candidate', '-c', 'user.email=c@example.com', 'commit', '-qm', 'Late work')
  const [oldSha, newSha] = [git(work, 'rev-parse', 'HEAD~1'), git(work, 'rev-parse', 'HEAD')]
  const pack = execFileSync('git', ['pack-objects', '--stdout', '--revs'], { cwd: work, input: `${newSha}\n^${oldSha}\n` })
  const command = pktLine(`${oldSha} ${newSha} refs/heads/main\0report-status side-band-64k agent=takehome-test\n`)
  return { newSha, body: Buffer.concat([command, Buffer.from('0000'), pack]) }
}

/**
 * A push whose first half is sent now and whose second half waits for `sendRest`, like a
 * slow link. Resolves `response` with the status and everything the server sent.
 */
function slowPush(base: string, candidate: Started, body: Buffer) {
  const half = Math.floor(body.length / 2)
  const req = http.request(`${base}/r/${candidate.slug}.git/git-receive-pack`, {
    method: 'POST',
    agent: false,
    headers: { ...candidate.basic, 'content-type': 'application/x-git-receive-pack-request' },
  })
  const response = new Promise<{ status: number; body: string; complete: boolean }>((resolve) => {
    req.on('error', () => resolve({ status: 0, body: '', complete: false }))
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('latin1'), complete: true }))
      res.on('error', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('latin1'), complete: false }))
      res.on('aborted', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('latin1'), complete: false }))
    })
  })
  req.write(body.subarray(0, half))
  const head = new Promise<number>((resolve) => req.once('response', (res) => resolve(res.statusCode!)))
  return {
    /**
     * The status of the first answer: 200 when the backend started and sent its head (it
     * does so at once), which only an admitted push gets; a refusal is a 4xx or 5xx.
     */
    head,
    response,
    sendRest() {
      if (!req.destroyed) req.end(body.subarray(half))
    },
  }
}

t.test('max_push_bytes: set, shown and bounded; a larger push fails with git\'s message and changes nothing', async (t) => {
  const built = await serve(t, { gitLimits: { pushMaxBytes: 1024 * 1024 } })
  const owner = await signup(built)
  const seed = (await built.app.inject({ method: 'POST', url: '/api/seeds', headers: owner.headers, payload: { source_url: createSourceRepo().dir } })).json()
  const create = (max_push_bytes: unknown) =>
    built.app.inject({ method: 'POST', url: '/api/assessments', headers: owner.headers, payload: { seed_id: seed.id, title: 'Limits', time_to_start: 'P1D', time_to_complete: 'P1D', max_push_bytes } })
  expectError(t, await create(1023), 400, 'validation_failed')
  expectError(t, await create(1536.5), 400, 'validation_failed')
  t.match(expectError(t, await create(1024 * 1024 + 1), 422, 'push_limit_out_of_range').message, /from 1024 to 1048576/)
  const unset = await create(null)
  t.equal(unset.json().max_push_bytes, null, 'null: the server default')
  const limited = await create(8 * 1024)
  t.equal(limited.json().max_push_bytes, 8 * 1024, 'returned in the JSON')
  const patched = await built.app.inject({ method: 'PATCH', url: `/api/assessments/${unset.json().id}`, headers: owner.headers, payload: { max_push_bytes: 4096 } })
  t.equal(patched.json().max_push_bytes, 4096)
  const tooBig = await built.app.inject({ method: 'PATCH', url: `/api/assessments/${unset.json().id}`, headers: owner.headers, payload: { max_push_bytes: 2 * 1024 * 1024 } })
  expectError(t, tooBig, 422, 'push_limit_out_of_range')

  const { candidates } = await startedCandidates(built, 1, { max_push_bytes: 8 * 1024 })
  const ada = candidates[0]!
  const { machine, work } = await cloned(t, ada)
  const before = headOf(built, ada)
  writeFileSync(path.join(work, 'big.bin'), randomBytes(64 * 1024))
  await machine.shell('git add big.bin && git commit -qm "Too big"', work)
  const push = await machine.git(work, ['push', 'origin', 'main'])
  t.not(push.code, 0, 'the push fails')
  t.match(push.stderr, /remote: fatal: pack exceeds maximum allowed size/, "git's own message reaches the candidate")
  t.equal(headOf(built, ada), before, 'main did not move')

  await machine.shell('git reset -q --hard HEAD~1 && printf small > small.txt && git add small.txt && git commit -qm Small', work)
  t.equal((await machine.git(work, ['push', 'origin', 'main'])).code, 0, 'a push under the limit works')
})

t.test('a push that would go over the disk quota is refused by the hook; an over-quota repository is refused up front', async (t) => {
  // What an empty bare repository takes here (git's templates vary), plus room for a small push.
  const probe = mkdtempSync(path.join(tmpdir(), 'takehome-probe-'))
  git(probe, 'init', '--quiet', '--bare', 'r.git')
  const emptyBytes = Number(execFileSync('du', ['-sk', path.join(probe, 'r.git')], { encoding: 'utf8' }).split('\t')[0]) * 1024
  const built = await serve(t, { gitLimits: { repoQuotaBytes: emptyBytes + 256 * 1024 } })
  const { candidates } = await startedCandidates(built, 1)
  const ada = candidates[0]!
  const { machine, work } = await cloned(t, ada)
  const before = headOf(built, ada)
  writeFileSync(path.join(work, 'big.bin'), randomBytes(512 * 1024))
  await machine.shell('git add big.bin && git commit -qm "Big"', work)
  const push = await machine.git(work, ['push', 'origin', 'main'])
  t.not(push.code, 0, 'the push fails')
  t.match(push.stderr, /remote: push refused: the repository would take \d+ KiB of disk, over its limit of \d+ KiB/)
  t.equal(headOf(built, ada), before, 'main did not move')
  await machine.shell('git reset -q --hard HEAD~1 && printf small > small.txt && git add small.txt && git commit -qm Small', work)
  const small = await machine.git(work, ['push', 'origin', 'main'])
  t.equal(small.code, 0, `a push that fits works: ${small.stderr}`)

  const full = await serve(t, { gitLimits: { repoQuotaBytes: 4096 } })
  const { candidates: [bob] } = await startedCandidates(full, 1)
  const { machine: bobMachine, work: bobWork } = await cloned(t, bob!)
  await bobMachine.shell('printf x > x.txt && git add x.txt && git commit -qm X', bobWork)
  const refused = await bobMachine.git(bobWork, ['push', 'origin', 'main'])
  t.not(refused.code, 0)
  t.match(refused.stderr, /remote error: the repository is over its disk limit of 4 KiB; no more pushes are accepted/, 'refused before any pack is sent')
  t.equal((await bobMachine.git(bobWork, ['fetch', 'origin'])).code, 0, 'reading still works')
})

t.test('a push that starts before the deadline and is still sending at it ends there; main keeps the last in-time commit', async (t) => {
  const built = await serve(t)
  const { owner, candidates } = await startedCandidates(built, 1)
  const ada = candidates[0]!
  const { work } = await cloned(t, ada)
  const inTime = headOf(built, ada)
  // Two seconds of real time left when the push opens.
  built.clock.set(new Date(ada.completeDeadline.getTime() - 2000))
  const { newSha, body } = pushBody(work, 256 * 1024)
  const spawnsBefore = spawns(built.logLines)
  const push = slowPush(built.base, ada, body)
  t.equal(await push.head, 200, 'the push was let in before the deadline: its backend answered')
  t.equal(spawns(built.logLines), spawnsBefore + 1, 'one backend started for it')
  // The rest of the pack is held back until the gateway ends the request at the deadline.
  const answer = await push.response
  push.sendRest()
  t.notOk(answer.complete && /ok refs\/heads\/main/.test(answer.body), 'the push was not accepted')
  t.equal(headOf(built, ada), inTime, 'main is still the last in-time commit')
  t.throws(() => git(repoDir(built, ada), 'cat-file', '-e', newSha), 'the late commit is not in the repository')
  await until('the backend is gone', () => backends() === 0)

  built.clock.set(new Date(ada.completeDeadline.getTime() + 1000))
  await built.services.deadlines.sweep()
  await built.drain()
  const after = (await built.app.inject({ method: 'GET', url: `/api/invitations/${ada.invitationId}`, headers: owner.headers })).json()
  t.match(after, { status: 'expired', repo: { final_sha: inTime } }, 'the final SHA is the in-time commit')
})

t.test('a push let in before the deadline whose refs would move after it is refused by the hook, through the gateway', async (t) => {
  const built = await serve(t)
  const { base } = await anotherGateway(t, built, { stopAtDeadline: false })
  const { candidates } = await startedCandidates(built, 1)
  const ada = candidates[0]!
  const { work } = await cloned(t, ada)
  const inTime = headOf(built, ada)
  built.clock.set(new Date(ada.completeDeadline.getTime() - 2000))
  const { newSha, body } = pushBody(work, 64 * 1024)
  const push = slowPush(base, ada, body)
  t.equal(await push.head, 200, 'the push was let in before the deadline')
  // The gateway gave the hook the deadline in whole seconds of the system clock, rounded
  // down, from no later than now: once that second has come, the deadline has passed.
  const deadlineSecond = Math.floor((Date.now() + 2000) / 1000)
  await until('the deadline has passed on the system clock', () => Date.now() / 1000 >= deadlineSecond)
  push.sendRest()
  const answer = await push.response
  t.equal(answer.status, 200, 'nothing ended the request: the hook answered')
  t.match(answer.body, /push refused: the deadline has passed; the repository is closed/, 'the hook says why')
  t.match(answer.body, /ng refs\/heads\/main pre-receive hook declined/)
  t.equal(headOf(built, ada), inTime, 'main is still the last in-time commit')
  t.throws(() => git(repoDir(built, ada), 'cat-file', '-e', newSha), 'the late commit is not in the repository')
})

t.test('a request that trickles a byte now and then is ended at GIT_MAX_REQUEST_MS, with its backend', async (t) => {
  const built = await serve(t, { gitLimits: { idleTimeoutMs: 60_000, maxRequestMs: 1_000 } })
  const { candidates } = await startedCandidates(built, 1)
  const ada = candidates[0]!
  const req = http.request(`${built.base}/r/${ada.slug}.git/git-upload-pack`, {
    method: 'POST',
    agent: false,
    headers: { ...ada.basic, 'content-type': 'application/x-git-upload-pack-request' },
  })
  req.write('0032want ')
  // One byte every 100 ms: always well inside the idle timeout, and the line never ends.
  const trickle = setInterval(() => req.write('0'), 100)
  t.teardown(() => clearInterval(trickle))
  const ended = await new Promise<string>((resolve) => {
    req.on('error', () => resolve('connection ended'))
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve(`answered ${res.statusCode}`))
      res.on('aborted', () => resolve('connection ended'))
      res.on('error', () => resolve('connection ended'))
    })
  })
  clearInterval(trickle)
  t.ok(ended, `the request was ended (${ended})`)
  t.match(built.logLines.join('\n'), /"reason":"too_long".*"msg":"git request stopped by the gateway"/, 'by the duration cap, not the idle timeout')
  await until('no backend left', () => backends() === 0)
  t.equal(spawns(built.logLines), 1)
})

t.test('a push in flight when the candidate submits is stopped; the final SHA is what main was at submit', async (t) => {
  const built = await serve(t)
  const { candidates } = await startedCandidates(built, 1)
  const ada = candidates[0]!
  const { work } = await cloned(t, ada)
  const before = headOf(built, ada)
  const { body } = pushBody(work, 256 * 1024)
  const push = slowPush(built.base, ada, body)
  t.equal(await push.head, 200, 'the push was let in')
  const submit = await built.app.inject({ method: 'POST', url: `/api/submit/${ada.token}` })
  t.equal(submit.statusCode, 200)
  t.equal(submit.json().final_sha, before)
  const answer = await push.response
  push.sendRest()
  t.notOk(answer.complete && /ok refs\/heads\/main/.test(answer.body), 'the push was not accepted')
  t.equal(headOf(built, ada), before, 'main did not move')
  await until('the backend is gone', () => backends() === 0)
})

t.test('a push in flight when the repository is archived elsewhere is refused by the hook, with a clear line', async (t) => {
  const built = await serve(t)
  const { candidates } = await startedCandidates(built, 1)
  const ada = candidates[0]!
  const { work } = await cloned(t, ada)
  const before = headOf(built, ada)
  const { body } = pushBody(work, 64 * 1024)
  const push = slowPush(built.base, ada, body)
  t.equal(await push.head, 200, 'the push was let in')
  // What another replica's finalize job does; this process's gateway hears nothing of it.
  await built.gitHost.archive(`candidates/${ada.slug}`)
  push.sendRest()
  const answer = await push.response
  t.equal(answer.status, 200)
  t.match(answer.body, /push refused: the assessment has ended and the repository is closed/, 'the hook says why')
  t.match(answer.body, /ng refs\/heads\/main pre-receive hook declined/)
  t.equal(headOf(built, ada), before, 'main did not move')
})

t.test('50 stalled requests do not block a fresh clone; the idle timeout ends them and their backends', async (t) => {
  // Long enough for 44 git processes to start on two busy cores before the first times out.
  const built = await serve(t, { gitLimits: { idleTimeoutMs: 15_000 } })
  const { candidates } = await startedCandidates(built, 12)
  const [ada, fresh, ...others] = candidates as [Started, Started, ...Started[]]
  // Ada opens 10; ten other candidates open 4 each: 50 requests that send a little and stop.
  const senders = [...Array.from({ length: 10 }, () => ada), ...others.flatMap((c) => [c, c, c, c])]
  t.equal(senders.length, 50)
  const stalled = senders.map((candidate, i) => {
    const service = i % 2 === 0 ? 'git-upload-pack' : 'git-receive-pack'
    const req = http.request(`${built.base}/r/${candidate.slug}.git/${service}`, {
      method: 'POST',
      agent: false,
      headers: { ...candidate.basic, 'content-type': `application/x-${service}-request` },
    })
    req.write('0032want ')
    const entry: { candidate: Started; result?: number | 'ended'; outcome?: Promise<unknown> } = { candidate }
    entry.outcome = new Promise<void>((resolve) => {
      const settle = (result: number | 'ended') => {
        entry.result ??= result
        resolve()
      }
      req.on('response', (res) => {
        res.resume()
        // A refusal is a whole answer; an admitted request stays open until it is ended.
        res.on('end', () => settle(res.statusCode === 200 ? 'ended' : res.statusCode!))
        res.on('error', () => settle('ended'))
        res.on('aborted', () => settle('ended'))
      })
      req.on('error', () => settle('ended'))
    })
    return entry
  })
  await until('44 backends running and 6 refusals', () => backends() === 44 && stalled.filter((s) => s.result !== undefined).length === 6)
  t.same(
    stalled.filter((s) => s.result !== undefined).map((s) => [s.candidate.slug, s.result]),
    Array.from({ length: 6 }, () => [ada.slug, 429]),
    "Ada's requests past 4 are refused at once with 429; nobody else's",
  )

  const { work } = await cloned(t, fresh)
  t.ok(work, 'another candidate clones while 44 requests stall')

  await Promise.all(stalled.map((s) => s.outcome))
  t.equal(stalled.filter((s) => s.result === 'ended').length, 44, 'every admitted stalled request was ended')
  await until('no backend left', () => backends() === 0)
  t.equal(backends(), 0, 'no git http-backend is left behind')
})

/** A git request that sends a little and stops, holding a slot until it is destroyed. */
function stalledRequest(base: string, candidate: Started) {
  const req = http.request(`${base}/r/${candidate.slug}.git/git-upload-pack`, {
    method: 'POST',
    agent: false,
    headers: { ...candidate.basic, 'content-type': 'application/x-git-upload-pack-request' },
  })
  req.on('error', () => {})
  req.write('0032want ')
  return req
}

/** The clone URL of `candidate` on another gateway, with the access token in it (no credential helper). */
const tokenUrl = (base: string, candidate: Started) => `${base.replace('://', `://takehome:${candidate.accessToken}@`)}/r/${candidate.slug}.git`

t.test('over the overall cap, a git request waits for a slot and gets one when it frees; one whose access ended meanwhile is refused', async (t) => {
  const built = await serve(t)
  const { owner, candidates } = await startedCandidates(built, 3)
  const [ada, bob, cy] = candidates as [Started, Started, Started]
  // A wait far longer than this test takes: only a freed slot can end it.
  const gateway = await anotherGateway(t, built, { limits: { maxRequests: 2 }, queueing: { maxWaitMs: 10 * 60_000 } })
  const open = [stalledRequest(gateway.base, ada), stalledRequest(gateway.base, ada)]
  await until('2 backends running', () => backends() === 2)

  const machine = candidateMachine()
  const clone = machine.git(machine.home, ['clone', tokenUrl(gateway.base, bob), 'work'])
  const waits = () => gateway.lines.filter((line) => line.includes('"msg":"git request waits for a slot"')).length
  await until("bob's clone waits for a slot", () => waits() === 1)
  t.equal(backends(), 2, 'nothing of it runs meanwhile')
  open[0]!.destroy()
  const cloned = await clone
  t.equal(cloned.code, 0, `the clone got the freed slot and finished: ${cloned.stderr}`)
  t.ok(existsSync(path.join(machine.home, 'work', 'README.md')))

  open.push(stalledRequest(gateway.base, ada))
  await until('2 backends running again', () => backends() === 2)
  const revoked = machine.git(machine.home, ['clone', tokenUrl(gateway.base, cy), 'revoked'])
  await until("cy's clone waits for a slot", () => waits() === 2)
  t.equal((await built.app.inject({ method: 'POST', url: `/api/invitations/${cy.invitationId}/revoke`, headers: owner.headers })).statusCode, 200)
  open[1]!.destroy()
  const refused = await revoked
  t.not(refused.code, 0)
  t.match(refused.stderr, 'remote error: this access token was revoked', 'checked again once its turn came')
  open[2]!.destroy()
  await until('no backend left', () => backends() === 0)
})

t.test('over the overall cap, a request waiting past the bound is refused with a message git shows; closing a request frees its slot', async (t) => {
  const built = await serve(t)
  const { candidates } = await startedCandidates(built, 2)
  const [ada, bob] = candidates as [Started, Started]
  const gateway = await anotherGateway(t, built, { limits: { maxRequests: 2 }, queueing: { maxWaitMs: 200 } })
  const open = [stalledRequest(gateway.base, ada), stalledRequest(gateway.base, ada)]
  await until('2 backends running', () => backends() === 2)

  const info = await fetch(`${gateway.base}/r/${bob.slug}.git/info/refs?service=git-upload-pack`, { headers: bob.basic })
  t.match(await info.text(), 'ERR the server is busy with other git requests; try again in a minute', 'an ERR line git prints')
  const post = await fetch(`${gateway.base}/r/${bob.slug}.git/git-upload-pack`, {
    method: 'POST',
    headers: { ...bob.basic, 'content-type': 'application/x-git-upload-pack-request' },
    body: '0000',
  })
  t.equal(post.status, 503)
  t.equal(await post.text(), 'the server is busy with other git requests; try again in a minute\n')
  const machine = candidateMachine()
  const clone = await machine.git(machine.home, ['clone', tokenUrl(gateway.base, bob), 'refused'])
  t.not(clone.code, 0)
  t.match(clone.stderr, /remote error: the server is busy/)
  t.equal(gateway.lines.filter((line) => line.includes('"busy":"overall"')).length, 3, 'each waited its turn, then was refused')

  for (const req of open) req.destroy()
  await until('no backend left', () => backends() === 0)
  t.equal((await machine.git(machine.home, ['clone', tokenUrl(gateway.base, bob), 'work'])).code, 0, 'a clone works once the slots are free')
})

t.test('revoked, submitted and expired tokens sent straight as Basic auth are refused on every git endpoint', async (t) => {
  const built = await serve(t)
  const { owner, candidates } = await startedCandidates(built, 4)
  const [revoked, submitted, expired, live] = candidates as [Started, Started, Started, Started]
  // The count sees the backends a live token starts (a clone: at least two requests).
  await cloned(t, live)
  const spawned = spawns(built.logLines)
  t.ok(spawned >= 2, `a live clone started ${spawned} backends`)
  t.equal((await built.app.inject({ method: 'POST', url: `/api/invitations/${revoked.invitationId}/revoke`, headers: owner.headers })).statusCode, 200)
  t.equal((await built.app.inject({ method: 'POST', url: `/api/submit/${submitted.token}` })).statusCode, 200)
  built.clock.set(new Date(expired.completeDeadline.getTime() + 1000))
  await built.services.deadlines.sweep()
  await built.drain()

  const cases: Array<[string, Started, string]> = [
    ['revoked', revoked, 'this access token was revoked'],
    ['submitted', submitted, 'the assessment was submitted; the repository is closed'],
    ['expired', expired, 'the time for this assessment is over; the repository is closed'],
  ]
  for (const [name, candidate, message] of cases) {
    const before = headOf(built, candidate)
    for (const service of ['git-upload-pack', 'git-receive-pack']) {
      const info = await built.app.inject({ method: 'GET', url: `/r/${candidate.slug}.git/info/refs?service=${service}`, headers: candidate.basic })
      t.match(info.body, `ERR ${message}`, `${name}: info/refs for ${service}`)
      t.notMatch(info.body, /refs\/heads\/main/, `${name}: no refs advertised`)
      const post = await built.app.inject({
        method: 'POST',
        url: `/r/${candidate.slug}.git/${service}`,
        headers: { ...candidate.basic, 'content-type': `application/x-${service}-request` },
        payload: '0000',
      })
      t.equal(post.statusCode, 403, `${name}: POST ${service}`)
      t.equal(post.body, `${message}\n`)
    }
    // git itself, with the token in the URL and no credential helper.
    const machine = candidateMachine()
    const url = `${built.base.replace('://', `://takehome:${candidate.accessToken}@`)}/r/${candidate.slug}.git`
    const lsRemote = await machine.git(machine.home, ['ls-remote', url])
    t.not(lsRemote.code, 0)
    t.match(lsRemote.stderr, `remote error: ${message}`, `${name}: git shows why`)
    t.equal(headOf(built, candidate), before, `${name}: nothing changed`)
  }
  t.equal(spawns(built.logLines), spawned, 'no backend was started for a refused token')
})
