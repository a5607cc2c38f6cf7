'use client'

import type { SupabaseClient, SupabaseClientOptions } from '@supabase/supabase-js'

/** How people sign in here, as GET /api/auth/config answers. */
export interface AuthConfig {
  mode: 'local' | 'supabase'
  supabase_url?: string
  supabase_anon_key?: string
}

let config: Promise<AuthConfig> | undefined
let client: SupabaseClient | undefined

/** The API's auth configuration, asked once per page load (a failure is asked again next time). */
export function authConfig(): Promise<AuthConfig> {
  config ??= fetch('/api/auth/config', { headers: { accept: 'application/json' }, credentials: 'same-origin' })
    .then(async (res) => {
      if (!res.ok) throw new Error(`GET /api/auth/config answered ${res.status}`)
      return (await res.json()) as AuthConfig
    })
    .catch((err: unknown) => {
      config = undefined
      throw err
    })
  return config
}

/**
 * The browser's Supabase client, when the API says Supabase Auth is in use: PKCE, the
 * session kept in localStorage and refreshed before it expires (supabase-js's
 * autoRefreshToken), so a console tab left open stays signed in.
 */
export async function supabaseClient(): Promise<SupabaseClient | undefined> {
  if (client) return client
  const { mode, supabase_url: url, supabase_anon_key: anonKey } = await authConfig()
  if (mode !== 'supabase' || !url || !anonKey) return undefined
  // Loaded only when Supabase is in use: with local accounts no console page carries it.
  const { createClient } = await import('@supabase/supabase-js')
  return keepClient(() => createClient(url, anonKey, CLIENT_OPTIONS))
}

export const CLIENT_OPTIONS: SupabaseClientOptions<'public'> = {
  auth: { flowType: 'pkce', autoRefreshToken: true, persistSession: true, detectSessionInUrl: false },
}

/** One client per page load, whichever page made it: two would each refresh the same session. */
export function keepClient(make: () => SupabaseClient): SupabaseClient {
  client ??= make()
  return client
}

/**
 * What authenticates a console call to the API: with Supabase, the current access token as
 * a Bearer (getSession refreshes one that has expired); with local accounts nothing, since
 * the session cookie goes with the request by itself.
 */
export async function apiAuthHeaders(): Promise<Record<string, string>> {
  let sb: SupabaseClient | undefined
  try {
    sb = await supabaseClient()
  } catch {
    // The API could not say: the call goes without, and its own answer says what is wrong.
    return {}
  }
  if (!sb) return {}
  const { data } = await sb.auth.getSession()
  return data.session ? { authorization: `Bearer ${data.session.access_token}` } : {}
}

/**
 * Ends the session: with Supabase, signOut revokes it at Supabase (its refresh tokens stop
 * working) and forgets it here; with local accounts, `localLogout` has the API end the
 * cookie's session.
 */
export async function signOut(localLogout: () => Promise<void>): Promise<void> {
  const sb = await supabaseClient().catch(() => undefined)
  if (sb) {
    await sb.auth.signOut()
    return
  }
  await localLogout()
}
