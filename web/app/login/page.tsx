import type { Metadata } from 'next'
import { LoginForm } from '../../features/account/login-form'
import { SupabaseLogin } from '../../features/account/supabase-login'
import { authMode } from '../../features/account/auth-mode'

export const metadata: Metadata = { title: 'Log in' }
// Which login to show is the API's answer at request time, never one frozen at build.
export const dynamic = 'force-dynamic'

export default async function LoginPage() {
  const mode = await authMode()
  return (
    <article className="card" aria-labelledby="login-title">
      <p className="eyebrow">Your account</p>
      <h1 id="login-title">Log in</h1>
      {mode.mode === 'supabase' ? <SupabaseLogin url={mode.url} anonKey={mode.anonKey} /> : <LoginForm />}
    </article>
  )
}
