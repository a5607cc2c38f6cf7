import { callApi } from '../../lib/api-client'

export type AuthMode = { mode: 'local' } | { mode: 'supabase'; url: string; anonKey: string }

/**
 * How people sign in, as the API says (GET /api/auth/config), read on the server so the
 * login page renders the right form at once. An API that cannot say gets the local form,
 * whose own answer then explains.
 */
export async function authMode(): Promise<AuthMode> {
  const outcome = await callApi('/api/auth/config', { method: 'GET', label: 'login page: GET /api/auth/config', timeoutMs: 5_000 })
  if (outcome.kind !== 'ok') return { mode: 'local' }
  const body = outcome.body as { mode?: unknown; supabase_url?: unknown; supabase_anon_key?: unknown } | null
  if (body?.mode === 'supabase' && typeof body.supabase_url === 'string' && typeof body.supabase_anon_key === 'string') {
    return { mode: 'supabase', url: body.supabase_url, anonKey: body.supabase_anon_key }
  }
  return { mode: 'local' }
}
