import type { Metadata } from 'next'
import { preload } from 'react-dom'
import { ReviewPage } from '../../../../features/review/review-page'
import { reviewUrls } from '../../../../features/review/review-urls'

export const metadata: Metadata = { title: 'Review' }

/**
 * The page's HTML asks the browser to fetch the session and the review's data at once, as
 * its scripts load, rather than each in turn once the scripts run and the console has
 * checked the session. The queries' own fetches then take these answers: same URLs, same
 * CORS mode and credentials as `apiFetch`'s (an anonymous-CORS preload is a same-origin fetch).
 */
export default async function Page({ params }: { params: Promise<{ invitationId: string }> }) {
  const { invitationId } = await params
  const { invitation, diff, commits } = reviewUrls(invitationId)
  // The console shell's GET /api/auth/me (web/features/console/session.ts).
  for (const url of ['/api/auth/me', invitation, diff, commits]) preload(url, { as: 'fetch', crossOrigin: 'anonymous' })
  return <ReviewPage invitationId={invitationId} />
}
