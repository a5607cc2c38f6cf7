// Download ZIP: the candidate repository at its final commit, made by `git archive` and
// streamed, on the local host and on the GitHub host; exactly the commit's files, whatever
// the commit's own .gitattributes ask for; only once there is a final commit; each download
// on record with whether it was sent whole.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout } from 'node:timers/promises'
import { schema } from '@takehome/core'
import { createSourceRepo, git, startGitHubDouble } from '@takehome/core/testing'
import { eq } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { expectError, type Invited, invited, member, serve, signup } from './helper.ts'

// Real git and a loopback GitHub double: seconds each on two busy cores.
t.setTimeout(5 * 60_000)

type Served = Awaited<ReturnType<typeof serve>>

const FILES = {
  'README.md': '# Exercise\n',
  'src/app.js': 'export const answer = 0\n',
  // What a candidate's attributes could do to an archive: hide a file, rewrite line ends.
  '.gitattributes': 'hidden.txt export-ignore\n*.txt text eol=crlf\nsubst.md export-subst\n',
  'hidden.txt': 'still here\n',
  'subst.md': 'commit $Format:%H$\n',
  'dir with space/é.txt': 'accents\n',
}

const tempDir = (t: Test, prefix: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A candidate who started, pushed a commit (straight into `remote`, the repository on the
 * host: these tests are about the download, not the gateway) and submitted.
 */
async function submitted(t: Test, built: Served, remoteOf: (slug: string) => string) {
  const source = createSourceRepo({ files: FILES })
  t.teardown(() => rmSync(source.dir, { recursive: true, force: true }))
  const { owner, invitations } = await invited(built, source.dir, ['ada@example.com', 'bob@example.com'])
  const [ada, bob] = invitations as [Invited, Invited]
  t.equal((await built.app.inject({ method: 'POST', url: `/api/start/${ada.token}` })).statusCode, 200, 'started')
  const detail = (await built.app.inject({ method: 'GET', url: `/api/invitations/${ada.id}`, headers: owner.headers })).json()
  const slug = detail.repo.slug as string
  const work = tempDir(t, 'takehome-archive-work-')
  git(work, 'clone', '--quiet', remoteOf(slug), '.')
  writeFileSync(path.join(work, 'src/app.js'), 'export const answer = 42\n')
  writeFileSync(path.join(work, 'blob.bin'), randomBytes(64 * 1024))
  git(work, 'add', '--all')
  git(work, 'commit', '--quiet', '-m', 'Answer')
  git(work, 'push', '--quiet', 'origin', 'HEAD:main')
  const pushed = git(work, 'rev-parse', 'HEAD')
  const url = `/api/invitations/${ada.id}/archive.zip`
  expectError(t, await built.app.inject({ method: 'GET', url, headers: owner.headers }), 409, 'no_final_commit')
  const submit = await built.app.inject({ method: 'POST', url: `/api/submit/${ada.token}` })
  t.equal(submit.statusCode, 200)
  t.equal(submit.json().final_sha, pushed, 'the final commit is the pushed one')
  return { owner, ada, bob, slug, work, finalSha: pushed, url }
}

/** Downloads over real HTTP; checks the zip holds exactly the final commit's files, byte for byte. */
async function downloadAndCompare(t: Test, built: Served, c: Awaited<ReturnType<typeof submitted>>) {
  const res = await fetch(`${built.base}${c.url}`, { headers: c.owner.headers })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'application/zip')
  t.equal(res.headers.get('content-disposition'), `attachment; filename="${c.slug}-${c.finalSha.slice(0, 7)}.zip"`)
  t.equal(res.headers.get('transfer-encoding'), 'chunked', 'streamed: sent in chunks as git makes it')
  t.equal(res.headers.get('content-length'), null, 'without a length known in advance')
  const file = path.join(tempDir(t, 'takehome-archive-zip-'), 'download.zip')
  writeFileSync(file, Buffer.from(await res.arrayBuffer()))

  const listed = execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' })
    .split('\n')
    .filter((name) => name && !name.endsWith('/'))
    .sort()
  const tree = git(c.work, 'ls-tree', '-r', '-z', '--name-only', c.finalSha).split('\0').filter(Boolean).sort()
  t.same(listed, tree, 'the files of the final commit, every one (export-ignore has no say)')
  for (const name of ['src/app.js', 'blob.bin', 'hidden.txt', 'subst.md']) {
    const inZip = execFileSync('unzip', ['-p', file, name])
    const inCommit = execFileSync('git', ['show', `${c.finalSha}:${name}`], { cwd: c.work })
    t.ok(inZip.equals(inCommit), `${name} is byte for byte the commit's (no line-end or export-subst rewriting)`)
  }
}

const downloads = (built: Served) => built.db.select().from(schema.auditEvents).where(eq(schema.auditEvents.kind, 'repo.downloaded'))

t.test('the local host: the final commit as a streamed zip, audited; none before there is one', async (t) => {
  const built = await serve(t)
  const c = await submitted(t, built, (slug) => path.join(built.gitHost.candidatesRoot, `${slug}.git`))
  await downloadAndCompare(t, built, c)
  t.match(await downloads(built), [{ actor: `user:${c.owner.user.id}`, meta: { invitation_id: c.ada.id, sha: c.finalSha, complete: true } }], 'on record once sent whole')

  // What keeps the candidate's attributes out is written once, not on every download.
  const attributes = path.join(built.gitHost.candidatesRoot, `${c.slug}.git`, 'info', 'attributes')
  const first = statSync(attributes)
  await downloadAndCompare(t, built, c)
  const second = statSync(attributes)
  t.same([second.ino, second.mtimeMs], [first.ino, first.mtimeMs], 'a second download leaves info/attributes as it was')

  const never = expectError(t, await built.app.inject({ method: 'GET', url: `/api/invitations/${c.bob.id}/archive.zip`, headers: c.owner.headers }), 409, 'no_final_commit')
  t.match(never.message, /never started/)
})

t.test('a download cut short is on record as incomplete', async (t) => {
  const built = await serve(t)
  const c = await submitted(t, built, (slug) => path.join(built.gitHost.candidatesRoot, `${slug}.git`))
  const actor = { userId: c.owner.user.id, orgId: c.owner.org.id, role: 'owner', via: 'session' } as const
  const { stream } = await built.services.review.archive(actor, c.ada.id)
  // The zip (a 64 KiB random blob in it) is larger than what one chunk and the buffers hold.
  await once(stream, 'readable')
  stream.read()
  stream.destroy()
  let audits = await downloads(built)
  // The record is written as the stream closes: wait for it (tap's timeout bounds a hang).
  while (audits.length === 0) {
    await setTimeout(20)
    audits = await downloads(built)
  }
  t.match(audits, [{ actor: `user:${c.owner.user.id}`, meta: { invitation_id: c.ada.id, sha: c.finalSha, complete: false } }])
})

t.test('an archive past its byte cap fails instead of ending as a broken zip', async (t) => {
  const built = await serve(t)
  const c = await submitted(t, built, (slug) => path.join(built.gitHost.candidatesRoot, `${slug}.git`))
  const stream = await built.gitHost.zipArchive(`candidates/${c.slug}`, c.finalSha, 16 * 1024)
  let bytes = 0
  const failure = await (async () => {
    try {
      for await (const chunk of stream) bytes += (chunk as Buffer).length
    } catch (err) {
      return err as { code?: string }
    }
    return undefined
  })()
  t.match(failure, { code: 'archive_too_large' }, 'the stream fails')
  t.ok(bytes <= 16 * 1024, `and gave no more than the cap (${bytes} bytes)`)
})

t.test('any member downloads; another org, a bad id and no session are refused', async (t) => {
  const built = await serve(t)
  const c = await submitted(t, built, (slug) => path.join(built.gitHost.candidatesRoot, `${slug}.git`))
  for (const role of ['viewer', 'reviewer']) {
    const who = await member(built, c.owner, role)
    const res = await built.app.inject({ method: 'GET', url: c.url, headers: who.headers })
    t.equal(res.statusCode, 200, `a ${role} downloads`)
    t.equal(res.rawPayload.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'a zip')
  }
  const stranger = await signup(built)
  expectError(t, await built.app.inject({ method: 'GET', url: c.url, headers: stranger.headers }), 404, 'invitation_not_found')
  expectError(t, await built.app.inject({ method: 'GET', url: '/api/invitations/nope/archive.zip', headers: c.owner.headers }), 400, 'validation_failed')
  expectError(t, await built.app.inject({ method: 'GET', url: c.url }), 401)
})

t.test('the GitHub host: the same zip, from its local copy of the repository', async (t) => {
  const double = await startGitHubDouble()
  t.teardown(() => double.close())
  const built = await serve(t, { github: double.config })
  const c = await submitted(t, built, (slug) => double.repo(`${double.org}/${slug}`)!.dir)
  await downloadAndCompare(t, built, c)
})
