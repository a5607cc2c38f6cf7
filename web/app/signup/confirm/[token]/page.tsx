import type { Metadata } from 'next'
import { ConfirmSignupForm } from '../../../../features/account/confirm-signup-form'

export const dynamic = 'force-dynamic'

// The URL holds the sign-up link's secret: never send it onward as a Referer, never index it.
export const metadata: Metadata = {
  title: 'Confirm your sign-up',
  referrer: 'no-referrer',
  robots: { index: false, follow: false },
}

export default async function ConfirmSignupPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params
  return (
    <article className="card" aria-labelledby="confirm-title">
      <p className="eyebrow">Sign-up</p>
      <h1 id="confirm-title">Confirm your sign-up</h1>
      <ConfirmSignupForm token={token} />
    </article>
  )
}
