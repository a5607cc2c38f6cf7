import type { Metadata } from 'next'
import { ReviewPage } from '../../../../features/review/review-page'

export const metadata: Metadata = { title: 'Review' }

export default async function Page({ params }: { params: Promise<{ invitationId: string }> }) {
  const { invitationId } = await params
  return <ReviewPage invitationId={invitationId} />
}
