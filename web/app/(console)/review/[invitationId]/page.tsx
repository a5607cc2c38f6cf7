import type { Metadata } from 'next'
import { preload } from 'react-dom'
import { readAsBrowser } from '../../../../features/account/account-api'
import { ReviewPage } from '../../../../features/review/review-page'
import type { Diff, InvitationDetail } from '../../../../features/review/review-api'
import { reviewUrls } from '../../../../features/review/review-urls'

export const metadata: Metadata = { title: 'Review' }

/**
 * The submission and its diff are read while the page renders on the server, so the HTML
 * arrives with the first file drawn by diff2html, before any script has run; the commits
 * follow from the browser (a preload in the HTML starts them with the scripts). What the
 * server could not read (no session cookie: Supabase Auth's token is the browser's; or the
 * API refused) the page asks for from the browser, and shows the answer as before.
 */
export default async function Page({ params }: { params: Promise<{ invitationId: string }> }) {
  const { invitationId } = await params
  const urls = reviewUrls(invitationId)
  const [invitation, diff] = await Promise.all([readAsBrowser(urls.invitation), readAsBrowser(urls.diff)])
  // Same URL, CORS mode and credentials as `apiFetch`'s, so its fetch takes this answer; only
  // for a cookie session (what the server just read as), since a preload carries no Bearer token.
  if (invitation !== undefined) preload(urls.commits, { as: 'fetch', crossOrigin: 'anonymous' })
  return <ReviewPage invitationId={invitationId} initial={{ invitation: invitation as InvitationDetail | undefined, diff: diff as Diff | undefined }} />
}
