// The credential helper as real git drives it, and the broker's and gateway's refusals.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { generateToken } from '@takehome/core'
import { candidateMachine, createSourceRepo } from '@takehome/core/testing'
import t, { type Test } from 'tap'
import { type Built, expectError, invited, rowCounts, serve } from './helper.ts'

type Served = Built & { base: string; requests: string[] }

async function started(t: Test, built: Served) {
  const { invitations, owner } = await invited(built, createSourceRepo().dir, ['ada@example.com'])
  const res = await built.app.inject({ method: 'POST', url: `/api/start/${invitations[0]!.token}` })
  t.equal(res.statusCode, 200)
  const gitInfo = res.json().git as { clone_url: string; credential_url: string; clone_command: string; clone_command_powershell: string }
  return { ...gitInfo, token: invitations[0]!.token, invitationId: invitations[0]!.id, owner, accessToken: gitInfo.credential_url.split('token=')[1]! }
}
const brokerHits = (built: Served) => built.requests.filter((r) => r === 'GET /git/credential').length

t.test('git credential fill, approve and reject reach the broker once, never and never', async (t) => {
  const built = await serve(t)
  const repo = await started(t, built)
  const machine = candidateMachine()
  const helper = `!f() { test "$1" = get && curl -sS "${repo.credential_url}"; }; f`
  const config = ['-c', 'credential.helper=', '-c', `credential.helper=${helper}`]
  const url = new URL(repo.clone_url)
  const description = `protocol=http\nhost=${url.host}\npath=${url.pathname.slice(1)}\n\n`
  const credential = (action: string, input: string) => {
    writeFileSync(path.join(machine.home, 'in'), input)
    return machine.shell(`git ${config.map((c) => `'${c.replaceAll("'", `'"'"'`)}'`).join(' ')} credential ${action} < in`)
  }

  const fill = await credential('fill', description)
  t.equal(fill.code, 0, fill.stderr)
  t.match(fill.stdout, `username=takehome\npassword=${repo.accessToken}\n`)
  t.equal(brokerHits(built), 1, 'fill: one request')
  await credential('approve', `${description.trim()}\nusername=takehome\npassword=${repo.accessToken}\n\n`)
  t.equal(brokerHits(built), 1, 'approve: none')
  await credential('reject', `${description.trim()}\nusername=takehome\npassword=${repo.accessToken}\n\n`)
  t.equal(brokerHits(built), 1, 'reject: none')
})

t.test("a user's own credential store neither keeps our credential nor answers for us", async (t) => {
  const built = await serve(t)
  const repo = await started(t, built)
  const machine = candidateMachine()
  await machine.git(machine.home, ['config', '--global', 'credential.helper', 'store'])
  const clone = await machine.shell(repo.clone_command)
  t.equal(clone.code, 0, clone.stderr)
  const work = path.join(machine.home, path.basename(repo.clone_url, '.git'))
  const store = path.join(machine.home, '.git-credentials')
  t.notOk(existsSync(store) && readFileSync(store, 'utf8').includes(repo.accessToken), 'not written to ~/.git-credentials')
  const hits = brokerHits(built)
  t.equal((await machine.git(work, ['fetch', 'origin'])).code, 0)
  t.equal(brokerHits(built), hits + 1, 'the next fetch asks our helper again')
  t.notOk(existsSync(store) && readFileSync(store, 'utf8').includes('tha_'), 'still nothing stored')
})

t.test('the PowerShell variant, as PowerShell would pass it to git, clones too', async (t) => {
  const built = await serve(t)
  const repo = await started(t, built)
  const machine = candidateMachine()
  const clone = await machine.git(machine.home, powershellArgs(repo.clone_command_powershell).slice(1))
  t.equal(clone.code, 0, clone.stderr)
  t.ok(existsSync(path.join(machine.home, path.basename(repo.clone_url, '.git'), 'README.md')))
})

t.test('a refused token makes git fail at once, with no prompt', async (t) => {
  const built = await serve(t)
  const repo = await started(t, built)
  const machine = candidateMachine()
  t.equal((await machine.shell(repo.clone_command)).code, 0)
  const work = path.join(machine.home, path.basename(repo.clone_url, '.git'))
  const revoke = await built.app.inject({ method: 'POST', url: `/api/invitations/${repo.invitationId}/revoke`, headers: repo.owner.headers })
  t.equal(revoke.statusCode, 200)
  const fetch = await machine.git(work, ['fetch', 'origin'])
  t.not(fetch.code, 0)
  t.match(fetch.stderr, /credential helper .* told us to quit/)
  t.ok(fetch.ms < 5_000, `fails fast (${Math.round(fetch.ms)} ms)`)

  const refused = await built.app.inject({ method: 'GET', url: `/git/credential?token=${repo.accessToken}` })
  t.equal(refused.statusCode, 403)
  t.equal(refused.body, 'quit=1\n', 'only quit=1: no credential lines')
  t.equal(refused.headers['x-takehome-refusal'], 'revoked')
})

t.test('the broker refuses bad tokens without credential lines, and malformed ones without a database look-up', async (t) => {
  const built = await serve(t)
  const repo = await started(t, built)
  const flipped = repo.accessToken.slice(0, -1) + (repo.accessToken.endsWith('A') ? 'B' : 'A')
  const cases: Array<[string, string, number, string]> = [
    ['bad checksum', flipped, 403, 'malformed'],
    ['start token instead', repo.token, 403, 'malformed'],
    ['garbage', 'hello', 403, 'malformed'],
    ['a well-formed stranger', generateToken('access'), 403, 'unknown'],
  ]
  for (const [name, token, status, refusal] of cases) {
    const res = await built.app.inject({ method: 'GET', url: `/git/credential?token=${encodeURIComponent(token)}` })
    t.equal(res.statusCode, status, name)
    t.equal(res.body, 'quit=1\n', `${name}: quit=1`)
    t.equal(res.headers['x-takehome-refusal'], refusal, `${name}: ${refusal}`)
  }
  for (const url of ['/git/credential', `/git/credential?token=${'x'.repeat(500)}`]) {
    const res = await built.app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 400, url.slice(0, 40))
    t.equal(res.body, 'quit=1\n', 'git still reads quit=1')
  }
})

t.test('the gateway refuses malformed paths, unknown repositories and wrong methods; nothing changes', async (t) => {
  const built = await serve(t)
  const repo = await started(t, built)
  const before = await rowCounts(built)
  const basic = { authorization: `Basic ${Buffer.from(`takehome:${repo.accessToken}`).toString('base64')}` }
  const slug = path.basename(repo.clone_url, '.git')
  const cases: Array<[string, string, number]> = [
    ['GET', '/r/../x.git/info/refs?service=git-upload-pack', 404],
    ['GET', '/r/%2e%2e/candidates.git/info/refs?service=git-upload-pack', 404],
    ['GET', `/r/${slug}.git/HEAD`, 404],
    ['GET', `/r/${slug}.git/objects/info/packs`, 404],
    ['GET', `/r/${slug}.git/info/refs`, 404],
    ['GET', `/r/${slug}.git/info/refs?service=git-evil`, 404],
    ['GET', `/r/${slug}.git/git-upload-pack`, 405],
    ['POST', `/r/${slug}.git/info/refs?service=git-upload-pack`, 405],
    ['GET', '/r/Not_A_Slug.git/info/refs?service=git-upload-pack', 404],
  ]
  for (const [method, url, status] of cases) {
    const res = await built.app.inject({ method: method as 'GET', url, headers: basic })
    t.equal(res.statusCode, status, `${method} ${url}`)
  }
  const anonymous = await built.app.inject({ method: 'GET', url: `/r/${slug}.git/info/refs?service=git-upload-pack` })
  t.equal(anonymous.statusCode, 401, 'no credentials: asked for them')
  t.equal(anonymous.headers['www-authenticate'], 'Basic realm="Takehome"')
  const unknown = await built.app.inject({ method: 'GET', url: '/r/no-such-repo-0000000000.git/info/refs?service=git-upload-pack', headers: basic })
  t.match(unknown.body, 'ERR this access token does not open this repository', 'another slug is refused in the protocol')
  t.same(await rowCounts(built), before, 'nothing was written')
})

t.test('the candidate routes refuse oversized bodies and bad tokens; nothing changes', async (t) => {
  const built = await serve(t)
  const { invitations } = await invited(built, createSourceRepo().dir, ['ada@example.com'])
  const before = await rowCounts(built)
  const big = await built.app.inject({
    method: 'POST',
    url: `/api/start/${invitations[0]!.token}`,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }),
  })
  expectError(t, big, 413, 'payload_too_large')
  for (const token of ['thi_nope', invitations[0]!.token.slice(0, -1) + 'x', 'tha_' + 'a'.repeat(49)]) {
    expectError(t, await built.app.inject({ method: 'POST', url: `/api/start/${token}` }), 404, 'invitation_not_found')
    expectError(t, await built.app.inject({ method: 'POST', url: `/api/submit/${token}` }), 404, 'invitation_not_found')
  }
  expectError(t, await built.app.inject({ method: 'POST', url: `/api/submit/${invitations[0]!.token}` }), 409, 'not_started')
  const after = await rowCounts(built)
  t.same(after, before, 'nothing was written')
})

/** Splits a PowerShell command line the way PowerShell does for single-quoted arguments. */
function powershellArgs(line: string): string[] {
  const args: string[] = []
  let current = ''
  let quoted = false
  let started = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quoted) {
      if (c === "'" && line[i + 1] === "'") {
        current += "'"
        i++
      } else if (c === "'") quoted = false
      else current += c
    } else if (c === "'") {
      quoted = true
      started = true
    } else if (c === ' ') {
      if (started) args.push(current)
      current = ''
      started = false
    } else {
      current += c
      started = true
    }
  }
  if (started) args.push(current)
  return args
}
