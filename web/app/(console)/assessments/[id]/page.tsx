import type { Metadata } from 'next'
import { AssessmentDetail } from '../../../../features/invitations/assessment-detail'

export const metadata: Metadata = { title: 'Assessment' }

export default function AssessmentPage() {
  return <AssessmentDetail />
}
