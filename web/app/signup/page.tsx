import type { Metadata } from 'next'
import { SignupForm } from '../../features/account/signup-form'

export const metadata: Metadata = { title: 'Sign up' }

export default function SignupPage() {
  return (
    <article className="card" aria-labelledby="signup-title">
      <p className="eyebrow">Your account</p>
      <h1 id="signup-title">Sign up</h1>
      <SignupForm />
    </article>
  )
}
