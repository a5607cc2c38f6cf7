import type { Metadata } from 'next'
import { redirect } from 'next/navigation'
import { authMode } from '../../../features/account/auth-mode'
import { SupabaseCallback } from '../../../features/account/supabase-login'

export const metadata: Metadata = { title: 'Signing in' }
// Which login to show is the API's answer at request time, never one frozen at build.
export const dynamic = 'force-dynamic'

/** Where Supabase Auth sends the browser back after a magic link or an OAuth provider (PKCE). */
export default async function LoginCallbackPage() {
  const mode = await authMode()
  if (mode.mode !== 'supabase') redirect('/login')
  return (
    <article className="card" aria-labelledby="callback-title">
      <p className="eyebrow">Your account</p>
      <h1 id="callback-title">Signing in</h1>
      <SupabaseCallback url={mode.url} anonKey={mode.anonKey} />
    </article>
  )
}
