import { randomBytes, randomInt } from 'node:crypto'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Config } from '../../src/config.ts'
import { createFaults, type Fault, type FaultMatch } from './faults.ts'
import { generateAppKey } from './jwt.ts'
import { accountJson, createRepoStore, type DoubleRepo } from './repos.ts'
import { createRequestHandler, REST_PREFIX, type RecordedRequest } from './server.ts'
import { type DoubleState, installationJson, webhookContext } from './state.ts'
import { createTokenStore, type Permissions } from './tokens.ts'
import { createWebhookSender, type DeliveryAttempt } from './webhooks.ts'

export type { DoubleRepo } from './repos.ts'
export type { Fault, FaultMatch } from './faults.ts'
export type { RecordedRequest } from './server.ts'

export interface GitHubDoubleOptions {
  /** The organisation the app is installed on; `takehome-test` unless told. */
  org?: string
  webhookUrl?: string
  /** How long installation tokens live; GitHub's hour unless told. */
  tokenLifetimeMs?: number
  /** The installation's permissions; what the app's manifest asks for unless told. */
  permissions?: Permissions
}

export interface DoubleToken {
  repositories: string[] | 'all'
  permissions: Record<string, string>
  expiresAt: Date
  revoked: boolean
}

/** One delivery attempt as a test reads it: what GitHub lists, without the bytes sent. */
export type DoubleDelivery = Pick<DeliveryAttempt, 'id' | 'guid' | 'event' | 'action' | 'statusCode' | 'status' | 'deliveredAt' | 'redelivery'>

export interface GitHubDouble {
  /** REST root, Enterprise-style (`http://127.0.0.1:PORT/api/v3`): nothing may assume api.github.com. */
  apiUrl: string
  /** Smart HTTP at `/ORG/REPO.git`. */
  webUrl: string
  org: string
  appId: string
  appSlug: string
  installationId: number
  webhookSecret: string
  /** The app's PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), as GitHub issues it. */
  privateKey: string
  /** Ready for the GitHub host adapter. */
  config: NonNullable<Config['github']>
  /** `GITHUB_*` variables for a spawned server process. */
  env: Record<string, string>
  setWebhookUrl(url: string | undefined): void
  repo(fullName: string): DoubleRepo | undefined
  repos(): DoubleRepo[]
  /**
   * Makes a repository directly, as if someone made it on GitHub (e.g. a public source
   * outside the organisation). Sends no webhook.
   */
  createRepo(fullName: string, options?: { private?: boolean; autoInit?: boolean; isTemplate?: boolean }): Promise<DoubleRepo>
  tokens(): DoubleToken[]
  /** REST and git requests, in order of arrival, each with the status it was answered. */
  requests(): RecordedRequest[]
  deliveries(): DoubleDelivery[]
  /** Tests `match.path` against the path with and without `/api/v3`; `times` defaults to 1. */
  failNext(match: FaultMatch, fault: Fault, times?: number): void
  /** Installs, uninstalls (revoking every token, as GitHub does), suspends or changes permissions; sends the `installation` webhook. */
  setInstallation(opts: { installed?: boolean; permissions?: Record<string, string>; suspended?: boolean }): void
  /** Sends a signed webhook now (to the webhook URL) and records it as a delivery. */
  sendWebhook(event: string, payload: object): Promise<{ status: number; guid: string }>
  /** Resolves when every webhook under way (deliveries, pushes still finishing) is done. */
  webhooksSettled(): Promise<void>
  /** A one-time code for `POST /app-manifests/{code}/conversions`, as GitHub's redirect carries. */
  manifestCode(manifest: object): string
  close(): Promise<void>
}

/** What the app's manifest asks for (the plan's least privilege), and `workflows` to grant it when an assessment allows. */
const DEFAULT_PERMISSIONS: Permissions = {
  administration: 'write',
  contents: 'write',
  metadata: 'read',
  members: 'read',
  pull_requests: 'write',
  workflows: 'write',
}
const DEFAULT_EVENTS = ['push', 'repository']

/**
 * A loopback GitHub for tests: a GitHub App installed on one organisation, its REST API
 * under `/api/v3`, smart HTTP over real bare repositories, signed webhooks and scripted
 * faults, each behaving as GitHub documents it.
 */
export async function startGitHubDouble(options: GitHubDoubleOptions = {}): Promise<GitHubDouble> {
  const org = options.org ?? 'takehome-test'
  const base = await mkdtemp(path.join(tmpdir(), 'takehome-github-double-'))
  const reposRoot = path.join(base, 'repos')
  const pushLogDir = path.join(base, 'push-logs')
  await mkdir(reposRoot)
  await mkdir(pushLogDir)

  const { privateKey, publicKey } = generateAppKey()
  const appId = String(randomInt(100_000, 1_000_000))
  const appSlug = 'takehome-double'
  const webhookSecret = randomBytes(32).toString('hex')
  const faults = createFaults()

  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const webUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const apiUrl = `${webUrl}${REST_PREFIX}`
  const bot = accountJson(`${appSlug}[bot]`, webUrl, apiUrl, 'Bot')

  const now = new Date()
  const state: DoubleState = {
    org,
    appId,
    appSlug,
    appName: 'Takehome (double)',
    apiUrl,
    webUrl,
    publicKey,
    installation: {
      id: randomInt(10_000_000, 100_000_000),
      installed: true,
      suspended: false,
      permissions: { ...(options.permissions ?? DEFAULT_PERMISSIONS) },
      events: DEFAULT_EVENTS,
      createdAt: now,
      updatedAt: now,
    },
    tokens: createTokenStore(),
    repos: createRepoStore({ root: reposRoot, webUrl, apiUrl, botIdentity: { name: bot.login, email: `${bot.id}+${bot.login}@users.noreply.github.com` } }),
    webhooks: createWebhookSender({ secret: webhookSecret, appId, hookId: randomInt(100_000_000, 1_000_000_000) }),
    tokenLifetimeMs: options.tokenLifetimeMs ?? 3_600_000,
    manifests: new Map(),
    pushLogDir,
    createdAt: now,
  }
  state.webhooks.setUrl(options.webhookUrl)
  const handler = createRequestHandler(state, faults)
  server.on('request', handler.handle)

  const installationWebhook = (action: string) =>
    state.webhooks.emit('installation', { action, installation: installationJson(state), repositories: [], sender: webhookContext(state).sender })

  const config: GitHubDouble['config'] = { appId, privateKey, webhookSecret, org, apiUrl, webUrl }
  return {
    apiUrl,
    webUrl,
    org,
    appId,
    appSlug,
    installationId: state.installation.id,
    webhookSecret,
    privateKey,
    config,
    env: {
      GITHUB_APP_ID: appId,
      GITHUB_APP_PRIVATE_KEY: privateKey,
      GITHUB_WEBHOOK_SECRET: webhookSecret,
      GITHUB_ORG: org,
      GITHUB_API_URL: apiUrl,
      GITHUB_URL: webUrl,
    },
    setWebhookUrl: state.webhooks.setUrl,
    repo: (fullName) => state.repos.get(fullName),
    repos: () => state.repos.all(),
    async createRepo(fullName, { private: isPrivate = true, autoInit = false, isTemplate = false } = {}) {
      const [owner, name, ...rest] = fullName.split('/')
      if (!owner || !name || rest.length > 0) throw new Error(`createRepo takes OWNER/NAME, not ${JSON.stringify(fullName)}`)
      const repo = await state.repos.create(owner, name, { private: isPrivate, autoInit, isTemplate })
      if (!repo) throw new Error(`${fullName} already exists in the GitHub double`)
      return repo
    },
    tokens: () =>
      state.tokens.all().map((t) => ({
        repositories: t.repositoryIds === 'all' ? 'all' : [...t.repositoryIds].map((id) => state.repos.byId(id)?.fullName ?? `(deleted ${id})`),
        permissions: { ...t.permissions },
        expiresAt: t.expiresAt,
        revoked: t.revoked,
      })),
    requests: () => handler.recorded.map((r) => ({ ...r })),
    deliveries: () =>
      state.webhooks.attempts().map(({ id, guid, event, action, statusCode, status, deliveredAt, redelivery }) => ({
        id, guid, event, action, statusCode, status, deliveredAt, redelivery,
      })),
    failNext(match, fault, times = 1) {
      faults.add(match, fault, times)
    },
    setInstallation({ installed, permissions, suspended }) {
      const inst = state.installation
      inst.updatedAt = new Date()
      if (installed === false && inst.installed) {
        inst.installed = false
        // Uninstalling revokes every token of the installation.
        for (const token of state.tokens.all()) token.revoked = true
        installationWebhook('deleted')
      }
      if (installed === true && !inst.installed) {
        inst.installed = true
        installationWebhook('created')
      }
      if (suspended !== undefined && suspended !== inst.suspended) {
        inst.suspended = suspended
        installationWebhook(suspended ? 'suspend' : 'unsuspend')
      }
      if (permissions) {
        inst.permissions = { ...permissions }
        installationWebhook('new_permissions_accepted')
      }
    },
    sendWebhook: (event, payload) => state.webhooks.send(event, payload),
    webhooksSettled: () => state.webhooks.settled(),
    manifestCode(manifest) {
      const code = randomBytes(20).toString('hex')
      state.manifests.set(code, { manifest: manifest as Record<string, unknown>, expiresAt: Date.now() + 3_600_000 })
      return code
    },
    async close() {
      const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))
      // Clients keep connections alive; without this, close would wait for them to time out.
      server.closeAllConnections()
      await closed
      await state.webhooks.settled()
      await rm(base, { recursive: true, force: true })
    },
  }
}
