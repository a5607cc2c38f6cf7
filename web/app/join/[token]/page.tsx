import type { Metadata } from 'next'
import { currentAccount } from '../../../features/account/account-api'
import { JoinPanel } from '../../../features/account/join-panel'

// The answer depends on the browser's session, and the token is per person.
export const dynamic = 'force-dynamic'

// The URL holds the invitation's secret: never send it onward as a Referer, never index it.
export const metadata: Metadata = {
  title: 'Join an organisation',
  referrer: 'no-referrer',
  robots: { index: false, follow: false },
}

/**
 * The emailed member invitation. Opening it changes nothing (mail scanners open links too):
 * the invitation is accepted only by one of the page's forms.
 */
export default async function JoinPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params
  const signedInAs = await currentAccount()
  return (
    <article className="card" aria-labelledby="join-title">
      <p className="eyebrow">Invitation</p>
      <h1 id="join-title">You&rsquo;re invited to join an organisation on Takehome</h1>
      <JoinPanel token={token} signedInAs={signedInAs} />
    </article>
  )
}
