import type { KeyObject } from 'node:crypto'
import type { components } from '@octokit/openapi-types'
import { githubTime } from './git-read.ts'
import { accountId, accountJson, type DoubleRepo, type RepoStore } from './repos.ts'
import type { InstallationToken, Permissions, createTokenStore } from './tokens.ts'
import type { WebhookSender } from './webhooks.ts'

export interface InstallationState {
  id: number
  installed: boolean
  suspended: boolean
  permissions: Permissions
  events: string[]
  createdAt: Date
  updatedAt: Date
}

/** Everything the double's REST and git sides share. */
export interface DoubleState {
  org: string
  appId: string
  appSlug: string
  appName: string
  apiUrl: string
  webUrl: string
  publicKey: KeyObject
  installation: InstallationState
  tokens: ReturnType<typeof createTokenStore>
  repos: RepoStore
  webhooks: WebhookSender
  tokenLifetimeMs: number
  /** Codes from `manifestCode`, each good for one conversion within an hour. */
  manifests: Map<string, { manifest: Record<string, unknown>; expiresAt: number }>
  /** Where receive-pack's post-receive hook writes what a push updated. */
  pushLogDir: string
  createdAt: Date
}

/** Whether a live token reaches this repository through its installation. */
export function covers(state: DoubleState, token: InstallationToken, repo: DoubleRepo): boolean {
  return (
    state.installation.installed &&
    !state.installation.suspended &&
    repo.owner.toLowerCase() === state.org.toLowerCase() &&
    (token.repositoryIds === 'all' || token.repositoryIds.has(repo.id))
  )
}

export type InstallationJson = Omit<components['schemas']['installation'], 'account'> & { account: ReturnType<typeof accountJson> }
export type IntegrationJson = Omit<NonNullable<components['schemas']['integration']>, 'owner'> & { owner: ReturnType<typeof accountJson> }

export function installationJson(state: DoubleState): InstallationJson {
  const { installation: inst } = state
  return {
    id: inst.id,
    account: accountJson(state.org, state.webUrl, state.apiUrl, 'Organization'),
    repository_selection: 'all',
    access_tokens_url: `${state.apiUrl}/app/installations/${inst.id}/access_tokens`,
    repositories_url: `${state.apiUrl}/installation/repositories`,
    html_url: `${state.webUrl}/organizations/${state.org}/settings/installations/${inst.id}`,
    app_id: Number(state.appId),
    app_slug: state.appSlug,
    target_id: accountId(state.org),
    target_type: 'Organization',
    permissions: inst.permissions,
    events: inst.events,
    created_at: githubTime(inst.createdAt),
    updated_at: githubTime(inst.updatedAt),
    single_file_name: null,
    suspended_by: null,
    suspended_at: inst.suspended ? githubTime(inst.updatedAt) : null,
  }
}

export function appJson(state: DoubleState): IntegrationJson {
  return {
    id: Number(state.appId),
    slug: state.appSlug,
    node_id: `A_kwDO${Number(state.appId).toString(36)}`,
    client_id: `Iv1.${state.appId.padStart(16, '0')}`,
    owner: accountJson(state.org, state.webUrl, state.apiUrl, 'Organization'),
    name: state.appName,
    description: 'The GitHub double of the takehome tests',
    external_url: state.webUrl,
    html_url: `${state.webUrl}/apps/${state.appSlug}`,
    created_at: githubTime(state.createdAt),
    updated_at: githubTime(state.createdAt),
    permissions: state.installation.permissions,
    events: state.installation.events,
    installations_count: state.installation.installed ? 1 : 0,
  }
}

/** The app's bot user: the sender of everything an installation token does. */
export const botJson = (state: DoubleState) => accountJson(`${state.appSlug}[bot]`, state.webUrl, state.apiUrl, 'Bot')

/** The parts every webhook of the installation carries. */
export function webhookContext(state: DoubleState) {
  return {
    organization: accountJson(state.org, state.webUrl, state.apiUrl, 'Organization'),
    installation: { id: state.installation.id, node_id: `MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u${state.installation.id}` },
    sender: botJson(state),
  }
}

/** Sends an installation's webhook if the app subscribes to its event, as GitHub does. */
export function emitSubscribed(state: DoubleState, event: string, payload: object) {
  if (state.installation.events.includes(event)) state.webhooks.emit(event, payload)
}
