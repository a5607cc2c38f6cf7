import type { Metadata } from 'next'
import { RequestResetForm } from '../../features/account/request-reset-form'

export const metadata: Metadata = { title: 'Reset your password' }

export default function RequestResetPage() {
  return (
    <article className="card" aria-labelledby="request-reset-title">
      <p className="eyebrow">Your account</p>
      <h1 id="request-reset-title">Reset your password</h1>
      <RequestResetForm />
    </article>
  )
}
