import type { Metadata } from 'next'
import { LoginForm } from '../../features/account/login-form'
import { SupabaseLogin } from '../../features/account/supabase-login'
import { authMode } from '../../features/account/auth-mode'

export const metadata: Metadata = { title: 'Log in' }

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
