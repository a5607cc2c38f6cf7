// The one git runner: every call has a byte cap on stdout and stderr and a time cap, and a
// git that reaches one is killed with everything it started.
import t from 'tap'
import { AppError } from '../src/errors.ts'
import { GitLimitError, runGit, streamGit } from '../src/git.ts'
import { quoteC } from '../src/adapters/git-diff.ts'

// An alias makes git itself start a child that prints without end, as a hostile source
// or a huge repository would make git do.
const flood = (stream: 1 | 2) => ['-c', `alias.flood=!yes flooding-the-pipe ${stream === 2 ? '1>&2' : ''}`, 'flood']

t.test('a git that floods stderr is killed at the cap, with what it started', async (t) => {
  const before = process.memoryUsage().rss
  const err = await runGit(flood(2), { maxStderrBytes: 64 * 1024 }).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(err instanceof GitLimitError, 'rejected with GitLimitError')
  t.equal((err as GitLimitError).limit, 'stderr')
  t.equal((err as GitLimitError).code, 'git_output_too_large')
  t.notMatch((err as GitLimitError).message, /flooding/, 'the message carries nothing git printed')
  // Reaching here at all means the pipes closed: `yes`, git's grandchild, was killed too.
  t.ok(process.memoryUsage().rss - before < 32 * 1024 * 1024, 'memory did not grow with the flood')
})

t.test('a git that floods stdout is killed at the cap', async (t) => {
  const err = await runGit(flood(1), { maxStdoutBytes: 100_000 }).catch((e: unknown) => e)
  t.ok(err instanceof GitLimitError)
  t.equal((err as GitLimitError).limit, 'stdout')
})

t.test('a git that runs too long is killed at the time cap', async (t) => {
  const err = await runGit(['-c', 'alias.hang=!sleep 30', 'hang'], { timeoutMs: 200 }).catch((e: unknown) => e)
  t.ok(err instanceof GitLimitError)
  t.equal((err as GitLimitError).limit, 'time')
  t.equal((err as GitLimitError).statusCode, 504)
})

t.test('within its caps git answers as before, and reads stdin when given', async (t) => {
  const version = await runGit(['--version'])
  t.equal(version.code, 0)
  t.match(version.stdout, /^git version /)
  const hashed = await runGit(['hash-object', '--stdin'], { input: 'hello\n' })
  t.equal(hashed.stdout.trim(), 'ce013625030ba8dba906f756967f9e9ca394464a')
  const failed = await runGit(['rev-parse', '--verify', 'no-such-ref'], { cwd: '/' })
  t.not(failed.code, 0, 'a failing git resolves with its exit code')
})

t.test('a streamed body past its cap ends with a clear note, and git is stopped', async (t) => {
  const out = await streamGit(flood(1), { maxStdoutBytes: 1_000_000, truncatedNote: (cap) => `\n[cut at ${cap}]\n` })
  let text = ''
  for await (const chunk of out as AsyncIterable<Buffer>) text += chunk.toString()
  t.equal(text.length, 1_000_000 + '\n[cut at 1000000]\n'.length)
  t.ok(text.endsWith('\n[cut at 1000000]\n'))
})

t.test('a streamed git that fails before printing rejects, so the caller can still answer', async (t) => {
  await t.rejects(streamGit(['rev-parse', '--verify', 'no-such-ref'], { cwd: '/' }), { code: 'git_failed' })
  const empty = await streamGit(['--version'])
  let text = ''
  for await (const chunk of empty as AsyncIterable<Buffer>) text += chunk.toString()
  t.match(text, /^git version /)
})

t.test('git that cannot be started answers an AppError, never a raw spawn error', async (t) => {
  // One argument over the kernel's 128 KiB limit for a single argument.
  const long = ['log', '--', 'x'.repeat(200 * 1024)]
  for (const [name, call] of [
    ['runGit', () => runGit(long)],
    ['streamGit', () => streamGit(long)],
  ] as const) {
    const err = await call().catch((e: unknown) => e)
    t.ok(err instanceof AppError, `${name}: an AppError`)
    t.match(err, { statusCode: 422, code: 'git_arguments_too_long', message: 'git log was given more arguments than the system allows' }, name)
  }
  for (const [name, call] of [
    ['runGit', () => runGit(['status'], { cwd: '/no/such/directory' })],
    ['streamGit', () => streamGit(['status'], { cwd: '/no/such/directory' })],
  ] as const) {
    const err = await call().catch((e: unknown) => e)
    t.ok(err instanceof AppError, `${name}: an AppError`)
    t.match(err, { statusCode: 500, code: 'git_unavailable', expose: false }, `${name}: ours, and not shown`)
  }
})

t.test('paths are quoted as git quotes them in diff headers', async (t) => {
  t.equal(quoteC('a/plain name.txt'), 'a/plain name.txt')
  t.equal(quoteC('a/tab\there'), '"a/tab\\there"')
  t.equal(quoteC('a/"quoted"'), '"a/\\"quoted\\""')
  t.equal(quoteC('a/back\\slash'), '"a/back\\\\slash"')
  t.equal(quoteC(Buffer.from('a/é', 'utf8').toString('latin1')), '"a/\\303\\251"')
})
