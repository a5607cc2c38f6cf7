import { generateKeyPairSync } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { ConfigError, type Environment, GIT_LIMIT_DEFAULTS, loadConfig } from '../src/config.ts'

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
  const cases: Array<[Environment, RegExp]> = [
    [{ PORT: 'abc' }, /^PORT must be a port number \(got "abc"\)$/],
    [{ PORT: '70000' }, /^PORT must be between 1 and 65535/],
    [{ PUBLIC_URL: 'ftp://x' }, /^PUBLIC_URL must be an http\(s\) URL/],
    [{ DATABASE_URL: 'mysql://db/x' }, /^DATABASE_URL must be a postgres:\/\//],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    [{ SWEEP_INTERVAL_MS: '5' }, /^SWEEP_INTERVAL_MS must be at least 100/],
    [{ TOKEN_PEPPER: 'short' }, /^TOKEN_PEPPER must be at least 32 characters/],
    [{ DATABASE_URL: 'postgres://db/x' }, /^TOKEN_PEPPER is required when DATABASE_URL is set/],
    [{ GITHUB_APP_ID: '123' }, /^GITHUB_APP_PRIVATE_KEY \(or GITHUB_APP_PRIVATE_KEY_PATH\) is required when GITHUB_APP_ID is set/],
    [{ GITHUB_APP_ID: 'my-app' }, /^GITHUB_APP_ID must be the GitHub App's numeric ID .*\(got "my-app"\)$/],
    [{ GITHUB_ORG: 'acme' }, /^GITHUB_ORG is set but GITHUB_APP_ID is not/],
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

const hosted = { DATABASE_URL: 'postgres://db.internal/takehome', TOKEN_PEPPER: 'p'.repeat(40), SESSION_SECRET: 's'.repeat(40) }

t.test('TRUST_PROXY: off, a hop count, or proxy addresses; never `true`', async (t) => {
  const trustProxy = (value?: string) => loadConfig({ DATA_DIR: dataDir(), TRUST_PROXY: value }).trustProxy
  t.equal(trustProxy(undefined), false, 'off by default')
  t.equal(trustProxy(''), false)
  t.equal(trustProxy('false'), false)
  t.equal(trustProxy('0'), false)
  t.equal(trustProxy('1'), 1, '1 is one hop, not `true`')
  t.equal(trustProxy('2'), 2)
  t.same(trustProxy('10.0.0.1'), ['10.0.0.1'])
  t.same(trustProxy(' 10.0.0.0/8, 192.168.1.1 ,fd00::/8,loopback '), ['10.0.0.0/8', '192.168.1.1', 'fd00::/8', 'loopback'])
  for (const bad of ['true', 'yes', 'proxy.internal', '10.0.0.1, evil', ',']) {
    const err = t.throws(() => trustProxy(bad), `TRUST_PROXY=${bad}`) as Error
    t.type(err, ConfigError)
    t.match(err.message, /^TRUST_PROXY must be a hop count/)
  }
  t.match((t.throws(() => trustProxy('true')) as Error).message, /forge X-Forwarded-For/, '`true` is refused with the reason')
})

t.test('SIGNUP: first-user by default; invite and open on request', async (t) => {
  t.equal(loadConfig({ DATA_DIR: dataDir() }).signup, 'first-user')
  t.equal(loadConfig({ DATA_DIR: dataDir(), SIGNUP: 'invite' }).signup, 'invite')
  t.equal(loadConfig({ DATA_DIR: dataDir(), SIGNUP: 'open' }).signup, 'open')
  t.throws(() => loadConfig({ DATA_DIR: dataDir(), SIGNUP: 'everyone' }), /^SIGNUP must be one of first-user, invite, open \(got "everyone"\)$/)
})

t.test('ALLOW_LOCAL_SEEDS and ALLOW_PRIVATE_SEED_HOSTS: refused unless said otherwise', async (t) => {
  const seeds = (env: NodeJS.ProcessEnv) => {
    const config = loadConfig({ DATA_DIR: dataDir(), ...env })
    return [config.localSeeds, config.allowPrivateSeedHosts]
  }
  t.same(seeds({}), ['first-org', false], 'embedded default: local paths for its own first org only')
  t.same(seeds(hosted), ['refused', false], 'hosted: no local paths')
  t.same(seeds({ ...hosted, ALLOW_LOCAL_SEEDS: 'true' }), ['allowed', false])
  t.same(seeds({ ALLOW_LOCAL_SEEDS: '0' }), ['refused', false], 'the embedded default can refuse them too')
  t.same(seeds({ ALLOW_PRIVATE_SEED_HOSTS: '1' }), ['first-org', true])
  t.throws(() => seeds({ ALLOW_LOCAL_SEEDS: 'sometimes' }), /^ALLOW_LOCAL_SEEDS must be true or false/)
  t.throws(() => seeds({ ALLOW_PRIVATE_SEED_HOSTS: 'yes' }), /^ALLOW_PRIVATE_SEED_HOSTS must be true or false/)
})

t.test('METRICS_TOKEN: unset by default; too short is refused without echoing it', async (t) => {
  t.equal(loadConfig({ DATA_DIR: dataDir() }).metricsToken, undefined)
  t.equal(loadConfig({ DATA_DIR: dataDir(), METRICS_TOKEN: 'm'.repeat(24) }).metricsToken, 'm'.repeat(24))
  const err = t.throws(() => loadConfig({ DATA_DIR: dataDir(), METRICS_TOKEN: 'hunter2' })) as Error
  t.match(err.message, /^METRICS_TOKEN must be at least 16 characters/)
  t.notMatch(err.message, /hunter2/)
})

t.test('WORKER: on unless off; QUEUE_PREFIX: BullMQ’s own unless set', async (t) => {
  t.equal(loadConfig({ DATA_DIR: dataDir() }).worker, true)
  t.equal(loadConfig({ DATA_DIR: dataDir(), WORKER: 'off' }).worker, false)
  t.throws(() => loadConfig({ DATA_DIR: dataDir(), WORKER: 'no' }), /^WORKER must be on or off \(got "no"\)$/)
  t.equal(loadConfig({ DATA_DIR: dataDir() }).queuePrefix, undefined)
  t.equal(loadConfig({ DATA_DIR: dataDir(), QUEUE_PREFIX: 'takehome:staging' }).queuePrefix, 'takehome:staging')
  t.throws(() => loadConfig({ DATA_DIR: dataDir(), QUEUE_PREFIX: 'has space' }), /^QUEUE_PREFIX must be 1 to 100 letters/)
})

t.test('git limits: defaults, overrides, and nonsense refused', async (t) => {
  t.same(loadConfig({ DATA_DIR: dataDir() }).git, {
    pushMaxBytes: 1024 * 1024 * 1024,
    pushDefaultMaxBytes: 100 * 1024 * 1024,
    repoQuotaBytes: 2048 * 1024 * 1024,
    maxRequests: 64,
    maxRequestsPerToken: 4,
    idleTimeoutMs: 30_000,
    maxRequestMs: 30 * 60_000,
  })
  t.same(GIT_LIMIT_DEFAULTS, loadConfig({ DATA_DIR: dataDir() }).git, 'services without configuration get the same defaults')
  const git = loadConfig({
    DATA_DIR: dataDir(),
    PUSH_MAX_BYTES: '2000000',
    PUSH_DEFAULT_MAX_BYTES: '1000000',
    REPO_QUOTA_BYTES: '5000000',
    GIT_MAX_REQUESTS: '10',
    GIT_MAX_REQUESTS_PER_TOKEN: '2',
    GIT_IDLE_TIMEOUT_MS: '5000',
    GIT_MAX_REQUEST_MS: '600000',
  }).git
  t.same(git, { pushMaxBytes: 2_000_000, pushDefaultMaxBytes: 1_000_000, repoQuotaBytes: 5_000_000, maxRequests: 10, maxRequestsPerToken: 2, idleTimeoutMs: 5000, maxRequestMs: 600_000 })
  const cases: Array<[Environment, RegExp]> = [
    [{ PUSH_MAX_BYTES: 'lots' }, /^PUSH_MAX_BYTES must be a number of bytes/],
    [{ PUSH_MAX_BYTES: '1.5' }, /^PUSH_MAX_BYTES must be a whole number of bytes/],
    [{ REPO_QUOTA_BYTES: '10' }, /^REPO_QUOTA_BYTES must be at least 1024 bytes/],
    [{ PUSH_MAX_BYTES: '2048', PUSH_DEFAULT_MAX_BYTES: '4096' }, /^PUSH_DEFAULT_MAX_BYTES must not exceed PUSH_MAX_BYTES$/],
    [{ GIT_MAX_REQUESTS: '0' }, /^GIT_MAX_REQUESTS must be at least 1/],
    [{ GIT_MAX_REQUESTS_PER_TOKEN: '100000' }, /^GIT_MAX_REQUESTS_PER_TOKEN must be at most 10000/],
    [{ GIT_IDLE_TIMEOUT_MS: '10' }, /^GIT_IDLE_TIMEOUT_MS must be at least 100/],
    [{ GIT_MAX_REQUEST_MS: '500' }, /^GIT_MAX_REQUEST_MS must be at least 1000/],
    [{ GIT_MAX_REQUEST_MS: String(2 ** 31) }, /^GIT_MAX_REQUEST_MS must be at most 86400000/],
  ]
  for (const [env, message] of cases) {
    const err = t.throws(() => loadConfig({ DATA_DIR: dataDir(), ...env }), JSON.stringify(env)) as Error
    t.type(err, ConfigError)
    t.match(err.message, message, JSON.stringify(env))
  }
})

t.test('GitHub App mode: every variable it needs, named when missing or malformed', async (t) => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
  const app = { GITHUB_APP_ID: '4242', GITHUB_APP_PRIVATE_KEY: pem, GITHUB_WEBHOOK_SECRET: 'w'.repeat(32), GITHUB_ORG: 'acme-hiring' }

  const config = loadConfig({ DATA_DIR: dataDir(), ...app })
  t.equal(config.github?.appId, '4242')
  t.equal(config.github?.privateKey, pem.trim())
  t.equal(config.github?.apiUrl, 'https://api.github.com', 'github.com by default')
  t.equal(config.github?.webUrl, 'https://github.com')
  t.equal(loadConfig({ DATA_DIR: dataDir() }).github, undefined, 'the local git host without GITHUB_APP_ID')

  const escaped = loadConfig({ DATA_DIR: dataDir(), ...app, GITHUB_APP_PRIVATE_KEY: pem.trim().replace(/\n/g, '\\n') })
  t.equal(escaped.github?.privateKey, pem.trim(), '\\n escapes become newlines')

  const file = path.join(dataDir(), 'app.pem')
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, pem)
  const fromFile = loadConfig({ DATA_DIR: dataDir(), ...app, GITHUB_APP_PRIVATE_KEY: undefined, GITHUB_APP_PRIVATE_KEY_PATH: file })
  t.equal(fromFile.github?.privateKey, pem.trim(), 'GITHUB_APP_PRIVATE_KEY_PATH reads the key from a file')
  writeFileSync(file, pem.replace(/\n/g, '\r\n'))
  const crlf = loadConfig({ DATA_DIR: dataDir(), ...app, GITHUB_APP_PRIVATE_KEY: undefined, GITHUB_APP_PRIVATE_KEY_PATH: file })
  t.equal(crlf.github?.privateKey, pem.trim(), 'a key file saved with CRLF line ends is read too')

  const enterprise = loadConfig({ DATA_DIR: dataDir(), ...app, GITHUB_API_URL: 'https://ghe.example.com/api/v3/', GITHUB_URL: 'https://ghe.example.com' })
  t.equal(enterprise.github?.apiUrl, 'https://ghe.example.com/api/v3', 'Enterprise Server, trailing slash dropped')
  t.equal(enterprise.github?.webUrl, 'https://ghe.example.com')

  const cases: Array<[Environment, RegExp]> = [
    [{ GITHUB_WEBHOOK_SECRET: undefined }, /^GITHUB_WEBHOOK_SECRET is required when GITHUB_APP_ID is set$/],
    [{ GITHUB_WEBHOOK_SECRET: 'short' }, /^GITHUB_WEBHOOK_SECRET must be at least 16 characters/],
    [{ GITHUB_ORG: undefined }, /^GITHUB_ORG is required when GITHUB_APP_ID is set$/],
    [{ GITHUB_ORG: 'not an org' }, /^GITHUB_ORG must be a GitHub organisation login/],
    [{ GITHUB_APP_PRIVATE_KEY: 'ghp_notakey' }, /^GITHUB_APP_PRIVATE_KEY must be the PEM text GitHub issued/],
    [{ GITHUB_APP_PRIVATE_KEY: pem.replace(/[A-Za-z]{8}\n/, 'AAAA\n') }, /^GITHUB_APP_PRIVATE_KEY is not a readable RSA private key/],
    [{ GITHUB_APP_PRIVATE_KEY_PATH: '/nonexistent/app.pem' }, /^set GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH, not both$/],
    [{ GITHUB_APP_PRIVATE_KEY: undefined, GITHUB_APP_PRIVATE_KEY_PATH: '/nonexistent/app.pem' }, /^GITHUB_APP_PRIVATE_KEY_PATH cannot be read: ENOENT$/],
    [{ GITHUB_API_URL: 'ftp://x' }, /^GITHUB_API_URL must be an http\(s\) URL/],
  ]
  for (const [env, message] of cases) {
    const err = t.throws(() => loadConfig({ DATA_DIR: dataDir(), ...app, ...env })) as Error
    t.type(err, ConfigError)
    t.match(err.message, message, JSON.stringify(Object.keys(env)))
    t.notOk(err.message.includes(pem.split('\n')[1]!), 'the key is never echoed')
  }
})
