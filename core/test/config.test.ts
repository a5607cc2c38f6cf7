import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.ts'

const dataDir = () => mkdtempSync(path.join(tmpdir(), 'takehome-config-'))

t.test('nothing set: embedded defaults, secrets generated once into DATA_DIR', async (t) => {
  const dir = dataDir()
  const first = loadConfig({ DATA_DIR: dir })
  t.match(first, {
    port: 3000,
    host: '127.0.0.1',
    publicUrl: 'http://localhost:3000',
    appBaseUrl: 'http://localhost:3000',
    dataDir: dir,
    databaseUrl: undefined,
    sweepIntervalMs: 60_000,
    secureCookies: false,
  })
  t.match(first.tokenPepper, /^[0-9a-f]{64}$/)
  t.not(first.tokenPepper, first.sessionSecret)
  const file = path.join(dir, 'secrets.json')
  t.equal(statSync(file).mode & 0o777, 0o600, 'secrets file readable by the owner only')
  const second = loadConfig({ DATA_DIR: dir })
  t.equal(second.tokenPepper, first.tokenPepper, 'the same pepper on the next start')
  t.equal(second.sessionSecret, first.sessionSecret)
})

t.test('PUBLIC_URL follows PORT unless set; https makes cookies Secure', async (t) => {
  t.equal(loadConfig({ DATA_DIR: dataDir(), PORT: '8080' }).publicUrl, 'http://localhost:8080')
  const https = loadConfig({ DATA_DIR: dataDir(), PUBLIC_URL: 'https://th.example.com/' })
  t.equal(https.publicUrl, 'https://th.example.com', 'trailing slash removed')
  t.equal(https.secureCookies, true)
})

t.test('a malformed variable stops start-up with one line naming it', async (t) => {
  const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
    [{ PORT: 'abc' }, /^PORT must be a port number \(got "abc"\)$/],
    [{ PORT: '70000' }, /^PORT must be between 1 and 65535/],
    [{ PUBLIC_URL: 'ftp://x' }, /^PUBLIC_URL must be an http\(s\) URL/],
    [{ DATABASE_URL: 'mysql://db/x' }, /^DATABASE_URL must be a postgres:\/\//],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    [{ SWEEP_INTERVAL_MS: '5' }, /^SWEEP_INTERVAL_MS must be at least 100/],
    [{ TOKEN_PEPPER: 'short' }, /^TOKEN_PEPPER must be at least 32 characters/],
    [{ DATABASE_URL: 'postgres://db/x' }, /^TOKEN_PEPPER is required when DATABASE_URL is set/],
    [{ GITHUB_APP_ID: '123' }, /^GITHUB_APP_ID is set, but the GitHub App git host is not available/],
  ]
  for (const [env, message] of cases) {
    const err = t.throws(() => loadConfig({ DATA_DIR: dataDir(), ...env })) as Error
    t.type(err, ConfigError)
    t.match(err.message, message, JSON.stringify(env))
    t.notMatch(err.message, /\n/, 'one line')
  }
})

t.test('a secret is never echoed back, even when malformed', async (t) => {
  const err = t.throws(() => loadConfig({ DATA_DIR: dataDir(), TOKEN_PEPPER: 'hunter2' })) as Error
  t.notMatch(err.message, /hunter2/)
})

t.test('hosted mode takes its secrets from the environment and writes nothing', async (t) => {
  const dir = dataDir()
  const config = loadConfig({
    DATA_DIR: dir,
    DATABASE_URL: 'postgres://db.internal/takehome',
    TOKEN_PEPPER: 'p'.repeat(40),
    SESSION_SECRET: 's'.repeat(40),
  })
  t.equal(config.tokenPepper, 'p'.repeat(40))
  t.throws(() => statSync(path.join(dir, 'secrets.json')), 'no secrets file written')
})

t.test('a damaged secrets file is reported, not silently replaced', async (t) => {
  const dir = dataDir()
  writeFileSync(path.join(dir, 'secrets.json'), '{"tokenPepper": ""}')
  t.throws(() => loadConfig({ DATA_DIR: dir }), /incomplete/)
  t.equal(readFileSync(path.join(dir, 'secrets.json'), 'utf8'), '{"tokenPepper": ""}', 'left as it was')
})
