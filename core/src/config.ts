import { createPrivateKey, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'

/** Configuration is the only place that reads the environment (DESIGN section 8). */
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional()

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://takehome.example.com' })
  .transform((v) => v.replace(/\/+$/, ''))

const MiB = 1024 * 1024

/**
 * The git limits when the environment sets none (PUSH_MAX_BYTES, GIT_MAX_REQUESTS, …): the
 * environment's defaults, and what services get when their caller passes no configuration.
 */
export const GIT_LIMIT_DEFAULTS: Config['git'] = {
  pushMaxBytes: 1024 * MiB,
  pushDefaultMaxBytes: 100 * MiB,
  repoQuotaBytes: 2048 * MiB,
  maxRequests: 64,
  maxRequestsPerToken: 4,
  idleTimeoutMs: 30_000,
  // Long enough for a large push on a slow link; short enough that trickling a byte now and
  // then (which the idle timeout allows) cannot hold a backend for the hour-long request timeout.
  maxRequestMs: 30 * 60_000,
}

const flag = z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }).transform((v) => v === 'true' || v === '1')

function bytes(fallback: number) {
  return z.coerce
    .number({ error: 'must be a number of bytes' })
    .int({ error: 'must be a whole number of bytes' })
    .min(1024, { error: 'must be at least 1024 bytes' })
    .default(fallback)
}

const envSchema = z.object({
  PORT: z.coerce
    .number({ error: 'must be a port number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be between 1 and 65535' })
    .max(65535, { error: 'must be between 1 and 65535' })
    .default(3000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.preprocess(emptyToUndefined, httpUrl.optional()),
  APP_BASE_URL: z.preprocess(emptyToUndefined, httpUrl.optional()),
  DATA_DIR: z.string().trim().min(1).default('./.data'),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// connection string' })
      .optional(),
  ),
  REDIS_URL: z.preprocess(
    emptyToUndefined,
    z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  ),
  QUEUE_PREFIX: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,100}$/, { error: 'must be 1 to 100 letters, digits, or _ . : -' })
      .optional(),
  ),
  TOKEN_PEPPER: z.preprocess(
    emptyToUndefined,
    z.string().min(32, { error: 'must be at least 32 characters (e.g. `openssl rand -hex 32`)' }).optional(),
  ),
  SESSION_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().min(32, { error: 'must be at least 32 characters (e.g. `openssl rand -hex 32`)' }).optional(),
  ),
  SWEEP_INTERVAL_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int()
    .min(100, { error: 'must be at least 100' })
    .default(60_000),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  TRUST_PROXY: z.preprocess(emptyToUndefined, z.string().trim().default('false')),
  SIGNUP: z
    .enum(['first-user', 'invite', 'open'], { error: 'must be one of first-user, invite, open' })
    .default('first-user'),
  ALLOW_LOCAL_SEEDS: z.preprocess(emptyToUndefined, flag.optional()),
  ALLOW_PRIVATE_SEED_HOSTS: z.preprocess(emptyToUndefined, flag.default(false)),
  METRICS_TOKEN: z.preprocess(
    emptyToUndefined,
    z.string().min(16, { error: 'must be at least 16 characters (e.g. `openssl rand -hex 24`)' }).optional(),
  ),
  WORKER: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  PUSH_MAX_BYTES: bytes(GIT_LIMIT_DEFAULTS.pushMaxBytes),
  PUSH_DEFAULT_MAX_BYTES: bytes(GIT_LIMIT_DEFAULTS.pushDefaultMaxBytes),
  REPO_QUOTA_BYTES: bytes(GIT_LIMIT_DEFAULTS.repoQuotaBytes),
  GIT_MAX_REQUESTS: count(GIT_LIMIT_DEFAULTS.maxRequests),
  GIT_MAX_REQUESTS_PER_TOKEN: count(GIT_LIMIT_DEFAULTS.maxRequestsPerToken),
  GIT_IDLE_TIMEOUT_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int()
    .min(100, { error: 'must be at least 100' })
    .default(GIT_LIMIT_DEFAULTS.idleTimeoutMs),
  GIT_MAX_REQUEST_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int()
    .min(1_000, { error: 'must be at least 1000' })
    // Node's timers hold at most about 24.8 days; a day is already far past any git request.
    .max(24 * 3_600_000, { error: 'must be at most 86400000 (a day)' })
    .default(GIT_LIMIT_DEFAULTS.maxRequestMs),
  SEED_SYNC_INTERVAL_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int()
    .min(1_000, { error: 'must be at least 1000' })
    .default(15 * 60_000),
  REMINDER_HOURS_BEFORE_START: hours(24),
  REMINDER_HOURS_BEFORE_COMPLETE: hours(24),
  RESEND_API_URL: z.preprocess(emptyToUndefined, httpUrl.default('https://api.resend.com')),
  EMAIL_FROM: optionalString,
  GITHUB_APP_ID: z.preprocess(
    emptyToUndefined,
    z.string().trim().regex(/^\d{1,12}$/, { error: "must be the GitHub App's numeric ID (its settings page shows it)" }).optional(),
  ),
  GITHUB_APP_PRIVATE_KEY: optionalString,
  GITHUB_APP_PRIVATE_KEY_PATH: optionalString,
  GITHUB_WEBHOOK_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().min(16, { error: 'must be at least 16 characters (e.g. `openssl rand -hex 32`)' }).optional(),
  ),
  GITHUB_ORG: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/, { error: 'must be a GitHub organisation login, e.g. acme-hiring' })
      .optional(),
  ),
  GITHUB_API_URL: z.preprocess(emptyToUndefined, httpUrl.default('https://api.github.com')),
  GITHUB_URL: z.preprocess(emptyToUndefined, httpUrl.default('https://github.com')),
  RESEND_API_KEY: optionalString,
  SUPABASE_URL: z.preprocess(emptyToUndefined, httpUrl.optional()),
  SUPABASE_ANON_KEY: optionalString,
  SUPABASE_JWT_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().min(32, { error: "must be at least 32 characters (the project's legacy JWT secret)" }).optional(),
  ),
})

function count(fallback: number) {
  return z.coerce
    .number({ error: 'must be a whole number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(10_000, { error: 'must be at most 10000' })
    .default(fallback)
}

/**
 * `TRUST_PROXY` as Fastify's `trustProxy` takes it, minus `true` (which trusts every hop,
 * so anyone could forge their address): a hop count, or proxy addresses/CIDRs.
 */
function trustProxy(raw: string): TrustProxy {
  if (raw === 'false' || raw === '0') return false
  if (/^\d+$/.test(raw)) return Number(raw)
  if (raw === 'true' || raw === '1') {
    throw new ConfigError('TRUST_PROXY must be a hop count (e.g. 1) or proxy addresses/CIDRs, not true: trusting every hop lets anyone forge X-Forwarded-For')
  }
  const list = raw.split(',').map((v) => v.trim()).filter(Boolean)
  const address = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)(\/\d{1,3})?$/i
  const bad = list.find((v) => !address.test(v) && !['loopback', 'linklocal', 'uniquelocal'].includes(v))
  if (bad !== undefined || list.length === 0) {
    throw new ConfigError(`TRUST_PROXY must be a hop count or a comma-separated list of proxy addresses/CIDRs (got ${JSON.stringify(raw)})`)
  }
  return list
}

/** false: the socket's address is the client's; a number: that many proxies in front; a list: trusted proxies. */
export type TrustProxy = false | number | string[]

function hours(fallback: number) {
  return z.coerce
    .number({ error: 'must be a number of hours (0 turns the reminder off)' })
    .min(0, { error: 'must be 0 or more hours' })
    .max(24 * 365, { error: 'must be at most a year' })
    .default(fallback)
}

function emptyToUndefined(value: unknown) {
  return typeof value === 'string' && value.trim() === '' ? undefined : value
}

export interface Config {
  port: number
  host: string
  publicUrl: string
  appBaseUrl: string
  dataDir: string
  databaseUrl: string | undefined
  redisUrl: string | undefined
  /** Redis key prefix of the job queues (BullMQ's own when unset): one per deployment sharing a Redis. */
  queuePrefix: string | undefined
  tokenPepper: string
  sessionSecret: string
  sweepIntervalMs: number
  seedSyncIntervalMs: number
  reminders: { hoursBeforeStart: number; hoursBeforeComplete: number }
  /** The GitHub App host, when `GITHUB_APP_ID` is set; the local git host otherwise. */
  github:
    | {
        appId: string
        /** PEM, newlines restored. */
        privateKey: string
        webhookSecret: string
        /** The organisation holding seed and candidate repositories. */
        org: string
        /** REST (`GITHUB_API_URL`): `https://api.github.com`, or `https://HOST/api/v3` on Enterprise Server. */
        apiUrl: string
        /** Where `OWNER/REPO.git` is served over smart HTTP (`GITHUB_URL`). */
        webUrl: string
      }
    | undefined
  /**
   * Supabase Auth for admins, when `SUPABASE_URL` and `SUPABASE_ANON_KEY` are set; local
   * accounts otherwise. `jwtSecret` (legacy projects) makes HS256 access tokens acceptable;
   * without it only tokens signed by a key of the project's JWKS are.
   */
  supabase: { url: string; anonKey: string; jwtSecret: string | undefined } | undefined
  /** Resend, when `RESEND_API_KEY` is set; the local mailbox otherwise. */
  resend: { apiKey: string; from: string; apiUrl: string } | undefined
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL']
  trustProxy: TrustProxy
  /** Cookies carry `Secure` when the public origin is https. */
  secureCookies: boolean
  /** Who may sign up: only the instance's first user, nobody (invitations only), or anyone. */
  signup: 'first-user' | 'invite' | 'open'
  /**
   * Seeds from local paths: everyone, only the instance's first org (the embedded
   * default's own demo), or nobody.
   */
  localSeeds: 'allowed' | 'first-org' | 'refused'
  /** Seeds from loopback, private and link-local addresses. */
  allowPrivateSeedHosts: boolean
  /** Bearer token for `/metrics`; unset: only loopback callers that come through no proxy (and TRUST_PROXY off). */
  metricsToken: string | undefined
  /** Whether the all-in-one start runs job workers in its own process. */
  worker: boolean
  git: {
    /** Server-wide cap on one push (`receive.maxInputSize`); an assessment's limit may not exceed it. */
    pushMaxBytes: number
    /** An assessment's push limit when it sets none. */
    pushDefaultMaxBytes: number
    /** Disk a candidate repository may use; pushes past it are refused. */
    repoQuotaBytes: number
    /** Concurrent git requests, overall and per access token. */
    maxRequests: number
    maxRequestsPerToken: number
    /** A git request whose body sends nothing for this long is ended. */
    idleTimeoutMs: number
    /** A git request still running after this long is ended, however it trickles. */
    maxRequestMs: number
  }
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

type Env = z.infer<typeof envSchema>

/** Supabase Auth, when its URL and anon key are set: half of it is a mistake worth stopping for. */
function supabaseAuth(e: Env): Config['supabase'] {
  if (!e.SUPABASE_URL && !e.SUPABASE_ANON_KEY) {
    if (e.SUPABASE_JWT_SECRET) throw new ConfigError('SUPABASE_JWT_SECRET is set but SUPABASE_URL is not: set SUPABASE_URL and SUPABASE_ANON_KEY to use Supabase Auth, or unset it')
    return undefined
  }
  if (!e.SUPABASE_URL) throw new ConfigError("SUPABASE_URL is required when SUPABASE_ANON_KEY is set (the project's URL, e.g. https://abcd.supabase.co)")
  if (!e.SUPABASE_ANON_KEY) throw new ConfigError("SUPABASE_ANON_KEY is required when SUPABASE_URL is set (the project's anon or publishable key)")
  return { url: e.SUPABASE_URL, anonKey: e.SUPABASE_ANON_KEY, jwtSecret: e.SUPABASE_JWT_SECRET }
}

/**
 * The GitHub App host, when `GITHUB_APP_ID` is set. The key is checked here, so a pasted
 * key that lost its newlines stops start-up instead of failing the first repository.
 */
function githubApp(e: Env): Config['github'] {
  const related = ['GITHUB_APP_PRIVATE_KEY', 'GITHUB_APP_PRIVATE_KEY_PATH', 'GITHUB_WEBHOOK_SECRET', 'GITHUB_ORG'] as const
  if (!e.GITHUB_APP_ID) {
    const stray = related.find((name) => e[name])
    if (stray) throw new ConfigError(`${stray} is set but GITHUB_APP_ID is not: set GITHUB_APP_ID to use the GitHub App host, or unset ${stray}`)
    return undefined
  }
  if (e.GITHUB_APP_PRIVATE_KEY && e.GITHUB_APP_PRIVATE_KEY_PATH) {
    throw new ConfigError('set GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH, not both')
  }
  let pem: string
  let keyName: string
  if (e.GITHUB_APP_PRIVATE_KEY_PATH) {
    keyName = 'GITHUB_APP_PRIVATE_KEY_PATH'
    try {
      pem = readFileSync(path.resolve(e.GITHUB_APP_PRIVATE_KEY_PATH), 'utf8')
    } catch (err) {
      throw new ConfigError(`GITHUB_APP_PRIVATE_KEY_PATH cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  } else if (e.GITHUB_APP_PRIVATE_KEY) {
    keyName = 'GITHUB_APP_PRIVATE_KEY'
    pem = e.GITHUB_APP_PRIVATE_KEY
  } else {
    throw new ConfigError('GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_PATH) is required when GITHUB_APP_ID is set: the .pem file GitHub gave when the app was made')
  }
  // Dashboards and .env files often hold the PEM on one line with `\n` escapes; a key saved
  // on Windows has CRLF line ends, which the key reader takes but the shape check would not.
  pem = pem.replace(/\\n/g, '\n').replace(/\r\n/g, '\n').trim()
  if (!/^-----BEGIN (RSA )?PRIVATE KEY-----\n[\s\S]+\n-----END (RSA )?PRIVATE KEY-----$/.test(pem)) {
    throw new ConfigError(`${keyName} must be the PEM text GitHub issued (-----BEGIN RSA PRIVATE KEY----- …), with real newlines or \\n escapes`)
  }
  try {
    const key = createPrivateKey(pem)
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA key')
  } catch {
    throw new ConfigError(`${keyName} is not a readable RSA private key: download a new one from the app's settings page`)
  }
  for (const name of ['GITHUB_WEBHOOK_SECRET', 'GITHUB_ORG'] as const) {
    if (!e[name]) throw new ConfigError(`${name} is required when GITHUB_APP_ID is set`)
  }
  return {
    appId: e.GITHUB_APP_ID,
    privateKey: pem,
    webhookSecret: e.GITHUB_WEBHOOK_SECRET!,
    org: e.GITHUB_ORG!,
    apiUrl: e.GITHUB_API_URL,
    webUrl: e.GITHUB_URL,
  }
}

/** The environment as it is: any variable may hold any string (whatever a library's global typings of `process.env` claim). */
export type Environment = Record<string, string | undefined>

export function loadConfig(env: Environment = process.env): Config {
  const parsed = envSchema.safeParse(env)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const name = String(issue.path[0] ?? 'environment')
    const raw = env[name]
    // Secrets are never echoed back, even when malformed.
    const shown = raw === undefined || /SECRET|PEPPER|KEY|PASSWORD|TOKEN|URL/.test(name) ? '' : ` (got ${JSON.stringify(raw)})`
    throw new ConfigError(`${name} ${issue.message}${shown}`)
  }
  const e = parsed.data
  if (e.REDIS_URL && !e.DATABASE_URL) {
    throw new ConfigError('REDIS_URL needs DATABASE_URL: worker processes cannot share the embedded database; set both, or neither')
  }
  if (e.RESEND_API_KEY && !e.EMAIL_FROM) {
    throw new ConfigError('EMAIL_FROM is required when RESEND_API_KEY is set (a sender on a domain verified with Resend, e.g. "Takehome <hiring@example.com>")')
  }

  const dataDir = path.resolve(e.DATA_DIR)
  const hosted = e.DATABASE_URL !== undefined
  if (hosted && !e.TOKEN_PEPPER) {
    throw new ConfigError('TOKEN_PEPPER is required when DATABASE_URL is set (every replica must hash tokens alike)')
  }
  if (hosted && !e.SESSION_SECRET) {
    throw new ConfigError('SESSION_SECRET is required when DATABASE_URL is set (every replica must sign cookies alike)')
  }
  if (e.PUSH_DEFAULT_MAX_BYTES > e.PUSH_MAX_BYTES) {
    throw new ConfigError('PUSH_DEFAULT_MAX_BYTES must not exceed PUSH_MAX_BYTES')
  }
  const trusted = trustProxy(e.TRUST_PROXY)
  const github = githubApp(e)
  const supabase = supabaseAuth(e)
  const generated = hosted ? undefined : generatedSecrets(dataDir)
  const publicUrl = e.PUBLIC_URL ?? `http://localhost:${e.PORT}`
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    appBaseUrl: e.APP_BASE_URL ?? publicUrl,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    tokenPepper: e.TOKEN_PEPPER ?? generated!.tokenPepper,
    sessionSecret: e.SESSION_SECRET ?? generated!.sessionSecret,
    sweepIntervalMs: e.SWEEP_INTERVAL_MS,
    seedSyncIntervalMs: e.SEED_SYNC_INTERVAL_MS,
    reminders: { hoursBeforeStart: e.REMINDER_HOURS_BEFORE_START, hoursBeforeComplete: e.REMINDER_HOURS_BEFORE_COMPLETE },
    github,
    supabase,
    resend: e.RESEND_API_KEY ? { apiKey: e.RESEND_API_KEY, from: e.EMAIL_FROM!, apiUrl: e.RESEND_API_URL } : undefined,
    logLevel: e.LOG_LEVEL,
    trustProxy: trusted,
    secureCookies: publicUrl.startsWith('https:'),
    signup: e.SIGNUP,
    localSeeds: e.ALLOW_LOCAL_SEEDS === undefined ? (hosted ? 'refused' : 'first-org') : e.ALLOW_LOCAL_SEEDS ? 'allowed' : 'refused',
    allowPrivateSeedHosts: e.ALLOW_PRIVATE_SEED_HOSTS,
    metricsToken: e.METRICS_TOKEN,
    worker: e.WORKER === 'on',
    git: {
      pushMaxBytes: e.PUSH_MAX_BYTES,
      pushDefaultMaxBytes: e.PUSH_DEFAULT_MAX_BYTES,
      repoQuotaBytes: e.REPO_QUOTA_BYTES,
      maxRequests: e.GIT_MAX_REQUESTS,
      maxRequestsPerToken: e.GIT_MAX_REQUESTS_PER_TOKEN,
      idleTimeoutMs: e.GIT_IDLE_TIMEOUT_MS,
      maxRequestMs: e.GIT_MAX_REQUEST_MS,
    },
  }
}

interface GeneratedSecrets {
  tokenPepper: string
  sessionSecret: string
}

/** The embedded default needs no configuration: secrets are made once and kept in DATA_DIR. */
function generatedSecrets(dataDir: string): GeneratedSecrets {
  const file = path.join(dataDir, 'secrets.json')
  try {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<GeneratedSecrets>
    if (stored.tokenPepper && stored.sessionSecret) return stored as GeneratedSecrets
    throw new ConfigError(`${file} is incomplete; restore it from a backup (tokens hashed with it stop working otherwise)`)
  } catch (err) {
    if (err instanceof ConfigError) throw err
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`${file} cannot be read: ${(err as Error).message}`)
    }
  }
  const secrets: GeneratedSecrets = {
    tokenPepper: randomBytes(32).toString('hex'),
    sessionSecret: randomBytes(32).toString('hex'),
  }
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' })
  return secrets
}
