import type { Metadata } from 'next'
import { ResetPasswordForm } from '../../../features/account/reset-password-form'

export const dynamic = 'force-dynamic'

// The URL holds the reset link's secret: never send it onward as a Referer, never index it.
export const metadata: Metadata = {
  title: 'Choose a new password',
  referrer: 'no-referrer',
  robots: { index: false, follow: false },
}

export default async function ResetPasswordPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params
  return (
    <article className="card" aria-labelledby="reset-title">
      <p className="eyebrow">Your account</p>
      <h1 id="reset-title">Choose a new password</h1>
      <p>Choosing a new password signs your account out everywhere.</p>
      <ResetPasswordForm token={token} />
    </article>
  )
}
