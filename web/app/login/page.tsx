import type { Metadata } from 'next'
import { LoginForm } from '../../features/account/login-form'

export const metadata: Metadata = { title: 'Log in' }

export default function LoginPage() {
  return (
    <article className="card" aria-labelledby="login-title">
      <p className="eyebrow">Your account</p>
      <h1 id="login-title">Log in</h1>
      <LoginForm />
    </article>
  )
}
