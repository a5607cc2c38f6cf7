import { randomBytes } from 'node:crypto'
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
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  SEED_SYNC_INTERVAL_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int()
    .min(1_000, { error: 'must be at least 1000' })
    .default(15 * 60_000),
  REMINDER_HOURS_BEFORE_START: hours(24),
  REMINDER_HOURS_BEFORE_COMPLETE: hours(24),
  RESEND_API_URL: z.preprocess(emptyToUndefined, httpUrl.default('https://api.resend.com')),
  EMAIL_FROM: optionalString,
  GITHUB_APP_ID: optionalString,
  GITHUB_APP_PRIVATE_KEY: optionalString,
  GITHUB_WEBHOOK_SECRET: optionalString,
  GITHUB_ORG: optionalString,
  RESEND_API_KEY: optionalString,
  SUPABASE_URL: optionalString,
})

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
  tokenPepper: string
  sessionSecret: string
  sweepIntervalMs: number
  seedSyncIntervalMs: number
  reminders: { hoursBeforeStart: number; hoursBeforeComplete: number }
  /** Resend, when `RESEND_API_KEY` is set; the local mailbox otherwise. */
  resend: { apiKey: string; from: string; apiUrl: string } | undefined
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL']
  trustProxy: boolean
  /** Cookies carry `Secure` when the public origin is https. */
  secureCookies: boolean
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

/** Hosted-mode integrations whose adapters have not shipped yet: refuse rather than pretend. */
const NOT_YET_AVAILABLE: Array<[keyof z.infer<typeof envSchema>, string]> = [
  ['GITHUB_APP_ID', 'the GitHub App git host'],
  ['SUPABASE_URL', 'Supabase admin auth'],
]

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const name = String(issue.path[0] ?? 'environment')
    const raw = env[name]
    // Secrets are never echoed back, even when malformed.
    const shown = raw === undefined || /SECRET|PEPPER|KEY|PASSWORD|URL/.test(name) ? '' : ` (got ${JSON.stringify(raw)})`
    throw new ConfigError(`${name} ${issue.message}${shown}`)
  }
  const e = parsed.data
  for (const [name, feature] of NOT_YET_AVAILABLE) {
    if (e[name]) throw new ConfigError(`${name} is set, but ${feature} is not available in this version yet; unset it`)
  }
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
    tokenPepper: e.TOKEN_PEPPER ?? generated!.tokenPepper,
    sessionSecret: e.SESSION_SECRET ?? generated!.sessionSecret,
    sweepIntervalMs: e.SWEEP_INTERVAL_MS,
    seedSyncIntervalMs: e.SEED_SYNC_INTERVAL_MS,
    reminders: { hoursBeforeStart: e.REMINDER_HOURS_BEFORE_START, hoursBeforeComplete: e.REMINDER_HOURS_BEFORE_COMPLETE },
    resend: e.RESEND_API_KEY ? { apiKey: e.RESEND_API_KEY, from: e.EMAIL_FROM!, apiUrl: e.RESEND_API_URL } : undefined,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    secureCookies: publicUrl.startsWith('https:'),
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
