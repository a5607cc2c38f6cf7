import { candidateApi } from './candidate-api'

export const STATUSES = ['sent', 'accepted', 'started', 'submitted', 'expired', 'revoked'] as const
export type InvitationStatus = (typeof STATUSES)[number]

export interface GitCommands {
  clone_url: string
  credential_url: string
  clone_command: string
  clone_command_powershell: string
  /** GitHub mode: the repository's own URL with the same credential helper, for when cloning through our gateway fails. */
  github_clone_url: string | null
  github_clone_command: string | null
  github_clone_command_powershell: string | null
  /** False when pushes changing `.github/workflows` are refused. */
  workflow_changes_allowed: boolean
}

export interface StartView {
  assessment: {
    title: string
    description: string | null
    instructions: string | null
    instructions_html: string
    time_to_complete: string
  }
  candidate_name: string | null
  status: InvitationStatus
  start_deadline: string
  complete_deadline: string | null
  started_at: string | null
  submitted_at: string | null
  final_sha: string | null
  /** Set only while the candidate may work: started, before the deadline. */
  git: GitCommands | null
}

export type StartResult =
  | { kind: 'ok'; view: StartView }
  | { kind: 'not_found' }
  | { kind: 'rate_limited'; retryAfterSeconds: number | null }
  | { kind: 'unavailable' }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null
const isStringOrNull = (v: unknown) => v === null || v === undefined || typeof v === 'string'

function isGitCommands(v: unknown): v is GitCommands {
  return (
    isObject(v) &&
    typeof v.clone_url === 'string' &&
    typeof v.credential_url === 'string' &&
    typeof v.clone_command === 'string' &&
    typeof v.clone_command_powershell === 'string' &&
    isStringOrNull(v.github_clone_url) &&
    isStringOrNull(v.github_clone_command) &&
    isStringOrNull(v.github_clone_command_powershell) &&
    (v.workflow_changes_allowed === undefined || typeof v.workflow_changes_allowed === 'boolean')
  )
}

// Enough checking that a half-deployed or mismatched API shows the "unavailable"
// message instead of crashing the render on a missing field.
function isStartView(body: unknown): body is StartView {
  if (!isObject(body)) return false
  const a = body.assessment
  return (
    isObject(a) &&
    typeof a.title === 'string' &&
    typeof a.instructions_html === 'string' &&
    typeof a.time_to_complete === 'string' &&
    STATUSES.includes(body.status as InvitationStatus) &&
    typeof body.start_deadline === 'string' &&
    isStringOrNull(body.complete_deadline) &&
    isStringOrNull(body.started_at) &&
    isStringOrNull(body.submitted_at) &&
    isStringOrNull(body.final_sha) &&
    (body.git === null || body.git === undefined || isGitCommands(body.git))
  )
}

/** Fills the fields an older API leaves out, so the page can rely on every one. */
function normalise(body: StartView): StartView {
  return {
    ...body,
    complete_deadline: body.complete_deadline ?? null,
    started_at: body.started_at ?? null,
    submitted_at: body.submitted_at ?? null,
    final_sha: body.final_sha ?? null,
    git: body.git
      ? {
          ...body.git,
          github_clone_url: body.git.github_clone_url ?? null,
          github_clone_command: body.git.github_clone_command ?? null,
          github_clone_command_powershell: body.git.github_clone_command_powershell ?? null,
          // An API from before the setting refused no workflow changes.
          workflow_changes_allowed: body.git.workflow_changes_allowed ?? true,
        }
      : null,
  }
}

/** Reads the candidate's view of an invitation (the first read accepts it). */
export async function getStart(token: string): Promise<StartResult> {
  const res = await candidateApi('GET', 'start', token)
  switch (res.kind) {
    case 'unreachable':
      return { kind: 'unavailable' }
    case 'rate_limited':
      return { kind: 'rate_limited', retryAfterSeconds: res.retryAfterSeconds }
    case 'error':
      // The token is the only input, so a 400 (malformed token) is as much "no such link" as a 404.
      if (res.status === 404 || res.status === 400) return { kind: 'not_found' }
      console.error(`start page: API answered ${res.status} (${res.code})`)
      return { kind: 'unavailable' }
    case 'ok':
      if (!isStartView(res.body)) {
        console.error('start page: API answered an unexpected body')
        return { kind: 'unavailable' }
      }
      return { kind: 'ok', view: normalise(res.body) }
  }
}
